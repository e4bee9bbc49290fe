//! The role guard: one middleware on the API router that authenticates the
//! request once, looks its operation up in the role matrix
//! ([`super::roles::TABLE`]) and refuses a role the row denies with 403
//! before any handler or body extractor runs. The signed-in user and the
//! [`Grant`] go into the request's extensions, where the `CurrentUser` and
//! `Grant` extractors find them.

use super::CurrentUser;
use super::roles::{self, Access, Grant};
use crate::AppState;
use crate::error::ApiError;
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashSet;
use std::sync::Arc;
use utoipa::openapi::OpenApi;

/// What the guard needs: the state to authenticate with, and the operations
/// of the OpenAPI document, so that a documented operation without a row is
/// refused rather than let through.
#[derive(Clone)]
pub struct Guard {
    app: AppState,
    documented: Arc<HashSet<(String, String)>>,
}

impl Guard {
    pub fn new(app: AppState, doc: &OpenApi) -> Self {
        let mut documented = HashSet::new();
        for (path, item) in doc.paths.paths.iter() {
            let ops = [
                ("GET", &item.get),
                ("POST", &item.post),
                ("PUT", &item.put),
                ("PATCH", &item.patch),
                ("DELETE", &item.delete),
            ];
            for (method, op) in ops {
                if op.is_some() {
                    documented.insert((method.to_string(), path.clone()));
                }
            }
        }
        Self { app, documented: Arc::new(documented) }
    }
}

/// Authenticates, then lets the request on only when the caller's role may
/// call the operation (on some record; "own records only" is the handler's
/// check).
pub async fn check(State(g): State<Guard>, req: Request, next: Next) -> Response {
    let Some(path) = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()) else {
        // Not a route of the API router (its fallback answers 404).
        return next.run(req).await;
    };
    let method = req.method().as_str().to_string();
    if roles::is_public(&method, &path) {
        return next.run(req).await;
    }
    let Some(rule) = roles::rule(&method, &path) else {
        let read = if method == "HEAD" { "GET" } else { method.as_str() };
        if g.documented.contains(&(read.to_string(), path.clone())) {
            tracing::error!(%method, %path, "an operation without a row in the role table was refused");
            return ApiError::Forbidden(format!(
                "{method} {path} is not in the role table, so nobody may call it; report this to the maintainers"
            ))
            .into_response();
        }
        // A method the path does not have: the router answers 405.
        return next.run(req).await;
    };
    let (mut parts, body) = req.into_parts();
    let user = match CurrentUser::from_request_parts(&mut parts, &g.app).await {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    let access = rule.access(user.user.role);
    if access == Access::No {
        return ApiError::Forbidden(rule.refusal(user.user.role)).into_response();
    }
    parts.extensions.insert(Grant(access));
    parts.extensions.insert(user);
    next.run(Request::from_parts(parts, body)).await
}

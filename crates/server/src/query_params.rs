//! Unknown query parameters are refused. A misspelled or unsupported
//! parameter (`/planner?…&to=2026-04-01`) would otherwise be ignored, and the
//! caller would get an answer to another question without a word. The
//! parameters each operation takes come from the OpenAPI document, which is
//! built from the same registrations as the router, so the two cannot
//! disagree.

use crate::error::ApiError;
use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{OpenApi, RefOr};

/// The query parameters of every operation, by method and path template.
#[derive(Debug, Default)]
pub struct KnownParams(HashMap<(Method, String), BTreeSet<String>>);

impl KnownParams {
    /// Reads them from the finished OpenAPI document.
    pub fn from_doc(doc: &OpenApi) -> Self {
        let mut out = HashMap::new();
        for (path, item) in doc.paths.paths.iter() {
            let ops = [
                (Method::GET, &item.get),
                (Method::POST, &item.post),
                (Method::PUT, &item.put),
                (Method::PATCH, &item.patch),
                (Method::DELETE, &item.delete),
            ];
            for (method, op) in ops {
                if let Some(op) = op {
                    out.insert((method, path.clone()), query_names(op));
                }
            }
        }
        KnownParams(out)
    }
}

fn query_names(op: &Operation) -> BTreeSet<String> {
    let params = op.parameters.iter().flatten();
    params
        .filter_map(|p| match p {
            RefOr::T(p) if p.parameter_in == ParameterIn::Query => Some(p.name.clone()),
            _ => None,
        })
        .collect()
}

/// Refuses a request to a documented operation whose query string names a
/// parameter the operation does not take: 400 naming it and the ones it takes.
pub async fn check(State(known): State<Arc<KnownParams>>, req: Request, next: Next) -> Response {
    let matched = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string());
    if let (Some(path), Some(query)) = (matched, req.uri().query())
        && let Some(allowed) = known.0.get(&(req.method().clone(), path))
        && let Some(unknown) =
            form_urlencoded::parse(query.as_bytes()).map(|(k, _)| k).find(|k| !allowed.contains(k.as_ref()))
    {
        let takes = if allowed.is_empty() {
            "this operation takes no query parameters".to_string()
        } else {
            format!("it takes: {}", allowed.iter().map(String::as_str).collect::<Vec<_>>().join(", "))
        };
        return ApiError::BadRequest(format!("unknown query parameter `{unknown}`; {takes}")).into_response();
    }
    next.run(req).await
}

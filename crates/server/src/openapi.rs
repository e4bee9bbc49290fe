//! The OpenAPI 3.1 document: collected from the route registrations, then
//! given its title, security schemes and global security requirement here,
//! then the facts true of every operation (`truth`).

mod limits;
mod truth;

pub use truth::PROBLEM_JSON;

use crate::AppState;
use axum::Router;
use axum::response::IntoResponse;
use std::sync::Arc;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};

/// Adds metadata and security to the collected document.
pub fn finish(mut doc: OpenApi) -> OpenApi {
    doc.info.title = "dealflow API".into();
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    doc.info.description = Some(
        "The REST API of dealflow, a self-hosted sales pipeline CRM. Send `Authorization: Bearer <token>` \
         (create a token with `dealflow token create`), or sign in with POST /api/v1/auth/login and send the \
         session cookie plus the `x-csrf-token` header on changes. Ids are decimal strings, money is integer \
         minor units, times are RFC 3339. Errors are RFC 9457 problem documents."
            .into(),
    );
    let components = doc.components.get_or_insert_with(Default::default);
    components
        .add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    components.add_security_scheme(
        "session",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::auth::SESSION_COOKIE))),
    );
    doc.security = Some(vec![
        SecurityRequirement::new("bearer", Vec::<String>::new()),
        SecurityRequirement::new("session", Vec::<String>::new()),
    ]);
    truth::apply(&mut doc);
    limits::apply(&mut doc);
    crate::auth::roles::document_refusals(&mut doc);
    doc
}

pub fn router(doc: Arc<OpenApi>) -> Router<AppState> {
    Router::new().route(
        "/api/openapi.json",
        axum::routing::get(move || {
            let doc = doc.clone();
            async move { axum::Json(doc.as_ref().clone()).into_response() }
        }),
    )
}

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
    open_flattened(doc, "Step", "StepSpec")
}

/// A stored record that flattens its editable part (`Step` is its id,
/// stage and times plus a `StepSpec`) is documented as `allOf` the part's
/// schema, whose `additionalProperties: false` (a request body refuses
/// unknown properties) would then refuse the record's own fields. The
/// record gets an open copy of the part instead; the request keeps the
/// closed one.
fn open_flattened(mut doc: OpenApi, record: &str, part: &str) -> OpenApi {
    use utoipa::openapi::{RefOr, schema::Schema};
    let Some(components) = doc.components.as_mut() else { return doc };
    let Some(RefOr::T(Schema::Object(closed))) = components.schemas.get(part) else { return doc };
    let mut open = closed.clone();
    open.additional_properties = None;
    let reference = format!("#/components/schemas/{part}");
    if let Some(RefOr::T(Schema::AllOf(all))) = components.schemas.get_mut(record) {
        for item in all.items.iter_mut() {
            if matches!(item, RefOr::Ref(r) if r.ref_location == reference) {
                *item = RefOr::T(Schema::Object(open.clone()));
            }
        }
    }
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

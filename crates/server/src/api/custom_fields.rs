//! `/api/v1/custom-fields`: admin-defined extra fields of deals, people and
//! organizations.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Path, Query};
use axum::extract::State;
use axum::http::StatusCode;
use dealflow_core::CustomFieldId;
use dealflow_core::custom_field::{CustomField, CustomFieldPatch, Entity, NewCustomField};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_fields, create_field)).routes(routes!(
        get_field,
        update_field,
        delete_field
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FieldQuery {
    /// Only the fields of this record type.
    pub entity: Option<Entity>,
}

/// Custom field definitions.
#[utoipa::path(get, path = "/custom-fields", tag = "custom fields", params(FieldQuery),
    responses((status = 200, body = Vec<CustomField>), (status = 400, body = Problem), (status = 401, body = Problem)))]
async fn list_fields(
    State(st): State<AppState>,
    _u: CurrentUser,
    Query(q): Query<FieldQuery>,
) -> ApiResult<Json<Vec<CustomField>>> {
    Ok(Json(st.store.custom_fields(q.entity).await?))
}

/// Define a custom field (admins).
#[utoipa::path(post, path = "/custom-fields", tag = "custom fields", request_body = NewCustomField,
    responses((status = 201, body = CustomField), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_field(
    State(st): State<AppState>,
    u: CurrentUser,
    Json(n): Json<NewCustomField>,
) -> ApiResult<(StatusCode, Json<CustomField>)> {
    Ok((StatusCode::CREATED, Json(st.store.create_custom_field(&u.actor(), n).await?)))
}

/// Get a custom field definition.
#[utoipa::path(get, path = "/custom-fields/{id}", tag = "custom fields", params(("id" = CustomFieldId, Path)),
    responses((status = 200, body = CustomField), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_field(
    State(st): State<AppState>,
    _u: CurrentUser,
    Path(id): Path<CustomFieldId>,
) -> ApiResult<Json<CustomField>> {
    Ok(Json(st.store.custom_field(id).await?))
}

/// Change a custom field's label, options, required flag, order or archive state (admins).
#[utoipa::path(patch, path = "/custom-fields/{id}", tag = "custom fields", params(("id" = CustomFieldId, Path)), request_body = CustomFieldPatch,
    responses((status = 200, body = CustomField), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_field(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<CustomFieldId>,
    Json(p): Json<CustomFieldPatch>,
) -> ApiResult<Json<CustomField>> {
    Ok(Json(st.store.update_custom_field(&u.actor(), id, p).await?))
}

/// Delete a custom field definition (admins).
#[utoipa::path(delete, path = "/custom-fields/{id}", tag = "custom fields", params(("id" = CustomFieldId, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn delete_field(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<CustomFieldId>,
) -> ApiResult<StatusCode> {
    st.store.delete_custom_field(&u.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

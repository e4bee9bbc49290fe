//! `/api/v1/organizations`: companies, with soft delete and restore.

use super::{Page, PageQuery};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Path, Query};
use axum::extract::State;
use axum::http::StatusCode;
use dealflow_core::OrganizationId;
use dealflow_core::model::{NewOrganization, Organization, OrganizationPatch};
use dealflow_store::OrganizationFilter;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_organizations, create_organization))
        .routes(routes!(get_organization, update_organization, delete_organization))
        .routes(routes!(restore_organization))
}

/// List organizations, newest first.
#[utoipa::path(get, path = "/organizations", tag = "organizations", params(OrganizationFilter, PageQuery),
    responses((status = 200, body = Page<Organization>), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 422, body = Problem)))]
async fn list_organizations(
    State(st): State<AppState>,
    _u: CurrentUser,
    Query(f): Query<OrganizationFilter>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<Organization>>> {
    let page = page.page()?;
    Ok(Json(st.store.list_organizations(&f, page).await?.into()))
}

/// Create an organization; the owner defaults to the caller.
#[utoipa::path(post, path = "/organizations", tag = "organizations", request_body = NewOrganization,
    responses((status = 201, body = Organization), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 422, body = Problem)))]
async fn create_organization(
    State(st): State<AppState>,
    u: CurrentUser,
    Json(n): Json<NewOrganization>,
) -> ApiResult<(StatusCode, Json<Organization>)> {
    let o = st.store.create_organization(&u.actor(), n).await?;
    Ok((StatusCode::CREATED, Json(o)))
}

/// Get an organization.
#[utoipa::path(get, path = "/organizations/{id}", tag = "organizations", params(("id" = OrganizationId, Path)),
    responses((status = 200, body = Organization), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_organization(
    State(st): State<AppState>,
    _u: CurrentUser,
    Path(id): Path<OrganizationId>,
) -> ApiResult<Json<Organization>> {
    Ok(Json(st.store.organization(id).await?))
}

/// Change an organization; `version` must be current.
#[utoipa::path(patch, path = "/organizations/{id}", tag = "organizations", params(("id" = OrganizationId, Path)),
    request_body = OrganizationPatch,
    responses((status = 200, body = Organization), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_organization(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<OrganizationId>,
    Json(p): Json<OrganizationPatch>,
) -> ApiResult<Json<Organization>> {
    Ok(Json(st.store.update_organization(&u.actor(), id, p).await?))
}

/// Move an organization to the trash (restorable).
#[utoipa::path(delete, path = "/organizations/{id}", tag = "organizations", params(("id" = OrganizationId, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn delete_organization(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<OrganizationId>,
) -> ApiResult<StatusCode> {
    st.store.delete_organization(&u.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Restore an organization from the trash.
#[utoipa::path(post, path = "/organizations/{id}/restore", tag = "organizations", params(("id" = OrganizationId, Path)),
    responses((status = 200, body = Organization), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn restore_organization(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<OrganizationId>,
) -> ApiResult<Json<Organization>> {
    Ok(Json(st.store.restore_organization(&u.actor(), id).await?))
}

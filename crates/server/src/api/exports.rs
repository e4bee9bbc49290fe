//! Downloads: `/api/v1/{deals,people,organizations}/export` (every record
//! matching the list's filters) and `/api/v1/metrics/export`,
//! `/metrics/stages/export` (the figures of `/metrics` and `/metrics/stages`),
//! as CSV (default) or XLSX. Record exports are sent while they are read
//! and hold one of `--export-streams` permits meanwhile (503 with
//! `Retry-After` when all are taken). The tables are built in [`crate::export`]; a
//! GET with the session cookie works too, so a page can link to them.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiResult, Problem};
use crate::export::{self, ExportFormat};
use crate::extract::Query;
use crate::insights::{self, MetricsQuery};
use axum::extract::State;
use axum::response::Response;
use dealflow_core::time::Timestamp;
use dealflow_store::{DealFilter, OrganizationFilter, PersonFilter};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(export_deals))
        .routes(routes!(export_people))
        .routes(routes!(export_organizations))
        .routes(routes!(export_metrics))
        .routes(routes!(export_stage_metrics))
}

/// The file format of an export; the rows are chosen by the list's own
/// filter (`DealFilter`, `PersonFilter`, `OrganizationFilter`), read from
/// the same query string.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// `csv` (default) or `xlsx`.
    #[param(inline)]
    pub format: Option<ExportFormat>,
}

/// Download every deal matching the list filters as CSV or XLSX: money in
/// major units beside its currency, times in the workspace time zone,
/// custom fields as extra columns.
#[utoipa::path(get, path = "/deals/export", tag = "exports", params(FormatQuery, DealFilter),
    responses((status = 200, description = "The file (text/csv or XLSX), as an attachment"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn export_deals(
    State(st): State<AppState>,
    _u: CurrentUser,
    Query(fmt): Query<FormatQuery>,
    Query(f): Query<DealFilter>,
) -> ApiResult<Response> {
    let tz = export::workspace_tz(&st.store.settings().await?);
    let (store, permit) = (st.store.clone(), st.exports.acquire().await?);
    export::respond(fmt.format.unwrap_or_default(), "deals", tz, move |t| async move {
        let _permit = permit;
        export::deals(&store, &f, t).await
    })
    .await
}

/// Download every person matching the list filters as CSV or XLSX.
#[utoipa::path(get, path = "/people/export", tag = "exports", params(FormatQuery, PersonFilter),
    responses((status = 200, description = "The file (text/csv or XLSX), as an attachment"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn export_people(
    State(st): State<AppState>,
    _u: CurrentUser,
    Query(fmt): Query<FormatQuery>,
    Query(f): Query<PersonFilter>,
) -> ApiResult<Response> {
    let tz = export::workspace_tz(&st.store.settings().await?);
    let (store, permit) = (st.store.clone(), st.exports.acquire().await?);
    export::respond(fmt.format.unwrap_or_default(), "people", tz, move |t| async move {
        let _permit = permit;
        export::people(&store, &f, t).await
    })
    .await
}

/// Download every organization matching the list filters as CSV or XLSX.
#[utoipa::path(get, path = "/organizations/export", tag = "exports", params(FormatQuery, OrganizationFilter),
    responses((status = 200, description = "The file (text/csv or XLSX), as an attachment"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn export_organizations(
    State(st): State<AppState>,
    _u: CurrentUser,
    Query(fmt): Query<FormatQuery>,
    Query(f): Query<OrganizationFilter>,
) -> ApiResult<Response> {
    let tz = export::workspace_tz(&st.store.settings().await?);
    let (store, permit) = (st.store.clone(), st.exports.acquire().await?);
    export::respond(fmt.format.unwrap_or_default(), "organizations", tz, move |t| async move {
        let _permit = permit;
        export::organizations(&store, &f, t).await
    })
    .await
}

/// Download the activity metrics of a period: one row per metric (key,
/// label, value, unit, from, to), the same figures as `GET /metrics`.
#[utoipa::path(get, path = "/metrics/export", tag = "exports", params(FormatQuery, MetricsQuery),
    responses((status = 200, description = "The file (text/csv or XLSX), as an attachment"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn export_metrics(
    State(st): State<AppState>,
    _u: CurrentUser,
    Query(fmt): Query<FormatQuery>,
    Query(q): Query<MetricsQuery>,
) -> ApiResult<Response> {
    let report = insights::metrics(&st.store, &q, Timestamp::now()).await?;
    let settings = st.store.settings().await?;
    export::metrics(&report, &settings, fmt.format.unwrap_or_default())?.into_response()
}

/// Download the stage metrics of a period: one row per stage, the same
/// figures as `GET /metrics/stages`.
#[utoipa::path(get, path = "/metrics/stages/export", tag = "exports", params(FormatQuery, MetricsQuery),
    responses((status = 200, description = "The file (text/csv or XLSX), as an attachment"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn export_stage_metrics(
    State(st): State<AppState>,
    _u: CurrentUser,
    Query(fmt): Query<FormatQuery>,
    Query(q): Query<MetricsQuery>,
) -> ApiResult<Response> {
    let report = insights::stages(&st.store, &q, Timestamp::now()).await?;
    let settings = st.store.settings().await?;
    export::stages(&report, &settings, fmt.format.unwrap_or_default())?.into_response()
}

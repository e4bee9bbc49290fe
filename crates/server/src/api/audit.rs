//! `/api/v1/audit-log`: the audit log for admins, newest first, and its CSV
//! export. There is deliberately no write route: entries are appended by
//! the store with each change and removed only by the retention pruning.

use crate::AppState;
use crate::api::{Page, PageQuery};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, Problem};
use crate::export::{csv_safe, local_time, workspace_tz};
use crate::extract::{Json, Query};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono_tz::Tz;
use dealflow_store::{AuditEntry, AuditFilter, ListPage, Store, StoreError};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit_log)).routes(routes!(export_audit_log))
}

/// List audit-log entries, newest first (admins only): who changed what,
/// when, from where, with each changed field's value before and after.
/// Filter by `user_id`, by `record_type` and `record_id`, and by time
/// (`from` inclusive, `to` exclusive).
#[utoipa::path(get, path = "/audit-log", tag = "audit", params(AuditFilter, PageQuery),
    responses((status = 200, body = Page<AuditEntry>), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn list_audit_log(
    State(st): State<AppState>,
    _u: CurrentUser,
    Query(f): Query<AuditFilter>,
    Query(pq): Query<PageQuery>,
) -> ApiResult<Json<Page<AuditEntry>>> {
    let page = pq.page()?;
    Ok(Json(st.store.audit_log(&f, page).await?.into()))
}

/// The format of an audit-log export.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AuditFormat {
    /// Comma-separated values, one entry a row.
    #[default]
    Csv,
}

/// The format of an audit-log export; the entries are chosen by the
/// list's filter, read from the same query string.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditExportQuery {
    /// `csv` (the default and the only format: the file is written as it is read).
    #[param(inline)]
    pub format: Option<AuditFormat>,
}

/// Entries read per chunk of the export.
const CHUNK: i64 = 500;

/// The export's columns.
const HEADER: [&str; 11] = [
    "id",
    "at",
    "user_id",
    "credential",
    "credential_id",
    "ip",
    "action",
    "record_type",
    "record_id",
    "changes",
    "detail",
];

/// Download every audit-log entry matching the filters as CSV (admins
/// only), newest first; times are in the workspace time zone, `changes` and
/// `detail` are JSON. The file is streamed as the entries are read.
#[utoipa::path(get, path = "/audit-log/export", tag = "audit", params(AuditExportQuery, AuditFilter),
    responses((status = 200, description = "The CSV file, as an attachment", content_type = "text/csv"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn export_audit_log(
    State(st): State<AppState>,
    _u: CurrentUser,
    Query(q): Query<AuditExportQuery>,
    Query(f): Query<AuditFilter>,
) -> ApiResult<Response> {
    let AuditFormat::Csv = q.format.unwrap_or_default();
    let tz = workspace_tz(&st.store.settings().await?);
    // The first chunk is read before answering, so a failing database is
    // a problem document rather than a cut-off download.
    let first = st.store.audit_log(&f, dealflow_store::Page { limit: CHUNK, before: None }).await?;
    let mut head = csv::Writer::from_writer(Vec::new());
    head.write_record(HEADER).map_err(csv_failed)?;
    let head = head.into_inner().map_err(|e| csv_failed(e.error()))?;
    let state = Chunks { store: st.store.clone(), filter: f, tz, next: Some(first), head: Some(head) };
    // Fused, as the compression layer may poll once more after the end.
    let stream = futures_util::StreamExt::fuse(futures_util::stream::try_unfold(state, Chunks::next_chunk));
    let date = chrono::Utc::now().with_timezone(&tz).date_naive().format("%Y-%m-%d");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"audit-log-{date}.csv\"")),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

fn csv_failed(e: impl std::fmt::Display) -> ApiError {
    ApiError::Store(StoreError::Config(format!("writing the audit-log export failed: {e}")))
}

/// The export's reading state: the page in hand and where the next starts.
struct Chunks {
    store: Store,
    filter: AuditFilter,
    tz: Tz,
    /// The page to write next; `None` when everything was written.
    next: Option<ListPage<AuditEntry>>,
    /// The header row, written before the first page.
    head: Option<Vec<u8>>,
}

impl Chunks {
    /// Encodes the page in hand and reads the one after it.
    async fn next_chunk(mut self) -> Result<Option<(Bytes, Self)>, std::io::Error> {
        let Some(page) = self.next.take() else { return Ok(None) };
        let mut w = csv::Writer::from_writer(self.head.take().unwrap_or_default());
        for e in &page.items {
            w.write_record(row(e, self.tz)).map_err(std::io::Error::other)?;
        }
        let bytes = w.into_inner().map_err(|e| std::io::Error::other(e.error().to_string()))?;
        if let Some(cursor) = page.next_cursor.and_then(|c| c.parse::<i64>().ok()) {
            let next = dealflow_store::Page { limit: CHUNK, before: Some(cursor) };
            self.next = Some(self.store.audit_log(&self.filter, next).await.map_err(std::io::Error::other)?);
        }
        Ok(Some((Bytes::from(bytes), self)))
    }
}

/// One entry as CSV cells; text that a spreadsheet could run as a formula
/// is neutralised like in every other export.
fn row(e: &AuditEntry, tz: Tz) -> [String; 11] {
    let opt = |v: Option<String>| v.unwrap_or_default();
    [
        e.id.to_string(),
        local_time(e.at, tz),
        opt(e.user_id.map(|u| u.to_string())),
        e.credential.as_str().to_string(),
        opt(e.credential_id.map(|c| c.to_string())),
        opt(e.ip.clone()),
        csv_safe(&e.action).into_owned(),
        csv_safe(&e.record_type).into_owned(),
        opt(e.record_id.map(|r| r.to_string())),
        csv_safe(&serde_json::to_string(&e.changes).unwrap_or_default()).into_owned(),
        csv_safe(&e.detail.as_ref().map(|d| d.to_string()).unwrap_or_default()).into_owned(),
    ]
}

//! `/api/v1/jobs`: the background jobs, for the people who keep the
//! workspace running: what is scheduled, what runs, what failed and why,
//! and a retry for a failed one (see docs/running.md, "Background jobs").

use super::{Page, PageQuery};
use crate::AppState;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, Path, Query};
use axum::extract::State;
use dealflow_core::DealId;
use dealflow_core::time::Timestamp;
use dealflow_store::{Job, JobFilter, JobStatus};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_jobs)).routes(routes!(retry_job))
}

/// A background job.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobOut {
    /// The job's id (a string, like every id).
    pub id: String,
    /// Which handler runs it, e.g. `sessions.prune`.
    pub kind: String,
    /// The handler's input.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// When it is (or was) due; after a failed attempt, when the next one starts.
    pub due_at: Timestamp,
    pub status: JobStatus,
    /// Attempts started so far.
    pub attempts: i64,
    /// Attempts it gets before it is `failed`.
    pub max_attempts: i64,
    /// While running: when its claim ends (another process may take it then).
    pub lease_until: Option<Timestamp>,
    /// While running (and when failed): the runner that took it.
    pub leased_by: Option<String>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// What the handler returned, once done.
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    /// The deal the job belongs to, if any.
    pub deal_id: Option<DealId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// When it ended (done or failed).
    pub done_at: Option<Timestamp>,
}

impl From<Job> for JobOut {
    fn from(j: Job) -> Self {
        Self {
            id: j.id.to_string(),
            kind: j.kind,
            payload: j.payload,
            due_at: j.due_at,
            status: j.status,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            lease_until: j.lease_until,
            leased_by: j.leased_by,
            last_error: j.last_error,
            result: j.result,
            deal_id: j.deal_id,
            created_at: j.created_at,
            updated_at: j.updated_at,
            done_at: j.done_at,
        }
    }
}

/// List background jobs, newest first; filter by `status` (`pending`,
/// `running`, `done`, `failed`, `cancelled`), `kind` and `deal_id`.
#[utoipa::path(get, path = "/jobs", tag = "jobs", params(JobFilter, PageQuery),
    responses((status = 200, body = Page<JobOut>), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 422, body = Problem)))]
async fn list_jobs(
    State(st): State<AppState>,
    Query(f): Query<JobFilter>,
    Query(pq): Query<PageQuery>,
) -> ApiResult<Json<Page<JobOut>>> {
    let list = st.store.jobs(&f, pq.page()?).await?;
    Ok(Json(Page { items: list.items.into_iter().map(JobOut::from).collect(), next_cursor: list.next_cursor }))
}

/// Run a failed job again: it becomes pending, due now, with its attempts
/// reset. A job that is not failed is 409 (it will run, runs, or ran).
#[utoipa::path(post, path = "/jobs/{id}/retry", tag = "jobs", params(("id" = String, Path)),
    responses((status = 200, body = JobOut), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
async fn retry_job(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<JobOut>> {
    let id = id.trim().parse::<i64>().map_err(|_| ApiError::NotFound(format!("no job `{id}`: ids are numbers")))?;
    Ok(Json(st.store.retry_job(id, Timestamp::now()).await?.into()))
}

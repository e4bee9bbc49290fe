//! `/api/v1/webhooks`: outgoing webhook subscriptions (admins manage them,
//! managers read them), their delivery log, redelivery and secret rotation.
//! How deliveries are signed and retried: docs/webhooks.md.

use super::{Page, PageQuery};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, Path, Query};
use crate::webhooks::target;
use axum::extract::State;
use axum::http::StatusCode;
use dealflow_core::{WebhookAttemptId, WebhookId};
use dealflow_store::{NewWebhook, Webhook, WebhookAttempt, WebhookPatch, WebhookWithSecret};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(rotate_secret))
        .routes(routes!(list_deliveries))
        .routes(routes!(redeliver))
}

/// Refuses a URL that resolves where webhooks may not go (see `target.rs`).
async fn check_target(st: &AppState, url: &str) -> ApiResult<()> {
    let allow = st.store.settings().await?.webhooks_allow_private;
    target::check_url(url, allow).await.map_err(|m| ApiError::from(dealflow_core::Invalid::one("url", m)))
}

/// Webhook subscriptions, newest first.
#[utoipa::path(get, path = "/webhooks", tag = "webhooks", params(PageQuery),
    responses((status = 200, body = Page<Webhook>), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 422, body = Problem)))]
async fn list_webhooks(State(st): State<AppState>, Query(pq): Query<PageQuery>) -> ApiResult<Json<Page<Webhook>>> {
    Ok(Json(st.store.webhooks(pq.page()?).await?.into()))
}

/// Subscribe a URL to events (admins). The answer carries the signing
/// `secret`, shown this once. A URL on loopback, private or link-local
/// networks is refused unless the setting `webhooks_allow_private` is on.
#[utoipa::path(post, path = "/webhooks", tag = "webhooks", request_body = NewWebhook,
    responses((status = 201, body = WebhookWithSecret), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 422, body = Problem)))]
async fn create_webhook(
    State(st): State<AppState>,
    u: CurrentUser,
    Json(n): Json<NewWebhook>,
) -> ApiResult<(StatusCode, Json<WebhookWithSecret>)> {
    check_target(&st, &n.url).await?;
    Ok((StatusCode::CREATED, Json(st.store.create_webhook(&u.actor(), n).await?)))
}

/// One subscription (without its secret).
#[utoipa::path(get, path = "/webhooks/{id}", tag = "webhooks", params(("id" = WebhookId, Path)),
    responses((status = 200, body = Webhook), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_webhook(State(st): State<AppState>, Path(id): Path<WebhookId>) -> ApiResult<Json<Webhook>> {
    Ok(Json(st.store.webhook(id).await?))
}

/// Change a subscription's URL, events, description, or switch it on or
/// off (admins); `version` is the one read.
#[utoipa::path(patch, path = "/webhooks/{id}", tag = "webhooks", params(("id" = WebhookId, Path)),
    request_body = WebhookPatch,
    responses((status = 200, body = Webhook), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_webhook(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<WebhookId>,
    Json(p): Json<WebhookPatch>,
) -> ApiResult<Json<Webhook>> {
    if let Some(url) = &p.url {
        check_target(&st, url).await?;
    }
    Ok(Json(st.store.update_webhook(&u.actor(), id, p).await?))
}

/// Delete a subscription and its delivery log (admins).
#[utoipa::path(delete, path = "/webhooks/{id}", tag = "webhooks", params(("id" = WebhookId, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn delete_webhook(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<WebhookId>,
) -> ApiResult<StatusCode> {
    st.store.delete_webhook(&u.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Give the subscription a new secret (admins), answered this once. For 24
/// hours deliveries carry a signature with the old secret too.
#[utoipa::path(post, path = "/webhooks/{id}/rotate-secret", tag = "webhooks", params(("id" = WebhookId, Path)),
    responses((status = 200, body = WebhookWithSecret), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn rotate_secret(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<WebhookId>,
) -> ApiResult<Json<WebhookWithSecret>> {
    Ok(Json(st.store.rotate_webhook_secret(&u.actor(), id).await?))
}

/// The delivery log: every attempt, newest first, with the status,
/// latency and the start of the answer.
#[utoipa::path(get, path = "/webhooks/{id}/deliveries", tag = "webhooks", params(("id" = WebhookId, Path), PageQuery),
    responses((status = 200, body = Page<WebhookAttempt>), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn list_deliveries(
    State(st): State<AppState>,
    Path(id): Path<WebhookId>,
    Query(pq): Query<PageQuery>,
) -> ApiResult<Json<Page<WebhookAttempt>>> {
    Ok(Json(st.store.webhook_attempts(id, pq.page()?).await?.into()))
}

/// A redelivery scheduled.
#[derive(Debug, Serialize, ToSchema)]
pub struct Redelivery {
    /// The job that posts it (see `/api/v1/jobs`); its attempt lands in the log.
    pub job_id: String,
}

/// Post the message of a logged attempt again, once, now (admins).
#[utoipa::path(post, path = "/webhooks/{id}/deliveries/{attempt_id}/redeliver", tag = "webhooks",
    params(("id" = WebhookId, Path), ("attempt_id" = WebhookAttemptId, Path)),
    responses((status = 202, body = Redelivery), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
async fn redeliver(
    State(st): State<AppState>,
    u: CurrentUser,
    Path((id, attempt)): Path<(WebhookId, WebhookAttemptId)>,
) -> ApiResult<(StatusCode, Json<Redelivery>)> {
    let job = st.store.redeliver_webhook(&u.actor(), id, attempt).await?;
    Ok((StatusCode::ACCEPTED, Json(Redelivery { job_id: job.to_string() })))
}

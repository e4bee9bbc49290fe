//! One delivery: what the deliver job posts (the message, where, with which
//! secrets), the log of attempts with their answers, a 410 switching the
//! subscription off, and a manual redelivery of a logged message.

use super::{DELIVER_JOB, load};
use crate::jobs::{NewJob, enqueue_in};
use crate::row::*;
use crate::sql::{ListPage, Page, Sql, fetch_page};
use crate::{Actor, Job, Store, StoreError};
use dealflow_core::time::Timestamp;
use dealflow_core::{WebhookAttemptId, WebhookId};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;

/// Longest answer excerpt kept per attempt.
const MAX_RESPONSE_CHARS: usize = 500;

/// What one attempt posts.
#[derive(Clone)]
pub struct Delivery {
    pub subscription_id: WebhookId,
    pub message_id: i64,
    pub event_type: String,
    pub url: String,
    pub body: String,
    /// The secrets to sign with: the current one, and the previous one
    /// while it is still valid after a rotation.
    pub secrets: Vec<String>,
    /// Which attempt of the job this is (1 for the first).
    pub attempt: i64,
    pub manual: bool,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("subscription_id", &self.subscription_id)
            .field("message_id", &self.message_id)
            .field("url", &self.url)
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

/// One logged attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WebhookAttempt {
    pub id: WebhookAttemptId,
    pub webhook_id: WebhookId,
    /// The `webhook-id` header: the same for every attempt of a message.
    pub message_id: String,
    pub event_type: String,
    /// 1 for the first attempt of a delivery.
    pub attempt: i64,
    /// Made by a redelivery an admin asked for.
    pub manual: bool,
    pub at: Timestamp,
    /// A 2xx answer came back.
    pub ok: bool,
    /// The HTTP status, `null` when no answer came (timeout, refused).
    pub status: Option<i64>,
    pub latency_ms: i64,
    /// The start of the answer's body, or why there was none.
    pub response: Option<String>,
}

fn attempt_from_row(r: &AnyRow) -> R<WebhookAttempt> {
    Ok(WebhookAttempt {
        id: WebhookAttemptId(i64_(r, "id")?),
        webhook_id: WebhookId(i64_(r, "subscription_id")?),
        message_id: format!("msg_{}", i64_(r, "message_id")?),
        event_type: text(r, "type")?,
        attempt: i64_(r, "attempt")?,
        manual: bool_(r, "manual")?,
        at: ts(r, "at")?,
        ok: bool_(r, "ok")?,
        status: opt_i64(r, "status")?,
        latency_ms: i64_(r, "latency_ms")?,
        response: opt_text(r, "response")?,
    })
}

impl Store {
    /// What a deliver job posts now, or `None` with the reason when nothing
    /// is to be sent (the subscription was deleted or switched off).
    pub async fn webhook_delivery(&self, job: &Job, now: Timestamp) -> Result<Result<Delivery, String>, StoreError> {
        let ids =
            |k: &str| job.payload[k].as_i64().ok_or_else(|| StoreError::invalid("payload", format!("{k} missing")));
        let (message_id, subscription_id) = (ids("message_id")?, ids("subscription_id")?);
        let sub = sqlx::query("SELECT * FROM webhook_subscriptions WHERE id = $1")
            .bind(subscription_id)
            .fetch_optional(self.pool())
            .await?;
        let Some(sub) = sub else { return Ok(Err(format!("webhook {subscription_id} was deleted"))) };
        if !bool_(&sub, "active")? {
            return Ok(Err(format!("webhook {subscription_id} is not active")));
        }
        let msg = sqlx::query("SELECT type, body FROM webhook_messages WHERE id = $1")
            .bind(message_id)
            .fetch_one(self.pool())
            .await?;
        let mut secrets = vec![text(&sub, "secret")?];
        if let (Some(prev), Some(until)) = (opt_text(&sub, "previous_secret")?, opt_i64(&sub, "previous_until")?)
            && until > now.0
        {
            secrets.push(prev);
        }
        Ok(Ok(Delivery {
            subscription_id: WebhookId(subscription_id),
            message_id,
            event_type: text(&msg, "type")?,
            url: text(&sub, "url")?,
            body: text(&msg, "body")?,
            secrets,
            attempt: job.attempts,
            manual: job.payload["manual"].as_bool().unwrap_or(false),
        }))
    }

    /// Logs one attempt and what came back.
    pub async fn record_webhook_attempt(
        &self,
        d: &Delivery,
        status: Option<u16>,
        latency_ms: i64,
        response: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let ok = status.is_some_and(|s| (200..300).contains(&s));
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO webhook_attempts (id, subscription_id, message_id, attempt, manual, at, ok, status, latency_ms, response)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(dealflow_core::ids::next_id())
        .bind(d.subscription_id.0)
        .bind(d.message_id)
        .bind(d.attempt)
        .bind(b(d.manual))
        .bind(now.0)
        .bind(b(ok))
        .bind(status.map(i64::from))
        .bind(latency_ms)
        .bind(response.map(|r| r.chars().take(MAX_RESPONSE_CHARS).collect::<String>()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Switches a subscription off on the receiver's word (410 Gone).
    pub async fn disable_webhook(&self, id: WebhookId, reason: &str, now: Timestamp) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(
            "UPDATE webhook_subscriptions SET active = 0, disabled_reason = $1, updated_at = $2, version = version + 1
             WHERE id = $3 AND active = 1",
        )
        .bind(reason)
        .bind(now.0)
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The subscription's delivery log, newest first.
    pub async fn webhook_attempts(&self, id: WebhookId, page: Page) -> Result<ListPage<WebhookAttempt>, StoreError> {
        self.webhook(id).await?;
        let mut sql = Sql::new(
            "SELECT a.*, m.type FROM webhook_attempts a JOIN webhook_messages m ON m.id = a.message_id
             WHERE a.subscription_id = ",
        );
        sql.bind(id.0);
        page.apply(&mut sql, "a.id");
        fetch_page(self.pool(), &sql, page, attempt_from_row).await
    }

    /// Posts the message of a logged attempt once more, now, whatever the
    /// earlier attempts answered. Returns the scheduled job's id.
    pub async fn redeliver_webhook(
        &self,
        actor: &Actor,
        id: WebhookId,
        attempt_id: WebhookAttemptId,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let hook = load(&mut tx, id).await?;
        if !hook.active {
            return Err(StoreError::InUse(format!(
                "webhook {id} is not active; switch it on (PATCH active: true) before redelivering"
            )));
        }
        let message: Option<i64> =
            sqlx::query_scalar("SELECT message_id FROM webhook_attempts WHERE id = $1 AND subscription_id = $2")
                .bind(attempt_id.0)
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await?;
        let message = message.ok_or_else(|| StoreError::not_found("delivery attempt", attempt_id))?;
        let mut job = NewJob::new(
            DELIVER_JOB,
            json!({ "message_id": message, "subscription_id": id.0, "manual": true }),
            actor.now,
        );
        job.max_attempts = 1;
        // Without a dedupe key the insert cannot be skipped; `None` would be
        // a broken invariant, said as such rather than a panic.
        let job_id = enqueue_in(&mut tx, &job, actor.now)
            .await?
            .ok_or_else(|| StoreError::Config("a redelivery without a dedupe key was not scheduled".into()))?;
        let entry = crate::audit::Entry::new("webhook", "redeliver", Some(id.0))
            .detail(json!({ "message_id": format!("msg_{message}") }));
        crate::audit::append(&mut tx, actor, entry).await?;
        tx.commit().await?;
        self.jobs_enqueued();
        Ok(job_id)
    }
}

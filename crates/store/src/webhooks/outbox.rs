//! From a change to the subscribers. A write that has something to tell
//! calls [`emit`] inside its own transaction: one statement schedules a
//! `webhooks.fanout` job carrying the events' bodies, and only when some
//! subscription is active (so a workspace without webhooks pays one cheap
//! statement and no job). The job commits with the change or not at all:
//! no lost and no phantom events. The fan-out job stores each body once as
//! a message and schedules one `webhooks.deliver` job per subscriber of
//! its type; both steps are idempotent (fixed ids, dedupe keys), so a
//! repeated job adds nothing.

use crate::jobs::{NewJob, enqueue_in};
use crate::{Job, Store, StoreError, Tx};
use dealflow_core::time::Timestamp;
use serde_json::{Value, json};

/// The job that turns a change's events into deliveries.
pub const FANOUT_JOB: &str = "webhooks.fanout";
/// The job that posts one message to one subscriber.
pub const DELIVER_JOB: &str = "webhooks.deliver";
/// Attempts of one delivery: the first and 13 retries spread over about
/// three days (see the server's retry schedule).
pub const WEBHOOK_MAX_ATTEMPTS: i64 = 14;

/// Every event type a subscription may ask for.
pub const WEBHOOK_EVENTS: &[&str] = &[
    "deal.created",
    "deal.updated",
    "deal.stage_changed",
    "deal.won",
    "deal.lost",
    "person.created",
    "activity.created",
    "activity.done",
    "campaign.member_added",
    "step.overdue",
    "score.threshold_crossed",
    "audit.signed_off",
];

/// One event of a change: its type, the record as the API returns it and,
/// for updates, the changed fields' values before.
pub(crate) struct Emit {
    pub kind: &'static str,
    pub data: Value,
    pub previous: Option<Value>,
}

impl Emit {
    pub fn new<T: serde::Serialize>(kind: &'static str, record: &T) -> Self {
        // A record of the model always serializes; were it not to, the
        // event still goes out, with the record missing rather than lost.
        Self { kind, data: serde_json::to_value(record).unwrap_or(Value::Null), previous: None }
    }

    pub fn previous(mut self, previous: Value) -> Self {
        self.previous = Some(previous);
        self
    }
}

/// Schedules the events' delivery inside `tx`. `true` when a job was
/// scheduled: the caller wakes the runner after its commit.
pub(crate) async fn emit(tx: &mut Tx, now: Timestamp, events: Vec<Emit>) -> Result<bool, StoreError> {
    if events.is_empty() {
        return Ok(false);
    }
    let events: Vec<Value> = events
        .into_iter()
        .map(|e| {
            let mut body = json!({ "type": e.kind, "timestamp": now.to_rfc3339(), "data": e.data });
            if let Some(p) = e.previous {
                body["previous"] = p;
            }
            json!({ "id": dealflow_core::ids::next_id(), "type": e.kind, "at": now.0, "body": body.to_string() })
        })
        .collect();
    let done = sqlx::query(
        "INSERT INTO jobs (id, kind, payload, due_at, status, attempts, max_attempts, created_at, updated_at)
         SELECT $1, $2, $3, $4, 'pending', 0, 5, $4, $4
         WHERE EXISTS (SELECT 1 FROM webhook_subscriptions WHERE active = 1)",
    )
    .bind(dealflow_core::ids::next_id())
    .bind(FANOUT_JOB)
    .bind(json!({ "events": events }).to_string())
    .bind(now.0)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// One event as the fan-out job carries it.
#[derive(serde::Deserialize)]
struct Carried {
    id: i64,
    #[serde(rename = "type")]
    kind: String,
    at: i64,
    body: String,
}

impl Store {
    /// Runs a fan-out job: stores its messages and schedules a delivery to
    /// every active subscriber of each. Returns how many were scheduled now.
    pub async fn webhook_fanout(&self, job: &Job) -> Result<usize, StoreError> {
        let carried: Vec<Carried> = serde_json::from_value(job.payload["events"].clone())
            .map_err(|e| StoreError::invalid("payload", format!("not a fan-out job's events: {e}")))?;
        let now = Timestamp::now();
        let mut tx = self.write().await?;
        let subs: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, events FROM webhook_subscriptions WHERE active = 1 ORDER BY id")
                .fetch_all(&mut *tx)
                .await?;
        let subs: Vec<(i64, Vec<String>)> =
            subs.into_iter().map(|(id, ev)| (id, serde_json::from_str(&ev).unwrap_or_default())).collect();
        let mut scheduled = 0;
        for e in &carried {
            sqlx::query(
                "INSERT INTO webhook_messages (id, type, at, body) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
            )
            .bind(e.id)
            .bind(e.kind.clone())
            .bind(e.at)
            .bind(e.body.clone())
            .execute(&mut *tx)
            .await?;
            for (sub, _) in subs.iter().filter(|(_, events)| events.contains(&e.kind)) {
                let mut deliver = NewJob::new(DELIVER_JOB, json!({ "message_id": e.id, "subscription_id": sub }), now)
                    .dedupe(format!("webhook:{}:{sub}", e.id));
                deliver.max_attempts = WEBHOOK_MAX_ATTEMPTS;
                if enqueue_in(&mut tx, &deliver, now).await?.is_some() {
                    scheduled += 1;
                }
            }
        }
        tx.commit().await?;
        if scheduled > 0 {
            self.jobs_enqueued();
        }
        Ok(scheduled)
    }
}

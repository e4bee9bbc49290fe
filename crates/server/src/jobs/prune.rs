//! `sessions.prune`: the daily job that deletes ended sign-in sessions. One
//! job per UTC day, scheduled by the runner (a dedupe key per day makes the
//! several runners of several processes schedule it once), due at that
//! day's midnight, so it runs soon after a start and then once a day.

use dealflow_core::time::Timestamp;
use dealflow_store::{Job, NewJob, Store};
use serde_json::{Value, json};

/// The job kind.
pub const SESSIONS_PRUNE: &str = "sessions.prune";

const DAY_MS: i64 = 86_400_000;

/// Deletes the sessions that have ended; idempotent, so a repeated run is harmless.
pub(super) async fn run(store: Store, _job: Job) -> Result<Value, String> {
    let deleted = store.prune_sessions(Timestamp::now()).await.map_err(|e| e.to_string())?;
    Ok(json!({ "deleted": deleted }))
}

/// Makes sure today's prune job exists, once per UTC day: `done` is the day
/// already ensured (returned again when nothing was to do, or when the
/// database could not be reached, so the next poll tries again).
pub async fn ensure_daily_prune(store: &Store, now: Timestamp, done: Option<i64>) -> Option<i64> {
    let day = now.0.div_euclid(DAY_MS);
    if done == Some(day) {
        return done;
    }
    let job = NewJob::new(SESSIONS_PRUNE, json!({}), Timestamp(day * DAY_MS)).dedupe(format!("{SESSIONS_PRUNE}:{day}"));
    match store.enqueue(&job).await {
        Ok(_) => Some(day),
        Err(e) => {
            tracing::warn!(error = %e, "could not schedule the daily session prune; trying again at the next poll");
            done
        }
    }
}

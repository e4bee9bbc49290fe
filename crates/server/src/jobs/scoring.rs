//! The lead score's background work: `scoring.rescore` walks the open
//! deals a newly published model version covers, batch by batch (each its
//! own transaction, progress on the model); `scoring.lose` loses a deal
//! whose score disqualified it under `disqualify_action: lose`. The hourly
//! decay sweep is started by the runner loop.

use dealflow_core::DealId;
use dealflow_store::{Job, Store};
use serde_json::{Value, json};

pub use dealflow_store::scoring::{LOSE_JOB, RESCORE_JOB};

/// An id in a payload, written as a decimal string.
fn id_of(job: &Job, key: &str) -> Result<i64, String> {
    job.payload
        .get(key)
        .and_then(|v| v.as_str().and_then(|s| s.parse().ok()).or_else(|| v.as_i64()))
        .ok_or_else(|| format!("the payload has no `{key}`"))
}

pub(super) async fn rescore(store: Store, job: Job) -> Result<Value, String> {
    let model = id_of(&job, "model_id")?;
    let version = job.payload.get("version").and_then(Value::as_i64).ok_or("the payload has no `version`")?;
    let all = job.payload.get("all").and_then(Value::as_bool).unwrap_or(false);
    let mut after = 0;
    let mut batches = 0;
    // A retried job starts over; deals already rescored are skipped by the
    // batch's own selection (unless `all`, where a second pass is harmless).
    while let Some(next) = store.rescore_batch(model, version, all, after).await.map_err(|e| e.to_string())? {
        after = next;
        batches += 1;
    }
    Ok(json!({ "batches": batches + 1 }))
}

pub(super) async fn lose(store: Store, job: Job) -> Result<Value, String> {
    let deal = DealId(id_of(&job, "deal_id")?);
    match store.lose_disqualified(deal).await {
        Ok(lost) => Ok(json!({ "lost": lost })),
        // A deal deleted meanwhile has nothing left to lose.
        Err(dealflow_store::StoreError::NotFound { .. }) => Ok(json!({ "lost": false })),
        Err(e) => Err(e.to_string()),
    }
}

//! `webhooks.fanout` and `webhooks.deliver`: a change's events become one
//! delivery job per subscriber (the store does it), and each delivery posts
//! its message, signed the Standard Webhooks way, and logs the attempt.
//! A 2xx answer ends it; 410 Gone switches the subscription off; anything
//! else (another status, no answer) fails the attempt, and the runner
//! retries it on [`retry_in_ms`]'s schedule.
//!
//! Idempotent enough for at-least-once: a repeated delivery sends the same
//! `webhook-id`, by which receivers drop duplicates.

use crate::webhooks::{post, sign};
use dealflow_core::time::Timestamp;
use dealflow_store::{Job, Store};
use serde_json::{Value, json};

pub use dealflow_store::{DELIVER_JOB, FANOUT_JOB};

/// Waits between attempts, in seconds: the first retry after 5 s, then
/// growing to 12 hours; 13 retries cover about three days.
const SCHEDULE_S: [i64; 13] = [5, 60, 300, 1_800, 3_600, 7_200, 14_400, 28_800, 43_200, 43_200, 43_200, 43_200, 43_200];

/// How long to wait after the `attempts`-th attempt failed, with up to
/// ±10% jitter, so that many deliveries failing together (a receiver that
/// was down) do not all come back in the same second.
pub fn retry_in_ms(attempts: i64) -> i64 {
    let i = usize::try_from(attempts.saturating_sub(1)).unwrap_or(0).min(SCHEDULE_S.len() - 1);
    let base = SCHEDULE_S[i] * 1_000;
    let spread = base / 10;
    base + rand::random_range(-spread..=spread)
}

pub async fn fanout(store: Store, job: Job) -> Result<Value, String> {
    let n = store.webhook_fanout(&job).await.map_err(|e| e.to_string())?;
    Ok(json!({ "deliveries": n }))
}

pub async fn deliver(store: Store, job: Job) -> Result<Value, String> {
    let now = Timestamp::now();
    let d = match store.webhook_delivery(&job, now).await.map_err(|e| e.to_string())? {
        Ok(d) => d,
        Err(why) => return Ok(json!({ "sent": false, "reason": why })),
    };
    let allow_private = store.settings().await.map_err(|e| e.to_string())?.webhooks_allow_private;
    let msg_id = format!("msg_{}", d.message_id);
    let stamp = now.0.div_euclid(1_000);
    let signature = sign::signature(&d.secrets, &msg_id, stamp, &d.body)?;
    let headers =
        [("webhook-id", msg_id.clone()), ("webhook-timestamp", stamp.to_string()), ("webhook-signature", signature)];
    let started = std::time::Instant::now();
    let answer = post::post(&d.url, allow_private, &headers, d.body.clone()).await;
    let latency = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    let record = |status, text: String| {
        let (store, d) = (store.clone(), d.clone());
        async move { store.record_webhook_attempt(&d, status, latency, Some(&text), Timestamp::now()).await }
    };
    match answer {
        Ok(a) if (200..300).contains(&a.status) => {
            record(Some(a.status), a.excerpt).await.map_err(|e| format!("delivered, but not logged: {e}"))?;
            Ok(json!({ "status": a.status, "message_id": msg_id }))
        }
        Ok(a) if a.status == 410 => {
            record(Some(410), a.excerpt).await.map_err(|e| e.to_string())?;
            let why = format!("the receiver answered 410 Gone on {}", now.to_rfc3339());
            store.disable_webhook(d.subscription_id, &why, now).await.map_err(|e| e.to_string())?;
            Ok(json!({ "status": 410, "disabled": true }))
        }
        Ok(a) => {
            let why = format!("HTTP {}: {}", a.status, a.excerpt.chars().take(200).collect::<String>());
            record(Some(a.status), a.excerpt).await.map_err(|e| e.to_string())?;
            Err(why)
        }
        Err(why) => {
            record(None, why.clone()).await.map_err(|e| e.to_string())?;
            Err(why)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{SCHEDULE_S, retry_in_ms};

    #[test]
    fn retries_start_within_a_minute_and_span_about_three_days() {
        assert!(retry_in_ms(1) <= 60_000);
        let total: i64 = SCHEDULE_S.iter().sum();
        assert!((3 * 86_400 - 6 * 3_600..=3 * 86_400 + 6 * 3_600).contains(&total), "{total} s");
        assert_eq!(SCHEDULE_S.len() as i64 + 1, dealflow_store::WEBHOOK_MAX_ATTEMPTS);
        for a in 1..=20 {
            let ms = retry_in_ms(a);
            let base = SCHEDULE_S[(a as usize - 1).min(12)] * 1_000;
            assert!((base * 9 / 10..=base * 11 / 10).contains(&ms), "attempt {a}: {ms}");
        }
    }
}

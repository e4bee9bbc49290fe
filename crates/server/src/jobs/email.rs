//! `playbook.email`: sends one automatic playbook e-mail. The store says
//! what to send (or why nothing, or why it cannot be sent); the e-mail is
//! filled in now, sent with its stable Message-ID, and recorded (step done,
//! `email` activity) before the runner acknowledges the job. A mail server
//! that is not configured, down or refusing fails the attempt, so the
//! runner retries with backoff; the last attempt fails the step too.
//!
//! Idempotent: a repeated run finds the step done and sends nothing. The
//! one window that repeats an e-mail is a crash after the server accepted
//! it and before the record committed (docs/running.md).

use crate::mail::{Mail, SendError, send};
use dealflow_store::{EmailPlan, Job, Store};
use serde_json::{Value, json};

pub use dealflow_store::EMAIL_JOB;

/// Runs one send job (the runner calls it; tests may call it directly).
pub async fn run(store: Store, job: Job) -> Result<Value, String> {
    let plan = store.email_plan(&job).await.map_err(|e| e.to_string())?;
    let out = match plan {
        EmailPlan::Nothing(why) => return Ok(json!({ "sent": false, "reason": why })),
        EmailPlan::Cannot(why) => {
            store.email_failed(&job, &why).await.map_err(|e| e.to_string())?;
            return Ok(json!({ "sent": false, "failed": why }));
        }
        EmailPlan::Send(out) => out,
    };
    let cfg = match store.smtp_config().await.map_err(|e| e.to_string())? {
        Ok(cfg) => cfg,
        Err(why) => return Err(give_up_if_last(&store, &job, why).await),
    };
    let mail = Mail { to: &out.to, subject: &out.subject, body: &out.body, message_id: Some(&out.message_id) };
    match send(&cfg, &mail).await {
        Ok(()) => {}
        Err(SendError::Invalid(why)) => {
            store.email_failed(&job, &why).await.map_err(|e| e.to_string())?;
            return Ok(json!({ "sent": false, "failed": why }));
        }
        Err(SendError::Server(why)) => return Err(give_up_if_last(&store, &job, why).await),
    }
    // Sent: record it before the runner acknowledges the job. If this
    // fails, the attempt fails and a retry sends again with the same
    // Message-ID.
    store.email_sent(&job, &out).await.map_err(|e| format!("sent, but not recorded: {e}"))?;
    Ok(json!({ "sent": true, "to": out.to, "message_id": out.message_id }))
}

/// On the job's last attempt the step fails with `why` as well; returns
/// `why` for the attempt's error either way.
async fn give_up_if_last(store: &Store, job: &Job, why: String) -> String {
    if job.attempts >= job.max_attempts
        && let Err(e) = store.email_failed(job, &why).await
    {
        tracing::warn!(job = job.id, error = %e, "could not mark the e-mail step failed");
    }
    why
}

//! Scheduled audits: each pipeline with a weekly schedule gets one audit
//! per slot. The background jobs call [`Store::run_audit_schedule`] every
//! minute and once at start-up, so a slot missed while the server was down
//! is made once, late; the unique `(pipeline_id, scheduled_for)` makes two
//! servers or two ticks agree on one audit.

use crate::jobs::NewJob;
use crate::row::*;
use crate::{Actor, PipelineAudit, Store, StoreError};
use dealflow_core::PipelineId;
use dealflow_core::pipeline_audit::schedule::latest_slot;
use dealflow_core::time::Timestamp;

impl Store {
    /// Makes the audits whose weekly slot has come and that do not exist
    /// yet; a slot before the schedule was set is never made. Returns the
    /// pipelines audited.
    pub async fn run_audit_schedule(&self, now: Timestamp) -> Result<Vec<PipelineId>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, audit_weekday, audit_time, audit_schedule_from FROM pipelines
             WHERE audit_weekday IS NOT NULL AND archived = 0",
        )
        .fetch_all(self.pool())
        .await?;
        let tz = self.settings().await?.time_zone;
        let mut made = Vec::new();
        for r in &rows {
            let pipeline = PipelineId(i64_(r, "id")?);
            let weekday = i64_(r, "audit_weekday")?;
            let Some(slot) = latest_slot(weekday, opt_text(r, "audit_time")?.as_deref(), tz, now) else { continue };
            if opt_i64(r, "audit_schedule_from")?.is_some_and(|from| slot.0 < from) {
                continue;
            }
            let exists: Option<i64> =
                sqlx::query_scalar("SELECT id FROM pipeline_audits WHERE pipeline_id = $1 AND scheduled_for = $2")
                    .bind(pipeline.0)
                    .bind(slot.0)
                    .fetch_optional(self.pool())
                    .await?;
            if exists.is_some() {
                continue;
            }
            let actor = Actor { now, ..Actor::system() };
            if let Some(audit) = self.take_audit(&actor, pipeline, None, Some(slot)).await? {
                tracing::info!(%pipeline, "scheduled audit made");
                self.enqueue_briefs(&audit, now).await?;
                made.push(pipeline);
            }
        }
        Ok(made)
    }
}

/// The job that e-mails one owner their flagged deals of a scheduled audit.
pub const AUDIT_BRIEF_JOB: &str = "audit.brief";

impl Store {
    /// One brief per owner with flagged deals in `audit`, when the workspace
    /// has a mail server (without one there is nobody to send them).
    async fn enqueue_briefs(&self, audit: &PipelineAudit, now: Timestamp) -> Result<(), StoreError> {
        if self.smtp_config().await?.is_err() {
            return Ok(());
        }
        let mut owners: Vec<_> = audit
            .items
            .iter()
            .flatten()
            .filter(|i| !i.facts.flags.is_empty())
            .filter_map(|i| i.facts.owner_id)
            .collect();
        owners.sort_unstable();
        owners.dedup();
        for owner in owners {
            let payload = serde_json::json!({"audit_id": audit.id, "owner_id": owner});
            let job =
                NewJob::new(AUDIT_BRIEF_JOB, payload, now).dedupe(format!("{AUDIT_BRIEF_JOB}:{}:{owner}", audit.id));
            self.enqueue(&job).await?;
        }
        Ok(())
    }
}

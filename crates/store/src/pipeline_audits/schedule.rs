//! Scheduled audits: each pipeline with a weekly schedule gets one audit
//! per slot. The background jobs call [`Store::run_audit_schedule`] every
//! minute and once at start-up, so a slot missed while the server was down
//! is made once, late; the unique `(pipeline_id, scheduled_for)` makes two
//! servers or two ticks agree on one audit.

use crate::row::*;
use crate::{Actor, Store, StoreError};
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
            if self.take_audit(&actor, pipeline, None, Some(slot)).await?.is_some() {
                tracing::info!(%pipeline, "scheduled audit made");
                made.push(pipeline);
            }
        }
        Ok(made)
    }
}

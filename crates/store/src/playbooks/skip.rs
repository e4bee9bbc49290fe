//! Skipping a step with a reason: a manager's decision that a required
//! step of a deal's current stage need not be done. The skipped step counts
//! as done for the gate; the skip is kept as a tick (with its reason) and
//! in the audit log, and the checklist shows who skipped it, when and why.
//! Ticking the step undone reopens it.

use crate::row::b;
use crate::{Actor, Store, StoreError};
use dealflow_core::playbook::StepStatus;
use dealflow_core::validate::required_text;
use dealflow_core::{DealId, Invalid, StepId};

impl Store {
    /// Marks a step of the deal's current stage skipped with `reason`
    /// (required, at most 500 characters). Its open task, if any, is closed.
    #[tracing::instrument(skip_all, fields(deal = %id, step = %step))]
    pub async fn skip_step(&self, actor: &Actor, id: DealId, step: StepId, reason: &str) -> Result<(), StoreError> {
        let reason = required_text("reason", reason, 500)?;
        let mut tx = self.write().await?;
        let deal = crate::records::live(&mut *tx, "deals", "deal", id.0, crate::deals::from_row).await?;
        let s = super::step_in(&mut tx, step).await?;
        if s.stage_id != deal.stage_id {
            return Err(
                Invalid::one("step_id", format!("step {step} is not a step of the deal's current stage")).into()
            );
        }
        let row: Option<(i64, Option<i64>)> =
            sqlx::query_as("SELECT id, activity_id FROM deal_steps WHERE deal_id = $1 AND step_id = $2")
                .bind(id.0)
                .bind(step.0)
                .fetch_optional(&mut *tx)
                .await?;
        let skipped = StepStatus::Skipped.as_str();
        let by = actor.user_id.map(|u| u.0);
        match row {
            Some((row_id, activity)) => {
                sqlx::query(
                    "UPDATE deal_steps SET status = $1, reason = $2, done_at = $3, done_by = $4, updated_at = $3
                     WHERE id = $5",
                )
                .bind(skipped)
                .bind(reason.clone())
                .bind(actor.now.0)
                .bind(by)
                .bind(row_id)
                .execute(&mut *tx)
                .await?;
                if let Some(a) = activity {
                    // Nothing is left to do: the task closes with the step.
                    sqlx::query(
                        "UPDATE activities SET done_at = $1, updated_at = $1, version = version + 1
                         WHERE id = $2 AND done_at IS NULL",
                    )
                    .bind(actor.now.0)
                    .bind(a)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            None => {
                // A field or evidence step, or one added after the deal
                // entered the stage, has no row yet.
                sqlx::query(
                    "INSERT INTO deal_steps (id, deal_id, step_id, status, due_at, done_at, done_by, activity_id,
                      reason, updated_at) VALUES ($1, $2, $3, $4, NULL, $5, $6, NULL, $7, $5)",
                )
                .bind(dealflow_core::ids::next_id())
                .bind(id.0)
                .bind(step.0)
                .bind(skipped)
                .bind(actor.now.0)
                .bind(by)
                .bind(reason.clone())
                .execute(&mut *tx)
                .await?;
            }
        }
        sqlx::query(
            "INSERT INTO deal_step_ticks (id, deal_id, step_id, done, at, user_id, reason)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(dealflow_core::ids::next_id())
        .bind(id.0)
        .bind(step.0)
        .bind(b(true))
        .bind(actor.now.0)
        .bind(by)
        .bind(reason.clone())
        .execute(&mut *tx)
        .await?;
        let detail = serde_json::json!({"step_id": step.to_string(), "title": s.spec.title, "reason": reason});
        crate::audit::append(&mut tx, actor, crate::audit::Entry::new("deal", "step_skip", Some(id.0)).detail(detail))
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

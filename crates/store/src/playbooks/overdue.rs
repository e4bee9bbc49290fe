//! `step.overdue`: the webhook event for a checklist step still open when
//! its due time has passed. The job runner sweeps once a minute (see
//! `server/src/jobs/mod.rs`); each sweep looks at the steps that fell due
//! since the last one (the settings row keeps how far it has looked, so a
//! server that was down catches up, at most a week back) and announces the
//! ones the checklist still shows open. Two processes sweeping at once:
//! the one whose conditional update of that mark wins emits; the other
//! finds the mark moved and emits nothing. Without a subscriber to the
//! event, a sweep only moves the mark.

use crate::webhooks::{Emit, emit};
use crate::{Store, StoreError};
use dealflow_core::DealId;
use dealflow_core::playbook::StepStatus;
use dealflow_core::time::Timestamp;

/// The furthest back a sweep looks after a long stop.
const LOOKBACK_MS: i64 = 7 * 86_400_000;
/// Most deals one sweep reads; the rest wait for the next sweep.
const MAX_DEALS: i64 = 1_000;
/// How far behind now a sweep's window ends. A step due at a moment may
/// be committed a little later (its write waited for the lock); a window
/// ending at now could be swept before that commit and never again.
pub const OVERDUE_SETTLE_MS: i64 = 60_000;

impl Store {
    /// Announces the steps that fell due since the last sweep (up to
    /// [`OVERDUE_SETTLE_MS`] before `now`) and are still open. Returns how
    /// many events were written.
    pub async fn sweep_overdue_steps(&self, now: Timestamp) -> Result<usize, StoreError> {
        let now = Timestamp(now.0 - OVERDUE_SETTLE_MS);
        let mark: Option<i64> =
            sqlx::query_scalar("SELECT steps_overdue_until FROM settings WHERE id = 1").fetch_one(self.pool()).await?;
        if mark.is_some_and(|m| m >= now.0) {
            // Swept up to here already (another process, or a clock behind).
            return Ok(0);
        }
        let start = mark.unwrap_or(now.0).max(now.0 - LOOKBACK_MS);
        let listening: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM webhook_subscriptions WHERE active = 1 AND events LIKE '%\"step.overdue\"%' LIMIT 1",
        )
        .fetch_optional(self.pool())
        .await?;
        let mut events = Vec::new();
        let mut end = now.0;
        if listening.is_some() && start < now.0 {
            let due: Vec<(i64, i64)> = sqlx::query_as(
                "SELECT ds.deal_id, MAX(ds.due_at) FROM deal_steps ds
                 JOIN playbook_steps s ON s.id = ds.step_id JOIN deals d ON d.id = ds.deal_id
                 WHERE ds.status = 'open' AND ds.due_at > $1 AND ds.due_at <= $2 AND d.stage_id = s.stage_id
                   AND d.status = 'open' AND d.deleted_at IS NULL
                 GROUP BY ds.deal_id ORDER BY MAX(ds.due_at) LIMIT $3",
            )
            .bind(start)
            .bind(now.0)
            .bind(MAX_DEALS)
            .fetch_all(self.pool())
            .await?;
            if due.len() as i64 == MAX_DEALS {
                // Look no further than the last deal read; the next sweep
                // goes on from there.
                end = due.last().map_or(end, |(_, at)| *at);
            }
            for (deal, _) in &due {
                let items = match self.deal_checklist(DealId(*deal)).await {
                    Ok(items) => items,
                    // Deleted or moved since the read: nothing to announce.
                    Err(StoreError::NotFound { .. }) => continue,
                    Err(e) => return Err(e),
                };
                for item in items {
                    let late = item.due_at.is_some_and(|d| d.0 > start && d.0 <= end);
                    if item.status == StepStatus::Open && late {
                        let mut data = serde_json::to_value(&item).unwrap_or_default();
                        data["deal_id"] = serde_json::Value::String(deal.to_string());
                        events.push(Emit { kind: "step.overdue", data, previous: None });
                    }
                }
            }
        }
        let mut tx = self.write().await?;
        let moved = sqlx::query(
            "UPDATE settings SET steps_overdue_until = $1
             WHERE id = 1 AND (steps_overdue_until IS NULL OR steps_overdue_until = $2)",
        )
        .bind(end)
        .bind(mark.unwrap_or(0))
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 0 {
            // Another process swept this window first.
            return Ok(0);
        }
        let n = events.len();
        let wake = emit(&mut tx, now, events).await?;
        tx.commit().await?;
        self.woken(wake);
        Ok(n)
    }
}

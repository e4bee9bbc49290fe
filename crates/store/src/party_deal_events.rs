//! The deal events on a person's or organization's timeline: the stage
//! events (created in a stage, moved, won, lost, reopened) of the deals
//! that person or organization is on, with the names they show, so their
//! page tells the same story as each deal's page.

use crate::row::*;
use crate::{Store, StoreError, TimelineItem};
use dealflow_core::DealId;
use dealflow_core::model::EventKind;

/// A deal's stage event as a person's or organization's timeline shows it.
#[derive(Debug, Clone)]
pub struct PartyDealEvent {
    pub deal_id: DealId,
    pub title: String,
    pub kind: EventKind,
    /// The stage entered, or the stage the deal was won, lost or reopened in.
    pub stage: String,
    /// For a move: the stage the deal left.
    pub from_stage: Option<String>,
    pub lost_reason: Option<String>,
}

impl Store {
    /// Appends the newest `limit` stage events of the (not deleted) deals
    /// whose `col` (`person_id` or `organization_id`) is `id`.
    pub(crate) async fn party_deal_events(
        &self,
        col: &str,
        id: i64,
        limit: i64,
        out: &mut Vec<TimelineItem>,
    ) -> Result<(), StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT e.deal_id, d.title, e.kind, s.name AS stage, f.name AS from_stage, e.lost_reason, e.at
             FROM stage_events e JOIN deals d ON d.id = e.deal_id
             JOIN stages s ON s.id = e.stage_id LEFT JOIN stages f ON f.id = e.from_stage_id
             WHERE d.{col} = $1 AND d.deleted_at IS NULL ORDER BY e.at DESC, e.id DESC LIMIT $2"
        )))
        .bind(id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        for r in &rows {
            let event = PartyDealEvent {
                deal_id: DealId(i64_(r, "deal_id")?),
                title: text(r, "title")?,
                kind: enum_(r, "kind", EventKind::parse)?,
                stage: text(r, "stage")?,
                from_stage: opt_text(r, "from_stage")?,
                lost_reason: opt_text(r, "lost_reason")?,
            };
            out.push(TimelineItem {
                kind: "deal",
                at: ts(r, "at")?,
                text: event.title.clone(),
                detail: None,
                done: false,
                count: 1,
                reply_id: None,
                deal: Some(event),
            });
        }
        Ok(())
    }
}

//! What the learned win probability's backtest reads of a pipeline: every
//! deal with its stage entries, its owner changes and the fields without
//! history, in three statements.

use crate::row::*;
use crate::{Store, StoreError};
use dealflow_core::PipelineId;
use dealflow_core::model::DealStatus;
use dealflow_core::scoring::winmodel::DealHistory;
use std::collections::HashMap;

impl Store {
    /// The histories of the pipeline's deals (not deleted).
    pub async fn deal_histories(&self, pipeline: PipelineId) -> Result<Vec<DealHistory>, StoreError> {
        let rows = sqlx::query(
            "SELECT d.*, o.industry AS o_industry, o.employees AS o_employees FROM deals d
             LEFT JOIN organizations o ON o.id = d.organization_id
             WHERE d.pipeline_id = $1 AND d.deleted_at IS NULL ORDER BY d.id",
        )
        .bind(pipeline.0)
        .fetch_all(self.pool())
        .await?;
        let mut out: HashMap<i64, DealHistory> = HashMap::with_capacity(rows.len());
        let mut order = Vec::with_capacity(rows.len());
        for r in &rows {
            let d = crate::deals::from_row(r)?;
            let mut fixed = vec![("source".to_string(), d.source.clone().unwrap_or_else(|| "none".into()))];
            if let Some(i) = opt_text(r, "o_industry")? {
                fixed.push(("industry".into(), i));
            }
            if let Some(e) = opt_i64(r, "o_employees")? {
                let size = match e {
                    ..=20 => "1-20",
                    21..=200 => "21-200",
                    201..=2000 => "201-2000",
                    _ => "2000+",
                };
                fixed.push(("employees".into(), size.into()));
            }
            for (k, v) in &d.custom {
                let v = match v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Null => continue,
                    other => other.to_string(),
                };
                fixed.push((format!("custom.{k}"), v));
            }
            order.push(d.id.0);
            out.insert(
                d.id.0,
                DealHistory {
                    created_at: d.created_at,
                    closed_at: d.closed_at.filter(|_| d.status != DealStatus::Open),
                    won: d.status == DealStatus::Won,
                    value: d.value,
                    entries: Vec::new(),
                    owner: d.owner_id.map(|o| o.to_string()),
                    owner_changes: Vec::new(),
                    fixed,
                },
            );
        }
        let entries: Vec<(i64, i64, String)> = sqlx::query_as(
            "SELECT e.deal_id, e.at, s.name FROM stage_events e JOIN stages s ON s.id = e.stage_id
             JOIN deals d ON d.id = e.deal_id
             WHERE d.pipeline_id = $1 AND e.kind = 'enter' ORDER BY e.deal_id, e.at, e.id",
        )
        .bind(pipeline.0)
        .fetch_all(self.pool())
        .await?;
        for (deal, at, stage) in entries {
            if let Some(h) = out.get_mut(&deal) {
                h.entries.push((dealflow_core::time::Timestamp(at), stage));
            }
        }
        let owners: Vec<(i64, i64, String)> = sqlx::query_as(
            "SELECT h.deal_id, h.at, h.old_value FROM field_history h JOIN deals d ON d.id = h.deal_id
             WHERE d.pipeline_id = $1 AND h.field = 'owner_id' ORDER BY h.deal_id, h.at, h.id",
        )
        .bind(pipeline.0)
        .fetch_all(self.pool())
        .await?;
        for (deal, at, old) in owners {
            if let Some(h) = out.get_mut(&deal) {
                let before =
                    serde_json::from_str::<serde_json::Value>(&old).ok().and_then(|v| v.as_str().map(str::to_string));
                h.owner_changes.push((dealflow_core::time::Timestamp(at), before));
            }
        }
        Ok(order.into_iter().filter_map(|id| out.remove(&id)).collect())
    }
}

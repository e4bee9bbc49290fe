//! What the learned win probability's backtest reads of a pipeline: every
//! deal with its stage entries, its owner changes, the fields without
//! history and its score ledger, in four statements.

use crate::row::*;
use crate::{Store, StoreError};
use dealflow_core::PipelineId;
use dealflow_core::model::DealStatus;
use dealflow_core::scoring::winmodel::DealHistory;
use std::collections::HashMap;

impl Store {
    /// The histories of the pipeline's deals (not deleted).
    pub async fn deal_histories(&self, pipeline: PipelineId) -> Result<Vec<DealHistory>, StoreError> {
        Ok(self.histories(pipeline, None, None).await?.into_iter().map(|(_, h)| h).collect())
    }

    /// The histories of the pipeline's deals closed since `since` (a
    /// training window), or only deal `only`, or all of them; each with its
    /// deal id.
    pub(crate) async fn histories(
        &self,
        pipeline: PipelineId,
        since: Option<dealflow_core::time::Timestamp>,
        only: Option<dealflow_core::DealId>,
    ) -> Result<Vec<(i64, DealHistory)>, StoreError> {
        // Numbers only: the values come from typed ids and times.
        let scope = match (since, only) {
            (_, Some(d)) => format!(" AND d.id = {}", d.0),
            (Some(t), None) => format!(" AND d.closed_at >= {}", t.0),
            (None, None) => String::new(),
        };
        let sql = format!(
            "SELECT d.*, o.industry AS o_industry, o.employees AS o_employees FROM deals d
             LEFT JOIN organizations o ON o.id = d.organization_id
             WHERE d.pipeline_id = $1 AND d.deleted_at IS NULL{scope} ORDER BY d.id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(pipeline.0).fetch_all(self.pool()).await?;
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
                    score: Vec::new(),
                },
            );
        }
        let sql = format!(
            "SELECT e.deal_id, e.at, s.name FROM stage_events e JOIN stages s ON s.id = e.stage_id
             JOIN deals d ON d.id = e.deal_id
             WHERE d.pipeline_id = $1 AND d.deleted_at IS NULL{scope} AND e.kind = 'enter'
             ORDER BY e.deal_id, e.at, e.id"
        );
        let entries: Vec<(i64, i64, String)> =
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(pipeline.0).fetch_all(self.pool()).await?;
        for (deal, at, stage) in entries {
            if let Some(h) = out.get_mut(&deal) {
                h.entries.push((dealflow_core::time::Timestamp(at), stage));
            }
        }
        let sql = format!(
            "SELECT h.deal_id, h.at, h.old_value FROM field_history h JOIN deals d ON d.id = h.deal_id
             WHERE d.pipeline_id = $1 AND d.deleted_at IS NULL{scope} AND h.field = 'owner_id'
             ORDER BY h.deal_id, h.at, h.id"
        );
        let owners: Vec<(i64, i64, String)> =
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(pipeline.0).fetch_all(self.pool()).await?;
        for (deal, at, old) in owners {
            if let Some(h) = out.get_mut(&deal) {
                let before =
                    serde_json::from_str::<serde_json::Value>(&old).ok().and_then(|v| v.as_str().map(str::to_string));
                h.owner_changes.push((dealflow_core::time::Timestamp(at), before));
            }
        }
        // The score ledger each deal follows now (its current model version).
        let sql = format!(
            "SELECT e.deal_id, e.at, e.grp, e.points FROM score_entries e
             JOIN deal_scores s ON s.deal_id = e.deal_id AND s.model_id = e.model_id
               AND s.model_version = e.model_version
             JOIN deals d ON d.id = e.deal_id
             WHERE d.pipeline_id = $1 AND d.deleted_at IS NULL{scope}
             ORDER BY e.deal_id, e.at, e.id"
        );
        let entries: Vec<(i64, i64, String, i64)> =
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(pipeline.0).fetch_all(self.pool()).await?;
        for (deal, at, group, points) in entries {
            if let Some(h) = out.get_mut(&deal) {
                h.score.push((dealflow_core::time::Timestamp(at), group, points));
            }
        }
        Ok(order.into_iter().filter_map(|id| out.remove(&id).map(|h| (id, h))).collect())
    }

    /// A deal's learned win probability now: naive Bayes trained on the
    /// pipeline's deals closed in the last 365 days, with the top three
    /// factors for and against; `None` with "not enough history" below 30
    /// won or 30 lost examples.
    pub async fn win_probability(&self, id: dealflow_core::DealId) -> Result<WinProbability, StoreError> {
        use dealflow_core::scoring::winmodel::{NaiveBayes, examples_at};
        let deal = self.deal(id).await?;
        let now = dealflow_core::time::Timestamp::now();
        let year_ago = dealflow_core::time::Timestamp(now.0 - 365 * 86_400_000);
        let closed: Vec<DealHistory> =
            self.histories(deal.pipeline_id, Some(year_ago), None).await?.into_iter().map(|(_, h)| h).collect();
        let examples = examples_at(&closed, now);
        let won = examples.iter().filter(|e| e.won).count();
        let lost = examples.len() - won;
        let Some(model) = NaiveBayes::train(&examples) else {
            return Ok(WinProbability { deal_id: id, enough_history: false, won, lost, prediction: None });
        };
        // The deal itself, as it stands now (its own history read alone).
        let mine = self.histories(deal.pipeline_id, None, Some(id)).await?;
        let Some((_, mine)) = mine.into_iter().next() else { return Err(StoreError::not_found("deal", id)) };
        let mut prediction = model.predict(&mine.features_at(now));
        // Owners are learned by id; the answer names them.
        let users = self.users().await?;
        for f in prediction.for_win.iter_mut().chain(prediction.against.iter_mut()).filter(|f| f.feature == "owner") {
            if let Some(u) = users.iter().find(|u| u.id.to_string() == f.value) {
                f.value = u.name.clone();
            }
        }
        let prediction = Some(prediction);
        Ok(WinProbability { deal_id: id, enough_history: true, won, lost, prediction })
    }
}

impl Store {
    /// The learned win probability (0–100) of every deal of the pipeline
    /// open at each of `points`, from a model trained on the deals closed
    /// in the 365 days before that point (the forecast's `source: model`).
    /// The histories are read once for all points; a point without enough
    /// history gets an empty map.
    pub async fn learned_probabilities(
        &self,
        pipeline: PipelineId,
        points: &[dealflow_core::time::Timestamp],
    ) -> Result<Vec<HashMap<dealflow_core::DealId, f64>>, StoreError> {
        use dealflow_core::scoring::winmodel::{NaiveBayes, examples_at};
        let all = self.histories(pipeline, None, None).await?;
        let closed: Vec<DealHistory> =
            all.iter().filter(|(_, h)| h.closed_at.is_some()).map(|(_, h)| h.clone()).collect();
        Ok(points
            .iter()
            .map(|&t| {
                let Some(model) = NaiveBayes::train(&examples_at(&closed, t)) else { return HashMap::new() };
                all.iter()
                    .filter(|(_, h)| h.open_at(t))
                    .map(|(id, h)| (dealflow_core::DealId(*id), 100.0 * model.predict(&h.features_at(t)).probability))
                    .collect()
            })
            .collect())
    }
}

/// `GET /api/v1/deals/{id}/win-probability`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct WinProbability {
    pub deal_id: dealflow_core::DealId,
    /// False below 30 won or 30 lost examples in the last 365 days.
    pub enough_history: bool,
    /// Training examples: won and lost.
    pub won: usize,
    pub lost: usize,
    /// The probability with its top factors; absent without enough history.
    pub prediction: Option<dealflow_core::scoring::winmodel::Prediction>,
}

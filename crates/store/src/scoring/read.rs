//! Reading a deal's score: now or as of a past moment, derived from its
//! ledger under the model version it follows, with the firings that made
//! it; and clearing the disqualified flag by hand.

use super::sync::{entries, from_cents};
use crate::row::*;
use crate::{Actor, Store, StoreError};
use dealflow_core::scoring::ModelBody;
use dealflow_core::scoring::ledger::{Contribution, Groups, score};
use dealflow_core::time::Timestamp;
use dealflow_core::{DealId, ScoringModelId, UserId};
use serde::Serialize;

/// `GET /api/v1/deals/{id}/score`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DealScore {
    pub deal_id: DealId,
    pub model_id: ScoringModelId,
    pub model_version: i64,
    /// The moment the score is of.
    pub as_of: Timestamp,
    /// The sum of `contributions[].points_now`.
    pub total: f64,
    pub groups: Groups,
    pub band: Option<String>,
    /// Whether a disqualifying score flagged the deal (and no one cleared it).
    pub disqualified: bool,
    /// Every ledger entry by then, oldest first, with its points then and
    /// now; a cap's line takes off what exceeds a rule's cap.
    pub contributions: Vec<Contribution>,
    /// The thresholds that fired, and flags cleared, by then.
    pub firings: Vec<Firing>,
}

/// A threshold that fired, or a flag a person cleared.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Firing {
    /// `disqualify`, `nurture` or `cleared`.
    pub kind: String,
    /// The score that caused it.
    pub total: f64,
    pub at: Timestamp,
    pub user_id: Option<UserId>,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

impl Store {
    /// A deal's score now, or as of `as_of` (the ledger as it stood then,
    /// decayed to then). 404 when no published model scores the deal.
    pub async fn deal_score(&self, id: DealId, as_of: Option<Timestamp>) -> Result<DealScore, StoreError> {
        let mut tx = self.snapshot().await?;
        let deal = crate::records::live(&mut *tx, "deals", "deal", id.0, crate::deals::from_row).await?;
        let row = sqlx::query(
            "SELECT s.model_id, s.model_version, v.body FROM deal_scores s
             JOIN scoring_model_versions v ON v.model_id = s.model_id AND v.number = s.model_version
             WHERE s.deal_id = $1",
        )
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await?;
        let (model, version, body) = match row {
            Some(r) => (i64_(&r, "model_id")?, i64_(&r, "model_version")?, json::<ModelBody>(&r, "body")?),
            None => match super::published_for(&mut tx, deal.pipeline_id).await? {
                Some(p) => (p.model_id, p.version, p.body),
                None => {
                    return Err(StoreError::not_found(
                        "score of deal",
                        format!(
                            "{id} (no published scoring model covers pipeline {}; publish one first)",
                            deal.pipeline_id
                        ),
                    ));
                }
            },
        };
        let now = Timestamp::now();
        let as_of = as_of.unwrap_or(now);
        let ledger = entries(&mut tx, id, model, version).await?;
        let s = score(&body, &ledger, as_of);
        let firings = firings(&mut tx, id, as_of).await?;
        let disqualified = firings
            .iter()
            .rev()
            .find(|f| f.kind == "disqualify" || f.kind == "cleared")
            .is_some_and(|f| f.kind == "disqualify");
        tx.commit().await?;
        Ok(DealScore {
            deal_id: id,
            model_id: ScoringModelId(model),
            model_version: version,
            as_of,
            total: s.total,
            groups: s.groups,
            band: s.band,
            disqualified,
            contributions: s.contributions,
            firings,
        })
    }

    /// The firings of a deal, oldest first (its timeline shows them).
    pub async fn score_firings(&self, id: DealId) -> Result<Vec<Firing>, StoreError> {
        let mut tx = self.snapshot().await?;
        let out = firings(&mut tx, id, Timestamp(i64::MAX)).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Clears the disqualified flag with the reason; the flag fires again
    /// only after the score has risen by the re-arm gap and fallen again.
    pub async fn clear_disqualified(&self, actor: &Actor, id: DealId, reason: &str) -> Result<DealScore, StoreError> {
        let reason = dealflow_core::validate::required_text("reason", reason, 500)?;
        let mut tx = self.write().await?;
        crate::records::live(&mut *tx, "deals", "deal", id.0, |_| Ok(())).await?;
        let row = sqlx::query("SELECT total, disqualified FROM deal_scores WHERE deal_id = $1")
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row.filter(|r| bool_(r, "disqualified").unwrap_or(false)) else {
            return Err(StoreError::InUse(format!(
                "deal {id} is not flagged as disqualified; there is nothing to clear"
            )));
        };
        let total = i64_(&row, "total")?;
        sqlx::query(
            "UPDATE deal_scores SET disqualified = 0, cleared_at = $1, cleared_by = $2, cleared_reason = $3 WHERE deal_id = $4",
        )
        .bind(actor.now.0)
        .bind(actor.user_id.map(|u| u.0))
        .bind(reason.clone())
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        let detail = serde_json::json!({"reason": reason});
        sqlx::query("INSERT INTO score_firings (id, deal_id, kind, total, at, user_id, detail) VALUES ($1, $2, 'cleared', $3, $4, $5, $6)")
            .bind(dealflow_core::ids::next_id())
            .bind(id.0)
            .bind(total)
            .bind(actor.now.0)
            .bind(actor.user_id.map(|u| u.0))
            .bind(detail.to_string())
            .execute(&mut *tx)
            .await?;
        crate::audit::append(
            &mut tx,
            actor,
            crate::audit::Entry::new("deal", "clear_disqualified", Some(id.0)).detail(detail),
        )
        .await?;
        tx.commit().await?;
        self.deal_score(id, None).await
    }
}

/// The firings of a deal by `as_of`, oldest first.
pub(crate) async fn firings(tx: &mut crate::Tx, id: DealId, as_of: Timestamp) -> Result<Vec<Firing>, StoreError> {
    let rows = sqlx::query("SELECT * FROM score_firings WHERE deal_id = $1 AND at <= $2 ORDER BY at, id")
        .bind(id.0)
        .bind(as_of.0)
        .fetch_all(&mut **tx)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Firing {
                kind: text(r, "kind")?,
                total: from_cents(i64_(r, "total")?),
                at: ts(r, "at")?,
                user_id: opt_i64(r, "user_id")?.map(UserId),
                detail: opt_text(r, "detail")?
                    .and_then(|d| serde_json::from_str(&d).ok())
                    .unwrap_or(serde_json::Value::Null),
            })
        })
        .collect::<R<_>>()
        .map_err(Into::into)
}

//! Read models for the pipeline board: per-stage totals and the cards of one
//! column, page by page. Open, live deals only.

use crate::Store;
use crate::StoreError;
use crate::contact::CONTACT_COLUMNS;
use crate::row::*;
use crate::sql::{Sql, like_pattern};
use dealflow_core::time::Timestamp;
use dealflow_core::{DealId, PipelineId, StageId, UserId};
use sqlx::any::AnyRow;

/// Filters the board applies to its columns and totals.
#[derive(Debug, Clone, Default)]
pub struct BoardFilter {
    pub owner_id: Option<UserId>,
    /// Text in the deal title, organization name or person name.
    pub q: Option<String>,
}

/// Totals of one stage for one currency (the page converts to the base currency).
#[derive(Debug, Clone)]
pub struct StageTotals {
    pub stage_id: StageId,
    pub currency: String,
    pub count: i64,
    /// Sum of values, minor units.
    pub value: i64,
    /// Sum of value × probability (0–100): divide by 100 for the weighted value.
    pub weighted_x100: i64,
}

/// One card on the board.
#[derive(Debug, Clone)]
pub struct Card {
    pub id: DealId,
    pub title: String,
    pub value: i64,
    pub currency: String,
    pub organization: Option<String>,
    pub person: Option<String>,
    pub owner: Option<String>,
    /// Due time of the earliest open activity on the deal.
    pub next_due_at: Option<Timestamp>,
    /// The last contact with the deal or its person (`contact.rs`: done
    /// touches, outreach and replies).
    pub last_contact_at: Option<Timestamp>,
    pub stage_entered_at: Timestamp,
    pub version: i64,
    /// The lead score when a published model scores the deal, in
    /// hundredths, with its band and whether it is disqualified.
    pub score: Option<i64>,
    pub band: Option<String>,
    pub disqualified: bool,
}

/// Whether the filter searches names (and so needs the organization and
/// person joined).
fn has_q(f: &BoardFilter) -> bool {
    f.q.as_deref().is_some_and(|q| !q.trim().is_empty())
}

fn push_filter(sql: &mut Sql, f: &BoardFilter) {
    if let Some(o) = f.owner_id {
        sql.push(" AND d.owner_id = ").bind(o.0);
    }
    if let Some(q) = f.q.as_deref().filter(|_| has_q(f)) {
        let pat = like_pattern(q);
        sql.push(" AND (LOWER(d.title) LIKE ").bind(pat.clone()).push(" ESCAPE '\\'");
        sql.push(" OR LOWER(o.name) LIKE ").bind(pat.clone()).push(" ESCAPE '\\'");
        sql.push(" OR LOWER(p.name) LIKE ").bind(pat).push(" ESCAPE '\\')");
    }
}

const FROM: &str = " FROM deals d JOIN stages s ON s.id = d.stage_id
    LEFT JOIN organizations o ON o.id = d.organization_id
    LEFT JOIN people p ON p.id = d.person_id
    LEFT JOIN users u ON u.id = d.owner_id
    LEFT JOIN deal_scores sc ON sc.deal_id = d.id
    WHERE d.deleted_at IS NULL AND d.status = 'open'";

fn card_from_row(r: &AnyRow) -> R<Card> {
    Ok(Card {
        id: DealId(i64_(r, "id")?),
        title: text(r, "title")?,
        value: i64_(r, "value")?,
        currency: text(r, "currency")?,
        organization: opt_text(r, "org_name")?,
        person: opt_text(r, "person_name")?,
        owner: opt_text(r, "owner_name")?,
        next_due_at: opt_ts(r, "next_due_at")?,
        last_contact_at: crate::contact::last_contact(r, Timestamp::now())?,
        stage_entered_at: ts(r, "stage_entered_at")?,
        version: i64_(r, "version")?,
        score: opt_i64(r, "score_total")?,
        band: opt_text(r, "score_band")?,
        disqualified: opt_i64(r, "score_dq")? == Some(1),
    })
}

impl Store {
    /// Count, value and probability-weighted value per stage and currency.
    #[tracing::instrument(skip_all, fields(pipeline = %pipeline))]
    pub async fn board_totals(&self, pipeline: PipelineId, f: &BoardFilter) -> Result<Vec<StageTotals>, StoreError> {
        // Summed per stage before the stage's probability is applied, so
        // the stages are joined to a few sums, not to every open deal; the
        // sums come from `deals_board_totals` alone unless the filter
        // searches names.
        let mut sql = Sql::new(
            "SELECT t.stage_id, t.currency, t.n, t.total,
               CAST(t.own + t.rest * COALESCE(s.probability, 0) AS BIGINT) AS weighted FROM (
             SELECT d.stage_id, d.currency, CAST(COUNT(*) AS BIGINT) AS n, CAST(SUM(d.value) AS BIGINT) AS total,
               CAST(SUM(CASE WHEN d.probability IS NULL THEN 0 ELSE d.value * d.probability END) AS BIGINT) AS own,
               CAST(SUM(CASE WHEN d.probability IS NULL THEN d.value ELSE 0 END) AS BIGINT) AS rest
             FROM deals d",
        );
        if has_q(f) {
            sql.push(" LEFT JOIN organizations o ON o.id = d.organization_id");
            sql.push(" LEFT JOIN people p ON p.id = d.person_id");
        }
        sql.push(" WHERE d.deleted_at IS NULL AND d.status = 'open' AND d.pipeline_id = ").bind(pipeline.0);
        push_filter(&mut sql, f);
        sql.push(" GROUP BY d.stage_id, d.currency) t JOIN stages s ON s.id = t.stage_id");
        let rows = sql.query().fetch_all(self.pool()).await?;
        let out = rows
            .iter()
            .map(|r| {
                Ok(StageTotals {
                    stage_id: StageId(i64_(r, "stage_id")?),
                    currency: text(r, "currency")?,
                    count: i64_(r, "n")?,
                    value: i64_(r, "total")?,
                    weighted_x100: i64_(r, "weighted")?,
                })
            })
            .collect::<R<Vec<_>>>()?;
        Ok(out)
    }

    /// Cards of one column, newest first, `limit` at a time after `before`.
    #[tracing::instrument(skip_all, fields(stage = %stage))]
    pub async fn board_cards(
        &self,
        stage: StageId,
        f: &BoardFilter,
        before: Option<DealId>,
        limit: i64,
    ) -> Result<Vec<Card>, StoreError> {
        let mut sql = Sql::new(&format!(
            "SELECT d.id, d.title, d.value, d.currency, d.stage_entered_at, d.version,
               o.name AS org_name, p.name AS person_name, u.name AS owner_name,
               (SELECT MIN(a.due_at) FROM activities a WHERE a.deal_id = d.id AND a.done_at IS NULL) AS next_due_at,
               {CONTACT_COLUMNS},
               sc.total AS score_total, sc.band AS score_band, sc.disqualified AS score_dq"
        ));
        // The page's ids first, newest first from `deals_board_cards`, so the
        // per-card subqueries (next activity, last contact) run for the page
        // alone, not for every deal of the column before a sort.
        sql.push(FROM).push(" AND d.id IN (SELECT d.id FROM deals d");
        if has_q(f) {
            sql.push(" LEFT JOIN organizations o ON o.id = d.organization_id LEFT JOIN people p ON p.id = d.person_id");
        }
        sql.push(" WHERE d.deleted_at IS NULL AND d.status = 'open' AND d.stage_id = ").bind(stage.0);
        push_filter(&mut sql, f);
        if let Some(b) = before {
            sql.push(" AND d.id < ").bind(b.0);
        }
        sql.push(" ORDER BY d.id DESC LIMIT ").bind(limit.clamp(1, 200));
        sql.push(") ORDER BY d.id DESC");
        let rows = sql.query().fetch_all(self.pool()).await?;
        Ok(rows.iter().map(card_from_row).collect::<R<Vec<_>>>()?)
    }
}

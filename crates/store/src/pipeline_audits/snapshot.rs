//! What an audit reads about a pipeline's open deals, in one snapshot
//! transaction: the deals with their last contact, next actions, close-date
//! pushes, overdue playbook steps, overrides, scores, and the previous
//! audit's items. The pure `core::pipeline_audit::item` makes the facts.

use crate::contact::CONTACT_COLUMNS;
use crate::row::*;
use crate::{StoreError, Tx};
use dealflow_core::model::DealStatus;
use dealflow_core::pipeline_audit::facts::{ItemInput, ScoreInput};
use dealflow_core::pipeline_audit::{Item, NextAction, PreviousAction};
use dealflow_core::time::Timestamp;
use dealflow_core::{ActivityId, DealId, PipelineId, StageId, UserId};
use std::collections::HashMap;

/// The previous audit of a pipeline: its id, when it was taken, and its
/// items by deal.
pub(crate) struct Previous {
    pub id: i64,
    pub created_at: Timestamp,
    pub items: HashMap<DealId, Item>,
    pub actions: HashMap<DealId, PreviousAction>,
}

/// The newest audit of `pipeline` with its items.
pub(crate) async fn previous(tx: &mut Tx, pipeline: PipelineId) -> Result<Option<Previous>, StoreError> {
    let row = sqlx::query(
        "SELECT id, created_at FROM pipeline_audits WHERE pipeline_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(pipeline.0)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let id = i64_(&r, "id")?;
    let rows = sqlx::query("SELECT deal_id, facts FROM pipeline_audit_items WHERE audit_id = $1")
        .bind(id)
        .fetch_all(&mut **tx)
        .await?;
    let mut items = HashMap::with_capacity(rows.len());
    for r in &rows {
        items.insert(DealId(i64_(r, "deal_id")?), json::<Item>(r, "facts")?);
    }
    let rows = sqlx::query(
        "SELECT i.deal_id, a.id, a.subject, a.done_at FROM pipeline_audit_items i
         JOIN activities a ON a.id = i.activity_id WHERE i.audit_id = $1",
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    let mut actions = HashMap::new();
    for r in &rows {
        let action = PreviousAction {
            activity_id: ActivityId(i64_(r, "id")?),
            subject: text(r, "subject")?,
            done: opt_i64(r, "done_at")?.is_some(),
        };
        actions.insert(DealId(i64_(r, "deal_id")?), action);
    }
    Ok(Some(Previous { id, created_at: ts(&r, "created_at")?, items, actions }))
}

/// The open deals of `pipeline` (of `owner` when given) in stage order with
/// what the facts need; `score` is the published model's
/// `disqualify_below` when there is a model (`Some(None)`: a model without
/// that threshold).
pub(crate) async fn inputs(
    tx: &mut Tx,
    pipeline: PipelineId,
    owner: Option<UserId>,
    model: Option<Option<f64>>,
    since: Timestamp,
    now: Timestamp,
) -> Result<Vec<ItemInput>, StoreError> {
    // Numbers only in the formatted parts: typed ids.
    let scope = format!(
        "d.pipeline_id = {} AND d.status = '{}' AND d.deleted_at IS NULL{}",
        pipeline.0,
        DealStatus::Open.as_str(),
        owner.map(|o| format!(" AND d.owner_id = {}", o.0)).unwrap_or_default()
    );
    let sql = format!(
        "SELECT d.id, d.title, d.value, d.currency, d.owner_id, d.expected_close_date, d.stage_id,
           d.stage_entered_at, st.rotting_days,
           {CONTACT_COLUMNS},
           sc.total AS score_total, sc.disqualified AS score_dq
         FROM deals d JOIN stages st ON st.id = d.stage_id
         LEFT JOIN deal_scores sc ON sc.deal_id = d.id
         WHERE {scope} ORDER BY st.position, d.id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut **tx).await?;
    let next = next_actions(tx, &scope).await?;
    let pushes = pushes(tx, &scope).await?;
    let steps = counts(
        tx,
        format!(
            "SELECT ds.deal_id, COUNT(*) AS n FROM deal_steps ds JOIN deals d ON d.id = ds.deal_id
             JOIN playbook_steps ps ON ps.id = ds.step_id
             WHERE {scope} AND ps.stage_id = d.stage_id AND ds.status IN ('open', 'waiting', 'failed')
               AND ds.due_at IS NOT NULL AND ds.due_at < {} GROUP BY ds.deal_id",
            now.0
        ),
    )
    .await?;
    let overrides = counts(
        tx,
        format!(
            "SELECT e.deal_id, COUNT(*) AS n FROM stage_events e JOIN deals d ON d.id = e.deal_id
             WHERE {scope} AND e.override_reason IS NOT NULL AND e.at > {} GROUP BY e.deal_id",
            since.0
        ),
    )
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let id = DealId(i64_(r, "id")?);
        let contact = crate::contact::last_contact(r, now)?;
        let dq = opt_i64(r, "score_dq")? == Some(1);
        let score = match model {
            None => None,
            Some(disqualify_below) => opt_i64(r, "score_total")?.map(|cents| ScoreInput {
                total: cents as f64 / 100.0,
                disqualify_below,
                disqualified: dq,
            }),
        };
        out.push(ItemInput {
            deal_id: id,
            stage_id: StageId(i64_(r, "stage_id")?),
            title: text(r, "title")?,
            value: i64_(r, "value")?,
            currency: text(r, "currency")?,
            owner_id: opt_i64(r, "owner_id")?.map(UserId),
            expected_close_date: opt_date(r, "expected_close_date")?,
            stage_entered_at: ts(r, "stage_entered_at")?,
            contact_at: contact,
            next_action: next.get(&id).cloned(),
            rotting_days: opt_i64(r, "rotting_days")?,
            stage_p90_days: None,
            close_date_pushes: pushes.get(&id).copied().unwrap_or(0),
            open_steps_overdue: steps.get(&id).copied().unwrap_or(0),
            overrides_since: overrides.get(&id).copied().unwrap_or(0),
            score,
            previous: None,
            previous_action: None,
        });
    }
    Ok(out)
}

/// Each deal's open activity due first (undated ones last).
async fn next_actions(tx: &mut Tx, scope: &str) -> Result<HashMap<DealId, NextAction>, StoreError> {
    let sql = format!(
        "SELECT a.deal_id, a.id, a.subject, a.due_at FROM activities a JOIN deals d ON d.id = a.deal_id
         WHERE {scope} AND a.done_at IS NULL
         ORDER BY a.deal_id, CASE WHEN a.due_at IS NULL THEN 1 ELSE 0 END, a.due_at, a.id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut **tx).await?;
    let mut out = HashMap::new();
    for r in &rows {
        let deal = DealId(i64_(r, "deal_id")?);
        if out.contains_key(&deal) {
            continue;
        }
        let action = NextAction {
            activity_id: ActivityId(i64_(r, "id")?),
            subject: text(r, "subject")?,
            due_at: opt_ts(r, "due_at")?,
        };
        out.insert(deal, action);
    }
    Ok(out)
}

/// How often each deal's expected close date was moved later: a change
/// from one date to a later one (values are JSON text in the history).
async fn pushes(tx: &mut Tx, scope: &str) -> Result<HashMap<DealId, u32>, StoreError> {
    let sql = format!(
        "SELECT h.deal_id, h.old_value, h.new_value FROM field_history h JOIN deals d ON d.id = h.deal_id
         WHERE {scope} AND h.field = 'expected_close_date'"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut **tx).await?;
    let date = |v: String| serde_json::from_str::<Option<String>>(&v).ok().flatten();
    let mut out: HashMap<DealId, u32> = HashMap::new();
    for r in &rows {
        if let (Some(old), Some(new)) = (date(text(r, "old_value")?), date(text(r, "new_value")?))
            && new > old
        {
            *out.entry(DealId(i64_(r, "deal_id")?)).or_default() += 1;
        }
    }
    Ok(out)
}

/// `deal_id → n` from a query returning `deal_id, n`.
async fn counts(tx: &mut Tx, sql: String) -> Result<HashMap<DealId, u32>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut **tx).await?;
    let mut out = HashMap::with_capacity(rows.len());
    for r in &rows {
        out.insert(DealId(i64_(r, "deal_id")?), u32::try_from(i64_(r, "n")?).unwrap_or(u32::MAX));
    }
    Ok(out)
}

//! The projections of one deal write, refreshed from what the write holds
//! in memory instead of from rows read back.

use super::{DealKey, Rows, delta, refresh_deals, run};
use crate::StoreError;
use crate::sql::Sql;
use dealflow_core::metrics::{DealEvent, DealFact, StageInfo, project_deal};
use dealflow_core::model::{Deal, EventKind, Stage, StageEvent};
use sqlx::AnyConnection;

/// Rewrites the projection rows and rollups of one deal just written, from
/// what the write holds in memory (the deal before and after, its stage log
/// before and after, its pipeline's stages): nothing is read back, and a
/// write that changes no input of the projections costs no statement.
#[tracing::instrument(skip_all, fields(deal = %w.deal.id))]
pub(crate) async fn refresh_written(conn: &mut AnyConnection, w: &crate::deals::Written) -> Result<(), StoreError> {
    if w.before.as_ref().is_some_and(|b| b.pipeline_id != w.deal.pipeline_id) {
        // The old rows were projected against another pipeline's stages,
        // which this write did not read: let SQL recompute them.
        return refresh_deals(conn, &[w.deal.id.0]).await;
    }
    let stages = stage_infos(&w.stages);
    let id = w.deal.id.0;
    let pipeline = w.deal.pipeline_id.0;
    let new = fact_of(&w.deal, &w.log);
    let new_p = project_deal(&new, &stages);
    let key = DealKey { id, pipeline, owner: w.deal.owner_id.map(|o| o.0), source: &new.source };
    let mut rows = Rows::default();
    rows.push(&key, &new, &new_p);
    let mut delta = delta::Delta::default();
    // Only the tables whose rows changed are rewritten: a value edit
    // touches `metric_deals` alone, a move leaves the open spans be.
    let changed = match &w.before {
        Some(before) => {
            let old = fact_of(before, &w.log_before);
            let old_p = project_deal(&old, &stages);
            if old == new && old_p == new_p {
                return Ok(());
            }
            let mut old_rows = Rows::default();
            let old_key = DealKey { id, pipeline, owner: before.owner_id.map(|o| o.0), source: &old.source };
            old_rows.push(&old_key, &old, &old_p);
            let changed = old_rows.changed_tables(&mut rows);
            for table in &changed {
                let sql = format!("DELETE FROM {table} WHERE deal_id = $1");
                sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).execute(&mut *conn).await?;
            }
            delta.deal(pipeline, &old, &old_p, -1);
            changed
        }
        None => super::DEAL_TABLES.to_vec(),
    };
    for sql in rows.take_sql_of(&changed, Sql::new) {
        run(conn, &sql).await?;
    }
    delta.deal(pipeline, &new, &new_p, 1);
    delta.apply(conn).await
}

/// A deal and its stage log as the metrics engine reads them.
pub(super) fn fact_of(d: &Deal, log: &[StageEvent]) -> DealFact {
    let events = log
        .iter()
        .map(|e| match e.kind {
            EventKind::Enter => DealEvent::enter(e.stage_id, e.at.0),
            EventKind::Won => DealEvent::won(e.at.0),
            EventKind::Lost => DealEvent::lost(e.at.0),
            EventKind::Reopen => DealEvent::reopen(e.at.0),
        })
        .collect();
    DealFact {
        id: d.id,
        pipeline: d.pipeline_id,
        value: d.value,
        currency: d.currency.as_str().to_string(),
        contract_months: d.contract_months,
        probability: None,
        expected_close_at: None,
        owner: d.owner_id,
        source: d.source.clone().unwrap_or_default(),
        created_at: d.created_at.0,
        status: d.status,
        closed_at: d.closed_at.map(|t| t.0),
        events,
    }
}

/// Stages as the engine orders them (the same as `stages_of` reads).
pub(super) fn stage_infos(stages: &[Stage]) -> Vec<StageInfo> {
    stages
        .iter()
        .map(|s| StageInfo { id: s.id, order: s.position, milestone: s.milestone, probability: None })
        .collect()
}

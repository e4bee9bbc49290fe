//! New deals in batches of [`BATCH_ROWS`]: a row that makes a new deal
//! whose references all exist waits in the batch; the batch then reads what
//! its decisions need once, decides each deal with `core::deal_change`
//! (pure, in memory), and writes the deals, their stage events, field
//! history, import keys and metric projections in multi-row statements,
//! under one savepoint. Any other row (an update of an earlier import's
//! deal, a row that creates its owner, an external id seen twice) first
//! empties the batch, then runs on its own, so rows keep the file's order
//! wherever one can see another.
//!
//! A batch whose writes fail is rolled back to its savepoint and its rows
//! run again one by one, so a failing row is reported as before and the
//! others are kept.

use super::deals::{Links, Plan, pipeline_of, plan};
use super::refs::{Known, Refs};
use super::setup::Context;
use super::{ImportReport, RowFail, exec, keys, row_errors};
use crate::deals::{BatchReads, Placed, decide_placed, write_placed};
use crate::projections::PendingRollups;
use crate::{Actor, Engine, StoreError, Tx};
use dealflow_core::import::{RefKind, RowValues, Target};
use dealflow_core::{OrganizationId, PersonId, PipelineId, UserId};
use std::collections::{BTreeSet, HashSet};

/// Rows per batch: large enough that a batch's fixed reads and statements
/// cost little per row, small enough that its memory does not matter.
pub(crate) const BATCH_ROWS: usize = 2_000;

/// A row waiting in the batch.
pub(crate) struct Pending {
    row: RowValues,
    pipeline: PipelineId,
    plan: Plan,
}

/// The rows waiting, and their external ids.
#[derive(Default)]
pub(crate) struct Batch {
    rows: Vec<Pending>,
    exts: HashSet<String>,
}

impl Batch {
    pub fn is_full(&self) -> bool {
        self.rows.len() >= BATCH_ROWS
    }

    pub fn push(&mut self, p: Pending) {
        if let Some(e) = &p.row.external_id {
            self.exts.insert(e.clone());
        }
        self.rows.push(p);
    }
}

/// Where a converted deal row goes.
pub(crate) enum Route {
    Batch(Box<Pending>),
    /// On its own, after the batch is written.
    Alone(RowValues),
}

/// Routes `row`: into the batch when it makes a new deal whose references
/// exist (reading only, never writing); `Err` when the row is refused.
pub(crate) async fn route(
    tx: &mut Tx,
    actor: &Actor,
    ctx: &Context,
    refs: &mut Refs<'_>,
    batch: &Batch,
    row: RowValues,
) -> Result<Route, (RowValues, RowFail)> {
    if row.external_id.as_ref().is_some_and(|e| batch.exts.contains(e)) {
        // The second row of an id updates the deal the first one makes.
        return Ok(Route::Alone(row));
    }
    let pipeline = match pipeline_of(ctx, &row) {
        Ok(p) => p,
        Err(e) => return Err((row, e)),
    };
    let mut ids = [None; 3];
    let fields = [("owner", RefKind::User), ("person", RefKind::Person), ("organization", RefKind::Organization)];
    for (slot, (field, kind)) in ids.iter_mut().zip(fields) {
        match refs.known(tx, &row, field, kind).await {
            Ok(Known::Empty) => {}
            Ok(Known::Id(id)) => *slot = Some(id),
            Ok(Known::ToCreate(_)) => return Ok(Route::Alone(row)),
            Err(e) => return Err((row, e)),
        }
    }
    // Only lookups happened: nothing to forget if the row fails.
    refs.keep_row();
    let links =
        Links { owner: ids[0].map(UserId), person: ids[1].map(PersonId), organization: ids[2].map(OrganizationId) };
    match plan(pipeline, &row, &links, actor.now) {
        Ok(plan) => Ok(Route::Batch(Box::new(Pending { pipeline: pipeline.id, row, plan }))),
        Err(e) => Err((row, e)),
    }
}

/// What a flush hands back: the rows to run on their own, in file order.
pub(crate) async fn flush(
    tx: &mut Tx,
    engine: Engine,
    actor: &Actor,
    source: &str,
    batch: &mut Batch,
    report: &mut ImportReport,
    rollups: &mut PendingRollups,
) -> Result<Vec<RowValues>, StoreError> {
    let rows = std::mem::take(&mut batch.rows);
    batch.exts.clear();
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let exts: Vec<&str> = rows.iter().filter_map(|p| p.row.external_id.as_deref()).collect();
    let existing = keys::get_many(tx, engine, Target::Deals, source, &exts).await?;
    let mut alone = Vec::new();
    let mut fresh = Vec::with_capacity(rows.len());
    for p in rows {
        if p.row.external_id.as_ref().is_some_and(|e| existing.contains_key(e)) {
            alone.push(p.row);
        } else {
            fresh.push(p);
        }
    }
    let pipelines: BTreeSet<i64> = fresh.iter().map(|p| p.pipeline.0).collect();
    for pipeline in pipelines {
        let (group, rest): (Vec<Pending>, Vec<Pending>) =
            std::mem::take(&mut fresh).into_iter().partition(|p| p.pipeline.0 == pipeline);
        fresh = rest;
        let out = Out { report: &mut *report, alone: &mut alone, rollups: &mut *rollups };
        place_group(tx, engine, actor, source, PipelineId(pipeline), group, out).await?;
    }
    alone.sort_by_key(|r| r.row);
    Ok(alone)
}

/// Where a group's outcome goes: the counts, the rows to run on their own,
/// the rollup sums to write later.
struct Out<'a> {
    report: &'a mut ImportReport,
    alone: &'a mut Vec<RowValues>,
    rollups: &'a mut PendingRollups,
}

/// Decides and writes the new deals of one pipeline.
async fn place_group(
    tx: &mut Tx,
    engine: Engine,
    actor: &Actor,
    source: &str,
    pipeline: PipelineId,
    group: Vec<Pending>,
    out: Out<'_>,
) -> Result<(), StoreError> {
    let Out { report, alone, rollups } = out;
    let ids = |f: fn(&Pending) -> Option<i64>| -> Vec<i64> {
        group.iter().filter_map(f).collect::<BTreeSet<_>>().into_iter().collect()
    };
    let owners: Vec<UserId> = ids(|p| p.plan.new.owner_id.map(|u| u.0)).into_iter().map(UserId).collect();
    let people: Vec<PersonId> = ids(|p| p.plan.new.person_id.map(|x| x.0)).into_iter().map(PersonId).collect();
    let orgs: Vec<OrganizationId> =
        ids(|p| p.plan.new.organization_id.map(|x| x.0)).into_iter().map(OrganizationId).collect();
    let reads = BatchReads::read(tx, engine, pipeline, &owners, &people, &orgs).await?;
    let mut rows = Vec::with_capacity(group.len());
    let mut placed: Vec<Placed> = Vec::with_capacity(group.len());
    for p in group {
        match decide_placed(&reads, actor, &p.plan.new, p.plan.patches) {
            Ok(Some(d)) => {
                rows.push(p.row);
                placed.push(d);
            }
            Ok(None) => alone.push(p.row),
            Err(e) => report.rejected.extend(row_errors(&p.row, e)?),
        }
    }
    if placed.is_empty() {
        return Ok(());
    }
    exec(tx, "SAVEPOINT import_batch").await?;
    match write_group(tx, engine, actor, source, &reads, &rows, &placed).await {
        Ok((past_open, sums)) => {
            exec(tx, "RELEASE SAVEPOINT import_batch").await?;
            rollups.merge(sums);
            report.created += placed.len();
            report.placed_past_open_steps += past_open;
            tracing::debug!(deals = placed.len(), created = report.created, "import batch written");
        }
        Err(e) => {
            // A row the batch cannot write: each row on its own says which.
            tracing::debug!(error = %e, rows = rows.len(), "an import batch failed; its rows run one by one");
            exec(tx, "ROLLBACK TO SAVEPOINT import_batch").await?;
            exec(tx, "RELEASE SAVEPOINT import_batch").await?;
            alone.extend(rows);
        }
    }
    Ok(())
}

/// Writes decided deals; returns how many were placed past required
/// playbook steps that are not done, and their rollup sums (not written).
async fn write_group(
    tx: &mut Tx,
    engine: Engine,
    actor: &Actor,
    source: &str,
    reads: &BatchReads,
    rows: &[RowValues],
    placed: &[Placed],
) -> Result<(usize, PendingRollups), StoreError> {
    write_placed(tx, engine, actor.user_id, placed).await?;
    let made: Vec<(&str, i64)> =
        rows.iter().zip(placed).filter_map(|(r, p)| Some((r.external_id.as_deref()?, p.deal.id.0))).collect();
    keys::put_new(tx, engine, Target::Deals, source, &made, actor.now).await?;
    let deals: Vec<_> = placed.iter().map(|p| (&p.deal, p.log.as_slice())).collect();
    let sums = crate::projections::add_placed(tx, engine, reads.stages(), &deals).await?;
    let mut past_open = 0;
    if has_steps(tx, placed[0].deal.pipeline_id.0).await? {
        // Playbooks: each deal gets the checklist of the stage it ends in,
        // as on its own (they are rare in bulk loads; without steps there
        // is nothing to write).
        for p in placed {
            crate::playbooks::checklist::after_placing(tx, actor, None, &p.deal).await?;
            past_open += usize::from(crate::playbooks::checklist::open_steps_passed(tx, &p.deal).await? > 0);
        }
    }
    Ok((past_open, sums))
}

/// Whether a pipeline has any live playbook step.
async fn has_steps(tx: &mut Tx, pipeline: i64) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM playbook_steps s JOIN stages st ON st.id = s.stage_id
         WHERE st.pipeline_id = $1 AND s.deleted_at IS NULL",
    )
    .bind(pipeline)
    .fetch_one(&mut **tx)
    .await?;
    Ok(n > 0)
}

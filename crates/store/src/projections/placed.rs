//! The projections of a batch of new deals (an import places thousands at
//! once), built in memory from what the batch wrote: their rows in a few
//! multi-row INSERTs and their rollups summed in memory and written once,
//! instead of one refresh per deal or a read-back of every row.

use super::written::{fact_of, stage_infos};
use super::{DealKey, Rows, delta, run};
use crate::sql::Sql;
use crate::{Engine, StoreError};
use dealflow_core::metrics::project_deal;
use dealflow_core::model::{Deal, Stage, StageEvent};
use sqlx::AnyConnection;

/// Rollup sums of placed deals not written yet. PostgreSQL keeps every
/// version of a rollup row a transaction updates until it ends, so
/// updating the same day's sums once per batch made each update walk a
/// longer chain (an import slowed with every batch); the sums are instead
/// kept here across batches and written once, at the end of the file or
/// before anything else rewrites rollups. Memory is bounded by the number
/// of distinct days and keys, not by rows.
#[derive(Default)]
pub(crate) struct PendingRollups(delta::Delta);

impl PendingRollups {
    /// Adds the sums of another batch.
    pub(crate) fn merge(&mut self, other: PendingRollups) {
        self.0.merge(other.0);
    }

    /// Distinct rollup rows waiting.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// Writes the sums waiting (a few multi-row upserts) and empties them.
    pub(crate) async fn write(&mut self, conn: &mut AnyConnection, engine: Engine) -> Result<(), StoreError> {
        let sums = std::mem::take(&mut self.0);
        sums.apply_with(conn, |head: &str| Sql::for_engine(engine, head)).await
    }
}

/// Adds the projection rows of `deals`, each new (it has no rows yet) and
/// given with its whole stage log, oldest first; `stages` are those of the
/// pipeline every one of them is in. Returns their rollup sums, to write
/// with [`PendingRollups::write`].
pub(crate) async fn add_placed(
    conn: &mut AnyConnection,
    engine: Engine,
    stages: &[Stage],
    deals: &[(&Deal, &[StageEvent])],
) -> Result<PendingRollups, StoreError> {
    let infos = stage_infos(stages);
    let mut rows = Rows::default();
    let mut delta = delta::Delta::default();
    for (deal, log) in deals {
        let fact = fact_of(deal, log);
        let p = project_deal(&fact, &infos);
        let pipeline = deal.pipeline_id.0;
        let key = DealKey { id: deal.id.0, pipeline, owner: deal.owner_id.map(|o| o.0), source: &fact.source };
        rows.push(&key, &fact, &p);
        delta.deal(pipeline, &fact, &p, 1);
    }
    for sql in rows.take_sql_with(|head: &str| Sql::for_engine(engine, head)) {
        run(conn, &sql).await?;
    }
    Ok(PendingRollups(delta))
}

//! The projections of a batch of new deals (an import places thousands at
//! once), built in memory from what the batch wrote: their rows in a few
//! multi-row INSERTs and their rollups summed into one change, instead of
//! one refresh per deal or a read-back of every row.

use super::written::{fact_of, stage_infos};
use super::{DealKey, Rows, delta, run};
use crate::sql::Sql;
use crate::{Engine, StoreError};
use dealflow_core::metrics::project_deal;
use dealflow_core::model::{Deal, Stage, StageEvent};
use sqlx::AnyConnection;

/// Adds the projection rows and rollups of `deals`, each new (it has no
/// rows yet) and given with its whole stage log, oldest first; `stages`
/// are those of the pipeline every one of them is in.
pub(crate) async fn add_placed(
    conn: &mut AnyConnection,
    engine: Engine,
    stages: &[Stage],
    deals: &[(&Deal, &[StageEvent])],
) -> Result<(), StoreError> {
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
    let make = |head: &str| Sql::for_engine(engine, head);
    for sql in rows.take_sql_with(make) {
        run(conn, &sql).await?;
    }
    delta.apply_with(conn, make).await
}

//! Whether a workspace's derived data agrees with its source: each deal row
//! with a replay of its stage log, and the metric projections with a
//! rebuild from the source tables. The crash test runs it after every kill
//! and the backup test on every backup; an operator can run it after a
//! restore. It reads and compares, and writes nothing that outlives it.

use crate::copy::{DERIVED_TABLES, decode};
use crate::{Store, StoreError, deals};
use dealflow_core::model::{Deal, StageEvent};
use dealflow_core::stage_move::replay;
use sqlx::{AnyConnection, Column, Row};
use std::collections::BTreeMap;

/// What [`Store::check_consistency`] looked at and what disagreed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsistencyReport {
    /// Deal rows compared with their stage log.
    pub deals: u64,
    /// Stage events read.
    pub events: u64,
    /// Rows of the metric projection tables compared with a rebuild.
    pub projection_rows: u64,
    /// One line per disagreement; empty when the workspace is consistent.
    pub problems: Vec<String>,
}

impl Store {
    /// Compares every deal row with a replay of its stage log and every
    /// metric projection table with a rebuild from scratch.
    ///
    /// Runs inside one write transaction that is rolled back: the rebuild
    /// happens only to be compared, and holding the write lock means no
    /// writer changes the workspace between the two halves of a comparison.
    pub async fn check_consistency(&self) -> Result<ConsistencyReport, StoreError> {
        let mut tx = self.write().await?;
        let mut report = ConsistencyReport::default();
        check_deals(&mut tx, &mut report).await?;
        let before = derived_rows(&mut tx).await?;
        crate::projections::rebuild(&mut tx).await?;
        let after = derived_rows(&mut tx).await?;
        tx.rollback().await?;
        for (table, kept) in &before {
            report.projection_rows += kept.len() as u64;
            let rebuilt = after.get(table).map(Vec::as_slice).unwrap_or_default();
            if kept.as_slice() != rebuilt {
                let missing = rebuilt.iter().filter(|r| !kept.contains(r)).count();
                let extra = kept.iter().filter(|r| !rebuilt.contains(r)).count();
                report.problems.push(format!(
                    "{table}: {} rows kept, {} after a rebuild ({missing} missing, {extra} not in the rebuild)",
                    kept.len(),
                    rebuilt.len()
                ));
            }
        }
        Ok(report)
    }

    /// SQLite's own check of its file (`PRAGMA integrity_check`): `ok` alone
    /// when the file is sound, else one line per fault. `None` on
    /// PostgreSQL, whose server checks its own storage.
    pub async fn sqlite_integrity_check(&self) -> Result<Option<Vec<String>>, StoreError> {
        if self.engine() != crate::Engine::Sqlite {
            return Ok(None);
        }
        Ok(Some(sqlx::query_scalar("PRAGMA integrity_check").fetch_all(self.pool()).await?))
    }
}

/// Every deal row against the replay of its stage log, and every stage
/// event against the deal it names.
async fn check_deals(conn: &mut AnyConnection, report: &mut ConsistencyReport) -> Result<(), StoreError> {
    let rows = sqlx::query("SELECT * FROM deals ORDER BY id").fetch_all(&mut *conn).await?;
    let deals: Vec<Deal> = rows.iter().map(deals::from_row).collect::<Result<_, _>>()?;
    // The order `Store::deal_events` reads a log in, which replay expects.
    let rows = sqlx::query("SELECT * FROM stage_events ORDER BY deal_id, at, id").fetch_all(&mut *conn).await?;
    let mut logs: BTreeMap<i64, Vec<StageEvent>> = BTreeMap::new();
    for r in &rows {
        let e = deals::event_from_row(r)?;
        logs.entry(e.deal_id.0).or_default().push(e);
    }
    report.deals = deals.len() as u64;
    report.events = rows.len() as u64;
    for d in &deals {
        let Some(log) = logs.remove(&d.id.0) else {
            report.problems.push(format!("deal {} has no stage events", d.id.0));
            continue;
        };
        let Some(p) = replay(&log) else {
            report.problems.push(format!("deal {}: its stage log does not start with an entry", d.id.0));
            continue;
        };
        let row = (d.pipeline_id, d.stage_id, d.status, d.closed_at, &d.lost_reason, d.stage_entered_at);
        let log = (p.pipeline_id, p.stage_id, p.status, p.closed_at, &p.lost_reason, p.stage_entered_at);
        if row != log {
            report.problems.push(format!("deal {}: the row says {row:?}, its stage log {log:?}", d.id.0));
        }
    }
    for deal in logs.keys() {
        report.problems.push(format!("stage events name deal {deal}, which does not exist"));
    }
    Ok(())
}

/// The rows of every projection table as sorted canonical texts (columns
/// by name), so two states compare whatever order the engine returns.
async fn derived_rows(conn: &mut AnyConnection) -> Result<BTreeMap<&'static str, Vec<String>>, StoreError> {
    let mut out = BTreeMap::new();
    for table in DERIVED_TABLES {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT * FROM {table}"))).fetch_all(&mut *conn).await?;
        let mut texts = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut cols: Vec<(String, String)> = Vec::with_capacity(r.columns().len());
            for (i, c) in r.columns().iter().enumerate() {
                cols.push((c.name().to_string(), format!("{:?}", decode(r, i)?)));
            }
            cols.sort();
            texts.push(cols.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join(" "));
        }
        texts.sort();
        out.insert(*table, texts);
    }
    Ok(out)
}

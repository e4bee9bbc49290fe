//! Applying a CSV file to the workspace under a mapping
//! (`dealflow import`). The file is read as the import goes (constant
//! memory) and runs in one write transaction, so a failure or a kill
//! anywhere leaves nothing behind. New deals go in batches ([`batch`]);
//! every other row runs inside a savepoint of its own, so a row that fails
//! half-way (say, after its owner was created) leaves nothing behind. Bad
//! rows are reported and skipped, or with `strict` make the whole file roll
//! back; a dry run always rolls back. Records are found again through
//! `import_keys`, so importing the same file twice updates instead of
//! duplicating.

mod activities;
mod batch;
mod cache;
mod deals;
mod keys;
mod parties;
mod refs;
mod setup;

use crate::{Actor, Store, StoreError, Tx};
use dealflow_core::import::csv::Record;
use dealflow_core::import::{Converter, Mapping, RowError, RowValues, Target};
use refs::Refs;

/// How to run an import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Do everything, then roll back.
    pub dry_run: bool,
    /// Any rejected row rolls the whole file back.
    pub strict: bool,
    /// The file's name, for the import's audit entry.
    pub file: Option<String>,
    /// The hex SHA-256 of the file's bytes, for the import's audit entry.
    pub sha256: Option<String>,
}

/// The rows of a file, read as the import goes.
pub struct ImportRows<'a> {
    pub header: &'a [String],
    /// The data rows in file order; an error (the file cannot be read on)
    /// ends the import and nothing is kept.
    pub rows: &'a mut (dyn Iterator<Item = Result<Record, String>> + Send),
    /// How many rows there are, for the progress callback.
    pub total: usize,
}

/// What an import did (or, in a dry run, would have done).
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub rejected: Vec<RowError>,
    /// Users created as owners, by e-mail.
    pub users_created: Vec<String>,
    /// Custom fields and pipelines the mapping asked for and that were created.
    pub setup: Vec<String>,
    /// Deals the file placed past required playbook steps that are not
    /// done (imports place deals without the gate).
    pub placed_past_open_steps: usize,
    /// Whether the changes were kept.
    pub committed: bool,
}

/// What happened to one row's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// Why a row was not applied: a reason to report, or a store error that the
/// caller classifies (a rule broken by the row, or a database failure that
/// ends the import).
pub(crate) enum RowFail {
    Row(RowError),
    Store(StoreError),
}

impl From<StoreError> for RowFail {
    fn from(e: StoreError) -> Self {
        RowFail::Store(e)
    }
}

impl From<RowError> for RowFail {
    fn from(e: RowError) -> Self {
        RowFail::Row(e)
    }
}

/// Turns a store error about a row into report lines named by column, or
/// gives it back when it is not about the row (the database failed).
fn row_errors(row: &RowValues, e: StoreError) -> Result<Vec<RowError>, StoreError> {
    let field = |f: &str| {
        // The store names references `owner_id`; the mapping calls them `owner`.
        let f = f.strip_suffix("_id").filter(|b| ["owner", "person", "organization", "deal"].contains(b)).unwrap_or(f);
        row.label(f).to_string()
    };
    let one = |f: String, m: String| Ok(vec![RowError { row: row.row, field: f, message: m }]);
    match e {
        StoreError::Invalid(i) => Ok(i
            .0
            .into_iter()
            .map(|fe| RowError { row: row.row, field: field(&fe.field), message: fe.message })
            .collect()),
        StoreError::Duplicate { field: f, message } => one(field(&f), message),
        e @ (StoreError::NotFound { .. } | StoreError::Conflict { .. } | StoreError::InUse(_)) => {
            one("record".into(), e.to_string())
        }
        other => Err(other),
    }
}

async fn exec(tx: &mut Tx, sql: &'static str) -> Result<(), StoreError> {
    sqlx::raw_sql(sql).execute(&mut **tx).await?;
    Ok(())
}

/// What the row loop carries along.
struct Run<'a, 'm> {
    actor: &'a Actor,
    mapping: &'m Mapping,
    ctx: &'a setup::Context,
    refs: Refs<'m>,
    report: ImportReport,
    /// Deals written by rows run on their own; their metric projections
    /// are refreshed a batch at a time instead of after every history step.
    touched: Vec<i64>,
    /// The rollup sums of the batches' deals, written together.
    rollups: crate::projections::PendingRollups,
}

/// Rollup rows held before they are written (a few MiB at most; a file
/// over a few years of dates holds far fewer).
const MAX_PENDING_ROLLUPS: usize = 100_000;

impl Run<'_, '_> {
    /// Applies one row inside a savepoint of its own.
    async fn alone(&mut self, tx: &mut Tx, row: &RowValues) -> Result<(), StoreError> {
        exec(tx, "SAVEPOINT import_row").await?;
        let mut past_open = false;
        let (actor, ctx, refs) = (self.actor, self.ctx, &mut self.refs);
        let applied = match self.mapping.entity {
            Target::Deals => deals::apply(tx, actor, ctx, refs, row, &mut self.touched, &mut past_open).await,
            Target::Organizations => parties::apply_organization(tx, actor, refs, row).await,
            Target::People => parties::apply_person(tx, actor, refs, row).await,
            Target::Activities => activities::apply(tx, actor, refs, row).await,
        };
        let report = &mut self.report;
        match applied {
            Ok(outcome) => {
                exec(tx, "RELEASE SAVEPOINT import_row").await?;
                report.users_created.extend(self.refs.keep_row());
                report.placed_past_open_steps += usize::from(past_open);
                match outcome {
                    Outcome::Created => report.created += 1,
                    Outcome::Updated => report.updated += 1,
                    Outcome::Unchanged => report.unchanged += 1,
                }
            }
            Err(fail) => {
                exec(tx, "ROLLBACK TO SAVEPOINT import_row").await?;
                exec(tx, "RELEASE SAVEPOINT import_row").await?;
                self.refs.forget_row();
                self.reject(row, fail)?;
            }
        }
        Ok(())
    }

    /// Reports a refused row; a database failure ends the import.
    fn reject(&mut self, row: &RowValues, fail: RowFail) -> Result<(), StoreError> {
        match fail {
            RowFail::Row(e) => self.report.rejected.push(e),
            RowFail::Store(e) => self.report.rejected.extend(row_errors(row, e)?),
        }
        Ok(())
    }

    /// Writes the waiting batch, then the rows it hands back, then the
    /// projections of what the rows on their own wrote.
    async fn flush(&mut self, tx: &mut Tx, engine: crate::Engine, batch: &mut batch::Batch) -> Result<(), StoreError> {
        let source = self.mapping.source.clone();
        let rows = batch::flush(tx, engine, self.actor, &source, batch, &mut self.report, &mut self.rollups).await?;
        for row in rows {
            self.alone(tx, &row).await?;
        }
        if self.touched.is_empty() && self.rollups.len() < MAX_PENDING_ROLLUPS {
            return Ok(());
        }
        // The refresh rewrites rollups from the projection rows, which
        // already hold the batches' deals: their sums go in first.
        self.rollups.write(tx, engine).await?;
        self.touched.sort_unstable();
        self.touched.dedup();
        crate::projections::refresh_deals(tx, &self.touched).await?;
        self.touched.clear();
        Ok(())
    }
}

impl Store {
    /// Imports `rows` under `mapping`; `progress(done, total)` is called
    /// after each row. File-level problems (a mapping that does not fit the
    /// file or the workspace, a file that cannot be read to its end) are
    /// errors and keep nothing; row problems are in the report.
    #[tracing::instrument(skip_all)]
    pub async fn import(
        &self,
        actor: &Actor,
        mapping: &Mapping,
        rows: ImportRows<'_>,
        opts: ImportOptions,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<ImportReport, StoreError> {
        let mut tx = self.write().await?;
        let cache = cache::Enlarged::new(&mut tx, self.engine()).await?;
        let applied = self.apply_rows(&mut tx, actor, mapping, rows, progress).await;
        // Whatever happened, the connection goes back to the pool as it was.
        let restored = cache.restore(&mut tx).await;
        let mut report = applied?;
        restored?;
        if opts.dry_run || (opts.strict && !report.rejected.is_empty()) {
            tx.rollback().await?;
        } else {
            // The whole file is one entry (its rows are not logged one by one).
            let detail = serde_json::json!({
                "entity": mapping.entity.as_str(),
                "file": opts.file,
                "sha256": opts.sha256,
                "rows": report.rows,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "placed_past_open_steps": report.placed_past_open_steps,
                "rejected": report.rejected.iter().map(|e| e.row).collect::<std::collections::BTreeSet<_>>().len(),
                "users_created": report.users_created,
                "setup": report.setup,
            });
            crate::audit::append(&mut tx, actor, crate::audit::Entry::new("import", "run", None).detail(detail))
                .await?;
            // Imported deals are placed without scoring, row by row; the
            // published models rescore what the file changed, afterwards.
            crate::scoring::rescore::schedule_all(&mut tx, actor.now).await?;
            tx.commit().await?;
            self.jobs_enqueued();
            report.committed = true;
        }
        Ok(report)
    }

    /// The rows of the file, applied inside `tx`; the caller keeps or
    /// rolls back.
    async fn apply_rows(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        mapping: &Mapping,
        rows: ImportRows<'_>,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<ImportReport, StoreError> {
        let engine = self.engine();
        let mut setup_done = Vec::new();
        let ctx = setup::prepare(tx, actor, mapping, &mut setup_done).await?;
        let converter =
            Converter::new(mapping, rows.header, ctx.tz, ctx.base_currency.clone(), ctx.custom_kinds.clone())
                .map_err(|e| StoreError::Config(e.join("\n")))?;
        let mut run = Run {
            actor,
            mapping,
            ctx: &ctx,
            refs: Refs::new(mapping),
            report: ImportReport { setup: setup_done, ..Default::default() },
            touched: Vec::new(),
            rollups: Default::default(),
        };
        let total = rows.total;
        let mut batch = batch::Batch::default();
        for rec in rows.rows {
            let rec = rec.map_err(StoreError::Config)?;
            progress(run.report.rows, total.max(run.report.rows));
            run.report.rows += 1;
            let row = match converter.convert(&rec) {
                Ok(r) => r,
                Err(errs) => {
                    run.report.rejected.extend(errs);
                    continue;
                }
            };
            if mapping.entity != Target::Deals {
                run.alone(tx, &row).await?;
                continue;
            }
            match batch::route(tx, actor, &ctx, &mut run.refs, &batch, row).await {
                Ok(batch::Route::Batch(p)) => {
                    batch.push(*p);
                    if batch.is_full() {
                        run.flush(tx, engine, &mut batch).await?;
                    }
                }
                Ok(batch::Route::Alone(row)) => {
                    run.flush(tx, engine, &mut batch).await?;
                    run.alone(tx, &row).await?;
                }
                Err((row, fail)) => run.reject(&row, fail)?,
            }
        }
        run.flush(tx, engine, &mut batch).await?;
        run.rollups.write(tx, engine).await?;
        let mut report = run.report;
        progress(report.rows, report.rows);
        report.rejected.sort_by_key(|e| e.row);
        Ok(report)
    }
}

//! Applying a CSV file to the workspace under a mapping
//! (`dealflow import`). The whole file runs in one write transaction; each
//! row runs inside a savepoint, so a row that fails half-way (say, after its
//! owner was created) leaves nothing behind. Bad rows are reported and
//! skipped, or with `strict` make the whole file roll back; a dry run always
//! rolls back. Records are found again through `import_keys`, so importing
//! the same file twice updates instead of duplicating.

mod activities;
mod deals;
mod keys;
mod parties;
mod refs;
mod setup;

use crate::{Actor, Store, StoreError, Tx};
use dealflow_core::import::csv::Table;
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

impl Store {
    /// Imports `table` under `mapping`; `progress(done, total)` is called
    /// after each row. File-level problems (a mapping that does not fit the
    /// file or the workspace) are errors; row problems are in the report.
    #[tracing::instrument(skip_all)]
    pub async fn import(
        &self,
        actor: &Actor,
        mapping: &Mapping,
        table: &Table,
        opts: ImportOptions,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<ImportReport, StoreError> {
        let mut tx = self.write().await?;
        let mut report = ImportReport { rows: table.rows.len(), ..Default::default() };
        let ctx = setup::prepare(&mut tx, actor, mapping, &mut report.setup).await?;
        let converter =
            Converter::new(mapping, &table.header, ctx.tz, ctx.base_currency.clone(), ctx.custom_kinds.clone())
                .map_err(|e| StoreError::Config(e.join("\n")))?;
        let mut refs = Refs::new(mapping);
        let total = table.rows.len();
        // Deals written by the file; their metric projections are refreshed
        // once each at the end instead of after every history step.
        let mut touched: Vec<i64> = Vec::new();
        for (i, rec) in table.rows.iter().enumerate() {
            progress(i, total);
            let row = match converter.convert(rec) {
                Ok(r) => r,
                Err(errs) => {
                    report.rejected.extend(errs);
                    continue;
                }
            };
            exec(&mut tx, "SAVEPOINT import_row").await?;
            let mut past_open = false;
            let applied = match mapping.entity {
                Target::Deals => {
                    deals::apply(&mut tx, actor, &ctx, &mut refs, &row, &mut touched, &mut past_open).await
                }
                Target::Organizations => parties::apply_organization(&mut tx, actor, &mut refs, &row).await,
                Target::People => parties::apply_person(&mut tx, actor, &mut refs, &row).await,
                Target::Activities => activities::apply(&mut tx, actor, &mut refs, &row).await,
            };
            match applied {
                Ok(outcome) => {
                    exec(&mut tx, "RELEASE SAVEPOINT import_row").await?;
                    report.users_created.extend(refs.keep_row());
                    report.placed_past_open_steps += usize::from(past_open);
                    match outcome {
                        Outcome::Created => report.created += 1,
                        Outcome::Updated => report.updated += 1,
                        Outcome::Unchanged => report.unchanged += 1,
                    }
                }
                Err(fail) => {
                    exec(&mut tx, "ROLLBACK TO SAVEPOINT import_row").await?;
                    exec(&mut tx, "RELEASE SAVEPOINT import_row").await?;
                    refs.forget_row();
                    match fail {
                        RowFail::Row(e) => report.rejected.push(e),
                        RowFail::Store(e) => report.rejected.extend(row_errors(&row, e)?),
                    }
                }
            }
        }
        touched.sort_unstable();
        touched.dedup();
        crate::projections::refresh_deals(&mut tx, &touched).await?;
        progress(total, total);
        report.rejected.sort_by_key(|e| e.row);
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
}

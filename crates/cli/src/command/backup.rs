//! `dealflow backup FILE [--force]` and `dealflow restore FILE`: the
//! workspace of the global `--database` (either engine) to a new SQLite
//! file, and such a file back into an empty database. Both print every
//! table's row count and checksum; a restore reproduced its backup when the
//! two listings agree. The work is the store's (`backup_to_file`,
//! `restore_from_file`).

use anyhow::bail;
use clap::Args;
use dealflow_store::{CopyReport, PoolSettings, Store, backup_to_file, restore_from_file};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct Backup {
    /// The SQLite file to write; it must not exist yet.
    file: PathBuf,
    /// Replace FILE when it exists (only once the new backup is complete).
    #[arg(long)]
    force: bool,
}

impl Backup {
    pub async fn run(self, store: &Store, pool: &PoolSettings) -> anyhow::Result<()> {
        let started = Instant::now();
        let report = backup_to_file(store, &self.file, self.force, pool).await?;
        print_tables(&report);
        if !report.ok {
            bail!("the backup does not match the workspace in: {}; no file was written", mismatched(&report));
        }
        println!(
            "backed up and verified {} rows to {} in {:.1} s",
            report.rows(),
            self.file.display(),
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }
}

#[derive(Debug, Args)]
pub struct Restore {
    /// A file written by `dealflow backup`.
    file: PathBuf,
}

impl Restore {
    pub async fn run(self, store: &Store, pool: &PoolSettings) -> anyhow::Result<()> {
        let started = Instant::now();
        let report = restore_from_file(&self.file, store, pool).await?;
        print_tables(&report);
        if !report.ok {
            bail!("the restored workspace does not match the backup in: {}", mismatched(&report));
        }
        println!(
            "restored and verified {} rows from {} in {:.1} s",
            report.rows(),
            self.file.display(),
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }
}

/// One line per table: name, rows, the full checksum, and whether the
/// written side verified. Full sums, so two listings can be compared.
fn print_tables(report: &CopyReport) {
    let width = report.tables.iter().map(|t| t.table.len()).max().unwrap_or(0);
    for t in &report.tables {
        let verdict = if t.matches { "ok" } else { "MISMATCH" };
        println!("{:<width$}  {:>9} rows  sha256 {}  {verdict}", t.table, t.rows, t.checksum);
    }
}

fn mismatched(report: &CopyReport) -> String {
    report.tables.iter().filter(|t| !t.matches).map(|t| t.table.as_str()).collect::<Vec<_>>().join(", ")
}

//! `dealflow bench import --rows N`: generates a Maven-shaped deals file of
//! N rows (fixed seed) and its organizations file, imports both with the
//! real import (the code `dealflow import` runs, the shipped mappings of
//! examples/maven/), and reports rows per second and peak memory. SQLite
//! on a temporary file by default; the database `--database` names when it
//! is a PostgreSQL URL (it must hold no deals: the bench fills it).

mod maven;

use super::import::{import_rows, survey};
use anyhow::Context;
use clap::Args;
use dealflow_core::import::Mapping;
use dealflow_store::{DealFilter, ImportOptions, Page, PoolSettings, Store};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The shipped mappings the files are imported with.
const ORGANIZATIONS_MAPPING: &str = include_str!("../../../../../examples/maven/organizations.json");
const DEALS_MAPPING: &str = include_str!("../../../../../examples/maven/deals.json");

#[derive(Debug, Args)]
pub struct ImportBench {
    /// Deal rows in the generated file.
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: usize,
    /// Only write the generated files (accounts.csv, sales_pipeline.csv)
    /// into this folder and keep them, to import by hand.
    #[arg(long)]
    pub write_to: Option<PathBuf>,
}

impl ImportBench {
    pub async fn run(self, database: &str) -> anyhow::Result<()> {
        if let Some(dir) = &self.write_to {
            std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
            let (orgs, deals) = maven::write_files(dir, self.rows)?;
            println!("wrote {} and {} ({} deal rows)", orgs.display(), deals.display(), self.rows);
            return Ok(());
        }
        let postgres = database.starts_with("postgres://") || database.starts_with("postgresql://");
        super::bench::on_temp_sqlite(|sqlite| async move {
            let url = if postgres { database.to_string() } else { sqlite.clone() };
            // The files go beside the temporary SQLite database, removed with it.
            let dir = PathBuf::from(sqlite.trim_start_matches("sqlite:")).parent().map(Path::to_path_buf);
            let dir = dir.context("the temporary folder")?;
            self.measure(&url, &dir, if postgres { "PostgreSQL" } else { "SQLite" }).await
        })
        .await
    }

    async fn measure(&self, url: &str, dir: &Path, engine: &str) -> anyhow::Result<()> {
        let t = Instant::now();
        let (orgs_file, deals_file) = maven::write_files(dir, self.rows)?;
        let size = std::fs::metadata(&deals_file).map(|m| m.len()).unwrap_or(0);
        eprintln!("generated {} deal rows ({:.1} MiB) in {:.1} s", self.rows, mib(size), t.elapsed().as_secs_f64());
        let store = Store::open(url, &PoolSettings::default()).await.context("open the bench database")?;
        let any = store.list_deals(&DealFilter::default(), Page { limit: 1, before: None }).await?;
        anyhow::ensure!(any.items.is_empty(), "the bench database holds deals; give an empty one");
        let parse = |text: &str| {
            Mapping::parse(text).map_err(|e| anyhow::anyhow!("a shipped mapping has problems: {}", e.join("; ")))
        };
        let t = Instant::now();
        let orgs = import_rows(&store, &orgs_file, &parse(ORGANIZATIONS_MAPPING)?, 0, opts(), &mut |_, _| {}).await?;
        eprintln!("imported {} organizations in {:.2} s", orgs.created, t.elapsed().as_secs_f64());

        let mapping = parse(DEALS_MAPPING)?;
        let before = status_kib("VmRSS");
        // Start the peak over, so it measures the import, not the set-up.
        let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        let t = Instant::now();
        // As `dealflow import` does: the checksum and row count, then the import.
        let (sha256, total) = survey(&deals_file)?;
        let opts = ImportOptions { sha256: Some(sha256), ..opts() };
        let report = import_rows(&store, &deals_file, &mapping, total, opts, &mut |_, _| {}).await?;
        let secs = t.elapsed().as_secs_f64();
        let peak = if reset { status_kib("VmHWM") } else { None };
        anyhow::ensure!(
            report.committed && report.created == self.rows && report.rejected.is_empty(),
            "the import did not create every row: {} created, {} rejected (first: {:?})",
            report.created,
            report.rejected.len(),
            report.rejected.first().map(ToString::to_string)
        );
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        println!("import of {} Maven-shaped deal rows ({:.1} MiB) on {engine}, {cores} cores", self.rows, mib(size));
        println!("time         {secs:.1} s, {:.0} rows/s", self.rows as f64 / secs);
        println!(
            "memory       resident before {} MiB, peak during the import {} MiB{}",
            before.map_or("?".into(), |k| format!("{:.0}", k as f64 / 1024.0)),
            peak.map_or("?".into(), |k| format!("{:.0}", k as f64 / 1024.0)),
            if reset { "" } else { " (peak reset unsupported here)" }
        );
        store.close().await;
        Ok(())
    }
}

/// An import that keeps what it does, with nothing to name in the audit entry.
fn opts() -> ImportOptions {
    ImportOptions { dry_run: false, strict: false, file: None, sha256: None }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1_048_576.0
}

/// A memory figure of this process from /proc/self/status, in KiB:
/// `VmRSS` (resident now) or `VmHWM` (peak resident).
fn status_kib(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

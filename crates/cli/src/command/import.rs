//! `dealflow import deals|people|organizations|activities FILE --mapping
//! MAPPING [--dry-run] [--strict]`: loads a CSV file under a JSON mapping
//! (docs/import.md) in one transaction. Rejected rows are listed on stderr
//! as `row N: column: reason` and skipped; `--strict` keeps nothing when any
//! row is rejected; `--dry-run` reports what would happen and keeps nothing.

use anyhow::{Context, bail};
use clap::Args;
use dealflow_core::import::{Mapping, Target, csv};
use dealflow_store::{Actor, ImportOptions, ImportReport, Store};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct Import {
    /// What the file holds: deals, people, organizations or activities.
    #[arg(value_parser = Target::parse)]
    entity: Target,
    /// The CSV file (UTF-8, comma separated, with a header row).
    file: PathBuf,
    /// The JSON mapping from columns to fields.
    #[arg(long)]
    mapping: PathBuf,
    /// Do everything, report it, then roll back.
    #[arg(long)]
    dry_run: bool,
    /// Import nothing when any row is rejected (the default skips bad rows).
    #[arg(long)]
    strict: bool,
}

impl Import {
    pub async fn run(self, store: &Store) -> anyhow::Result<()> {
        let text = std::fs::read_to_string(&self.mapping)
            .with_context(|| format!("cannot read the mapping {}", self.mapping.display()))?;
        let mapping = Mapping::parse(&text).map_err(|e| {
            anyhow::anyhow!("the mapping {} has problems:\n  {}", self.mapping.display(), e.join("\n  "))
        })?;
        if mapping.entity != self.entity {
            bail!(
                "the mapping {} is for {}, not {}",
                self.mapping.display(),
                mapping.entity.as_str(),
                self.entity.as_str()
            );
        }
        let data =
            std::fs::read_to_string(&self.file).with_context(|| format!("cannot read {}", self.file.display()))?;
        let table = csv::parse(&data).map_err(|e| anyhow::anyhow!("{}: {e}", self.file.display()))?;
        let started = Instant::now();
        let mut bar = Progress::new();
        let opts = ImportOptions {
            dry_run: self.dry_run,
            strict: self.strict,
            file: self.file.file_name().map(|n| n.to_string_lossy().into_owned()),
            sha256: Some(dealflow_server::auth::sha256_hex(&data)),
        };
        let report = store
            .import(&Actor::cli(), &mapping, &table, opts, &mut |done, total| bar.show(done, total))
            .await
            .map_err(|e| anyhow::anyhow!("{}: {e}", self.file.display()));
        bar.clear();
        let report = report?;
        self.print(&report, started.elapsed().as_secs_f64());
        if self.strict && !report.rejected.is_empty() {
            bail!("nothing was imported: {} rows were rejected and --strict is set", report.rejected.len());
        }
        Ok(())
    }

    fn print(&self, r: &ImportReport, secs: f64) {
        for e in &r.rejected {
            eprintln!("{e}");
        }
        let name =
            self.file.file_name().map_or_else(|| self.file.display().to_string(), |n| n.to_string_lossy().into());
        let verb = if r.committed { "" } else { "would be " };
        let rejected_rows = {
            let mut rows: Vec<usize> = r.rejected.iter().map(|e| e.row).collect();
            rows.dedup();
            rows.len()
        };
        println!(
            "{} from {name}: {} rows: {} {verb}created, {} {verb}updated, {} unchanged, {rejected_rows} rejected ({secs:.1} s)",
            self.entity.as_str(),
            r.rows,
            r.created,
            r.updated,
            r.unchanged,
        );
        if r.placed_past_open_steps > 0 {
            println!(
                "{} deals {verb}placed past required playbook steps that are not done (imports place deals without \
                 the gate)",
                r.placed_past_open_steps
            );
        }
        if !r.setup.is_empty() {
            println!("{verb}created: {}", r.setup.join(", "));
        }
        if !r.users_created.is_empty() {
            println!(
                "{verb}created {} users without a password: {}",
                r.users_created.len(),
                r.users_created.join(", ")
            );
        }
        if self.dry_run {
            println!("dry run: nothing was saved");
        } else if !r.committed {
            println!("nothing was saved");
        }
    }
}

/// A one-line progress bar on stderr, drawn only when stderr is a terminal
/// so logs and pipes stay clean.
struct Progress {
    on: bool,
    last: usize,
}

impl Progress {
    fn new() -> Self {
        Self { on: std::io::stderr().is_terminal(), last: usize::MAX }
    }

    fn show(&mut self, done: usize, total: usize) {
        if !self.on || total == 0 {
            return;
        }
        let pct = done * 100 / total;
        if pct == self.last {
            return;
        }
        self.last = pct;
        let filled = pct * 30 / 100;
        let mut err = std::io::stderr();
        let _ = write!(err, "\r[{}{}] {pct:>3}% {done}/{total} rows", "#".repeat(filled), ".".repeat(30 - filled));
        let _ = err.flush();
    }

    fn clear(&self) {
        if self.on && self.last != usize::MAX {
            let _ = write!(std::io::stderr(), "\r{:60}\r", "");
        }
    }
}

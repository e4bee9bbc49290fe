//! `dealflow import deals|people|organizations|activities FILE [--mapping
//! MAPPING] [--save-mapping PATH] [--dry-run] [--strict]`: loads a CSV file
//! under a JSON mapping (docs/import.md) in one transaction, reading the
//! file as it goes (constant memory, whatever its size). Without
//! `--mapping`, an export of Pipedrive, HubSpot or Salesforce is recognised
//! by its header and the proposed mapping is printed (and saved with
//! `--save-mapping`) before it is used. Rejected rows are listed on stderr
//! as `row N: column: reason` and skipped; `--strict` keeps nothing when any
//! row is rejected; `--dry-run` reports what would happen and keeps nothing.

use anyhow::{Context, bail};
use clap::Args;
use dealflow_core::import::{Mapping, Target, csv, detect};
use dealflow_store::{Actor, ImportOptions, ImportReport, ImportRows, Store};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, Args)]
pub struct Import {
    /// What the file holds: deals, people, organizations or activities.
    #[arg(value_parser = Target::parse)]
    entity: Target,
    /// The CSV file (UTF-8, comma separated, with a header row).
    file: PathBuf,
    /// The JSON mapping from columns to fields. Without it, a Pipedrive,
    /// HubSpot or Salesforce export is recognised and a mapping proposed.
    #[arg(long)]
    mapping: Option<PathBuf>,
    /// Write the proposed mapping here, to review, edit and pass back with
    /// `--mapping` (only without `--mapping`).
    #[arg(long, conflicts_with = "mapping")]
    save_mapping: Option<PathBuf>,
    /// Do everything, report it, then roll back.
    #[arg(long)]
    dry_run: bool,
    /// Import nothing when any row is rejected (the default skips bad rows).
    #[arg(long)]
    strict: bool,
}

impl Import {
    pub async fn run(self, store: &Store) -> anyhow::Result<()> {
        let (sha256, total) = survey(&self.file)?;
        let mapping = match &self.mapping {
            Some(path) => self.given_mapping(path)?,
            None => self.proposed_mapping(&self.sample()?)?,
        };
        let started = Instant::now();
        let mut bar = Progress::new();
        let opts = ImportOptions {
            dry_run: self.dry_run,
            strict: self.strict,
            file: self.file.file_name().map(|n| n.to_string_lossy().into_owned()),
            sha256: Some(sha256),
        };
        let report = import_rows(store, &self.file, &mapping, total, opts, &mut |done, total| bar.show(done, total))
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

    /// The header and the first rows, which a proposed mapping is read from.
    fn sample(&self) -> anyhow::Result<csv::Table> {
        let mut reader = open(&self.file)?;
        let rows = reader
            .by_ref()
            .take(detect::SAMPLE_ROWS)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| anyhow::anyhow!("{}: {e}", self.file.display()))?;
        Ok(csv::Table { header: reader.header().to_vec(), rows })
    }

    fn given_mapping(&self, path: &std::path::Path) -> anyhow::Result<Mapping> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read the mapping {}", path.display()))?;
        let mapping = Mapping::parse(&text)
            .map_err(|e| anyhow::anyhow!("the mapping {} has problems:\n  {}", path.display(), e.join("\n  ")))?;
        if mapping.entity != self.entity {
            bail!("the mapping {} is for {}, not {}", path.display(), mapping.entity.as_str(), self.entity.as_str());
        }
        Ok(mapping)
    }

    /// The mapping proposed for a recognised export, shown on stderr (and
    /// saved when asked) so the user sees what it reads before trusting it.
    fn proposed_mapping(&self, table: &csv::Table) -> anyhow::Result<Mapping> {
        let Some(p) = detect::propose(self.entity, table) else {
            bail!(
                "{}: give a --mapping; the header is not an export of {} we recognise \
                 (Pipedrive, HubSpot or Salesforce). Its columns: {}",
                self.file.display(),
                self.entity.as_str(),
                table.header.join(", ")
            );
        };
        let text = serde_json::to_string_pretty(&p.json).context("write the proposed mapping")?;
        eprintln!("recognised a {} export of {}; the proposed mapping:\n{text}", p.crm.name(), self.entity.as_str());
        for n in &p.notes {
            eprintln!("note: {n}");
        }
        if let Some(path) = &self.save_mapping {
            std::fs::write(path, format!("{text}\n"))
                .with_context(|| format!("cannot write the mapping to {}", path.display()))?;
            eprintln!("saved to {}; edit it and pass it back with --mapping", path.display());
        }
        Ok(p.mapping)
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

/// The file's CSV reader, its header read and checked.
fn open(file: &Path) -> anyhow::Result<csv::Reader<BufReader<File>>> {
    let f = File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
    csv::Reader::new(BufReader::new(f)).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))
}

/// The hex SHA-256 of the file's bytes and its number of CSV records (not
/// lines: a quoted cell may span lines), in one pass of constant memory.
pub(super) fn survey(file: &Path) -> anyhow::Result<(String, usize)> {
    struct Hashing<R> {
        inner: R,
        hash: Sha256,
    }
    impl<R: Read> Read for Hashing<R> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.hash.update(&buf[..n]);
            Ok(n)
        }
    }
    let f = File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
    let hashing = Hashing { inner: f, hash: Sha256::new() };
    let mut reader = ::csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(hashing);
    let mut record = ::csv::ByteRecord::new();
    let mut rows = 0;
    // A file the count cannot read fails again, with its row, when imported.
    while reader.read_byte_record(&mut record).unwrap_or(false) {
        rows += 1;
    }
    let mut rest = reader.into_inner();
    // The count may stop early on a broken row; the checksum covers every byte.
    std::io::copy(&mut rest, &mut std::io::sink()).with_context(|| format!("cannot read {}", file.display()))?;
    Ok((hex::encode(rest.hash.finalize()), rows))
}

/// Imports `file` under `mapping`, read as the import goes; `total` is its
/// number of rows, for `progress`.
pub(super) async fn import_rows(
    store: &Store,
    file: &Path,
    mapping: &Mapping,
    total: usize,
    opts: ImportOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> anyhow::Result<ImportReport> {
    let mut reader = open(file)?;
    let header = reader.header().to_vec();
    let rows = ImportRows { header: &header, rows: &mut reader, total };
    Ok(store.import(&Actor::cli(), mapping, rows, opts, progress).await?)
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

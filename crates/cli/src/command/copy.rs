//! `dealflow copy --from URL --to URL [--overwrite]`: moves a whole
//! workspace, history included, between databases (SQLite and PostgreSQL in
//! either direction), from one consistent snapshot, and verifies every table
//! by row count and checksum. The global `--database` is not used.

use anyhow::bail;
use clap::Args;
use dealflow_store::{PoolSettings, copy_workspace};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, Args)]
pub struct Copy {
    /// The workspace to copy: `sqlite:PATH` or `postgres://USER:PASS@HOST/DB`.
    #[arg(long)]
    from: String,
    /// Where to copy it; created (and migrated) when missing.
    #[arg(long)]
    to: String,
    /// Replace a target that already holds users, deals or other records.
    #[arg(long)]
    overwrite: bool,
}

impl Copy {
    pub async fn run(self, pool: &PoolSettings) -> anyhow::Result<()> {
        // Opening a SQLite URL creates the file, so a mistyped source would
        // otherwise be copied as an empty workspace over the target.
        if let Some(path) = sqlite_path(&self.from)
            && !path.exists()
        {
            bail!("there is no database at {}; check --from", path.display());
        }
        if same_database(&self.from, &self.to) {
            bail!("--from and --to are the same database");
        }
        let started = Instant::now();
        let from = super::open(&self.from, pool).await?;
        let to = match super::open(&self.to, pool).await {
            Ok(to) => to,
            Err(e) => {
                from.close().await;
                return Err(e);
            }
        };
        let result = copy_workspace(&from, &to, self.overwrite).await;
        from.close().await;
        to.close().await;
        let report = result?;
        let width = report.tables.iter().map(|t| t.table.len()).max().unwrap_or(0);
        for t in &report.tables {
            let sum = t.checksum.get(..12).unwrap_or(&t.checksum);
            let verdict = if t.matches { "ok" } else { "MISMATCH" };
            println!("{:<width$}  {:>9} rows  checksum {sum}…  {verdict}", t.table, t.rows);
        }
        if !report.ok {
            let bad: Vec<&str> = report.tables.iter().filter(|t| !t.matches).map(|t| t.table.as_str()).collect();
            bail!("the copy does not match its source in: {}", bad.join(", "));
        }
        println!("copied and verified {} rows in {:.1} s", report.rows(), started.elapsed().as_secs_f64());
        Ok(())
    }
}

/// The file of a SQLite URL (`sqlite:PATH`, `sqlite://PATH` or a bare path),
/// or `None` for other engines and in-memory databases.
fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"));
    let rest = match rest {
        Some(r) => r,
        None if url.contains("://") => return None,
        None => url,
    };
    let path = rest.split_once('?').map_or(rest, |(p, _)| p);
    (path != ":memory:" && !path.is_empty()).then(|| PathBuf::from(path))
}

/// Whether both URLs name the same database. SQLite paths are compared
/// after resolving them, so `./a.db` and `a.db` are caught too.
fn same_database(a: &str, b: &str) -> bool {
    match (sqlite_path(a), sqlite_path(b)) {
        (Some(a), Some(b)) => canonical(&a) == canonical(&b),
        (None, None) => a.trim_end_matches('/') == b.trim_end_matches('/'),
        _ => false,
    }
}

fn canonical(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths() {
        assert_eq!(sqlite_path("sqlite:data/a.db"), Some(PathBuf::from("data/a.db")));
        assert_eq!(sqlite_path("sqlite:///tmp/a.db?mode=rwc"), Some(PathBuf::from("/tmp/a.db")));
        assert_eq!(sqlite_path("a.db"), Some(PathBuf::from("a.db")));
        assert_eq!(sqlite_path("postgres://u@h/db"), None);
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert!(same_database("sqlite:a.db", "sqlite://a.db"));
        assert!(!same_database("sqlite:a.db", "postgres://h/a"));
    }
}

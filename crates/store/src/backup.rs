//! Backups: a whole workspace written to a new SQLite file, and restored
//! from one into an empty database, on either engine.
//!
//! Both are [`copy_workspace`]: the backup reads the live workspace inside
//! one snapshot transaction (a consistent point in time while a server keeps
//! writing), and the restore writes inside one transaction, so a failure
//! leaves the target as it was. Every table is verified by row count and
//! SHA-256 after either step, and the two reports carry the same checksums
//! when the restore reproduced the backup. One portable file format serves
//! both engines and needs no external tool.

use crate::copy::{copy_workspace, user_data};
use crate::{CopyReport, Engine, PoolSettings, Store, StoreError};
use std::path::{Path, PathBuf};

/// Writes the workspace of `from` into a new SQLite file at `file`.
///
/// The copy goes to a hidden file beside `file` and is renamed over it only
/// once it is complete, verified and closed, so an interrupted backup never
/// leaves a half-written `file` (nor destroys the one `--force` replaces).
/// A report with `ok == false` (a table that does not verify) leaves no file.
pub async fn backup_to_file(
    from: &Store,
    file: &Path,
    force: bool,
    pool: &PoolSettings,
) -> Result<CopyReport, StoreError> {
    if file.exists() && !force {
        return Err(StoreError::Config(format!(
            "{} already exists; choose a new file name, or pass --force to replace it",
            file.display()
        )));
    }
    if file.is_dir() {
        return Err(StoreError::Config(format!("{} is a folder; name a file to write the backup to", file.display())));
    }
    if same_file(from, file).await? {
        return Err(StoreError::Config(format!(
            "{} is the database being backed up; choose another file",
            file.display()
        )));
    }
    let partial = partial_path(file)?;
    remove_sqlite_files(&partial);
    let to = Store::open(&sqlite_url(&partial), pool).await?;
    let result = copy_workspace(from, &to, false).await;
    // Closing the last connection checkpoints the WAL into the file and
    // deletes it, so the renamed file is the whole backup.
    to.close().await;
    let report = match result {
        Ok(r) if r.ok => r,
        other => {
            remove_sqlite_files(&partial);
            return other;
        }
    };
    if wal_of(&partial).exists() {
        remove_sqlite_files(&partial);
        return Err(StoreError::Config(format!(
            "the backup's write-ahead log was not merged into {}; try again",
            partial.display()
        )));
    }
    std::fs::rename(&partial, file).map_err(|e| {
        remove_sqlite_files(&partial);
        StoreError::Config(format!("cannot move the finished backup to {}: {e}", file.display()))
    })?;
    // The rename itself is durable only once its folder is flushed; a
    // failure here still leaves a complete file, so it is not an error.
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(report)
}

/// Copies the backup at `file` into `to`, which must hold no user data.
///
/// The file is checked to be a dealflow database before it is opened the
/// usual way (opening would otherwise add dealflow's tables to any SQLite
/// file it is pointed at). A backup made by an older release is upgraded in
/// place when opened, like any workspace.
pub async fn restore_from_file(file: &Path, to: &Store, pool: &PoolSettings) -> Result<CopyReport, StoreError> {
    if !file.is_file() {
        return Err(StoreError::Config(format!("there is no backup at {}; check the file name", file.display())));
    }
    if same_file(to, file).await? {
        return Err(StoreError::Config(format!(
            "{} is the database to restore into; point --database at another one",
            file.display()
        )));
    }
    check_is_backup(file).await?;
    let mut tx = to.write().await?;
    let found = user_data(&mut tx).await?;
    tx.rollback().await?;
    if !found.is_empty() {
        return Err(StoreError::InUse(format!(
            "the database to restore into is not empty ({}); restore into an empty one: a new SQLite file \
             (--database sqlite:PATH) or a new PostgreSQL database (createdb NAME)",
            found.join(", ")
        )));
    }
    let from = Store::open(&sqlite_url(file), pool).await?;
    let result = copy_workspace(&from, to, false).await;
    from.close().await;
    result
}

/// Refuses a file that is not a SQLite database holding dealflow's
/// migration table, reading it without changing it.
async fn check_is_backup(file: &Path) -> Result<(), StoreError> {
    let not_a_backup = |why: String| StoreError::Config(format!("{} is not a dealflow backup: {why}", file.display()));
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}?mode=ro", file.display());
    let mut conn =
        <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await.map_err(|e| not_a_backup(e.to_string()))?;
    let found: Result<i64, _> = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
    )
    .fetch_one(&mut conn)
    .await;
    let _ = sqlx::Connection::close(conn).await;
    match found {
        Ok(1) => Ok(()),
        Ok(_) => Err(not_a_backup("it has no dealflow tables".into())),
        Err(e) => Err(not_a_backup(e.to_string())),
    }
}

/// Whether `store` is the SQLite file at `file`.
async fn same_file(store: &Store, file: &Path) -> Result<bool, StoreError> {
    if store.engine() != Engine::Sqlite {
        return Ok(false);
    }
    let main: Option<String> = sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
        .fetch_optional(store.pool())
        .await?;
    let Some(main) = main.filter(|m| !m.is_empty()) else { return Ok(false) };
    let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    Ok(canonical(Path::new(&main)) == canonical(file))
}

/// The hidden file a backup to `file` is written to first: same folder (so
/// the rename is atomic), named after the process so two runs never share it.
fn partial_path(file: &Path) -> Result<PathBuf, StoreError> {
    let name = file
        .file_name()
        .ok_or_else(|| StoreError::Config(format!("{} does not name a file", file.display())))?
        .to_string_lossy();
    Ok(file.with_file_name(format!(".{name}.{}.partial", std::process::id())))
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite:{}", path.display())
}

fn wal_of(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push("-wal");
    PathBuf::from(p)
}

/// Removes a SQLite file with its write-ahead log and shared-memory index.
fn remove_sqlite_files(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

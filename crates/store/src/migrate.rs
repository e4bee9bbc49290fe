//! Numbered migrations, embedded in the binary and applied in order at
//! start-up, each in its own transaction. The same files serve both engines
//! (the SQL is portable), so the schemas cannot drift apart.
//!
//! Each applied migration is recorded with the SHA-256 of its file. A file
//! changed after it was applied would leave databases migrated before and
//! after the change with different schemas under the same number, so start-up
//! refuses it and says which file and both sums.

use crate::{Store, StoreError};
use sha2::{Digest, Sha256};

/// (version, SQL). Never edit a released entry; append a new one.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_init.sql")),
    (2, include_str!("../migrations/0002_import.sql")),
    (3, include_str!("../migrations/0003_goals.sql")),
    (4, include_str!("../migrations/0004_metric_projections.sql")),
    (5, include_str!("../migrations/0005_note_edits.sql")),
    (6, include_str!("../migrations/0006_audit_log.sql")),
    (7, include_str!("../migrations/0007_jobs.sql")),
    (8, include_str!("../migrations/0008_playbooks.sql")),
    (9, include_str!("../migrations/0009_mail.sql")),
    (10, include_str!("../migrations/0010_playbook_rules.sql")),
    (11, include_str!("../migrations/0011_campaign_members.sql")),
    (12, include_str!("../migrations/0012_do_not_email.sql")),
    (13, include_str!("../migrations/0013_webhooks.sql")),
    (14, include_str!("../migrations/0014_forms.sql")),
    (15, include_str!("../migrations/0015_connect.sql")),
    (16, include_str!("../migrations/0016_scoring.sql")),
    (17, include_str!("../migrations/0017_forecast_source.sql")),
    (18, include_str!("../migrations/0018_pipeline_audits.sql")),
    (19, include_str!("../migrations/0019_forecast_projection.sql")),
    (20, include_str!("../migrations/0020_forecast_reads.sql")),
    (21, include_str!("../migrations/0021_board_reads.sql")),
];

/// The hex SHA-256 of a migration file. Line ends are normalized first, so
/// a checkout that turned LF into CRLF builds the same sums.
pub(crate) fn checksum(sql: &str) -> String {
    let digest = Sha256::digest(sql.replace("\r\n", "\n").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) async fn run(store: &Store) -> Result<(), StoreError> {
    bootstrap(store).await?;
    for (version, sql) in MIGRATIONS {
        let sum = checksum(sql);
        let mut tx = store.write().await?;
        let done: Option<Option<String>> =
            sqlx::query_scalar("SELECT checksum FROM schema_migrations WHERE version = $1")
                .bind(*version)
                .fetch_optional(&mut *tx)
                .await?;
        match done {
            Some(Some(recorded)) if recorded == sum => continue,
            Some(Some(recorded)) => return Err(changed(*version, &recorded, &sum)),
            // Applied before checksums were recorded: databases were migrated
            // from the files as they are now (0004 was edited once, before
            // this check existed), so the current sum is accepted.
            Some(None) => {
                sqlx::query("UPDATE schema_migrations SET checksum = $1 WHERE version = $2 AND checksum IS NULL")
                    .bind(&sum)
                    .bind(*version)
                    .execute(&mut *tx)
                    .await?;
            }
            None => {
                sqlx::raw_sql(*sql).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO schema_migrations (version, applied_at, checksum) VALUES ($1, $2, $3)")
                    .bind(*version)
                    .bind(dealflow_core::time::Timestamp::now().0)
                    .bind(&sum)
                    .execute(&mut *tx)
                    .await?;
                tracing::info!(version, "applied migration");
            }
        }
        tx.commit().await?;
    }
    Ok(())
}

/// Creates the bookkeeping table, and gives one made by an older release
/// its `checksum` column. Both engines accept `ALTER TABLE … ADD COLUMN`,
/// but only PostgreSQL knows `IF NOT EXISTS`, so the column is probed first;
/// when two processes start at once and both add it, the loser's error is
/// ignored once the probe finds the column.
async fn bootstrap(store: &Store) -> Result<(), StoreError> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL, checksum TEXT)",
    )
    .execute(store.pool())
    .await?;
    if has_checksum_column(store).await {
        return Ok(());
    }
    let added = sqlx::raw_sql("ALTER TABLE schema_migrations ADD COLUMN checksum TEXT").execute(store.pool()).await;
    match added {
        Ok(_) => Ok(()),
        Err(_) if has_checksum_column(store).await => Ok(()),
        Err(e) => Err(e.into()),
    }
}

async fn has_checksum_column(store: &Store) -> bool {
    // Outside any transaction: a failed statement would abort one on PostgreSQL.
    sqlx::raw_sql("SELECT checksum FROM schema_migrations WHERE 1 = 0").execute(store.pool()).await.is_ok()
}

/// The start-up refusal for an applied migration whose file changed.
fn changed(version: i64, recorded: &str, found: &str) -> StoreError {
    StoreError::Config(format!(
        "migration {version:04} (crates/store/migrations/{version:04}_*.sql) was changed after it was applied to \
         this database: the database recorded SHA-256 {recorded}, but the file built into this dealflow has \
         {found}. Run the dealflow release that applied it, or restore the file as it was released; an applied \
         migration must never be edited (put further changes in a new numbered migration)."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_ignore_line_ends_only() {
        assert_eq!(checksum("a;\nb;\n"), checksum("a;\r\nb;\r\n"));
        assert_ne!(checksum("a;\n"), checksum("b;\n"));
        assert_eq!(checksum("").len(), 64);
    }

    #[test]
    fn the_refusal_names_the_file_and_both_sums() {
        let msg = changed(4, "aaaa", "bbbb").to_string();
        for part in ["0004_*.sql", "recorded SHA-256 aaaa", "has bbbb", "new numbered migration"] {
            assert!(msg.contains(part), "{part}: {msg}");
        }
    }
}

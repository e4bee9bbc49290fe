//! Numbered migrations, embedded in the binary and applied in order at
//! start-up, each in its own transaction. The same files serve both engines
//! (the SQL is portable), so the schemas cannot drift apart.

use crate::{Store, StoreError};

/// (version, SQL). Never edit a released entry; append a new one.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_init.sql")),
    (2, include_str!("../migrations/0002_import.sql")),
    (3, include_str!("../migrations/0003_goals.sql")),
    (4, include_str!("../migrations/0004_metric_projections.sql")),
    (5, include_str!("../migrations/0005_note_edits.sql")),
];

pub(crate) async fn run(store: &Store) -> Result<(), StoreError> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .execute(store.pool())
    .await?;
    for (version, sql) in MIGRATIONS {
        let mut tx = store.write().await?;
        let done: Option<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
            .bind(*version)
            .fetch_optional(&mut *tx)
            .await?;
        if done.is_some() {
            continue;
        }
        sqlx::raw_sql(*sql).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
            .bind(*version)
            .bind(dealflow_core::time::Timestamp::now().0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(version, "applied migration");
    }
    Ok(())
}

//! The `import_keys` table: (entity, source, external id) → record id.

use crate::{StoreError, Tx};
use dealflow_core::import::Target;
use dealflow_core::time::Timestamp;

/// The record an earlier import made for this external id.
pub(crate) async fn get(tx: &mut Tx, entity: Target, source: &str, ext: &str) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar("SELECT record_id FROM import_keys WHERE entity = $1 AND source = $2 AND external_id = $3")
        .bind(entity.as_str())
        .bind(source.to_string())
        .bind(ext.to_string())
        .fetch_optional(&mut **tx)
        .await?)
}

/// Remembers (or re-points) an external id.
pub(crate) async fn put(
    tx: &mut Tx,
    entity: Target,
    source: &str,
    ext: &str,
    record: i64,
    now: Timestamp,
) -> Result<(), StoreError> {
    let n = sqlx::query(
        "UPDATE import_keys SET record_id = $1, updated_at = $2 WHERE entity = $3 AND source = $4 AND external_id = $5",
    )
    .bind(record)
    .bind(now.0)
    .bind(entity.as_str())
    .bind(source.to_string())
    .bind(ext.to_string())
    .execute(&mut **tx)
    .await?;
    if n.rows_affected() == 0 {
        sqlx::query(
            "INSERT INTO import_keys (id, entity, source, external_id, record_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(dealflow_core::ids::next_id())
        .bind(entity.as_str())
        .bind(source.to_string())
        .bind(ext.to_string())
        .bind(record)
        .bind(now.0)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

//! The `import_keys` table: (entity, source, external id) → record id.

use crate::row::{i64_, text};
use crate::sql::Sql;
use crate::{Engine, StoreError, Tx};
use dealflow_core::import::Target;
use dealflow_core::time::Timestamp;
use std::collections::HashMap;

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

/// The records earlier imports made for these external ids, in one
/// statement.
pub(crate) async fn get_many(
    tx: &mut Tx,
    engine: Engine,
    entity: Target,
    source: &str,
    exts: &[&str],
) -> Result<HashMap<String, i64>, StoreError> {
    let mut out = HashMap::new();
    if exts.is_empty() {
        return Ok(out);
    }
    let mut sql = Sql::for_engine(engine, "SELECT external_id, record_id FROM import_keys WHERE entity = ");
    sql.bind(entity.as_str()).push(" AND source = ").bind(source).push(" AND external_id IN (");
    for (i, e) in exts.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(*e);
    }
    sql.push(")");
    // Planned afresh each time: the table grows inside the import's own
    // transaction, and PostgreSQL would otherwise keep the plan it cached
    // while the table was small, a scan of every key per batch (3 s per
    // batch at 100,000 rows).
    for r in sql.query().persistent(false).fetch_all(&mut **tx).await? {
        out.insert(text(&r, "external_id")?, i64_(&r, "record_id")?);
    }
    Ok(out)
}

/// Remembers external ids that have no record yet ([`get_many`] found none).
pub(crate) async fn put_new(
    tx: &mut Tx,
    engine: Engine,
    entity: Target,
    source: &str,
    made: &[(&str, i64)],
    now: Timestamp,
) -> Result<(), StoreError> {
    let rows = made.iter().map(|(ext, record)| {
        vec![
            dealflow_core::ids::next_id().into(),
            entity.as_str().into(),
            source.into(),
            (*ext).into(),
            (*record).into(),
            now.0.into(),
            now.0.into(),
        ]
    });
    let head = "INSERT INTO import_keys (id, entity, source, external_id, record_id, created_at, updated_at) VALUES ";
    crate::deals::insert_rows(tx, engine, head, rows).await
}

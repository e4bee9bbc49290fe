//! Row loading and optimistic concurrency, shared by every mutable table:
//! one way to read a row (live only, or also deleted), one version check
//! and one path to 409 Conflict.

use crate::row::R;
use crate::{StoreError, Tx};
use sqlx::Any;
use sqlx::any::AnyRow;

/// A live (not deleted) row of `table`, from the pool or inside a
/// transaction; 404 naming `what` when there is none.
pub(crate) async fn live<'e, T>(
    e: impl sqlx::Executor<'e, Database = Any>,
    table: &str,
    what: &'static str,
    id: i64,
    map: fn(&AnyRow) -> R<T>,
) -> Result<T, StoreError> {
    fetch(e, &format!("SELECT * FROM {table} WHERE id = $1 AND deleted_at IS NULL"), what, id, map).await
}

/// A row of `table` whether deleted or not, from the pool or inside a
/// transaction; 404 naming `what` when there is none.
pub(crate) async fn load<'e, T>(
    e: impl sqlx::Executor<'e, Database = Any>,
    table: &str,
    what: &'static str,
    id: i64,
    map: fn(&AnyRow) -> R<T>,
) -> Result<T, StoreError> {
    fetch(e, &format!("SELECT * FROM {table} WHERE id = $1"), what, id, map).await
}

/// Deletes a row of `table` for good (records nothing refers to); 404
/// naming `what` when there is none.
pub(crate) async fn remove(tx: &mut Tx, table: &str, what: &'static str, id: i64) -> Result<(), StoreError> {
    let sql = format!("DELETE FROM {table} WHERE id = $1");
    let n = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).execute(&mut **tx).await?;
    if n.rows_affected() == 0 {
        return Err(StoreError::not_found(what, id));
    }
    Ok(())
}

async fn fetch<'e, T>(
    e: impl sqlx::Executor<'e, Database = Any>,
    sql: &str,
    what: &'static str,
    id: i64,
    map: fn(&AnyRow) -> R<T>,
) -> Result<T, StoreError> {
    let r = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .bind(id)
        .fetch_optional(e)
        .await?
        .ok_or_else(|| StoreError::not_found(what, id))?;
    Ok(map(&r)?)
}

/// The caller's version against the stored one: 409 with the current
/// version when the caller's is stale.
pub(crate) fn check_version(stored: i64, given: i64) -> Result<(), StoreError> {
    if stored == given { Ok(()) } else { Err(StoreError::Conflict { current: stored }) }
}

/// The error for a version-guarded UPDATE (`… WHERE id = $ AND version =
/// $`) that matched no row although [`check_version`] passed: another
/// writer got in between (possible on PostgreSQL), and the caller's
/// transaction rolls back with 409 and the version that writer left.
pub(crate) async fn stale(tx: &mut Tx, table: &str, id: i64) -> StoreError {
    let sql = format!("SELECT version FROM {table} WHERE id = $1");
    match sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(&mut **tx).await {
        Ok(current) => StoreError::Conflict { current },
        Err(e) => e.into(),
    }
}

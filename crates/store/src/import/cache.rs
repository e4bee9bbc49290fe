//! A larger SQLite page cache while an import runs. A file's transaction
//! dirties far more pages than the default cache (2 MiB) holds, and a
//! million-row file inserts into two dozen indexes in no particular order,
//! so SQLite writes the same pages out to the write-ahead log again and
//! again as it evicts them; with 64 MiB it wrote half as much (measured on
//! 100,000 rows). The cache is bounded, so memory stays flat whatever the
//! file's size. PostgreSQL's server manages its own buffers.

use crate::{Engine, StoreError, Tx};

/// The connection's cache size before the import, to give back.
pub(crate) struct Enlarged(Option<i64>);

impl Enlarged {
    /// Enlarges the cache of the transaction's connection (SQLite only).
    pub async fn new(tx: &mut Tx, engine: Engine) -> Result<Self, StoreError> {
        let Some(kib) = engine.bulk_write_cache_kib() else { return Ok(Self(None)) };
        let before: i64 = sqlx::query_scalar("PRAGMA cache_size").fetch_one(&mut **tx).await?;
        // A negative size counts KiB, a positive one pages.
        set(tx, -kib).await?;
        Ok(Self(Some(before)))
    }

    /// Gives the connection its cache size back.
    pub async fn restore(self, tx: &mut Tx) -> Result<(), StoreError> {
        match self.0 {
            Some(before) => set(tx, before).await,
            None => Ok(()),
        }
    }
}

/// `PRAGMA cache_size = n` (a pragma takes no bound value; `n` is an integer).
async fn set(tx: &mut Tx, n: i64) -> Result<(), StoreError> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("PRAGMA cache_size = {n}"))).execute(&mut **tx).await?;
    Ok(())
}

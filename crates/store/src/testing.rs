//! Throwaway databases for tests, on the engine the test run asks for:
//! `DEALFLOW_TEST_DATABASE` unset or `sqlite` gives a fresh SQLite file in a
//! temporary folder; a `postgres://` admin URL gives a fresh database on that
//! server (`scripts/test` starts a throwaway cluster and sets it). The same
//! suites thus run unchanged on both engines.

use crate::{PoolSettings, Store, StoreError};

/// A database that lives as long as this value. SQLite folders are removed
/// on drop; PostgreSQL databases stay until the throwaway cluster goes.
pub struct TestDb {
    pub url: String,
    dir: Option<std::path::PathBuf>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(d) = &self.dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

impl TestDb {
    /// Opens (and migrates) a store on this database.
    pub async fn open(&self) -> Result<Store, StoreError> {
        Store::open(&self.url, &PoolSettings::default()).await
    }
}

/// The engine under test: `postgres` when `DEALFLOW_TEST_DATABASE` is a
/// PostgreSQL URL, else `sqlite`.
pub fn engine_name() -> &'static str {
    match std::env::var("DEALFLOW_TEST_DATABASE") {
        Ok(u) if u.starts_with("postgres") => "postgres",
        _ => "sqlite",
    }
}

/// Creates a fresh, empty database for one test.
pub async fn test_database() -> Result<TestDb, StoreError> {
    let name = format!("dealflow_t_{}", dealflow_core::ids::next_id());
    match std::env::var("DEALFLOW_TEST_DATABASE") {
        Ok(admin) if admin.starts_with("postgres") => {
            sqlx::any::install_default_drivers();
            let mut conn =
                <sqlx::AnyConnection as sqlx::Connection>::connect(&admin).await.map_err(StoreError::from)?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await?;
            let _ = sqlx::Connection::close(conn).await;
            Ok(TestDb { url: with_database(&admin, &name), dir: None })
        }
        _ => {
            let dir = std::env::temp_dir().join(&name);
            std::fs::create_dir_all(&dir)
                .map_err(|e| StoreError::Config(format!("cannot create {}: {e}", dir.display())))?;
            Ok(TestDb { url: format!("sqlite:{}/test.db", dir.display()), dir: Some(dir) })
        }
    }
}

/// Replaces the database name of a PostgreSQL URL, keeping its query string.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url.split_once('?').map(|(b, q)| (b, Some(q))).unwrap_or((url, None));
    let head = match base.rfind('/') {
        Some(i) if i > base.find("://").map(|s| s + 2).unwrap_or(0) => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{head}/{db}?{q}"),
        None => format!("{head}/{db}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_name_is_replaced() {
        assert_eq!(super::with_database("postgres://u@h:1/postgres", "x"), "postgres://u@h:1/x");
        assert_eq!(
            super::with_database("postgres://u@h:1/postgres?sslmode=disable", "x"),
            "postgres://u@h:1/x?sslmode=disable"
        );
        assert_eq!(super::with_database("postgres://u@h:1", "x"), "postgres://u@h:1/x");
    }
}

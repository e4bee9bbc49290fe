//! The SQLite durability setting reaches every connection of the pool.

use dealflow_store::testing::{engine_name, test_database};
use dealflow_store::{Durability, PoolSettings, Store};

/// SQLite's `synchronous` level as a connection of `store` reports it.
async fn synchronous(store: &Store) -> i64 {
    let mut conn = store.pool().acquire().await.expect("a connection");
    sqlx::query_scalar("PRAGMA synchronous").fetch_one(&mut *conn).await.expect("read the pragma")
}

#[tokio::test]
async fn the_durability_setting_reaches_every_connection() {
    let db = test_database().await.expect("test database");
    for (durability, level) in [(Durability::Normal, 1), (Durability::Full, 2)] {
        let settings = PoolSettings { durability, ..PoolSettings::default() };
        let store = Store::open(&db.url, &settings).await.expect("open");
        if engine_name() == "sqlite" {
            // NORMAL is 1 and FULL is 2 in SQLite's numbering.
            assert_eq!(synchronous(&store).await, level, "{durability:?}");
        } else {
            // PostgreSQL's durability is the server's; the setting must not
            // get in the way of opening.
            assert!(store.pipelines().await.is_ok());
        }
        store.close().await;
    }
}

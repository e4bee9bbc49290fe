//! The migration runner's checksums: recorded on apply, filled in for a
//! database from before they existed, and a changed applied migration
//! refused at start-up with a message that says what to do.

use dealflow_store::testing::test_database;
use dealflow_store::{Store, StoreError};

async fn sums(store: &Store) -> Vec<(i64, Option<String>)> {
    sqlx::query_as("SELECT version, checksum FROM schema_migrations ORDER BY version")
        .fetch_all(store.pool())
        .await
        .expect("read schema_migrations")
}

#[tokio::test]
async fn every_applied_migration_has_its_files_checksum() {
    let db = test_database().await.expect("test database");
    let store = db.open().await.expect("open");
    let rows = sums(&store).await;
    assert!(rows.len() >= 4, "{rows:?}");
    for (v, sum) in &rows {
        let sum = sum.as_deref().unwrap_or_else(|| panic!("migration {v} has no checksum"));
        assert!(sum.len() == 64 && sum.chars().all(|c| c.is_ascii_hexdigit()), "{v}: {sum}");
    }
    store.close().await;
    // Reopening with the same files is fine and changes nothing.
    let store = db.open().await.expect("reopen");
    assert_eq!(sums(&store).await, rows);
    store.close().await;
}

#[tokio::test]
async fn a_changed_applied_migration_is_refused_at_start_up() {
    let db = test_database().await.expect("test database");
    let store = db.open().await.expect("open");
    let real = sums(&store).await.into_iter().find(|(v, _)| *v == 2).and_then(|(_, s)| s).expect("sum of 0002");
    let altered = "0".repeat(64);
    sqlx::query("UPDATE schema_migrations SET checksum = $1 WHERE version = 2")
        .bind(&altered)
        .execute(store.pool())
        .await
        .expect("alter the sum");
    store.close().await;

    let err = match db.open().await {
        Err(e) => e,
        Ok(_) => panic!("a changed migration was accepted"),
    };
    assert!(matches!(err, StoreError::Config(_)), "{err:?}");
    let msg = err.to_string();
    for part in ["migration 0002", "0002_*.sql", &format!("recorded SHA-256 {altered}"), &format!("has {real}")] {
        assert!(msg.contains(part), "`{part}` missing from: {msg}");
    }
    assert!(msg.contains("never be edited"), "{msg}");
}

#[tokio::test]
async fn a_database_from_before_checksums_gets_them() {
    let db = test_database().await.expect("test database");
    let store = db.open().await.expect("open");
    let expected = sums(&store).await;
    // What an older release left: the table without the column.
    sqlx::raw_sql("ALTER TABLE schema_migrations DROP COLUMN checksum")
        .execute(store.pool())
        .await
        .expect("drop the column");
    store.close().await;

    let store = db.open().await.expect("an old database opens");
    assert_eq!(sums(&store).await, expected, "the current files' sums were recorded");
    // A row left without a sum (say, 0004, edited before the check existed) gets the current one.
    sqlx::query("UPDATE schema_migrations SET checksum = NULL WHERE version = 4")
        .execute(store.pool())
        .await
        .expect("forget a sum");
    store.close().await;
    let store = db.open().await.expect("reopen");
    assert_eq!(sums(&store).await, expected);
    store.close().await;
}

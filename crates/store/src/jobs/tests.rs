//! Scheduling inside a caller's transaction: the job shares its fate.

use super::{NewJob, enqueue_in};
use crate::{JobFilter, Page};
use dealflow_core::time::Timestamp;

#[tokio::test]
async fn a_job_enqueued_in_a_rolled_back_transaction_does_not_exist() {
    let db = crate::testing::test_database().await.expect("test database");
    let store = db.open().await.expect("open");
    let now = Timestamp::now();
    let job = NewJob::new("sessions.prune", serde_json::json!({}), now);

    let mut tx = store.write().await.expect("begin");
    let id = enqueue_in(&mut tx, &job, now).await.expect("enqueue").expect("a new job");
    tx.rollback().await.expect("rollback");
    assert!(store.job(id).await.is_err(), "the rolled-back job must not exist");

    let mut tx = store.write().await.expect("begin");
    let id = enqueue_in(&mut tx, &job, now).await.expect("enqueue").expect("a new job");
    tx.commit().await.expect("commit");
    assert_eq!(store.job(id).await.expect("committed job").kind, "sessions.prune");
    let all = store.jobs(&JobFilter::default(), Page::default()).await.expect("list");
    assert_eq!(all.items.len(), 1);
}

//! Background jobs in the store: concurrent claimers in separate pools never
//! get the same job, an ended lease is claimable again and the stale
//! runner's word is refused, failed attempts back off until the job fails,
//! a failed job can be retried, and a dedupe key yields one job.

use dealflow_core::time::Timestamp;
use dealflow_store::{JobFilter, JobStatus, NewJob, Page, Store, StoreError, backoff_ms};
use serde_json::json;
use std::collections::HashSet;

const HOUR: i64 = 3_600_000;

async fn enqueue_due(store: &Store, n: usize, now: Timestamp) -> HashSet<i64> {
    let mut ids = HashSet::new();
    for i in 0..n {
        let job = NewJob::new("test.noop", json!({ "i": i }), Timestamp(now.0 - 1_000));
        ids.insert(store.enqueue(&job).await.expect("enqueue").expect("new job"));
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_claimers_never_get_the_same_job() {
    const JOBS: usize = 120;
    const CLAIMERS: usize = 4;
    let db = dealflow_store::testing::test_database().await.expect("test database");
    let first = db.open().await.expect("open");
    let now = Timestamp::now();
    let all = enqueue_due(&first, JOBS, now).await;
    let mut tasks = Vec::new();
    for c in 0..CLAIMERS {
        // A store of its own per claimer: separate pools, like separate processes.
        let store = db.open().await.expect("open another store");
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                match store.claim_jobs(&format!("w{c}"), now, HOUR, 3).await {
                    Ok(jobs) if jobs.is_empty() => break,
                    Ok(jobs) => got.extend(jobs.into_iter().map(|j| (j.id, j.leased_by))),
                    // SQLite may time out waiting for the write lock; try again.
                    Err(StoreError::Unavailable(_)) => continue,
                    Err(e) => panic!("claim failed: {e}"),
                }
            }
            got
        }));
    }
    let mut seen = HashSet::new();
    let mut claimers_that_got_some = 0;
    for (c, t) in tasks.into_iter().enumerate() {
        let got = t.await.expect("claimer task");
        if !got.is_empty() {
            claimers_that_got_some += 1;
        }
        for (id, by) in got {
            assert_eq!(by.as_deref(), Some(format!("w{c}").as_str()), "a claimed job names its claimer");
            assert!(seen.insert(id), "job {id} was claimed twice");
        }
    }
    assert_eq!(seen, all, "every due job is claimed exactly once");
    assert!(claimers_that_got_some >= 1);
    let running = JobFilter { status: Some(JobStatus::Running), ..Default::default() };
    assert_eq!(
        first.jobs(&running, Page::default()).await.expect("list").items.len(),
        50,
        "a page holds 50 of the running jobs"
    );
}

#[tokio::test]
async fn an_ended_lease_is_claimed_again_and_the_stale_runner_is_refused() {
    let db = dealflow_store::testing::test_database().await.expect("test database");
    let store = db.open().await.expect("open");
    let now = Timestamp::now();
    enqueue_due(&store, 1, now).await;
    let stale = store.claim_jobs("a", now, 10_000, 10).await.expect("claim").remove(0);
    assert_eq!(stale.status, JobStatus::Running);
    assert!(store.claim_jobs("b", Timestamp(now.0 + 5_000), 10_000, 10).await.expect("claim").is_empty());
    let later = Timestamp(now.0 + 20_000);
    let fresh = store.claim_jobs("b", later, 10_000, 10).await.expect("claim").remove(0);
    assert_eq!((fresh.id, fresh.attempts), (stale.id, 2));
    assert!(!store.complete_job(&stale, &json!("a"), later).await.expect("complete"), "stale completion refused");
    assert!(!store.fail_job(&stale, "late", later).await.expect("fail"), "stale failure refused");
    assert!(store.complete_job(&fresh, &json!({ "ok": true }), later).await.expect("complete"));
    assert!(!store.complete_job(&fresh, &json!({ "ok": true }), later).await.expect("again"), "completed once only");
    let done = store.job(fresh.id).await.expect("job");
    assert_eq!(done.status, JobStatus::Done);
    assert_eq!(done.result, Some(json!({ "ok": true })));
    assert_eq!(done.done_at, Some(later));
}

#[tokio::test]
async fn failed_attempts_back_off_until_the_job_fails_and_retry_revives_it() {
    let db = dealflow_store::testing::test_database().await.expect("test database");
    let store = db.open().await.expect("open");
    let mut now = Timestamp::now();
    let mut job = NewJob::new("test.broken", json!(null), now);
    job.max_attempts = 3;
    let id = store.enqueue(&job).await.expect("enqueue").expect("new job");
    let mut waits = Vec::new();
    for attempt in 1..=3 {
        let claimed = store.claim_jobs("w", now, 60_000, 1).await.expect("claim").remove(0);
        assert_eq!(claimed.attempts, attempt);
        assert!(store.fail_job(&claimed, &format!("boom {attempt}"), now).await.expect("fail"));
        let after = store.job(id).await.expect("job");
        assert_eq!(after.last_error.as_deref(), Some(format!("boom {attempt}").as_str()));
        if attempt < 3 {
            assert_eq!(after.status, JobStatus::Pending);
            assert!(after.lease_until.is_none());
            waits.push(after.due_at.0 - now.0);
            assert!(store.claim_jobs("w", now, 60_000, 1).await.expect("claim").is_empty(), "not due during backoff");
            now = after.due_at;
        } else {
            assert_eq!(after.status, JobStatus::Failed);
        }
    }
    assert_eq!(waits, vec![backoff_ms(1), backoff_ms(2)]);
    assert!(waits[1] > waits[0], "backoff grows");
    let far = Timestamp(now.0 + 10 * HOUR);
    assert!(store.claim_jobs("w", far, 60_000, 1).await.expect("claim").is_empty(), "a failed job is not claimed");

    let retried = store.retry_job(id, far).await.expect("retry");
    assert_eq!((retried.status, retried.attempts, retried.due_at), (JobStatus::Pending, 0, far));
    assert!(matches!(store.retry_job(id, far).await, Err(StoreError::InUse(_))), "only a failed job is retried");
    assert!(matches!(store.retry_job(42, far).await, Err(StoreError::NotFound { .. })));
    assert_eq!(store.claim_jobs("w", far, 60_000, 1).await.expect("claim").len(), 1);
}

#[tokio::test]
async fn the_same_dedupe_key_yields_one_job() {
    let db = dealflow_store::testing::test_database().await.expect("test database");
    let store = db.open().await.expect("open");
    let now = Timestamp::now();
    let job = NewJob::new("mail.send", json!({ "step": 1 }), now).dedupe("mail:deal-1:step-1:entry-1");
    let first = store.enqueue(&job).await.expect("enqueue");
    assert!(first.is_some());
    assert_eq!(store.enqueue(&job).await.expect("enqueue again"), None, "a dedupe hit is not an error");
    let other = NewJob::new("mail.send", json!({ "step": 1 }), now).dedupe("mail:deal-1:step-1:entry-2");
    assert!(store.enqueue(&other).await.expect("another key").is_some());
    let plain = NewJob::new("mail.send", json!({}), now);
    assert!(store.enqueue(&plain).await.expect("no key").is_some());
    assert!(store.enqueue(&plain).await.expect("no key again").is_some(), "jobs without a key never collide");
    let mail = JobFilter { kind: Some("mail.send".into()), ..Default::default() };
    assert_eq!(store.jobs(&mail, Page::default()).await.expect("list").items.len(), 4);
    let other = JobFilter { kind: Some("other".into()), ..Default::default() };
    assert!(store.jobs(&other, Page::default()).await.expect("list").items.is_empty());
}

//! A background job that falls due while `dealflow serve` is down (killed
//! with SIGKILL) runs after the restart, exactly once, on the engine under
//! test.

#[path = "support/serve.rs"]
mod support_serve;

use dealflow_core::model::Role;
use dealflow_core::time::Timestamp;
use dealflow_store::testing::test_database;
use dealflow_store::{Actor, JobStatus, NewJob, NewSession};
use serde_json::json;
use std::time::Duration;
use support_serve::{kill, serve};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_due_while_serve_was_killed_runs_once_after_the_restart() {
    let db = test_database().await.expect("a test database");
    let store = db.open().await.expect("open");
    let user = store
        .create_user(&Actor::system(), "jobs@example.com", "Jobs", Role::Admin, "not-a-real-hash", None)
        .await
        .expect("user");

    kill(serve(&db.url));

    // While no server runs: an ended session, and a prune job due now.
    let now = Timestamp::now();
    let ended = NewSession { token_hash: "e".repeat(64), csrf_token: "c".into(), expires_at: Timestamp(now.0 - 1_000) };
    store.create_session(user.id, ended, Timestamp(now.0 - 3_600_000), None).await.expect("session");
    let job = NewJob::new("sessions.prune", json!({}), now).dedupe("test:due-while-down");
    let id = store.enqueue(&job).await.expect("enqueue").expect("a new job");
    assert_eq!(store.job(id).await.expect("job").status, JobStatus::Pending);

    let second = serve(&db.url);
    let mut done = None;
    for _ in 0..300 {
        let j = store.job(id).await.expect("job");
        if j.status == JobStatus::Done {
            done = Some(j);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    kill(second);
    let done = done.expect("the job ran after the restart");
    assert_eq!(done.attempts, 1, "it ran once");
    let hour_ago = Timestamp(now.0 - 3_600_000);
    assert!(store.session_user(&"e".repeat(64), hour_ago).await.expect("look up").is_none(), "the session is gone");
}

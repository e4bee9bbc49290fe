//! A background job that falls due while `dealflow serve` is down (killed
//! with SIGKILL) runs after the restart, exactly once, on the engine under
//! test.

use dealflow_core::model::Role;
use dealflow_core::time::Timestamp;
use dealflow_store::testing::test_database;
use dealflow_store::{Actor, JobStatus, NewJob, NewSession};
use serde_json::json;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Starts `serve` on a free loopback port, looking for due jobs every
/// second; returns once it listens. Its output is drained on a thread.
fn serve(db: &str) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dealflow"))
        .env("DEALFLOW_DATABASE_URL", db)
        .env("RUST_LOG", "warn")
        .args(["serve", "--bind", "127.0.0.1:0", "--job-poll-secs", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    loop {
        line.clear();
        let n = lines.read_line(&mut line).expect("read serve output");
        assert!(n > 0, "serve ended without printing its address");
        if line.starts_with("dealflow is running at ") {
            break;
        }
    }
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut lines.take(u64::MAX), &mut std::io::sink());
    });
    child
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_due_while_serve_was_killed_runs_once_after_the_restart() {
    let db = test_database().await.expect("a test database");
    let store = db.open().await.expect("open");
    let user = store
        .create_user(&Actor::system(), "jobs@example.com", "Jobs", Role::Admin, "not-a-real-hash", None)
        .await
        .expect("user");

    let mut first = serve(&db.url);
    first.kill().expect("SIGKILL serve");
    first.wait().expect("reap serve");

    // While no server runs: an ended session, and a prune job due now.
    let now = Timestamp::now();
    let ended = NewSession { token_hash: "e".repeat(64), csrf_token: "c".into(), expires_at: Timestamp(now.0 - 1_000) };
    store.create_session(user.id, ended, Timestamp(now.0 - 3_600_000), None).await.expect("session");
    let job = NewJob::new("sessions.prune", json!({}), now).dedupe("test:due-while-down");
    let id = store.enqueue(&job).await.expect("enqueue").expect("a new job");
    assert_eq!(store.job(id).await.expect("job").status, JobStatus::Pending);

    let mut second = serve(&db.url);
    let mut done = None;
    for _ in 0..300 {
        let j = store.job(id).await.expect("job");
        if j.status == JobStatus::Done {
            done = Some(j);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    second.kill().expect("SIGKILL serve");
    second.wait().expect("reap serve");
    let done = done.expect("the job ran after the restart");
    assert_eq!(done.attempts, 1, "it ran once");
    let hour_ago = Timestamp(now.0 - 3_600_000);
    assert!(store.session_user(&"e".repeat(64), hour_ago).await.expect("look up").is_none(), "the session is gone");
}

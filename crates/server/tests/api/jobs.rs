//! Background jobs in a real server: the runner picks up a due job (the
//! daily `sessions.prune`, which deletes an ended session) within its poll
//! interval, a job nobody handles fails with a clear error, and
//! `/api/v1/jobs` lists jobs and retries a failed one.

use crate::helpers::*;
use dealflow_core::UserId;
use dealflow_core::time::Timestamp;
use dealflow_server::jobs::{Handlers, Runner, RunnerConfig};
use dealflow_store::{NewJob, NewSession, Store};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

fn quick_runner(store: &Store) -> Runner {
    let config = RunnerConfig { poll: Duration::from_millis(200), ..Default::default() };
    Runner::start(store.clone(), Handlers::standard(), config)
}

/// Polls `get` until `done` holds for its answer; generous, so a slow
/// machine does not fail the test, while a runner that never acts does.
async fn wait_for(app: &TestApp, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..300 {
        let (s, body) = app.get(path).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        if done(&body) {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} never reached the expected state");
}

/// Which of the sessions `a…` (ended a minute before `now`) and `b…` (live)
/// are stored, asked as of two hours before `now`, when both were valid.
async fn stored_sessions(store: &Store, now: Timestamp) -> Vec<bool> {
    let mut out = Vec::new();
    for hash in ["a".repeat(64), "b".repeat(64)] {
        out.push(store.session_user(&hash, Timestamp(now.0 - 7_200_000)).await.expect("look up").is_some());
    }
    out
}

#[tokio::test]
async fn the_runner_prunes_ended_sessions_soon_after_start() {
    let app = spawn_app().await;
    let (_, me) = app.get("/api/v1/auth/me").await;
    let me = UserId(me["user"]["id"].as_str().expect("my id").parse().expect("a number"));
    let now = Timestamp::now();
    for (hash, expires) in [("a".repeat(64), now.0 - 60_000), ("b".repeat(64), now.0 + 3_600_000)] {
        let s = NewSession { token_hash: hash, csrf_token: "c".into(), expires_at: Timestamp(expires) };
        app.store.create_session(me, s, Timestamp(now.0 - 7_200_000), None).await.expect("session");
    }
    assert_eq!(stored_sessions(&app.store, now).await, [true, true]);

    let runner = quick_runner(&app.store);
    let done = wait_for(&app, "/api/v1/jobs?kind=sessions.prune&status=done", |b| {
        b["items"].as_array().is_some_and(|i| !i.is_empty())
    })
    .await;
    runner.stop().await;
    let job = &done["items"][0];
    assert_eq!(job["result"], json!({ "deleted": 1 }), "{job}");
    assert_eq!(job["attempts"], 1);
    assert_eq!(stored_sessions(&app.store, now).await, [false, true], "the ended one goes, the live one stays");
    let (_, all) = app.get("/api/v1/jobs?kind=sessions.prune").await;
    assert_eq!(all["items"].as_array().map(Vec::len), Some(1), "one prune job per day: {all}");
}

#[tokio::test]
async fn a_job_without_a_handler_fails_and_an_admin_retries_it() {
    let app = spawn_app().await;
    let mut job = NewJob::new("no.such.kind", json!({ "x": 1 }), Timestamp::now());
    job.max_attempts = 1;
    let id = app.store.enqueue(&job).await.expect("enqueue").expect("new job").to_string();

    let runner = quick_runner(&app.store);
    let failed =
        wait_for(&app, "/api/v1/jobs?status=failed", |b| b["items"].as_array().is_some_and(|i| !i.is_empty())).await;
    runner.stop().await;
    let job = &failed["items"][0];
    assert_eq!(job["id"], json!(id));
    assert_eq!(job["kind"], "no.such.kind");
    let error = job["last_error"].as_str().expect("an error");
    assert!(error.contains("no handler for job kind \"no.such.kind\""), "{error}");

    let (s, body) = app.post(&format!("/api/v1/jobs/{id}/retry"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!((body["status"].as_str(), body["attempts"].as_i64()), (Some("pending"), Some(0)));
    let (s, body) = app.post(&format!("/api/v1/jobs/{id}/retry"), json!({})).await;
    assert_problem(s, &body, StatusCode::CONFLICT, None);
    let (s, body) = app.post("/api/v1/jobs/12345/retry", json!({})).await;
    assert_problem(s, &body, StatusCode::NOT_FOUND, None);
    let (s, body) = app.post("/api/v1/jobs/abc/retry", json!({})).await;
    assert_problem(s, &body, StatusCode::NOT_FOUND, None);
    let (s, body) = app.get("/api/v1/jobs?status=stuck").await;
    assert!(s == StatusCode::BAD_REQUEST || s == StatusCode::UNPROCESSABLE_ENTITY, "{s} {body}");
    let (s, pending) = app.get("/api/v1/jobs?status=pending&kind=no.such.kind").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(pending["items"].as_array().map(Vec::len), Some(1), "{pending}");
}

#[tokio::test]
async fn scheduling_wakes_the_runner_and_a_panicking_handler_only_fails_its_job() {
    let app = spawn_app().await;
    let mut handlers = Handlers::standard();
    handlers.register("test.echo", |_store: Store, job: dealflow_store::Job| async move { Ok(job.payload) });
    handlers.register("test.panic", |_store: Store, _job: dealflow_store::Job| async move {
        if true {
            panic!("a bug in a handler");
        }
        Ok(json!(null))
    });
    // A poll far longer than the test waits: only the wake-up can start the jobs in time.
    let config = RunnerConfig { poll: Duration::from_secs(600), ..Default::default() };
    let runner = Runner::start(app.store.clone(), handlers, config);
    wait_for(&app, "/api/v1/jobs?kind=sessions.prune&status=done", |b| {
        b["items"].as_array().is_some_and(|i| !i.is_empty())
    })
    .await;

    let mut broken = NewJob::new("test.panic", json!({}), Timestamp::now());
    broken.max_attempts = 1;
    app.store.enqueue(&broken).await.expect("enqueue").expect("new job");
    app.store.enqueue(&NewJob::new("test.echo", json!({ "hello": "jobs" }), Timestamp::now())).await.expect("enqueue");
    let echoed = wait_for(&app, "/api/v1/jobs?kind=test.echo&status=done", |b| {
        b["items"].as_array().is_some_and(|i| !i.is_empty())
    })
    .await;
    assert_eq!(echoed["items"][0]["result"], json!({ "hello": "jobs" }));
    let failed = wait_for(&app, "/api/v1/jobs?kind=test.panic&status=failed", |b| {
        b["items"].as_array().is_some_and(|i| !i.is_empty())
    })
    .await;
    let error = failed["items"][0]["last_error"].as_str().expect("an error");
    assert!(error.contains("panicked"), "{error}");
    runner.stop().await;
}

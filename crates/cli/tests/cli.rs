//! The `dealflow` binary end to end: the README's run command with `--demo`
//! serves a workspace whose API answers with the printed token; user and
//! token commands; clear one-line errors; graceful shutdown on SIGTERM.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A fresh database on the engine under test (see `dealflow_store::testing`).
fn test_db() -> dealflow_store::testing::TestDb {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(dealflow_store::testing::test_database()).expect("create a test database")
}

fn dealflow(db: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dealflow"));
    c.env("DEALFLOW_DATABASE_URL", db).env("RUST_LOG", "warn");
    c
}

#[test]
fn user_and_token_commands() {
    let db = test_db();
    let out = dealflow(&db.url).arg("migrate").output().expect("run migrate");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let add = |email: &str, pw: &str| {
        let mut child = dealflow(&db.url)
            .args(["user", "add", "--email", email, "--name", "Cli User", "--role", "admin", "--password-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn user add");
        child.stdin.take().expect("stdin").write_all(pw.as_bytes()).expect("write password");
        child.wait_with_output().expect("wait")
    };
    let ok = add("cli@example.com", "a long enough password\n");
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let dup = add("cli@example.com", "a long enough password\n");
    assert!(!dup.status.success());
    let err = String::from_utf8_lossy(&dup.stderr);
    assert_eq!(err.trim().lines().count(), 1, "one clear line: {err}");
    assert!(err.contains("already exists"), "{err}");
    let short = add("other@example.com", "short\n");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 10 characters"));

    let out = dealflow(&db.url).args(["token", "create", "--user", "cli@example.com"]).output().expect("token");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.trim_end().lines().last().expect("a last line");
    assert!(last.starts_with("dfl_") && last.len() == 68, "token alone on the last line: {last}");
    let out = dealflow(&db.url).args(["token", "create", "--user", "nobody@example.com"]).output().expect("token");
    assert!(!out.status.success());
}

#[test]
fn unsupported_database_is_one_clear_line() {
    let out = dealflow("mysql://localhost/x").arg("migrate").output().expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("unsupported database URL scheme"), "{err}");
    assert!(!err.contains("panicked"));
}

#[test]
fn unreachable_postgres_is_one_clear_line() {
    // Port 1 on loopback: nothing listens there, so the connection is refused.
    let out = dealflow("postgres://dealflow@127.0.0.1:1/dealflow").arg("migrate").output().expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("cannot open the database"), "{err}");
    assert!(!err.contains("panicked"));
}

#[tokio::test]
async fn demo_serves_deals_and_shuts_down_gracefully() {
    let db = tokio::task::spawn_blocking(test_db).await.expect("test database");
    let mut child = dealflow(&db.url)
        .args(["serve", "--demo", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let stdout = child.stdout.take().expect("stdout");
    let (token, base) = tokio::task::spawn_blocking(move || {
        let mut token = None;
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("read line");
            if let Some(t) = line.strip_prefix("demo API token: ") {
                token = Some(t.to_string());
            }
            if let Some(url) = line.strip_prefix("dealflow is running at ") {
                return (token.expect("token printed before the URL"), url.to_string());
            }
        }
        panic!("serve ended without printing its address");
    })
    .await
    .expect("read output");

    let client = reqwest::Client::new();
    let resp =
        client.get(format!("{base}/api/v1/deals?limit=500")).bearer_auth(&token).send().await.expect("GET deals");
    assert_eq!(resp.status(), 200);
    let page: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(page["items"].as_array().expect("items").len(), 340);
    let resp = client.get(format!("{base}/api/v1/pipelines")).bearer_auth(&token).send().await.expect("GET pipelines");
    let pipelines: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(pipelines.as_array().expect("array").len(), 2);

    // SIGTERM: the server finishes and exits 0.
    // SAFETY: `kill` with a child pid we own and a valid signal number.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let mut waited = Duration::ZERO;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(waited < Duration::from_secs(20), "server did not stop after SIGTERM");
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += Duration::from_millis(100);
    };
    assert!(status.success(), "exit status {status}");

    // A second start does not seed again.
    let out = dealflow(&db.url).args(["serve", "--demo", "--bind", "256.0.0.1:1"]).output().expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("already present"), "{stdout}");
    assert!(!out.status.success(), "a bad bind address fails");
}

//! The OpenAPI document tells the truth: schemathesis (pinned in
//! scripts/test-requirements.txt, installed into target/test-venv by
//! scripts/lib/venv.sh) generates requests from `/api/openapi.json` and sends
//! them to the real `dealflow serve --demo` on a loopback port, with every
//! check (server errors, statuses, content types, headers, response
//! schemas, schema-valid requests accepted, schema-invalid ones refused, …)
//! and every phase (examples, coverage, fuzzing, stateful). Any failure or
//! error fails the test with schemathesis's report; so does a run of fewer
//! than [`MIN_REQUESTS`] generated requests. A missing environment fails
//! with a message saying how to make it; it never skips.
//!
//! It runs on the engine under test (`DEALFLOW_TEST_DATABASE`, SQLite by
//! default), so scripts/test runs it on both; about a minute each on a
//! 2-core machine.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Operations left out, each because it would end the session the run
/// signs in with, after which every later request is a 401 and tests nothing.
const EXCLUDED: &[(&str, &str, &str)] = &[
    ("POST", "/api/v1/auth/logout", "ends the session under test"),
    ("POST", "/api/v1/tokens/{id}/revoke", "may revoke the very token the run uses"),
    (
        "PATCH",
        "/api/v1/users/{id}",
        "may deactivate or demote the admin the run acts as (once the stateful phase has made a second admin)",
    ),
];

/// Fewest generated requests a passing run must have made.
const MIN_REQUESTS: u64 = 5_000;

/// Test cases per operation and phase: enough for [`MIN_REQUESTS`] with room.
const MAX_EXAMPLES: &str = "25";

/// The seed, so a failure reproduces with the same requests.
const SEED: &str = "20261201";

/// A fresh database on the engine under test (see `dealflow_store::testing`).
fn test_db() -> dealflow_store::testing::TestDb {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(dealflow_store::testing::test_database()).expect("create a test database")
}

/// The schemathesis executable of the test environment, or a failure saying
/// how to make it.
fn schemathesis() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let venv = std::env::var_os("DEALFLOW_TEST_VENV").map(PathBuf::from).unwrap_or_else(|| root.join("target/test-venv"));
    let exe = venv.join("bin/schemathesis");
    assert!(
        exe.is_file(),
        "schemathesis is not installed at {}; run scripts/test, or scripts/lib/venv.sh to make the environment",
        exe.display()
    );
    exe
}

/// `dealflow serve --demo` on a free loopback port: the child, its base URL
/// and the demo admin's API token (both printed on standard output).
fn serve(db: &str) -> (Child, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dealflow"))
        .env("DEALFLOW_DATABASE_URL", db)
        .env("RUST_LOG", "error")
        .args(["serve", "--demo", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn dealflow serve");
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut token = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("read serve's output");
        if let Some(t) = line.strip_prefix("demo API token: ") {
            token = Some(t.to_string());
        }
        if let Some(url) = line.strip_prefix("dealflow is running at ") {
            let token = token.expect("the demo token is printed before the address");
            return (child, url.to_string(), token);
        }
    }
    panic!("dealflow serve ended without printing its address");
}

#[test]
fn schemathesis_finds_no_failures() {
    let exe = schemathesis();
    let db = test_db();
    let (mut server, base, token) = serve(&db.url);
    let out_dir = tempfile_dir();
    let report = out_dir.join("report.json");
    let mut cmd = Command::new(&exe);
    cmd.env("NO_COLOR", "1")
        .current_dir(&out_dir)
        .arg("run")
        .arg(format!("{base}/api/openapi.json"))
        .args(["--checks", "all", "--phases", "examples,coverage,fuzzing,stateful"])
        .args(["--max-examples", MAX_EXAMPLES, "--seed", SEED, "--workers", "2"])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--report", "json", "--report-json-path"])
        .arg(&report);
    for (method, path, _why) in EXCLUDED {
        cmd.args(["--exclude-name", &format!("{method} {path}")]);
    }
    let started = std::time::Instant::now();
    let out = cmd.output().expect("run schemathesis");
    let _ = server.kill();
    let _ = server.wait();
    let text = String::from_utf8_lossy(&out.stdout);
    let summary = std::fs::read_to_string(&report)
        .unwrap_or_else(|e| panic!("no report at {} ({e}); schemathesis said:\n{text}\n{}", report.display(), String::from_utf8_lossy(&out.stderr)));
    let summary: serde_json::Value = serde_json::from_str(&summary).expect("the report is JSON");
    eprintln!("schemathesis ran {:.0?}: {}", started.elapsed(), summary["test_cases"]);
    assert!(out.status.success(), "schemathesis found failures (exit {}):\n{text}", out.status);
    let generated = summary["test_cases"]["generated"].as_u64().expect("test_cases.generated in the report");
    assert!(generated >= MIN_REQUESTS, "only {generated} requests generated, {MIN_REQUESTS} wanted:\n{text}");
    let failures = summary["test_cases"]["with_failures"].as_u64().expect("test_cases.with_failures");
    let errors = summary["errors"].as_array().map_or(0, Vec::len);
    assert_eq!((failures, errors), (0, 0), "{text}");
    let _ = std::fs::remove_dir_all(&out_dir);
}

/// A fresh folder for schemathesis's report and its working files.
fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dealflow-schemathesis-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create a report folder");
    dir
}

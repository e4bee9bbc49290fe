//! `dealflow copy` end to end on SQLite files: a workspace made with
//! `user add` copies and verifies, the copy works (its user can get a
//! token), and a second copy without `--overwrite` fails with one clear line.

use std::io::Write;
use std::process::{Command, Output, Stdio};

struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> Self {
        let p = std::env::temp_dir().join(format!("dealflow-cli-copy-{}", dealflow_core::ids::next_id()));
        std::fs::create_dir_all(&p).expect("create temp dir");
        Self(p)
    }
    fn db(&self, name: &str) -> String {
        format!("sqlite:{}/{name}.db", self.0.display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The binary with a global database that copy must ignore.
fn dealflow(dir: &TempDir) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dealflow"));
    c.env("DEALFLOW_DATABASE_URL", dir.db("global")).env("RUST_LOG", "warn");
    c
}

fn run(c: &mut Command) -> Output {
    c.output().expect("run dealflow")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn copy_verifies_and_refuses_a_non_empty_target() {
    let dir = TempDir::new();
    let a = dir.db("a");
    let b = dir.db("b");
    let out = run(dealflow(&dir).args(["--database", &a, "migrate"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut child = dealflow(&dir)
        .args(["--database", &a, "user", "add", "--email", "copy@example.com", "--name", "Copy", "--role", "admin"])
        .arg("--password-stdin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn user add");
    child.stdin.take().expect("stdin").write_all(b"a long enough password\n").expect("write password");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = run(dealflow(&dir).args(["copy", "--from", &a, "--to", &b]));
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.lines().any(|l| l.starts_with("users ") && l.contains(" 1 rows") && l.ends_with("ok")), "{stdout}");
    assert!(stdout.trim_end().lines().last().is_some_and(|l| l.starts_with("copied and verified")), "{stdout}");
    assert!(!dir.0.join("global.db").exists(), "copy does not open the global database");

    // The copy is a working workspace: its user gets a token.
    let out = run(dealflow(&dir).args(["--database", &b, "token", "create", "--user", "copy@example.com"]));
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = run(dealflow(&dir).args(["copy", "--from", &a, "--to", &b]));
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "one clear line: {err}");
    assert!(err.contains("not empty") && err.contains("--overwrite"), "{err}");

    let out = run(dealflow(&dir).args(["copy", "--from", &a, "--to", &b, "--overwrite"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn a_missing_source_is_refused_and_not_created() {
    let dir = TempDir::new();
    let missing = dir.db("missing");
    let out = run(dealflow(&dir).args(["copy", "--from", &missing, "--to", &dir.db("b")]));
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("no database at"), "{err}");
    assert!(!dir.0.join("missing.db").exists() && !dir.0.join("b.db").exists());
}

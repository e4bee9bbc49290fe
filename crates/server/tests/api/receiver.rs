//! A webhook receiver for the tests: `scripts/lib/webhook_receiver.py` on
//! a free loopback port, which verifies every delivery with the
//! `standardwebhooks` package from PyPI (not our code) and keeps the ones
//! it verified. A missing test environment fails the test, never skips it.
//! Also used by the CLI's restart test (included by path).

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running receiver; killed when dropped.
pub struct Receiver {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

fn python() -> PathBuf {
    crate::venv::python_with("standardwebhooks")
}

impl Receiver {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("a folder for the receiver");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/lib/webhook_receiver.py");
        let mut child = Command::new(python())
            .arg(&script)
            .arg(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the webhook receiver");
        let Some(out) = child.stdout.take() else { unreachable!("stdout is piped") };
        let mut line = String::new();
        BufReader::new(out).read_line(&mut line).expect("read the receiver's port");
        let port = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the webhook receiver did not start: {line:?}"));
        Receiver { port, dir, child }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks", self.port)
    }

    /// The secrets the receiver verifies with (any one may match).
    pub fn secrets(&self, secrets: &[&str]) {
        std::fs::write(self.dir.path().join("secrets"), secrets.join("\n")).expect("write the secrets");
    }

    /// The status the receiver answers verified deliveries with.
    pub fn answer(&self, status: u16) {
        std::fs::write(self.dir.path().join("status"), status.to_string()).expect("write the status");
    }

    fn records(&self, kind: &str) -> Vec<Value> {
        let Ok(entries) = std::fs::read_dir(self.dir.path().join(kind)) else { return Vec::new() };
        let mut names: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.file_name().is_some_and(|n| !n.to_string_lossy().starts_with('.')))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).expect("read a record")).expect("json"))
            .collect()
    }

    /// Deliveries that verified, oldest first: `{"id", "secret", "payload"}`.
    pub fn received(&self) -> Vec<Value> {
        self.records("received")
    }

    /// Deliveries that did not verify.
    pub fn rejected(&self) -> Vec<Value> {
        self.records("rejected")
    }

    /// Waits up to `secs` seconds until deliveries of every type in `types`
    /// (with repeats) arrived; returns what arrived.
    pub async fn wait_for_types(&self, types: &[&str], secs: u64) -> Vec<Value> {
        for _ in 0..secs * 10 {
            let got = self.received();
            let have: Vec<&str> = got.iter().filter_map(|r| r["payload"]["type"].as_str()).collect();
            if types.iter().all(|t| have.iter().filter(|h| *h == t).count() >= types.iter().filter(|x| *x == t).count())
            {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.received()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

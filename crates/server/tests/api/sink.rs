//! A real SMTP server for the e-mail tests: `scripts/lib/smtp_sink.py`
//! (aiosmtpd, from the test environment `scripts/lib/venv.sh` makes) on a
//! free loopback port, storing each message it receives as a file in a
//! folder of its own. A missing environment fails the test, never skips it.
//! Also used by the CLI's crash test (included by path).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running sink; killed when dropped.
pub struct Sink {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

/// The Python of the test environment, found like the schemathesis test
/// finds its tool: `DEALFLOW_TEST_VENV`, else `target/test-venv`.
fn python() -> PathBuf {
    crate::venv::python_with("aiosmtpd")
}

impl Sink {
    /// Starts a sink that stores every message.
    pub fn start() -> Self {
        Self::spawn(&[])
    }

    /// Starts a sink that refuses every message with a permanent 554.
    pub fn refusing() -> Self {
        Self::spawn(&["--refuse"])
    }

    fn spawn(extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("a folder for the sink");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/lib/smtp_sink.py");
        let mut child = Command::new(python())
            .arg(&script)
            .arg(dir.path())
            .args(extra)
            // The sink ends when its standard input closes, so it never
            // outlives the test process.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the SMTP sink");
        let Some(out) = child.stdout.take() else { unreachable!("stdout is piped") };
        let mut line = String::new();
        BufReader::new(out).read_line(&mut line).expect("read the sink's port");
        let port = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the SMTP sink did not start: {line:?}"));
        Sink { port, dir, child }
    }

    /// The messages received so far, oldest first, as text.
    pub fn messages(&self) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(self.dir.path())
            .expect("read the sink's folder")
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.file_name().is_some_and(|n| !n.to_string_lossy().starts_with('.')))
            .collect();
        names.sort();
        names.iter().map(|p| std::fs::read_to_string(p).expect("read a message")).collect()
    }

    /// Waits up to `secs` seconds until at least `n` messages arrived.
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<String> {
        for _ in 0..secs * 10 {
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.messages()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port nothing listens on (a mail server that is down).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// The value of header `name` in a stored message.
pub fn header<'a>(msg: &'a str, name: &str) -> Option<&'a str> {
    let prefix = format!("{}:", name.to_ascii_lowercase());
    msg.lines()
        .take_while(|l| !l.is_empty())
        .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
        .map(|l| l[prefix.len()..].trim())
}

//! `dealflow serve` as a child process for the restart tests: started on a
//! free loopback port, looking for due jobs every second, and killed with
//! SIGKILL (no graceful shutdown: the crash the tests are about).

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};

/// Starts `serve` on the database `db`; returns once it listens. Its
/// output is drained on a thread.
#[allow(dead_code)] // Not every crate that includes this file needs both.
pub fn serve(db: &str) -> Child {
    serve_at(db).0
}

/// Like [`serve`], and also returns the base URL it listens at.
#[allow(dead_code)]
pub fn serve_at(db: &str) -> (Child, String) {
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
    let base = loop {
        line.clear();
        let n = lines.read_line(&mut line).expect("read serve output");
        assert!(n > 0, "serve ended without printing its address");
        if let Some(url) = line.trim_end().strip_prefix("dealflow is running at ") {
            break url.to_string();
        }
    };
    // Drained, so the server never writes into a full or closed pipe.
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut lines.take(u64::MAX), &mut std::io::sink());
    });
    (child, base)
}

/// Kills `serve` with SIGKILL and reaps it.
#[allow(dead_code)]
pub fn kill(mut child: Child) {
    child.kill().expect("SIGKILL serve");
    child.wait().expect("reap serve");
}

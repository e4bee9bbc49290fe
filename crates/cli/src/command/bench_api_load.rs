//! The load generators of `dealflow bench api`: wrk against the server
//! (installed from Debian's packages when missing), a tight loop of one
//! prepared statement on the store's pool (the floor), and pgbench with a
//! script of that statement on PostgreSQL. Each runs a warm-up of a fifth
//! of its time first.

use anyhow::Context;
use dealflow_store::Store;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// One operation of the bench: its name, the connections it is driven
/// with, and the plain SQL of its floor (reads only).
#[derive(Debug, Clone, Copy)]
pub struct Op {
    pub name: &'static str,
    pub connections: usize,
    pub floor: Option<&'static str>,
}

/// Throughput and latency of one measurement.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// wrk is on the PATH, or installed now (Debian's package, as root).
pub fn wrk_installed() -> anyhow::Result<()> {
    let found = || Command::new("wrk").arg("--version").output().is_ok();
    if found() {
        return Ok(());
    }
    eprintln!("wrk is missing; installing it from Debian's packages");
    let status = Command::new("apt-get").args(["install", "-y", "-q", "wrk"]).status();
    anyhow::ensure!(
        status.is_ok_and(|s| s.success()) && found(),
        "wrk is missing and could not be installed; install it (`apt-get install wrk`) and run again"
    );
    Ok(())
}

fn warm_up(d: Duration) -> Duration {
    (d / 5).max(Duration::from_secs(1))
}

/// Drives `base` + `path` with wrk (`post`: a JSON body to POST) and reads
/// its figures; a run where any answer was not 2xx is an error naming it.
pub async fn wrk(
    dir: &Path,
    base: &str,
    path: &str,
    token: &str,
    post: Option<&str>,
    connections: usize,
    time: Duration,
) -> anyhow::Result<Load> {
    let mut args: Vec<String> = vec![
        "-t2".into(),
        format!("-c{connections}"),
        "--latency".into(),
        "-H".into(),
        format!("Authorization: Bearer {token}"),
    ];
    if let Some(body) = post {
        let script = dir.join("bench-api-post.lua");
        let lua = format!(
            "wrk.method = \"POST\"\nwrk.body = [[{body}]]\nwrk.headers[\"Content-Type\"] = \"application/json\"\n"
        );
        std::fs::write(&script, lua).with_context(|| format!("write {}", script.display()))?;
        args.extend(["-s".into(), script.display().to_string()]);
    }
    args.push(format!("{base}{path}"));
    run(&args, warm_up(time)).await?;
    let out = run(&args, time).await?;
    parse_wrk(&out).with_context(|| format!("read wrk's report:\n{out}"))
}

async fn run(args: &[String], time: Duration) -> anyhow::Result<String> {
    let mut all = args.to_vec();
    all.insert(0, format!("-d{}s", time.as_secs().max(1)));
    let out = tokio::task::spawn_blocking(move || Command::new("wrk").args(&all).output())
        .await
        .context("join wrk")?
        .context("run wrk")?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    anyhow::ensure!(out.status.success(), "wrk failed: {text}{}", String::from_utf8_lossy(&out.stderr));
    Ok(text)
}

/// Requests/sec and the 50% and 99% lines of wrk's latency distribution.
fn parse_wrk(out: &str) -> anyhow::Result<Load> {
    if let Some(line) = out.lines().find(|l| l.contains("Non-2xx")) {
        anyhow::bail!("the server refused requests: {}", line.trim());
    }
    let per_sec = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .context("no Requests/sec line")?;
    let pct = |p: &str| {
        out.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(p).map(str::trim))
            .and_then(duration_ms)
            .with_context(|| format!("no {p} latency line"))
    };
    Ok(Load { per_sec, p50_ms: pct("50%")?, p99_ms: pct("99%")? })
}

/// wrk's `812.00us`, `1.23ms` or `1.50s` in milliseconds.
fn duration_ms(v: &str) -> Option<f64> {
    let split = v.find(|c: char| c.is_ascii_alphabetic())?;
    let (n, unit) = v.split_at(split);
    let n: f64 = n.parse().ok()?;
    match unit {
        "us" => Some(n / 1000.0),
        "ms" => Some(n),
        "s" => Some(n * 1000.0),
        "m" => Some(n * 60_000.0),
        _ => None,
    }
}

/// The floor: `tasks` tasks each running `sql` (with `id` bound to its
/// `$1`) on the store's pool, one after another, for `time`.
pub async fn floor_loop(
    store: &Store,
    sql: &'static str,
    id: i64,
    tasks: usize,
    time: Duration,
) -> anyhow::Result<Load> {
    let once = |time: Duration| async move {
        let until = Instant::now() + time;
        let mut runs = Vec::new();
        for _ in 0..tasks {
            let pool = store.pool().clone();
            runs.push(tokio::spawn(async move {
                let mut took = Vec::new();
                while Instant::now() < until {
                    let t = Instant::now();
                    sqlx::query(sql).bind(id).fetch_all(&pool).await?;
                    took.push(t.elapsed().as_secs_f64() * 1000.0);
                }
                Ok::<_, sqlx::Error>(took)
            }));
        }
        let mut all = Vec::new();
        for r in runs {
            all.extend(r.await.context("join a floor task")?.context("the floor's statement")?);
        }
        anyhow::Ok(all)
    };
    once(warm_up(time)).await?;
    let mut took = once(time).await?;
    took.sort_by(f64::total_cmp);
    let at = |p: f64| took.get(((took.len().saturating_sub(1)) as f64 * p).round() as usize).copied().unwrap_or(0.0);
    Ok(Load { per_sec: took.len() as f64 / time.as_secs_f64(), p50_ms: at(0.5), p99_ms: at(0.99) })
}

/// pgbench's transactions per second for a script of `sql` (prepared,
/// `tasks` clients, two threads); `None` when pgbench is not installed.
pub fn pgbench(dir: &Path, url: &str, sql: &str, id: i64, tasks: usize, time: Duration) -> anyhow::Result<Option<f64>> {
    let Some(bin) = pgbench_binary() else { return Ok(None) };
    let script = dir.join("bench-api.pgbench");
    std::fs::write(&script, format!("\\set id {id}\n{};\n", sql.replace("$1", ":id")))?;
    let mut args = vec!["-n".to_string(), "-M".into(), "prepared".into(), "-j".into(), "2".into()];
    args.extend([format!("-c{tasks}"), "-f".into(), script.display().to_string(), url.to_string()]);
    let go = |secs: u64| -> anyhow::Result<String> {
        let out = Command::new(&bin).args(&args).arg(format!("-T{secs}")).output().context("run pgbench")?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        anyhow::ensure!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
        Ok(text)
    };
    go(warm_up(time).as_secs())?;
    let out = go(time.as_secs().max(1))?;
    let tps = out
        .lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("no tps line in pgbench's report:\n{out}"))?;
    Ok(Some(tps))
}

/// pgbench on the PATH, or beside a Debian PostgreSQL server.
fn pgbench_binary() -> Option<PathBuf> {
    if Command::new("pgbench").arg("--version").output().is_ok() {
        return Some("pgbench".into());
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin/pgbench")))
        .filter(|p| p.exists())
        .collect();
    found.sort();
    found.pop()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_reports_are_read_with_their_units() {
        let out = "Running 10s test @ http://127.0.0.1:1/api/v1/deals\n  2 threads and 32 connections\n  Latency Distribution\n     50%  812.00us\n     75%    1.10ms\n     90%    2.00ms\n     99%    1.50s\n  1000 requests in 10.00s, 1.00MB read\nRequests/sec:    100.50\nTransfer/sec:    102.40KB\n";
        let l = parse_wrk(out).expect("a report");
        assert_eq!((l.per_sec, l.p50_ms, l.p99_ms), (100.5, 0.812, 1500.0));
        let refused = format!("{out}  Non-2xx or 3xx responses: 7\n");
        assert!(parse_wrk(&refused).unwrap_err().to_string().contains("Non-2xx"));
        assert_eq!(duration_ms("3.5m"), Some(210_000.0));
        assert_eq!(duration_ms("12"), None);
    }
}

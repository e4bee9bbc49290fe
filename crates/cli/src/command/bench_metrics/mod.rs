//! `dealflow bench metrics`: the time to compute every docs/metrics.md activity
//! and stage metric of one period over a generated workspace (by default a
//! million deals), cold in a fresh process and then warm in that same
//! process (another period on each run), its peak memory, and the same
//! metrics computed by DuckDB over the same facts (`bench/duckdb/`), with
//! the ratio. The question goes through exactly what `GET /api/v1/metrics`
//! and `/metrics/stages` run (`dealflow_insights`), without HTTP.
//! Figures only, never pass/fail.

use anyhow::{Context, bail};
use clap::Args;
use dealflow_core::UserId;
use dealflow_core::metrics::{DAY_MS, Period, Slice, activity_metrics, stage_metrics};
use dealflow_insights as insights;
use dealflow_store::generate::{GenOptions, GenReport, USER_ID0, generate};
use dealflow_store::{PoolSettings, Store};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

mod summary;

#[derive(Debug, Args)]
pub struct MetricsBench {
    /// Deals to generate (about 4 stage events and 1.9 outreach messages each).
    #[arg(long, default_value_t = 1_000_000)]
    pub deals: usize,
    /// Keep the generated databases in this folder and reuse them next time.
    #[arg(long)]
    pub keep: Option<PathBuf>,
    /// Seed of the generator.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Warm runs, each over a different period.
    #[arg(long, default_value_t = 10)]
    pub warm_runs: usize,
    /// Cold runs (fresh processes); the first one is the figure reported.
    #[arg(long, default_value_t = 3)]
    pub cold_runs: usize,
    /// Skip the DuckDB comparison.
    #[arg(long)]
    pub no_duckdb: bool,
    /// Skip the in-memory replay run kept for comparison (slow, several GiB).
    #[arg(long)]
    pub no_replay: bool,
    /// The DuckDB script (default: bench/duckdb/run.sh of the source tree).
    #[arg(long)]
    pub duckdb_script: Option<PathBuf>,
}

/// Hidden: one fresh process: the cold question, then the warm ones,
/// printed as JSON.
#[derive(Debug, Args)]
pub struct MetricsOnce {
    /// The SQLite file of the workspace.
    #[arg(long)]
    pub file: PathBuf,
    /// Period start, Unix ms.
    #[arg(long)]
    pub from: i64,
    /// Period end (exclusive), Unix ms.
    #[arg(long)]
    pub to: i64,
    /// Warm periods after the cold one, `from:to,from:to,…` (Unix ms).
    #[arg(long, default_value = "")]
    pub warm: String,
}

/// Peak resident memory of this process (VmHWM), in KiB.
pub fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn url(file: &Path) -> String {
    format!("sqlite:{}", file.display())
}

/// One question as the API answers it: the workspace settings, then the
/// activity and the stage metrics of `period` from the store's projections
/// (both endpoints' code paths), as `{activity, stages}`.
async fn compute(store: &Store, period: Period, slice: &Slice) -> anyhow::Result<Value> {
    let settings = store.settings().await?;
    let (activity, stages) = tokio::try_join!(
        insights::activity(store, slice, period, &settings),
        insights::stage_figures(store, slice, period)
    )
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok(json!({ "activity": activity, "stages": stages.stages }))
}

const HOUR_MS: i64 = 3_600_000;

/// Reads the database file once, to bring it into the OS page cache.
fn warm_page_cache(file: &Path) -> anyhow::Result<()> {
    use std::io::Read;
    let mut f = std::fs::File::open(file).with_context(|| format!("read {}", file.display()))?;
    let mut buf = vec![0u8; 1 << 20];
    while f.read(&mut buf)? > 0 {}
    Ok(())
}

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn parse_periods(s: &str) -> anyhow::Result<Vec<Period>> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(|x| {
            let (a, b) = x.split_once(':').context("a warm period is `from:to`")?;
            Ok(Period::new(a.parse()?, b.parse()?))
        })
        .collect()
}

impl MetricsOnce {
    pub async fn run(self) -> anyhow::Result<()> {
        let start = Instant::now();
        let store = Store::open(&url(&self.file), &PoolSettings::default()).await.context("open the workspace")?;
        let open_ms = ms_since(start);
        let figures = compute(&store, Period::new(self.from, self.to), &Slice::default()).await?;
        let total_ms = ms_since(start);
        let warm = parse_periods(&self.warm)?;
        let mut warm_ms = Vec::new();
        for p in &warm {
            let t = Instant::now();
            compute(&store, *p, &Slice::default()).await?;
            warm_ms.push(ms_since(t));
        }
        // The same periods starting and ending 7 hours later (partial days
        // at both ends), then each for one deal owner (a slice the daily
        // sums do not keep, so every row of the period is read).
        let mut shifted_ms = Vec::new();
        let mut owner_ms = Vec::new();
        for (k, p) in warm.iter().enumerate() {
            let t = Instant::now();
            compute(&store, Period::new(p.from + 7 * HOUR_MS, p.to + 7 * HOUR_MS), &Slice::default()).await?;
            shifted_ms.push(ms_since(t));
            let owner = Slice { owner: Some(UserId(USER_ID0 + k as i64 % 25)), ..Slice::default() };
            let t = Instant::now();
            compute(&store, *p, &owner).await?;
            owner_ms.push(ms_since(t));
        }
        store.close().await;
        let out = json!({
            "total_ms": total_ms,
            "open_ms": open_ms,
            "warm_ms": warm_ms,
            "warm_shifted_ms": shifted_ms,
            "warm_owner_ms": owner_ms,
            "peak_rss_kib": peak_rss_kib(),
            "figures": figures,
        });
        println!("{out}");
        Ok(())
    }
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    if s.is_empty() {
        return f64::NAN;
    }
    let n = s.len();
    if n % 2 == 1 { s[n / 2] } else { (s[n / 2 - 1] + s[n / 2]) / 2.0 }
}

fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::NAN, f64::max)
}

/// `[to - 90 days, to)`.
fn quarter_before(to: i64) -> Period {
    Period::new(to - 90 * DAY_MS, to)
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("MemTotal:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|k| k.parse::<f64>().ok()))
        .map_or_else(|| "?".to_string(), |kib| format!("{:.1} GiB", kib / 1024.0 / 1024.0));
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    format!("{cores} cores ({cpu}), {mem} RAM, {} {}", std::env::consts::OS, std::env::consts::ARCH)
}

fn day(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(|| ms.to_string(), |t| t.format("%Y-%m-%d").to_string())
}

/// Peak memory in KiB (as [`peak_rss_kib`] reads it) for a human.
pub(crate) fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(|| "?".to_string(), |k| format!("{:.0} MiB", k as f64 / 1024.0))
}

impl MetricsBench {
    pub async fn run(self) -> anyhow::Result<()> {
        let keep = self.keep.clone();
        super::bench::in_bench_dir(keep.as_deref(), |dir| async move { self.measure(&dir).await }).await
    }

    async fn measure(&self, dir: &Path) -> anyhow::Result<()> {
        let (file, opts, report) = self.workspace(dir).await?;
        let db_bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        // The cold period: the last quarter of the history; warm runs: the
        // quarters ending one, two, … weeks earlier.
        let cold = quarter_before(opts.now);
        let warm: Vec<Period> =
            (1..=self.warm_runs as i64).map(|k| quarter_before(opts.now - k * 7 * DAY_MS)).collect();
        let colds = self.cold_processes(&file, cold, &warm)?;
        let replay = self.replay(&file, cold, &colds[0]).await?;
        // DuckDB over the same facts.
        let duck = if self.no_duckdb { None } else { Some(self.duckdb(&file, cold, &warm)) };
        summary::print(&summary::Summary { report: &report, db_bytes, cold, warm: &warm, colds: &colds, replay, duck });
        Ok(())
    }

    /// The generated workspace file, made once per size and seed and reused.
    async fn workspace(&self, dir: &Path) -> anyhow::Result<(PathBuf, GenOptions, GenReport)> {
        kept_workspace(dir, self.deals, self.seed).await
    }

    /// Runs the cold question in fresh processes of this binary (the first
    /// one goes on with the warm periods); their JSON, first run first.
    fn cold_processes(&self, file: &Path, cold: Period, warm: &[Period]) -> anyhow::Result<Vec<Value>> {
        // "Cold" allows the file in the OS page cache: read it through once
        // so the first run does not time the disk instead (this machine
        // shares its memory, and the cache may have been reclaimed).
        warm_page_cache(file)?;
        // Cold: fresh processes of this same binary; the first one goes on
        // with the warm periods.
        let exe = std::env::current_exe().context("find the dealflow binary")?;
        let p = |x: &Period| format!("{}:{}", x.from, x.to);
        let warm_arg = warm.iter().map(p).collect::<Vec<_>>().join(",");
        let mut colds: Vec<Value> = Vec::new();
        for run in 0..self.cold_runs.max(1) {
            let out = Command::new(&exe)
                .args(["bench", "metrics-once", "--file"])
                .arg(file)
                .args(["--from", &cold.from.to_string(), "--to", &cold.to.to_string()])
                .args(["--warm", if run == 0 { warm_arg.as_str() } else { "" }])
                .output()
                .context("run the cold measurement")?;
            if !out.status.success() {
                bail!("the cold measurement failed: {}", String::from_utf8_lossy(&out.stderr));
            }
            let line = String::from_utf8_lossy(&out.stdout);
            let v: Value = serde_json::from_str(line.trim().lines().last().unwrap_or(""))
                .context("read the cold measurement's JSON")?;
            colds.push(v);
        }
        Ok(colds)
    }

    /// The replay the projections replace, for the record: every fact
    /// loaded into memory, then the pure engine (skipped by --no-replay):
    /// load and engine milliseconds and the figures that differ from `c0`'s.
    async fn replay(&self, file: &Path, cold: Period, c0: &Value) -> anyhow::Result<Option<(f64, f64, Vec<String>)>> {
        if self.no_replay {
            return Ok(None);
        }
        let store = Store::open(&url(file), &PoolSettings::default()).await?;
        let t = Instant::now();
        let facts = store.metric_facts().await?;
        let load = ms_since(t);
        let t = Instant::now();
        let a = activity_metrics(&facts, &Slice::default(), cold);
        let s = stage_metrics(&facts, &Slice::default(), cold);
        let engine = ms_since(t);
        let same = compare(&json!({ "activity": a, "stages": s.stages }), &c0["figures"]);
        drop(facts);
        store.close().await;
        Ok(Some((load, engine, same)))
    }

    fn duckdb(&self, file: &Path, cold: Period, warm: &[Period]) -> anyhow::Result<Value> {
        let script = self
            .duckdb_script
            .clone()
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/duckdb/run.sh"));
        anyhow::ensure!(script.exists(), "no DuckDB script at {}", script.display());
        if Command::new("python3").arg("--version").output().is_err() {
            bail!("python3 is not installed, so DuckDB cannot run");
        }
        let p = |x: &Period| format!("{}:{}", x.from, x.to);
        eprintln!("running DuckDB ({})", script.display());
        let out = Command::new("bash")
            .arg(&script)
            .arg("--sqlite")
            .arg(file)
            .arg("--duckdb")
            .arg(file.with_extension("duckdb"))
            .args(["--cold", &p(&cold), "--warm", &warm.iter().map(p).collect::<Vec<_>>().join(",")])
            .stderr(std::process::Stdio::inherit())
            .output()
            .context("run the DuckDB script")?;
        if out.status.code() == Some(3) {
            bail!("python3 is not installed");
        }
        if !out.status.success() {
            bail!("the DuckDB script failed ({})", out.status);
        }
        let text = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str(text.trim().lines().last().unwrap_or("")).context("read DuckDB's JSON")
    }
}

/// Differences between dealflow's and DuckDB's figures (1e-6 relative).
fn compare(ours: &Value, duck: &Value) -> Vec<String> {
    let same = |a: &Value, b: &Value| match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() <= 1e-6 * x.abs().max(y.abs()) || (x == 0.0 && y.abs() < 1e-9),
        _ => a.is_null() && b.is_null(),
    };
    let mut out = Vec::new();
    if let Some(a) = ours["activity"].as_object() {
        for (k, v) in a {
            if v.is_boolean() {
                continue;
            }
            let d = &duck["activity"][k];
            if !same(v, d) {
                out.push(format!("activity.{k}: dealflow {v}, DuckDB {d}"));
            }
        }
    }
    if let Some(s) = ours["stages"].as_object() {
        for (id, f) in s {
            for k in ["stage_conversion", "stage_reach", "time_in_stage_days_median", "time_in_stage_days_p90"] {
                let d = &duck["stages"][id][k];
                if !same(&f[k], d) {
                    out.push(format!("stages.{id}.{k}: dealflow {}, DuckDB {d}", f[k]));
                }
            }
        }
    }
    out
}

/// The generated workspace `metrics-<deals>-<seed>.db` in `dir`, made once
/// per size and seed and reused (also by `bench forecast`).
pub(crate) async fn kept_workspace(
    dir: &Path,
    deals: usize,
    seed: u64,
) -> anyhow::Result<(PathBuf, GenOptions, GenReport)> {
    let opts = GenOptions { seed, ..GenOptions::new(deals) };
    let file = dir.join(format!("metrics-{deals}-{seed}.db"));
    let marker = file.with_extension("done");
    let report: GenReport = if file.exists() && marker.exists() {
        eprintln!("reusing {}", file.display());
        serde_json::from_str::<Value>(&std::fs::read_to_string(&marker)?)
            .ok()
            .map(|v| GenReport {
                users: v["users"].as_u64().unwrap_or(0),
                people: v["people"].as_u64().unwrap_or(0),
                deals: v["deals"].as_u64().unwrap_or(0),
                events: v["events"].as_u64().unwrap_or(0),
                messages: v["messages"].as_u64().unwrap_or(0),
            })
            .unwrap_or_default()
    } else {
        for ext in ["db", "db-wal", "db-shm", "duckdb"] {
            let _ = std::fs::remove_file(file.with_extension(ext));
        }
        let t = Instant::now();
        let store = Store::open(&url(&file), &PoolSettings::default()).await.context("create the bench database")?;
        let r = generate(&store, &opts).await.context("generate the workspace")?;
        store.close().await;
        eprintln!(
            "generated {} deals, {} stage events, {} people, {} outreach messages in {:.1} s",
            r.deals,
            r.events,
            r.people,
            r.messages,
            t.elapsed().as_secs_f64()
        );
        let m =
            json!({"users": r.users, "people": r.people, "deals": r.deals, "events": r.events, "messages": r.messages});
        std::fs::write(&marker, m.to_string())?;
        r
    };
    Ok((file, opts, report))
}

//! `dealflow bench`: whole-system figures on generated data. A benchmark
//! reports numbers; it never passes or fails on them.

use anyhow::Context;
use axum::body::Body;
use axum::http::{Request, header};
use clap::{Args, Subcommand};
use dealflow_core::model::{NewDeal, NewUser, Role};
use dealflow_core::time::Timestamp;
use dealflow_store::{Actor, NewSession, PoolSettings, Store};
use std::time::Instant;
use tower::ServiceExt;

#[derive(Debug, Subcommand)]
pub enum BenchCmd {
    /// Server time and page weight of the pipeline board.
    Board(BoardBench),
    /// Time, memory and a DuckDB comparison of the docs/metrics.md metrics on a generated workspace.
    #[cfg(feature = "generate")]
    Metrics(super::bench_metrics::MetricsBench),
    /// Time and peak memory of a record export (CSV or XLSX) on a generated workspace.
    #[cfg(feature = "generate")]
    Export(super::bench_export::ExportBench),
    /// Rows per second and peak memory of a CSV import of a generated Maven-shaped file.
    Import(super::bench_import::ImportBench),
    /// How fast the background job runner drains a backlog of due jobs.
    Jobs(super::bench_jobs::JobsBench),
    /// What the playbook gate costs a stage move: moves with and without a five-step checklist.
    Gate(super::bench_gate::GateBench),
    /// Ingest throughput of signed SendGrid batches of 128 events.
    Ingest(super::bench_ingest::IngestBench),
    /// Lead scoring: the rescore a publish starts, the calibration, a score read.
    #[cfg(feature = "generate")]
    Scoring(super::bench_scoring::ScoringBench),
    /// The forecast at now from the projections beside the old replay, and the Insights page.
    #[cfg(feature = "generate")]
    Forecast(super::bench_forecast::ForecastBench),
    /// The weekly audit: taking one, reading it, deciding on items.
    #[cfg(feature = "generate")]
    Audit(super::bench_audit::AuditBench),
    /// The REST API over loopback (wrk) next to the same reads as plain SQL.
    #[cfg(feature = "generate")]
    Api(super::bench_api::ApiBench),
    /// One cold metrics measurement (used by `bench metrics`).
    #[cfg(feature = "generate")]
    #[command(hide = true)]
    MetricsOnce(super::bench_metrics::MetricsOnce),
}

#[derive(Debug, Args)]
pub struct BoardBench {
    /// Open deals in the pipeline.
    #[arg(long, default_value_t = 10_000)]
    pub deals: usize,
    /// Board requests to time.
    #[arg(long, default_value_t = 200)]
    pub requests: usize,
    /// Take the open deals from a workspace of this many deals made by the
    /// metrics benchmark's generator (fast; with their people, activities
    /// and history), instead of creating each deal through the store (at
    /// 100,000 deals that takes many minutes).
    #[cfg(feature = "generate")]
    #[arg(long)]
    pub workspace: Option<usize>,
}

/// Runs `measure` in `keep` (created when missing, kept afterwards), or
/// without it in a new temporary folder, removed afterwards whatever the
/// outcome.
pub async fn in_bench_dir<F, Fut>(keep: Option<&std::path::Path>, measure: F) -> anyhow::Result<()>
where
    F: FnOnce(std::path::PathBuf) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let dir = match keep {
        Some(d) => d.to_path_buf(),
        None => std::env::temp_dir().join(format!("dealflow-bench-{}", dealflow_core::ids::next_id())),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
    let result = measure(dir.clone()).await;
    if keep.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

/// Runs `measure` on a new SQLite file in a temporary folder, removed
/// afterwards whatever the outcome.
pub async fn on_temp_sqlite<F, Fut>(measure: F) -> anyhow::Result<()>
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    in_bench_dir(None, |dir| measure(format!("sqlite:{}/bench.db", dir.display()))).await
}

impl BenchCmd {
    /// Runs the benchmark; `database` is the global `--database`, which
    /// only `bench import` reads (and only a PostgreSQL URL).
    pub async fn run(self, database: &str) -> anyhow::Result<()> {
        match self {
            BenchCmd::Board(b) => b.run().await,
            BenchCmd::Import(i) => i.run(database).await,
            #[cfg(feature = "generate")]
            BenchCmd::Api(a) => a.run(database).await,
            BenchCmd::Jobs(j) => j.run().await,
            BenchCmd::Gate(g) => g.run().await,
            BenchCmd::Ingest(i) => i.run().await,
            #[cfg(feature = "generate")]
            BenchCmd::Metrics(m) => m.run().await,
            #[cfg(feature = "generate")]
            BenchCmd::MetricsOnce(m) => m.run().await,
            #[cfg(feature = "generate")]
            BenchCmd::Export(e) => e.run().await,
            #[cfg(feature = "generate")]
            BenchCmd::Scoring(s) => s.run().await,
            #[cfg(feature = "generate")]
            BenchCmd::Audit(a) => a.run().await,
            #[cfg(feature = "generate")]
            BenchCmd::Forecast(f) => f.run().await,
        }
    }
}

impl BoardBench {
    async fn run(self) -> anyhow::Result<()> {
        on_temp_sqlite(|url| async move { self.measure(&url).await }).await
    }

    async fn measure(&self, url: &str) -> anyhow::Result<()> {
        let store = Store::open(url, &PoolSettings::default()).await.context("open the bench database")?;
        let actor = Actor::system();
        let (app, user, token) = signed_in_app(&store).await?;
        #[cfg(feature = "generate")]
        if let Some(n) = self.workspace {
            let started = Instant::now();
            dealflow_store::generate::generate(&store, &dealflow_store::generate::GenOptions::new(n)).await?;
            let pipeline = store.pipelines().await?[0].id;
            let open = dealflow_store::generate::keep_open(&store, pipeline, self.deals as i64).await?;
            eprintln!("generated {n} deals, {open} open, in {:.1} s", started.elapsed().as_secs_f64());
            return self.time_board(&store, app, &token).await;
        }
        let stages = store.pipelines().await?[0].stages.clone();
        let started = Instant::now();
        for i in 0..self.deals {
            let n = NewDeal {
                title: format!("Generated deal {i}"),
                value: 10_000 + (i as i64 * 7919) % 5_000_000,
                stage_id: Some(stages[i % stages.len()].id),
                owner_id: Some(user.id),
                ..Default::default()
            };
            store.create_deal(&actor, n).await?;
        }
        eprintln!("generated {} open deals in {:.1} s", self.deals, started.elapsed().as_secs_f64());

        self.time_board(&store, app, &token).await
    }

    /// Times the board's requests and weighs the page.
    async fn time_board(&self, store: &Store, app: axum::Router, token: &str) -> anyhow::Result<()> {
        let mut times = Vec::with_capacity(self.requests);
        let mut html_bytes = 0;
        let mut last_body = axum::body::Bytes::new();
        // One warm-up request: the first one pays for lazy initialisation.
        for i in 0..=self.requests {
            let req =
                Request::get("/board").header(header::COOKIE, token).body(Body::empty()).context("build request")?;
            let t = Instant::now();
            let resp = app.clone().oneshot(req).await.context("board request")?;
            anyhow::ensure!(resp.status().is_success(), "the board answered {}", resp.status());
            let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.context("read body")?;
            let took = t.elapsed().as_secs_f64() * 1000.0;
            if i > 0 {
                times.push(took);
            }
            html_bytes = body.len();
            last_body = body;
        }
        times.sort_by(f64::total_cmp);
        let pct = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize];
        // Every static file the page references (and quickadd.css, which
        // quickadd.js adds to every page when it loads).
        let html = String::from_utf8_lossy(&last_body).into_owned();
        let mut assets: Vec<&str> = html.split("/static/").skip(1).filter_map(|s| s.split(['?', '"']).next()).collect();
        assets.push("quickadd.css");
        assets.sort_unstable();
        assets.dedup();
        let size = |ext: &str| -> usize {
            assets
                .iter()
                .filter(|a| a.ends_with(ext))
                .filter_map(|a| dealflow_server::web::assets::file(a))
                .map(str::len)
                .sum()
        };
        let (css, js) = (size(".css"), size(".js"));
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        println!(
            "board of {} open deals, {} requests, in-process (no network), {cores} cores",
            self.deals,
            times.len()
        );
        println!("server time  p50 {:.1} ms  p95 {:.1} ms  max {:.1} ms", pct(0.5), pct(0.95), pct(1.0));
        println!(
            "page weight  html {:.1} KB + css {:.1} KB + js {:.1} KB = {:.1} KB before compression ({})",
            html_bytes as f64 / 1024.0,
            css as f64 / 1024.0,
            js as f64 / 1024.0,
            (html_bytes + css + js) as f64 / 1024.0,
            assets.join(", ")
        );
        store.close().await;
        Ok(())
    }
}

/// The server app with an admin signed in: the app, the admin, and the
/// `Cookie` header value of the admin's session. A kept workspace that
/// already has the bench admin (an earlier run) signs it in again.
/// The bench user (an admin), made on first use and reused after.
pub(super) async fn bench_user(store: &Store) -> anyhow::Result<dealflow_core::model::User> {
    let email = "bench@example.com";
    Ok(match store.user_by_email(email).await? {
        Some((user, _)) => user,
        None => dealflow_server::api::users::add_user(
            store,
            &Actor::system(),
            NewUser {
                email: email.into(),
                name: "Bench User".into(),
                role: Role::Admin,
                password: "bench password".into(),
                locale: None,
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.to_problem().detail))?,
    })
}

pub(super) async fn signed_in_app(store: &Store) -> anyhow::Result<(axum::Router, dealflow_core::model::User, String)> {
    let user = bench_user(store).await?;
    let token = format!("bench-session-{}", dealflow_core::ids::next_id());
    let now = Timestamp::now();
    let session = NewSession {
        token_hash: dealflow_server::auth::sha256_hex(&token),
        csrf_token: "bench".into(),
        expires_at: Timestamp(now.0 + 3_600_000),
    };
    store.create_session(user.id, session, now, None).await?;
    let app = dealflow_server::app(dealflow_server::AppState::new(store.clone(), Default::default()));
    Ok((app, user, format!("{}={token}", dealflow_server::auth::SESSION_COOKIE)))
}

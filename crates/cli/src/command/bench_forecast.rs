//! `dealflow bench forecast`: the forecast at now on the metrics
//! benchmark's generated workspace, answered from the projections (what
//! the API, the CLI and the Insights page do) and, for comparison in the
//! same run, the old way — every deal and the whole field history loaded
//! and replayed — with both answers checked equal. Also the Insights page,
//! which shows the forecast, through the router. Figures, never a pass or
//! fail.

use super::bench_metrics::{kept_workspace, mib, peak_rss_kib};
use anyhow::Context;
use axum::body::Body;
use axum::http::{Request, header};
use clap::Args;
use dealflow_core::time::Timestamp;
use dealflow_insights::{self as insights, ForecastQuery, HeavyReads};
use dealflow_store::{PoolSettings, Store};
use std::path::PathBuf;
use std::time::Instant;
use tower::ServiceExt;

#[derive(Debug, Args)]
pub struct ForecastBench {
    /// Deals in the generated workspace.
    #[arg(long, default_value_t = 100_000)]
    pub deals: usize,
    /// Keep the workspace in this folder and reuse it (the same file as
    /// `bench metrics --keep`).
    #[arg(long)]
    pub keep: Option<PathBuf>,
    /// Seed of the generator.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Forecasts to time after the first.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Skip the old way (a replay of everything: minutes at 1,000,000 deals).
    #[arg(long)]
    pub no_replay: bool,
}

fn secs(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

impl ForecastBench {
    pub async fn run(self) -> anyhow::Result<()> {
        let keep = self.keep.clone();
        super::bench::in_bench_dir(keep.as_deref(), |dir| async move { self.measure(&dir).await }).await
    }

    async fn measure(&self, dir: &std::path::Path) -> anyhow::Result<()> {
        let (file, _, report) = kept_workspace(dir, self.deals, self.seed).await?;
        let t = Instant::now();
        let store = Store::open(&format!("sqlite:{}", file.display()), &PoolSettings::default()).await?;
        eprintln!("opened {} in {:.1} s", file.display(), secs(t));
        let gate = HeavyReads::default();
        let now = Timestamp::now();
        let q = ForecastQuery::default();
        let err = |e: insights::InsightsError| anyhow::anyhow!("{e:?}");

        let t = Instant::now();
        let fast = insights::forecast(&store, &q, now, &gate).await.map_err(err)?;
        let first = secs(t);
        let fast_peak = peak_rss_kib();
        let mut warm = Vec::new();
        for _ in 0..self.runs {
            let t = Instant::now();
            insights::forecast(&store, &q, now, &gate).await.map_err(err)?;
            warm.push(secs(t));
        }
        warm.sort_by(f64::total_cmp);
        let f = &fast.forecast;
        let open = f.deal_probability.len() as u64 + f.unforecastable;
        let method = f.range.as_ref().map_or("none".into(), |r| format!("{:?}", r.method).to_lowercase());
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let build = if cfg!(debug_assertions) { "debug" } else { "release" };
        println!("forecast at now, {} deals ({open} open), SQLite, {build} build, {cores} cores", report.deals);
        println!(
            "from the projections: first {:.0} ms, then median {:.0} ms of {} (range by {method}); peak memory {}",
            first * 1000.0,
            warm.get(warm.len() / 2).copied().unwrap_or(first) * 1000.0,
            warm.len(),
            mib(fast_peak)
        );

        let page = insights_page(&store).await?;
        println!("the Insights page (router, in-process, with the metrics and the forecast): {:.0} ms", page * 1000.0);

        if !self.no_replay {
            let t = Instant::now();
            let old = insights::forecast_by_replay(&store, &q, now, &gate).await.map_err(err)?;
            let took = secs(t);
            let same = serde_json::to_value(&old)? == serde_json::to_value(&fast)?;
            println!(
                "the old way (every deal replayed): {took:.1} s, process peak memory {} — {:.0}x the time; same figures: {}",
                mib(peak_rss_kib()),
                took / first.max(1e-9),
                if same { "yes" } else { "NO" }
            );
        }
        store.close().await;
        Ok(())
    }
}

/// Seconds to answer `GET /insights` for an admin (the page shows the
/// metrics of the default period and the forecast).
async fn insights_page(store: &Store) -> anyhow::Result<f64> {
    let (app, _, token) = super::bench::signed_in_app(store).await?;
    let req = Request::get("/insights").header(header::COOKIE, &token).body(Body::empty()).context("build request")?;
    let t = Instant::now();
    let resp = app.oneshot(req).await.context("insights request")?;
    anyhow::ensure!(resp.status().is_success(), "the Insights page answered {}", resp.status());
    axum::body::to_bytes(resp.into_body(), usize::MAX).await.context("read body")?;
    Ok(secs(t))
}

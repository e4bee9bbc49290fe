//! `dealflow bench export`: how long a record export takes and how much
//! memory it needs, on a generated workspace, through the real router (in
//! process, no network). The body is read chunk by chunk and dropped, as a
//! client saving to disk would, so the memory figure is the server's.

use super::bench::signed_in_app;
use super::bench_metrics::peak_rss_kib;
use anyhow::Context;
use axum::body::Body;
use axum::http::{Request, header};
use clap::Args;
use dealflow_store::generate::{GenOptions, generate};
use dealflow_store::{PoolSettings, Store};
use futures_util::StreamExt;
use std::time::Instant;
use tower::ServiceExt;

#[derive(Debug, Args)]
pub struct ExportBench {
    /// Deals in the generated workspace (people: a quarter more).
    #[arg(long, default_value_t = 100_000)]
    pub deals: usize,
    /// `csv` or `xlsx`.
    #[arg(long, default_value = "xlsx")]
    pub format: String,
    /// `deals`, `people` or `organizations`.
    #[arg(long, default_value = "deals")]
    pub records: String,
}

impl ExportBench {
    pub async fn run(self) -> anyhow::Result<()> {
        super::bench::on_temp_sqlite(|url| async move { self.measure(&url).await }).await
    }

    async fn measure(&self, url: &str) -> anyhow::Result<()> {
        let store = Store::open(url, &PoolSettings::default()).await.context("open the bench database")?;
        let t = Instant::now();
        let r = generate(&store, &GenOptions::new(self.deals)).await.context("generate the workspace")?;
        eprintln!("generated {} deals and {} people in {:.1} s", r.deals, r.people, t.elapsed().as_secs_f64());
        let (app, _, cookie) = signed_in_app(&store).await?;
        let uri = format!("/api/v1/{}/export?format={}", self.records, self.format);
        let before = rss_kib();
        // Start the peak over, so it measures the export, not the generator.
        let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        let t = Instant::now();
        let req = Request::get(&uri).header(header::COOKIE, &cookie).body(Body::empty()).context("build request")?;
        let resp = app.oneshot(req).await.context("export request")?;
        anyhow::ensure!(resp.status().is_success(), "{uri} answered {}", resp.status());
        let first_headers = t.elapsed();
        let mut stream = resp.into_body().into_data_stream();
        let (mut bytes, mut chunks, mut first_byte) = (0usize, 0usize, None);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.context("read the export")?;
            first_byte.get_or_insert_with(|| t.elapsed());
            bytes += chunk.len();
            chunks += 1;
        }
        let total = t.elapsed();
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        println!(
            "{} export of {} deals' workspace ({} people), {cores} cores, in-process",
            self.format, r.deals, r.people
        );
        println!(
            "time         headers {:.2} s, first byte {:.2} s, last byte {:.2} s",
            first_headers.as_secs_f64(),
            first_byte.unwrap_or(total).as_secs_f64(),
            total.as_secs_f64()
        );
        println!("size         {:.1} MiB in {chunks} chunks", bytes as f64 / 1_048_576.0);
        let peak = if reset { peak_rss_kib() } else { None };
        println!(
            "memory       resident before {} MiB, peak during the export {} MiB{}",
            before.map_or("?".into(), |k| format!("{:.0}", k as f64 / 1024.0)),
            peak.map_or("?".into(), |k| format!("{:.0}", k as f64 / 1024.0)),
            if reset { "" } else { " (peak reset unsupported here)" }
        );
        store.close().await;
        Ok(())
    }
}

/// Resident memory of this process now (VmRSS), in KiB.
fn rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

//! `dealflow bench scoring`: what lead scoring costs on a generated
//! workspace (fresh SQLite file, the metrics benchmark's generator): the
//! rescore that publishing a model starts, over every open deal; the
//! calibration over the deals closed in the generated history; and reading
//! one deal's score with its ledger. Figures, never a pass or fail.
//!
//! With `--keep DIR` the workspace is the metrics benchmark's kept file
//! (made once, reused), copied for the run so that reopening deals and
//! publishing leave the kept file as `bench metrics` expects it.

use super::bench_metrics::kept_workspace;
use anyhow::Context;
use clap::Args;
use dealflow_core::DealId;
use dealflow_core::scoring::ModelBody;
use dealflow_core::time::Timestamp;
use dealflow_store::generate::{GenOptions, generate};
use dealflow_store::scoring::calibration::CalibrationQuery;
use dealflow_store::{Actor, DealFilter, NewScoringModel, Page, PoolSettings, Store};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct ScoringBench {
    /// Deals in the generated workspace (about a fifth stay open).
    #[arg(long, default_value_t = 100_000)]
    pub deals: usize,
    /// Open deals to rescore: the generator leaves few deals open, so
    /// this many closed ones are set open again (their history stays; the
    /// rescore reads it all the same).
    #[arg(long, default_value_t = 100_000)]
    pub open: i64,
    /// Score reads to time.
    #[arg(long, default_value_t = 1_000)]
    pub reads: usize,
    /// Take the workspace from this folder (`bench metrics --keep`'s file,
    /// generated there when missing) instead of generating a fresh one.
    #[arg(long)]
    pub keep: Option<PathBuf>,
    /// Seed of the generator (with `--keep`: which kept file).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

impl ScoringBench {
    pub async fn run(self) -> anyhow::Result<()> {
        let Some(dir) = self.keep.clone() else {
            return super::bench::on_temp_sqlite(|url| async move {
                let store = Store::open(&url, &PoolSettings::default()).await.context("open the bench database")?;
                let opts = GenOptions { seed: self.seed, ..GenOptions::new(self.deals) };
                let t = Instant::now();
                let r = generate(&store, &opts).await.context("generate the workspace")?;
                eprintln!("generated {} deals in {:.1} s", r.deals, t.elapsed().as_secs_f64());
                self.measure(store, &opts, r.deals).await
            })
            .await;
        };
        let (kept, opts, report) = kept_workspace(&dir, self.deals, self.seed).await?;
        let copy = dir.join(format!("scoring-{}-{}.db", self.deals, self.seed));
        let t = Instant::now();
        std::fs::copy(&kept, &copy).with_context(|| format!("copy {} to {}", kept.display(), copy.display()))?;
        eprintln!("copied {} in {:.1} s", kept.display(), t.elapsed().as_secs_f64());
        let store = Store::open(&format!("sqlite:{}", copy.display()), &PoolSettings::default()).await?;
        let result = self.measure(store, &opts, report.deals).await;
        for ext in ["db", "db-wal", "db-shm"] {
            let _ = std::fs::remove_file(copy.with_extension(ext));
        }
        result
    }

    async fn measure(&self, store: Store, opts: &GenOptions, deals: u64) -> anyhow::Result<()> {
        let closed_from = opts.now - opts.days * 86_400_000;
        let reopened = dealflow_store::generate::reopen(&store, self.open).await?;
        eprintln!("set {reopened} closed deals open again");
        let actor = Actor::system();
        let pipeline = store.pipelines().await?[0].clone();
        let body: ModelBody = serde_json::from_value(serde_json::json!({
            "rules": [
                {"group": "fit", "field": "source", "op": "one_of", "value": ["referral", "inbound"], "points": 20},
                {"group": "fit", "field": "value", "op": "between", "value": [100000, 10000000], "points": 10},
                {"group": "engagement", "event": "outreach.replied", "points": 10, "cap": 30, "half_life_days": 60},
                {"group": "engagement", "event": "stage.reached", "stage_id": pipeline.stages[1].id.to_string(), "points": 15},
                {"id": "budget", "group": "question", "question": "Budget confirmed?", "answers": {"yes": 30, "no": -40}}
            ],
            "thresholds": {"disqualify_below": 0, "nurture_at": 60},
            "bands": [{"name": "A", "min": 50}, {"name": "B", "min": 20}, {"name": "C", "min": -1000}]
        }))?;
        let model = NewScoringModel {
            name: "Bench".into(),
            pipeline_id: Some(pipeline.id),
            rules: body.rules,
            thresholds: body.thresholds,
            bands: body.bands,
        };
        let model = store.create_scoring_model(&actor, model).await?;
        let published = store.publish_scoring_model(&actor, model.id).await?;
        let version = published.published_version.context("a version")?;
        let open = published.rescore.total;
        let t = Instant::now();
        let mut after = 0;
        while let Some(next) = store.rescore_batch(model.id.0, version, false, after).await? {
            after = next;
        }
        let rescore = t.elapsed().as_secs_f64();
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let build = if cfg!(debug_assertions) { "debug" } else { "release" };
        println!("lead scoring on {deals} generated deals, SQLite, {build} build, {cores} cores");
        println!(
            "publish → rescore {open} open deals: {rescore:.1} s ({:.0} deals/s)",
            open as f64 / rescore.max(1e-9)
        );

        let q = CalibrationQuery {
            model_id: model.id,
            from: Some(Timestamp(closed_from)),
            to: Some(Timestamp(opts.now + 1)),
            disqualify_below: Some(10.0),
        };
        let t = Instant::now();
        let cal = store.scoring_calibration(&q, Timestamp::now()).await?;
        let secs = t.elapsed().as_secs_f64();
        println!(
            "calibration over {} closed deals: {secs:.1} s ({:.0} deals/s)",
            cal.deals,
            cal.deals as f64 / secs.max(1e-9)
        );

        let f = DealFilter {
            pipeline_id: Some(pipeline.id),
            status: Some(dealflow_core::model::DealStatus::Open),
            ..Default::default()
        };
        let ids: Vec<DealId> =
            store.list_deals(&f, Page { limit: 500, before: None }).await?.items.iter().map(|d| d.id).collect();
        let mut times = Vec::with_capacity(self.reads);
        for i in 0..self.reads {
            let id = ids[i % ids.len().max(1)];
            let t = Instant::now();
            let _ = store.deal_score(id, None).await;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        let at =
            |p: f64| times.get(((times.len().saturating_sub(1)) as f64 * p).round() as usize).copied().unwrap_or(0.0);
        println!(
            "score read (GET /deals/{{id}}/score's store call), {} reads: p50 {:.2} ms  p95 {:.2} ms",
            self.reads,
            at(0.5),
            at(0.95)
        );
        store.close().await;
        Ok(())
    }
}

//! `dealflow bench scoring`: what lead scoring costs on a generated
//! workspace (fresh SQLite file, the metrics benchmark's generator): the
//! rescore that publishing a model starts, over every open deal; the
//! calibration over the deals closed in the generated history; and reading
//! one deal's score with its ledger. Figures, never a pass or fail.

use anyhow::Context;
use clap::Args;
use dealflow_core::DealId;
use dealflow_core::scoring::ModelBody;
use dealflow_core::time::Timestamp;
use dealflow_store::generate::{GenOptions, generate};
use dealflow_store::scoring::calibration::CalibrationQuery;
use dealflow_store::{Actor, DealFilter, NewScoringModel, Page, PoolSettings, Store};
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
}

impl ScoringBench {
    pub async fn run(self) -> anyhow::Result<()> {
        super::bench::on_temp_sqlite(|url| async move { self.measure(&url).await }).await
    }

    async fn measure(&self, url: &str) -> anyhow::Result<()> {
        let store = Store::open(url, &PoolSettings::default()).await.context("open the bench database")?;
        let opts = GenOptions::new(self.deals);
        let t = Instant::now();
        let r = generate(&store, &opts).await.context("generate the workspace")?;
        eprintln!("generated {} deals in {:.1} s", r.deals, t.elapsed().as_secs_f64());
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
        println!("lead scoring on {} generated deals, SQLite, {cores} cores", r.deals);
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

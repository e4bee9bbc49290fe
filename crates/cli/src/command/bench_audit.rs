//! `dealflow bench audit`: what the weekly audit costs on a generated
//! workspace (fresh SQLite file, the metrics benchmark's generator): taking
//! an audit of a pipeline with a given number of open deals, reading it back
//! (what the meeting page loads once; going to the next deal is then done
//! in the browser), and deciding on one item. Figures, never a pass or fail.

use anyhow::Context;
use clap::Args;
use dealflow_core::pipeline_audit::{Decision, DecisionKind};
use dealflow_store::generate::{GenOptions, generate, keep_open};
use dealflow_store::{Actor, PoolSettings, Store};
use std::time::Instant;

#[derive(Debug, Args)]
pub struct AuditBench {
    /// Deals in the generated workspace.
    #[arg(long, default_value_t = 100_000)]
    pub deals: usize,
    /// Open deals in the audited pipeline.
    #[arg(long, default_value_t = 10_000)]
    pub open: i64,
    /// Decisions to time.
    #[arg(long, default_value_t = 200)]
    pub decisions: usize,
}

impl AuditBench {
    pub async fn run(self) -> anyhow::Result<()> {
        super::bench::on_temp_sqlite(|url| async move { self.measure(&url).await }).await
    }

    async fn measure(&self, url: &str) -> anyhow::Result<()> {
        let store = Store::open(url, &PoolSettings::default()).await.context("open the bench database")?;
        let t = Instant::now();
        let r = generate(&store, &GenOptions::new(self.deals)).await.context("generate the workspace")?;
        eprintln!("generated {} deals in {:.1} s", r.deals, t.elapsed().as_secs_f64());
        let pipeline = store.pipelines().await?[0].clone();
        let open = keep_open(&store, pipeline.id, self.open).await?;
        let actor = Actor::system();

        let t = Instant::now();
        let audit = store.create_audit(&actor, pipeline.id, None).await?;
        let take = t.elapsed().as_secs_f64();
        println!("take an audit of {open} open deals ({} deals in the workspace): {take:.2} s", r.deals);
        // A second one compares with the first: the usual weekly case.
        let t = Instant::now();
        let audit = {
            let _ = audit;
            store.create_audit(&actor, pipeline.id, None).await?
        };
        println!("take the next audit (compared with the previous one): {:.2} s", t.elapsed().as_secs_f64());

        let t = Instant::now();
        let read = store.audit(audit.id).await?;
        println!(
            "read the audit with its {} items (the meeting page's load): {:.0} ms",
            read.items.as_ref().map_or(0, Vec::len),
            t.elapsed().as_secs_f64() * 1000.0
        );

        let deals: Vec<_> = read.items.iter().flatten().map(|i| i.facts.deal_id).take(self.decisions).collect();
        let mut times = Vec::with_capacity(deals.len());
        for deal in deals {
            let d = Decision {
                kind: DecisionKind::Keep,
                note: None,
                lost_reason: None,
                stage_id: None,
                override_reason: None,
                owner_id: None,
                expected_close_date: None,
                next_action: None,
            };
            let t = Instant::now();
            store.decide_audit_item(&actor, audit.id, deal, d).await?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        let at =
            |p: f64| times.get(((times.len().saturating_sub(1)) as f64 * p).round() as usize).copied().unwrap_or(0.0);
        println!("decide on an item, {} decisions: p50 {:.1} ms  p95 {:.1} ms", times.len(), at(0.5), at(0.95));
        store.close().await;
        Ok(())
    }
}

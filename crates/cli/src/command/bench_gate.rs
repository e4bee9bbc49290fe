//! `dealflow bench gate`: what the playbook gate costs a stage move. Two
//! pipelines on one fresh SQLite file, alike but for their first stage: in
//! one it has no steps, in the other a five-step checklist (three field
//! conditions, a meeting as evidence and an optional task) that every deal
//! meets. Each deal moves from the first stage to the second through the
//! real API (`PATCH /api/v1/deals/{id}`, in-process, no network); moves of
//! the two pipelines alternate, so both see the same machine noise. The
//! report gives both server-time distributions from the one run and their
//! ratio. A figure, never a pass or fail.

use super::bench::signed_in_app;
use anyhow::Context;
use axum::body::Body;
use axum::http::{Request, header};
use clap::Args;
use dealflow_core::model::{ActivityKind, Deal, NewActivity, NewDeal, NewPipeline, NewStage};
use dealflow_core::playbook::{Due, DueAnchor, FieldOp, StepKind, StepSpec};
use dealflow_core::time::Timestamp;
use dealflow_core::{PipelineId, StageId};
use dealflow_store::{Actor, PoolSettings, Store};
use std::time::Instant;
use tower::ServiceExt;

#[derive(Debug, Args)]
pub struct GateBench {
    /// Moves to time per pipeline (one deal each).
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u32).range(10..=100_000))]
    pub moves: u32,
}

impl GateBench {
    pub async fn run(self) -> anyhow::Result<()> {
        super::bench::on_temp_sqlite(|url| async move { self.measure(&url).await }).await
    }

    async fn measure(&self, url: &str) -> anyhow::Result<()> {
        let store = Store::open(url, &PoolSettings::default()).await.context("open the bench database")?;
        let actor = Actor::system();
        let (app, user, cookie) = signed_in_app(&store).await?;
        let (plain_id, plain) = pipeline(&store, "Without steps").await?;
        let (gated_id, gated) = pipeline(&store, "Five-step checklist").await?;
        for spec in five_steps() {
            store.create_step(&actor, gated[0], spec).await?;
        }
        let started = Instant::now();
        let mut pairs = Vec::with_capacity(self.moves as usize);
        for i in 0..self.moves {
            let a = deal(&store, &actor, (plain_id, plain[0]), user.id, i).await?;
            let b = deal(&store, &actor, (gated_id, gated[0]), user.id, i).await?;
            pairs.push((a, b));
        }
        eprintln!("made {} deals per pipeline in {:.1} s", self.moves, started.elapsed().as_secs_f64());

        let (mut without, mut with) = (Vec::new(), Vec::new());
        for (a, b) in &pairs {
            without.push(time_move(&app, &cookie, a, plain[1]).await?);
            with.push(time_move(&app, &cookie, b, gated[1]).await?);
        }
        let (p_without, p_with) = (Percentiles::of(without), Percentiles::of(with));
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        println!(
            "stage moves through PATCH /api/v1/deals/{{id}}, {} per pipeline, in-process, {cores} cores",
            self.moves
        );
        println!("without steps         {p_without}");
        println!("five-step checklist   {p_with}");
        println!(
            "ratio (checklist / none)  p50 {:.2}  p95 {:.2}",
            p_with.p50 / p_without.p50,
            p_with.p95 / p_without.p95
        );
        store.close().await;
        Ok(())
    }
}

/// Makes a pipeline of three stages; answers its id and theirs, in order.
async fn pipeline(store: &Store, name: &str) -> anyhow::Result<(PipelineId, Vec<StageId>)> {
    let stage = |n: &str| NewStage {
        name: n.into(),
        position: None,
        probability: Some(20),
        rotting_days: None,
        milestone: None,
    };
    let p = NewPipeline { name: name.into(), stages: vec![stage("First"), stage("Second"), stage("Third")] };
    let p = store.create_pipeline(&Actor::system(), p).await?;
    Ok((p.id, p.stages.iter().map(|s| s.id).collect()))
}

/// Three field conditions, a meeting as evidence, and an optional task:
/// every deal [`deal`] makes meets the required four.
fn five_steps() -> Vec<StepSpec> {
    let base = |title: &str, kind: StepKind| StepSpec {
        title: title.into(),
        description: None,
        required: true,
        kind,
        send: None,
        template: None,
        due: None,
        field: None,
        op: None,
        value: None,
        activity_kind: None,
        campaign_id: None,
    };
    let field = |title: &str, f: &str, op: Option<FieldOp>, v: Option<serde_json::Value>| StepSpec {
        field: Some(f.into()),
        op,
        value: v,
        ..base(title, StepKind::Field)
    };
    vec![
        field("Close date set", "expected_close_date", None, None),
        field("Value at least 1,000", "value", Some(FieldOp::AtLeast), Some(serde_json::json!(100_000))),
        field("Source is outbound", "source", Some(FieldOp::Equals), Some(serde_json::json!("outbound"))),
        StepSpec { activity_kind: Some(ActivityKind::Meeting), ..base("Demo held", StepKind::Evidence) },
        StepSpec {
            required: false,
            due: Some(Due { anchor: DueAnchor::StageEntered, offset_minutes: Some(60), offset_working_days: None }),
            ..base("Send the recap", StepKind::Task)
        },
    ]
}

/// A deal in `stage` that meets the checklist, with a meeting done.
async fn deal(
    store: &Store,
    actor: &Actor,
    (pipeline, stage): (PipelineId, StageId),
    owner: dealflow_core::UserId,
    i: u32,
) -> anyhow::Result<Deal> {
    let n = NewDeal {
        title: format!("Bench deal {i}"),
        value: 150_000 + i64::from(i),
        pipeline_id: Some(pipeline),
        stage_id: Some(stage),
        owner_id: Some(owner),
        source: Some("outbound".into()),
        expected_close_date: Some(dealflow_core::time::Date::parse("2027-03-31").map_err(anyhow::Error::msg)?),
        ..Default::default()
    };
    let d = store.create_deal(actor, n).await?;
    let meeting = NewActivity {
        kind: Some(ActivityKind::Meeting),
        subject: "Demo".into(),
        done_at: Some(Timestamp::now()),
        deal_id: Some(d.id),
        owner_id: Some(owner),
        ..Default::default()
    };
    store.create_activity(actor, meeting).await?;
    Ok(d)
}

/// Server time of one move, in milliseconds; a refused move is an error
/// (the bench would measure the wrong thing).
async fn time_move(app: &axum::Router, cookie: &str, d: &Deal, to: StageId) -> anyhow::Result<f64> {
    let body = serde_json::json!({"version": d.version, "stage_id": to}).to_string();
    let req = Request::patch(format!("/api/v1/deals/{}", d.id))
        .header(header::COOKIE, cookie)
        .header("x-csrf-token", "bench")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .context("build request")?;
    let t = Instant::now();
    let resp = app.clone().oneshot(req).await.context("move request")?;
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.context("read body")?;
    let took = t.elapsed().as_secs_f64() * 1000.0;
    anyhow::ensure!(status.is_success(), "the move answered {status}: {}", String::from_utf8_lossy(&bytes));
    Ok(took)
}

/// p50, p95 and max of a set of times.
struct Percentiles {
    p50: f64,
    p95: f64,
    max: f64,
}

impl Percentiles {
    fn of(mut t: Vec<f64>) -> Self {
        t.sort_by(f64::total_cmp);
        let at = |p: f64| t.get(((t.len().saturating_sub(1)) as f64 * p).round() as usize).copied().unwrap_or(0.0);
        Percentiles { p50: at(0.5), p95: at(0.95), max: at(1.0) }
    }
}

impl std::fmt::Display for Percentiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "p50 {:.2} ms  p95 {:.2} ms  max {:.2} ms", self.p50, self.p95, self.max)
    }
}

//! How many SQL statements one stage move costs, counted from sqlx's own
//! statement log (target `sqlx::query`). The figure is pinned so that a
//! change which adds reads to the hot write path shows up here; lower it
//! when a change removes some. Alone in its file: the counting subscriber is
//! process-wide, because SQLite runs statements on a worker thread.

use dealflow_core::model::{ActivityKind, DealPatch, NewDeal};
use dealflow_core::playbook::{StepKind, StepSpec};
use dealflow_store::{Actor, Store};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

#[derive(Default)]
struct Counter {
    on: AtomicBool,
    statements: AtomicUsize,
}

struct CountLayer(Arc<Counter>);

impl<S: Subscriber> Layer<S> for CountLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" && self.0.on.load(Ordering::SeqCst) {
            self.0.statements.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Runs `f` and returns how many statements it sent.
async fn count<T>(c: &Counter, f: impl std::future::Future<Output = T>) -> (T, usize) {
    c.statements.store(0, Ordering::SeqCst);
    c.on.store(true, Ordering::SeqCst);
    let out = f.await;
    c.on.store(false, Ordering::SeqCst);
    (out, c.statements.load(Ordering::SeqCst))
}

#[tokio::test]
async fn a_stage_move_costs_few_statements() {
    let counter = Arc::new(Counter::default());
    let subscriber = tracing_subscriber::registry()
        .with(CountLayer(counter.clone()))
        .with(tracing_subscriber::filter::Targets::new().with_target("sqlx::query", tracing::Level::TRACE));
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber of this test binary");

    let db = dealflow_store::testing::test_database().await.expect("test database");
    let store: Store = db.open().await.expect("open");
    let actor = Actor::system();
    let stages = store.pipelines().await.expect("pipelines").remove(0).stages;
    let (deal, created) =
        count(&counter, store.create_deal(&actor, NewDeal { title: "Acme".into(), value: 500, ..Default::default() }))
            .await;
    let deal = deal.expect("create");
    let patch = DealPatch { version: deal.version, stage_id: Some(stages[1].id), ..Default::default() };
    let (moved, statements) = count(&counter, store.update_deal(&actor, deal.id, patch)).await;
    let moved = moved.expect("move");
    assert_eq!(moved.stage_id, stages[1].id);
    let patch = DealPatch { version: moved.version, value: Some(900), ..Default::default() };
    let (edited, edit_statements) = count(&counter, store.update_deal(&actor, deal.id, patch)).await;
    assert_eq!(edited.expect("edit").value, 900);
    eprintln!("statements: create {created}, stage move {statements}, value edit {edit_statements}");
    assert!(statements > 0, "the counter sees the statements");
    assert!(statements <= STAGE_MOVE_BUDGET, "a stage move sent {statements} statements (budget {STAGE_MOVE_BUDGET})");

    // The same move out of a stage with a checklist (a field, an evidence
    // step and a task, all open): the gate's one read covers the evidence,
    // and leaving closes the states and the task.
    for spec in checklist() {
        store.create_step(&actor, stages[1].id, spec).await.expect("step");
    }
    let deal = store.deal(deal.id).await.expect("deal");
    let steps = store.deal_checklist(deal.id).await.expect("checklist");
    assert_eq!(steps.len(), 3, "the steps apply to the deal already in the stage");
    let task = steps.iter().find_map(|i| i.activity_id).expect("the task step made a task");
    let patch = DealPatch { version: deal.version, stage_id: Some(stages[0].id), ..Default::default() };
    let (moved, gated) = count(&counter, store.update_deal(&actor, deal.id, patch)).await;
    assert_eq!(moved.expect("move back").stage_id, stages[0].id);
    eprintln!("statements: stage move out of a checklist {gated}");
    assert!(
        gated <= STAGE_MOVE_BUDGET + CHECKLIST_LEAVE,
        "a move out of a checklist sent {gated} statements (budget {})",
        STAGE_MOVE_BUDGET + CHECKLIST_LEAVE
    );
    let task = store.activity(task).await.expect("task");
    assert!(task.done_at.is_some(), "leaving closed the task: {task:?}");
}

/// A field step, an evidence step and a task step.
fn checklist() -> Vec<StepSpec> {
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
    vec![
        StepSpec { field: Some("expected_close_date".into()), ..base("Close date set", StepKind::Field) },
        StepSpec { activity_kind: Some(ActivityKind::Meeting), ..base("Demo held", StepKind::Evidence) },
        base("Send the recap", StepKind::Task),
    ]
}

/// Statements one stage move may send, transaction control included.
/// Before the decision moved to core and the projections were refreshed
/// from memory, a move sent 33 (create 33, value edit 29); then 14 on
/// SQLite (create 9, value edit 12); every write appends its audit-log
/// entry (one more each), and the playbook gate adds one read of the
/// pipeline's checklists, which also tells the entered stage's: 16 on
/// SQLite, 17 on PostgreSQL (its write transaction begins with one more
/// statement). Outgoing webhooks add one: the statement that schedules the
/// move's events only when some subscription is active (17 and 18). The
/// forecast's projection added a fourth table per deal, and a write now
/// rewrites only the tables whose rows changed: a move 17 on SQLite and 18
/// on PostgreSQL, a value edit 10 and 11 (16 and 17 when every table was
/// rewritten). The budget holds the larger.
const STAGE_MOVE_BUDGET: usize = 18;

/// What leaving a stage whose checklist is still open adds to a move: one
/// statement settling the step states, one closing their open tasks (the
/// evidence rides on the gate's read). It was four before the gate read
/// the evidence in its one statement and the two state updates became one.
const CHECKLIST_LEAVE: usize = 2;

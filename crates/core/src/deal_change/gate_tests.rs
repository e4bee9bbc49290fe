//! The playbook gate inside the deal-change decision: forward moves need
//! the current stage's required steps; backwards, lost and other-pipeline
//! moves never do; an override moves anyway and is returned.

use super::*;
use crate::currency::Currency;
use crate::model::{ActivityKind, DealStatus};
use crate::playbook::gate::{Facts, StoredState};
use crate::playbook::{Step, StepKind, StepSpec, StepStatus};
use crate::stage_move::tests::stage;
use crate::{DealId, StageId, StepId};
use proptest::prelude::*;

pub(crate) fn settings() -> Settings {
    Settings {
        name: "Test".into(),
        time_zone: crate::time::TimeZone(chrono_tz::UTC),
        base_currency: Currency::parse("USD").expect("a valid code"),
        exchange_rates: Default::default(),
        working_days: vec![1, 2, 3, 4, 5],
        require_lost_reason: false,
        holidays: Vec::new(),
        mail: Default::default(),
        override_roles: crate::model::DEFAULT_OVERRIDE_ROLES.to_vec(),
        webhooks_allow_private: false,
        updated_at: Timestamp(0),
        version: 1,
    }
}

pub(crate) fn spec(title: &str, kind: StepKind) -> StepSpec {
    StepSpec {
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
    }
}

fn step(id: i64, spec: StepSpec) -> Step {
    Step {
        id: StepId(id),
        stage_id: StageId(11),
        position: id,
        spec,
        created_at: Timestamp(0),
        updated_at: Timestamp(0),
        version: 1,
    }
}

/// A deal open in the middle stage (11) of stages 10, 11, 12.
pub(crate) fn deal() -> Deal {
    let n = NewDeal { title: "Acme".into(), value: 100, created_at: Some(Timestamp(1_000)), ..Default::default() };
    let stages = [stage(10, 1, 0), stage(11, 1, 1), stage(12, 1, 2)];
    let s = settings();
    let ctx = ctx(&s, &stages, None);
    let mut d = decide_create(&n, DealId(1), &ctx).expect("a valid deal").deal;
    d.stage_id = StageId(11);
    d
}

pub(crate) fn ctx<'a>(s: &'a Settings, stages: &'a [Stage], facts: Option<Facts<'a>>) -> Context<'a> {
    Context {
        actor: Some(UserId(7)),
        now: Timestamp(5_000),
        settings: s,
        lost_reasons: &[],
        custom_fields: &[],
        pipeline: Some(PipelineView { id: PipelineId(1), archived: false, stages, no_skipping_stages: false }),
        history: &[],
        owner: None,
        person: None,
        organization: None,
        playbook: facts,
        score: None,
    }
}

pub(super) fn patch(d: &Deal) -> DealPatch {
    DealPatch { version: d.version, ..Default::default() }
}

#[test]
fn a_forward_move_past_an_open_required_step_is_refused_naming_it() {
    let stages = [stage(10, 1, 0), stage(11, 1, 1), stage(12, 1, 2)];
    let s = settings();
    let steps = [step(1, spec("Send the offer", StepKind::Task)), step(2, spec("Optional", StepKind::Task))];
    let mut steps = steps.to_vec();
    steps[1].spec.required = false;
    let facts = Facts { steps: &steps, states: &[], evidence: &[] };
    let d = deal();
    for p in [
        DealPatch { stage_id: Some(StageId(12)), ..patch(&d) },
        DealPatch { status: Some(DealStatus::Won), ..patch(&d) },
    ] {
        let err = decide_update(&d, &p, &ctx(&s, &stages, Some(facts))).expect_err("gated");
        assert_eq!(err.0.len(), 1, "only the required step: {err}");
        assert_eq!(err.0[0].field, "steps");
        assert_eq!(err.0[0].id.as_deref(), Some("1"));
        assert_eq!(err.0[0].title.as_deref(), Some("Send the offer"));
    }
}

#[test]
fn backwards_lost_and_done_moves_pass() {
    let stages = [stage(10, 1, 0), stage(11, 1, 1), stage(12, 1, 2)];
    let s = settings();
    let steps = [step(1, spec("Call", StepKind::Task))];
    let facts = Facts { steps: &steps, states: &[], evidence: &[] };
    let d = deal();
    let back = DealPatch { stage_id: Some(StageId(10)), ..patch(&d) };
    assert!(decide_update(&d, &back, &ctx(&s, &stages, Some(facts))).is_ok());
    let lost = DealPatch { status: Some(DealStatus::Lost), ..patch(&d) };
    assert!(decide_update(&d, &lost, &ctx(&s, &stages, Some(facts))).is_ok());
    let states = [StoredState { step_id: StepId(1), status: StepStatus::Open, activity_done: true }];
    let done = Facts { steps: &steps, states: &states, evidence: &[] };
    let fwd = DealPatch { stage_id: Some(StageId(12)), ..patch(&d) };
    assert!(decide_update(&d, &fwd, &ctx(&s, &stages, Some(done))).is_ok(), "a done task lets it pass");
}

#[test]
fn field_and_evidence_steps_are_evaluated_at_move_time() {
    let stages = [stage(10, 1, 0), stage(11, 1, 1), stage(12, 1, 2)];
    let s = settings();
    let mut f = spec("Close date set", StepKind::Field);
    f.field = Some("expected_close_date".into());
    let mut e = spec("Demo held", StepKind::Evidence);
    e.activity_kind = Some(ActivityKind::Meeting);
    let steps = [step(1, f), step(2, e)];
    let d = deal();
    let mut fwd = DealPatch { stage_id: Some(StageId(12)), ..patch(&d) };
    let none = Facts { steps: &steps, states: &[], evidence: &[ActivityKind::Call] };
    let err = decide_update(&d, &fwd, &ctx(&s, &stages, Some(none))).expect_err("both open");
    assert_eq!(err.0.len(), 2);
    // One PATCH may fill the field and move on.
    fwd.expected_close_date = Some(Some(crate::time::Date::parse("2027-01-31").expect("a date")));
    let met = Facts { steps: &steps, states: &[], evidence: &[ActivityKind::Meeting] };
    assert!(decide_update(&d, &fwd, &ctx(&s, &stages, Some(met))).is_ok());
}

#[test]
fn an_override_moves_anyway_and_is_returned() {
    let stages = [stage(10, 1, 0), stage(11, 1, 1), stage(12, 1, 2)];
    let s = settings();
    let steps = [step(1, spec("Call", StepKind::Task))];
    let facts = Facts { steps: &steps, states: &[], evidence: &[] };
    let d = deal();
    let p = DealPatch { stage_id: Some(StageId(12)), override_reason: Some("  customer asked ".into()), ..patch(&d) };
    let out = decide_update(&d, &p, &ctx(&s, &stages, Some(facts))).expect("overridden");
    let o = out.overridden.expect("recorded");
    assert_eq!(o.reason, "customer asked");
    assert_eq!(o.steps[0].title, "Call");
    let blank = DealPatch { stage_id: Some(StageId(12)), override_reason: Some(" ".into()), ..patch(&d) };
    assert!(decide_update(&d, &blank, &ctx(&s, &stages, Some(facts))).is_err(), "a blank reason is no override");
}

#[test]
fn needs_ask_for_the_checklist_only_when_an_open_deal_moves() {
    let d = deal();
    let edit = DealPatch { value: Some(5), ..patch(&d) };
    assert_eq!(needs(Some(&d), Change::Update(&edit)).playbook, None);
    let mv = DealPatch { stage_id: Some(StageId(12)), ..patch(&d) };
    assert_eq!(needs(Some(&d), Change::Update(&mv)).playbook, Some((StageId(11), d.stage_entered_at)));
}

proptest! {
    /// Whatever the target, a move is refused by the gate exactly when it
    /// is forward (a later stage or won) and the open step is required.
    #[test]
    fn the_gate_refuses_exactly_forward_moves(target in 0usize..5, required: bool) {
        let stages = [stage(10, 1, 0), stage(11, 1, 1), stage(12, 1, 2)];
        let s = settings();
        let mut one = spec("Call", StepKind::Task);
        one.required = required;
        let steps = [step(1, one)];
        let facts = Facts { steps: &steps, states: &[], evidence: &[] };
        let d = deal();
        let (p, forward) = match target {
            0 => (DealPatch { stage_id: Some(StageId(10)), ..patch(&d) }, false),
            1 => (DealPatch { stage_id: Some(StageId(12)), ..patch(&d) }, true),
            2 => (DealPatch { status: Some(DealStatus::Won), ..patch(&d) }, true),
            3 => (DealPatch { status: Some(DealStatus::Lost), ..patch(&d) }, false),
            _ => (DealPatch { stage_id: Some(StageId(11)), value: Some(7), ..patch(&d) }, false),
        };
        let refused = decide_update(&d, &p, &ctx(&s, &stages, Some(facts)))
            .is_err_and(|e| e.0.iter().any(|f| f.field == "steps"));
        prop_assert_eq!(refused, forward && required);
    }
}

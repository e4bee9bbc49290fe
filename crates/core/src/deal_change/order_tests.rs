//! The gate's rules inside the decision: "no skipping stages" on creation
//! and on forward moves (with its override), and loaded history marked on
//! the events.

use super::gate_tests::{ctx, deal, patch, settings};
use super::*;
use crate::model::{DealStatus, EventOrigin};
use crate::stage_move::tests::stage;
use crate::{DealId, StageId};

/// Stages 10, 11, 12 of a pipeline that allows no skipping.
fn strict<'a>(s: &'a Settings, stages: &'a [Stage]) -> Context<'a> {
    let mut c = ctx(s, stages, None);
    c.pipeline = c.pipeline.map(|v| PipelineView { no_skipping_stages: true, ..v });
    c
}

#[test]
fn a_strict_pipeline_moves_one_stage_at_a_time_and_wins_from_the_last() {
    let stages = [stage(10, 1, 0), stage(11, 1, 1), stage(12, 1, 2)];
    let s = settings();
    let mut d = deal();
    d.stage_id = StageId(10);
    let jump = DealPatch { stage_id: Some(StageId(12)), ..patch(&d) };
    let err = decide_update(&d, &jump, &strict(&s, &stages)).expect_err("a jump");
    assert_eq!(err.0[0].field, "stage_id");
    assert!(err.0[0].message.contains("\"S11\""), "names the stage to go through: {err}");
    assert!(decide_update(&d, &jump, &ctx(&s, &stages, None)).is_ok(), "the rule is off by default");
    let won = DealPatch { status: Some(DealStatus::Won), ..patch(&d) };
    let err = decide_update(&d, &won, &strict(&s, &stages)).expect_err("won from the first stage");
    assert_eq!(err.0[0].field, "status");
    assert!(err.0[0].message.contains("\"S11\", \"S12\""), "{err}");
    let next = DealPatch { stage_id: Some(StageId(11)), ..patch(&d) };
    assert!(decide_update(&d, &next, &strict(&s, &stages)).is_ok());
    d.stage_id = StageId(12);
    assert!(decide_update(&d, &DealPatch { status: Some(DealStatus::Won), ..patch(&d) }, &strict(&s, &stages)).is_ok());
    for free in [
        DealPatch { stage_id: Some(StageId(10)), ..patch(&d) },
        DealPatch { status: Some(DealStatus::Lost), ..patch(&d) },
    ] {
        assert!(decide_update(&d, &free, &strict(&s, &stages)).is_ok(), "backwards and lost are free");
    }
}

#[test]
fn an_override_jumps_and_is_recorded() {
    let stages = [stage(10, 1, 0), stage(11, 1, 1), stage(12, 1, 2)];
    let s = settings();
    let mut d = deal();
    d.stage_id = StageId(10);
    let p = DealPatch { stage_id: Some(StageId(12)), override_reason: Some("signed early".into()), ..patch(&d) };
    let out = decide_update(&d, &p, &strict(&s, &stages)).expect("overridden");
    assert_eq!(out.deal.stage_id, StageId(12));
    let o = out.overridden.expect("recorded");
    assert_eq!(o.reason, "signed early");
    assert!(o.steps.is_empty(), "no open step, only skipped stages");
}

#[test]
fn a_strict_pipeline_takes_new_deals_in_its_first_stage_only() {
    let stages = [stage(10, 1, 0), stage(11, 1, 1), stage(12, 1, 2)];
    let s = settings();
    let at = |stage: i64, status| NewDeal {
        title: "Acme".into(),
        stage_id: Some(StageId(stage)),
        status: Some(status),
        ..Default::default()
    };
    let err = decide_create(&at(11, DealStatus::Open), DealId(2), &strict(&s, &stages)).expect_err("not first");
    assert_eq!(err.0[0].field, "stage_id");
    assert!(err.0[0].message.contains("\"S10\""), "{err}");
    let err = decide_create(&at(10, DealStatus::Won), DealId(2), &strict(&s, &stages)).expect_err("won at once");
    assert_eq!(err.0[0].field, "status");
    assert!(decide_create(&at(10, DealStatus::Open), DealId(2), &strict(&s, &stages)).is_ok());
    assert!(decide_create(&at(10, DealStatus::Lost), DealId(2), &strict(&s, &stages)).is_ok(), "lost is free");
    assert!(decide_create(&at(11, DealStatus::Open), DealId(2), &ctx(&s, &stages, None)).is_ok());
    let over = NewDeal { override_reason: Some("came in signed".into()), ..at(12, DealStatus::Won) };
    let out = decide_create(&over, DealId(2), &strict(&s, &stages)).expect("an override excepts");
    assert_eq!(out.overridden.map(|o| o.reason).as_deref(), Some("came in signed"));
}

#[test]
fn a_time_more_than_five_minutes_back_loads_history() {
    let stages = [stage(10, 1, 0), stage(11, 1, 1), stage(12, 1, 2)];
    let s = settings();
    let d = deal();
    let mut c = ctx(&s, &stages, None);
    c.now = Timestamp(d.created_at.0 + HISTORY_GRACE_MS * 3);
    let back = |ms: i64| DealPatch { stage_id: Some(StageId(12)), at: Some(Timestamp(c.now.0 - ms)), ..patch(&d) };
    let out = decide_update(&d, &back(HISTORY_GRACE_MS + 1), &c).expect("history");
    assert_eq!(out.origin, EventOrigin::Loaded);
    let out = decide_update(&d, &back(HISTORY_GRACE_MS - 1), &c).expect("recent");
    assert_eq!(out.origin, EventOrigin::Live);
    let now = DealPatch { stage_id: Some(StageId(12)), ..patch(&d) };
    assert_eq!(decide_update(&d, &now, &c).expect("now").origin, EventOrigin::Live);
    assert!(is_history(Timestamp(0), Timestamp(HISTORY_GRACE_MS + 1)));
    assert!(!is_history(Timestamp(1), Timestamp(HISTORY_GRACE_MS + 1)));
}

use super::*;
use crate::currency::Currency;
use crate::model::DealStatus;
use crate::stage_move::replay;
use crate::stage_move::tests::stage;
use crate::{DealId, EventId, StageId};
use proptest::prelude::*;

fn settings() -> Settings {
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

struct World {
    stages: Vec<Stage>,
    settings: Settings,
    history: Vec<StageEvent>,
}

impl World {
    fn new() -> Self {
        World {
            stages: vec![stage(10, 1, 0), stage(11, 1, 1), stage(12, 1, 2)],
            settings: settings(),
            history: Vec::new(),
        }
    }

    fn ctx(&self, now: i64) -> Context<'_> {
        Context {
            actor: Some(UserId(7)),
            now: Timestamp(now),
            settings: &self.settings,
            lost_reasons: &[],
            custom_fields: &[],
            pipeline: Some(PipelineView {
                id: PipelineId(1),
                archived: false,
                stages: &self.stages,
                no_skipping_stages: false,
            }),
            history: &self.history,
            owner: None,
            person: None,
            organization: None,
            playbook: None,
            score: None,
        }
    }

    /// Appends planned events as the store would.
    fn record(&mut self, deal: DealId, events: &[PlannedEvent]) {
        for e in events {
            let id = EventId(self.history.len() as i64 + 1);
            self.history.push(e.stored(id, deal, None));
        }
    }
}

fn created(w: &mut World, at: i64) -> Deal {
    let n = NewDeal { title: "Acme".into(), value: 100, created_at: Some(Timestamp(at)), ..Default::default() };
    let d = decide_create(&n, DealId(1), &w.ctx(at)).expect("a valid deal");
    w.record(d.deal.id, &d.events);
    d.deal
}

#[test]
fn a_value_edit_is_tracked_and_bumps_the_version() {
    let mut w = World::new();
    let deal = created(&mut w, 1_000);
    let p = DealPatch { version: 1, value: Some(250), ..Default::default() };
    let d = decide_update(&deal, &p, &w.ctx(2_000)).expect("valid");
    assert!(d.changed && d.events.is_empty());
    assert_eq!((d.deal.value, d.deal.version, d.deal.updated_at), (250, 2, Timestamp(2_000)));
    assert_eq!(d.changes, vec![TrackedChange { field: "value", old: 100.into(), new: 250.into() }]);
}

#[test]
fn a_rename_is_tracked() {
    let mut w = World::new();
    let deal = created(&mut w, 1_000);
    let p = DealPatch { version: 1, title: Some("Renewal 2027".into()), ..Default::default() };
    let d = decide_update(&deal, &p, &w.ctx(2_000)).expect("valid");
    let old = deal.title.clone();
    assert_eq!(d.changes, vec![TrackedChange { field: "title", old: old.into(), new: "Renewal 2027".into() }]);
}

#[test]
fn a_change_that_changes_nothing_keeps_the_version() {
    let mut w = World::new();
    let deal = created(&mut w, 1_000);
    let won = decide_update(
        &deal,
        &DealPatch { version: 1, status: Some(DealStatus::Won), ..Default::default() },
        &w.ctx(2_000),
    )
    .expect("win");
    w.record(deal.id, &won.events);
    let again =
        DealPatch { version: 2, status: Some(DealStatus::Won), at: Some(Timestamp(3_000)), ..Default::default() };
    let d = decide_update(&won.deal, &again, &w.ctx(4_000)).expect("a no-op");
    assert!(!d.changed && d.events.is_empty() && d.changes.is_empty());
    assert_eq!(d.deal, won.deal, "version and updated_at unchanged");
}

#[test]
fn a_time_before_the_deal_was_created_is_refused() {
    let mut w = World::new();
    let deal = created(&mut w, 10_000);
    let p = DealPatch { version: 1, value: Some(5), at: Some(Timestamp(9_000)), ..Default::default() };
    let err = decide_update(&deal, &p, &w.ctx(20_000)).expect_err("before creation");
    assert_eq!(err.0[0].field, "at");
}

#[test]
fn every_error_comes_at_once() {
    let mut w = World::new();
    let deal = created(&mut w, 1_000);
    let mut ctx = w.ctx(2_000);
    ctx.person = Some(Found::Missing);
    ctx.owner = Some(Found::Inactive);
    let p = DealPatch {
        version: 1,
        title: Some("  ".into()),
        value: Some(-1),
        person_id: Some(Some(PersonId(5))),
        owner_id: Some(Some(UserId(9))),
        stage_id: Some(StageId(99)),
        ..Default::default()
    };
    let err = decide_update(&deal, &p, &ctx).expect_err("invalid");
    let mut fields: Vec<&str> = err.0.iter().map(|e| e.field.as_str()).collect();
    fields.sort();
    assert_eq!(fields, ["owner_id", "person_id", "stage_id", "title", "value"], "{err}");
}

#[test]
fn a_move_into_a_pipeline_that_was_not_found_is_refused() {
    let mut w = World::new();
    let deal = created(&mut w, 1_000);
    let mut ctx = w.ctx(2_000);
    ctx.pipeline = None;
    let p = DealPatch { version: 1, pipeline_id: Some(PipelineId(4)), ..Default::default() };
    let err = decide_update(&deal, &p, &ctx).expect_err("no such pipeline");
    assert_eq!(err.0[0].field, "pipeline_id");
    assert!(err.0[0].message.contains("does not exist"));
}

#[test]
fn a_new_deal_without_a_pipeline_says_so() {
    let w = World::new();
    let mut ctx = w.ctx(1_000);
    ctx.pipeline = None;
    let err = decide_create(&NewDeal { title: "x".into(), ..Default::default() }, DealId(1), &ctx).expect_err("none");
    assert!(err.0[0].message.contains("no active pipeline"), "{err}");
}

#[test]
fn needs_only_what_the_patch_touches() {
    let mut w = World::new();
    let deal = created(&mut w, 1_000);
    let edit = DealPatch { version: 1, value: Some(3), ..Default::default() };
    let n = needs(Some(&deal), Change::Update(&edit));
    assert!(!n.lost_reasons && !n.custom_fields && n.person.is_none() && n.owner.is_none());
    let lose = DealPatch { version: 1, status: Some(DealStatus::Lost), ..Default::default() };
    assert!(needs(Some(&deal), Change::Update(&lose)).lost_reasons);
}

/// One step of a random walk: a stage, a status, or a value edit.
#[derive(Debug, Clone)]
enum Step {
    Stage(usize),
    Status(u8),
    Value(i64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![(0usize..4).prop_map(Step::Stage), (0u8..3).prop_map(Step::Status), (0i64..1000).prop_map(Step::Value)]
}

proptest! {
    /// Whatever sequence of changes is asked for, replaying the events a
    /// decision returned gives exactly the position it returned.
    #[test]
    fn replaying_the_events_gives_the_returned_position(steps in prop::collection::vec(step(), 1..25)) {
        let mut w = World::new();
        let mut deal = created(&mut w, 1_000);
        for (i, s) in steps.into_iter().enumerate() {
            let mut p = DealPatch { version: deal.version, ..Default::default() };
            match s {
                // Index 3 names a stage of no pipeline: refused, nothing written.
                Step::Stage(k) => p.stage_id = Some(w.stages.get(k).map_or(StageId(99), |s| s.id)),
                Step::Status(k) => p.status = Some([DealStatus::Open, DealStatus::Won, DealStatus::Lost][k as usize]),
                Step::Value(v) => p.value = Some(v),
            }
            let now = 2_000 + i as i64 * 1_000;
            let Ok(d) = decide_update(&deal, &p, &w.ctx(now)) else { continue };
            w.record(deal.id, &d.events);
            let pos = replay(&w.history).expect("a created deal has events");
            prop_assert_eq!(pos.stage_id, d.deal.stage_id);
            prop_assert_eq!(pos.pipeline_id, d.deal.pipeline_id);
            prop_assert_eq!(pos.status, d.deal.status);
            prop_assert_eq!(pos.closed_at, d.deal.closed_at);
            prop_assert_eq!(pos.stage_entered_at, d.deal.stage_entered_at);
            prop_assert_eq!(pos.lost_reason, d.deal.lost_reason.clone());
            prop_assert_eq!(d.deal.version, deal.version + i64::from(d.changed));
            deal = d.deal;
        }
    }
}

//! Each flag and answer from constructed facts, the changes since the
//! previous audit, the decisions' checks and the summary.

use super::facts::{Clock, ScoreInput};
use super::*;
use crate::ids::ActivityId;
use crate::model::DealStatus;

const DAY: i64 = 86_400_000;
const NOW: i64 = 100 * DAY;

fn date(s: &str) -> Date {
    Date::parse(s).unwrap()
}

fn clock() -> Clock {
    // Day 100 after the epoch is 1970-04-11.
    Clock::new(Timestamp(NOW), date("1970-04-11"))
}

/// A deal with nothing to flag: contacted yesterday, a next action due
/// tomorrow, no rotting days, no percentile, no model.
fn clean() -> ItemInput {
    ItemInput {
        deal_id: DealId(1),
        stage_id: StageId(10),
        title: "Acme".into(),
        value: 1_000,
        currency: "USD".into(),
        owner_id: Some(UserId(7)),
        expected_close_date: Some(date("1970-05-01")),
        stage_entered_at: Timestamp(NOW - 20 * DAY),
        contact_at: Some(Timestamp(NOW - DAY)),
        next_action: Some(NextAction {
            activity_id: ActivityId(5),
            subject: "Call".into(),
            due_at: Some(Timestamp(NOW + DAY)),
        }),
        rotting_days: None,
        stage_p90_days: None,
        close_date_pushes: 0,
        open_steps_overdue: 0,
        overrides_since: 0,
        score: None,
        previous: None,
        previous_action: None,
    }
}

fn flags(i: ItemInput) -> Vec<Flag> {
    item(i, clock()).flags
}

#[test]
fn a_clean_deal_has_no_flag_and_unknown_qualification() {
    let it = item(clean(), clock());
    assert!(it.flags.is_empty(), "{:?}", it.flags);
    assert_eq!(it.qualified, None);
    assert_eq!(it.last_contact_at, Timestamp(NOW - DAY));
    assert_eq!(it.days_since_contact, 1);
    assert_eq!((it.in_previous, it.carried_over), (false, 0));
}

#[test]
fn each_flag_from_its_fact() {
    assert_eq!(flags(ItemInput { next_action: None, ..clean() }), [Flag::NoNextAction]);
    let overdue = NextAction { activity_id: ActivityId(5), subject: "Call".into(), due_at: Some(Timestamp(NOW - 1)) };
    assert_eq!(flags(ItemInput { next_action: Some(overdue), ..clean() }), [Flag::NextActionOverdue]);
    // Rotting: 10 rotting days, last contact 11 days ago (also under 14).
    let r = ItemInput { rotting_days: Some(10), contact_at: Some(Timestamp(NOW - 11 * DAY)), ..clean() };
    assert_eq!(flags(r), [Flag::Rotting]);
    assert_eq!(flags(ItemInput { stage_p90_days: Some(19.5), ..clean() }), [Flag::Stuck]);
    assert!(flags(ItemInput { stage_p90_days: Some(20.5), ..clean() }).is_empty());
    let quiet = ItemInput { contact_at: Some(Timestamp(NOW - 15 * DAY)), ..clean() };
    assert_eq!(flags(quiet.clone()), [Flag::NoContact14d]);
    assert!(item(quiet, Clock { no_contact_days: 21, ..clock() }).flags.is_empty(), "the threshold is configurable");
    assert_eq!(flags(ItemInput { expected_close_date: Some(date("1970-04-10")), ..clean() }), [Flag::CloseDatePast]);
    assert!(
        flags(ItemInput { expected_close_date: Some(date("1970-04-11")), ..clean() }).is_empty(),
        "today is not past"
    );
    assert_eq!(flags(ItemInput { close_date_pushes: 2, ..clean() }), [Flag::CloseDatePushed]);
    assert!(flags(ItemInput { close_date_pushes: 1, ..clean() }).is_empty());
    assert_eq!(flags(ItemInput { open_steps_overdue: 1, ..clean() }), [Flag::OpenStepsOverdue]);
    assert_eq!(flags(ItemInput { overrides_since: 1, ..clean() }), [Flag::OverrideSinceLastAudit]);
    let low = ScoreInput { total: 5.0, disqualify_below: Some(10.0), disqualified: false };
    assert_eq!(flags(ItemInput { score: Some(low), ..clean() }), [Flag::BelowThreshold]);
}

#[test]
fn flags_serialize_as_their_names() {
    let all: Vec<String> =
        Flag::ALL.iter().map(|f| serde_json::to_value(f).unwrap().as_str().unwrap().to_string()).collect();
    let names: Vec<&str> = Flag::ALL.iter().map(|f| f.as_str()).collect();
    assert_eq!(all, names);
}

#[test]
fn never_contacted_counts_from_the_stage_entry() {
    let it = item(ItemInput { contact_at: None, ..clean() }, clock());
    assert_eq!(it.last_contact_at, Timestamp(NOW - 20 * DAY));
    assert_eq!(it.days_since_contact, 20);
    assert!(it.flags.contains(&Flag::NoContact14d));
}

#[test]
fn qualified_follows_the_score_and_the_flag() {
    let q = |total, below, dq| {
        let s = ScoreInput { total, disqualify_below: below, disqualified: dq };
        item(ItemInput { score: Some(s), ..clean() }, clock()).qualified
    };
    assert_eq!(q(10.0, Some(10.0), false), Some(true), "at the threshold is qualified");
    assert_eq!(q(9.99, Some(10.0), false), Some(false));
    assert_eq!(q(50.0, Some(10.0), true), Some(false), "marked disqualified");
    assert_eq!(q(-5.0, None, false), Some(true), "no threshold: not disqualified is qualified");
}

#[test]
fn changes_and_carry_over_against_the_previous_audit() {
    let first = item(clean(), clock());
    let same = item(ItemInput { previous: Some(first.clone()), ..clean() }, clock());
    assert!(same.changes.is_empty());
    assert_eq!((same.in_previous, same.carried_over), (true, 1));
    let third = item(ItemInput { previous: Some(same.clone()), ..clean() }, clock());
    assert_eq!(third.carried_over, 2);
    let moved = ItemInput { previous: Some(third), stage_id: StageId(11), value: 2_000, ..clean() };
    let moved = item(moved, clock());
    let fields: Vec<&str> = moved.changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, ["stage", "value"]);
    assert_eq!(moved.carried_over, 0);
}

#[test]
fn decisions_name_what_their_kind_needs() {
    let d = |v: serde_json::Value| serde_json::from_value::<Decision>(v).unwrap();
    let err = |v| d(v).check(DealId(1), 3).unwrap_err().to_string();
    assert!(err(serde_json::json!({"kind": "move"})).contains("stage_id"));
    assert!(err(serde_json::json!({"kind": "reassign"})).contains("owner_id"));
    assert!(err(serde_json::json!({"kind": "update_close_date"})).contains("expected_close_date"));
    assert!(err(serde_json::json!({"kind": "keep", "stage_id": "5"})).contains("stage_id"));
    assert!(err(serde_json::json!({"kind": "keep", "next_action": {"subject": " "}})).contains("next_action.subject"));
    match d(serde_json::json!({"kind": "disqualify"})).check(DealId(1), 3).unwrap() {
        decision::Action::Patch(p) => {
            assert_eq!(
                (p.version, p.status, p.lost_reason.as_deref()),
                (3, Some(DealStatus::Lost), Some(decision::DISQUALIFIED_REASON))
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(d(serde_json::json!({"kind": "keep"})).check(DealId(1), 3), Ok(decision::Action::None)));
}

#[test]
fn the_summary_counts_decisions_values_and_flags() {
    let a = item(ItemInput { next_action: None, ..clean() }, clock());
    let b = item(ItemInput { deal_id: DealId(2), value: 500, currency: "EUR".into(), ..clean() }, clock());
    let c = item(ItemInput { deal_id: DealId(3), value: 300, ..clean() }, clock());
    let mut gone = item(ItemInput { deal_id: DealId(4), ..clean() }, clock());
    gone.flags = vec![Flag::Rotting];
    let mut was = a.clone();
    was.flags = vec![Flag::NoNextAction, Flag::Stuck];
    let to_base = |v: i64, c: &str| (c == "USD").then_some(v);
    let s = summarize(
        &[(a, Some(DecisionKind::Keep)), (b, Some(DecisionKind::Disqualify)), (c, Some(DecisionKind::Move))],
        &[was, gone],
        &to_base,
    );
    assert_eq!((s.items, s.decided, s.undecided), (3, 3, 0));
    assert_eq!(s.decisions["keep"], 1);
    assert_eq!((s.value_disqualified, s.value_moved), (0, 300), "EUR without a rate is left out");
    assert_eq!((s.flags_raised, s.flags_resolved), (0, 2), "stuck and the gone deal's rotting resolved");
}

#[test]
fn hygiene_counts_the_items() {
    let planned = item(clean(), clock());
    let bare = item(
        ItemInput { deal_id: DealId(2), next_action: None, contact_at: Some(Timestamp(NOW - 14 * DAY)), ..clean() },
        clock(),
    );
    let rotten = item(
        ItemInput { deal_id: DealId(3), rotting_days: Some(5), contact_at: Some(Timestamp(NOW - 6 * DAY)), ..clean() },
        clock(),
    );
    let h = hygiene(&[planned, bare, rotten]);
    assert_eq!((h.open, h.with_next_action, h.contacted_14d, h.rotting), (3, 2, 2, 1));
}

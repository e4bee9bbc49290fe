//! Hand-made cases for the goal planner.

use super::*;

fn input(target_minor: i64) -> PlannerInput {
    PlannerInput {
        target_minor,
        weeks: 10.0,
        lookback: Period::new(day(0), day(90)),
        now: day(90),
        slice: Slice::default(),
    }
}

/// `won` deals won and `lost` lost, all through s4, of value 1,000 each.
fn closed(won: usize, lost: usize) -> Vec<DealFact> {
    let mut v = Vec::new();
    for i in 0..won + lost {
        let end = if i < won { DealEvent::won(day(20)) } else { DealEvent::lost(day(20)) };
        v.push(deal(&format!("d{i}"), 1_000, vec![enter("s1", 1), enter("s4", 10), end]));
    }
    v
}

#[test]
fn ceil_of_exact_ratios_gives_100_for_5_over_5_percent() {
    // Conversion 1/20 = 5%: 5 wins need exactly 100 proposals, not 101.
    let mut f = world(closed(1, 19));
    f.outreach = (0..40).map(|i| msg(&format!("pe{}", i % 20), 1, None, false)).collect();
    let plan = plan_goal(&f, &input(5_000));
    assert_eq!(plan.wins, Some(5));
    assert_eq!(plan.needed["proposal"], Some(100));
    assert_eq!(plan.needed["meeting"], Some(100));
    // 20 meetings booked from 20 prospects; 2 messages per prospect.
    assert_eq!(plan.prospects_contacted_needed, Some(100));
    assert_eq!(plan.outreach_needed, Some(200));
    assert_eq!(plan.per_week.wins, Some(0.5));
    assert_eq!(plan.per_week.outreach_needed, Some(20.0));
    assert!(plan.missing.is_empty(), "{:?}", plan.missing);
}

#[test]
fn wins_round_up() {
    let f = world(closed(3, 0)); // avg 1,000
    assert_eq!(plan_goal(&f, &input(2_001)).wins, Some(3));
    assert_eq!(plan_goal(&f, &input(2_000)).wins, Some(2));
}

#[test]
fn no_wins_makes_every_figure_null_and_says_why() {
    let plan = plan_goal(&world(closed(0, 3)), &input(5_000));
    assert_eq!((plan.wins, plan.prospects_contacted_needed, plan.outreach_needed), (None, None, None));
    assert!(plan.needed.values().all(Option::is_none));
    assert!(plan.missing.iter().any(|m| m.contains("no wins")), "{:?}", plan.missing);
    let json = serde_json::to_value(&plan).unwrap();
    assert!(json["wins"].is_null() && json["per_week"]["wins"].is_null());
}

#[test]
fn missing_milestone_and_outreach_are_named() {
    let mut f = world(closed(2, 2));
    f.pipelines[0].stages[2].milestone = None; // no meeting stage any more
    let plan = plan_goal(&f, &input(5_000));
    assert_eq!(plan.needed["meeting"], None);
    assert_eq!(plan.needed["proposal"], Some(10));
    assert_eq!(plan.prospects_contacted_needed, None);
    assert!(plan.missing.iter().any(|m| m.contains("no stage with milestone meeting")));
    assert!(plan.missing.iter().any(|m| m.contains("no outreach")));
}

#[test]
fn pace_is_the_last_four_full_weeks() {
    // day(85) is Friday 2026-03-27; its week starts Monday 2026-03-23 (day 81).
    let mut f = world(closed(4, 0));
    f.outreach = vec![msg("a", 60, None, false), msg("b", 52, None, false)];
    let plan = plan_goal(&f, &PlannerInput { now: day(85), ..input(1) });
    assert_eq!((plan.current_pace.from, plan.current_pace.to), (day(53), day(81)));
    assert_eq!((plan.current_pace.outreach_sent, plan.current_pace.wins), (0.25, 0.0));
}

//! Models are checked, facts earn contributions, the ledger nets to them,
//! the score is the sum of its contributions, and thresholds fire once per
//! crossing.

use super::eval::{Fact, Facts, desired};
use super::ledger::{Entry, diff, score};
use super::thresholds::{Armed, Firing, step};
use super::*;
use crate::deal_change::gate_tests::deal;
use crate::playbook::gate::Records;
use crate::time::Timestamp;
use proptest::prelude::*;
use serde_json::json;

const DAY: i64 = 86_400_000;

fn model(v: serde_json::Value) -> ModelBody {
    serde_json::from_value(v).expect("a model body")
}

fn refs() -> Refs<'static> {
    Refs { stages: &[StageId(10), StageId(11), StageId(12)], campaign_exists: true, ..Default::default() }
}

fn fields_of(e: crate::Invalid) -> Vec<String> {
    e.0.into_iter().map(|f| f.field).collect()
}

fn sample() -> ModelBody {
    let m = model(json!({
        "rules": [
            {"group": "fit", "field": "source", "op": "eq", "value": "Referral", "points": 20},
            {"id": "replies", "group": "engagement", "event": "outreach.replied", "points": 10, "cap": 25, "half_life_days": 30},
            {"id": "budget", "group": "question", "question": "Budget confirmed?", "answers": {"yes": 30, "no": -40}}
        ],
        "thresholds": {"disqualify_below": 0, "nurture_at": 50, "rearm_gap": 10},
        "bands": [{"name": "A", "min": 60}, {"name": "B", "min": 30}, {"name": "C", "min": -1000}]
    }));
    check_model(&m, &refs()).expect("a valid model")
}

fn reply(n: i64, at: i64) -> Fact {
    Fact {
        event: EngagementEvent::OutreachReplied,
        key: format!("outreach:{n}"),
        at: Timestamp(at),
        sentiment: None,
        activity_kind: None,
        stage_id: None,
        machine: false,
        label: String::new(),
    }
}

#[test]
fn rules_get_ids_and_bad_rules_are_named() {
    let m = sample();
    assert_eq!(m.rules[0].id(), "rule-1");
    assert_eq!(m.rules[2].id(), "budget");
    let bad = model(json!({
        "rules": [
            {"group": "fit", "field": "organization.revenue", "op": "eq", "value": 1, "points": 5},
            {"group": "question", "question": "Budget?", "answers": {}},
            {"group": "engagement", "event": "email.opened", "points": 5, "half_life_days": 0},
            {"group": "fit", "field": "value", "op": "between", "value": [10, 1], "points": 5000}
        ],
        "thresholds": {"disqualify_below": 50, "nurture_at": 20}
    }));
    let e = fields_of(check_model(&bad, &refs()).expect_err("invalid"));
    for f in [
        "rules[0].field",
        "rules[1].answers",
        "rules[2].half_life_days",
        "rules[3].value",
        "rules[3].points",
        "thresholds",
    ] {
        assert!(e.contains(&f.to_string()), "{f} missing from {e:?}");
    }
}

#[test]
fn facts_earn_contributions_and_the_score_explains_itself() {
    let m = sample();
    let mut d = deal();
    d.source = Some("referral".into());
    let answers = vec![("budget".to_string(), "yes".to_string())];
    let events = vec![reply(1, 0), reply(2, 0), reply(3, 30 * DAY)];
    let facts =
        Facts { records: Records { deal: &d, person: None, organization: None }, answers: &answers, events: &events };
    let now = Timestamp(30 * DAY);
    let ledger = diff(&[], &desired(&m, &facts), now);
    assert_eq!(ledger.len(), 5);
    let s = score(&m, &ledger, now);
    // Two replies a half-life old (5 each) and one today (10): 20, under the cap.
    assert_eq!(s.groups.engagement, 20.0);
    assert_eq!(s.total, 70.0);
    assert_eq!(s.band.as_deref(), Some("A"));
    let sum: f64 = s.contributions.iter().map(|c| c.points_now).sum();
    assert!((sum - s.total).abs() < 1e-9);
    // A fourth reply today goes over the cap: a line takes the excess off.
    let events = [events.clone(), vec![reply(4, 30 * DAY)]].concat();
    let facts = Facts { events: &events, ..facts };
    let more = diff(&ledger, &desired(&m, &facts), now);
    assert_eq!(more.len(), 1, "only the new reply is appended");
    let all = [ledger.clone(), more].concat();
    let s = score(&m, &all, now);
    assert_eq!(s.groups.engagement, 25.0);
    assert!(s.contributions.iter().any(|c| c.cap && c.points_now == -5.0));
    // As of before the replies were recorded, only nothing counts.
    assert_eq!(score(&m, &all, Timestamp(now.0 - 1)).total, 0.0);
}

#[test]
fn a_changed_answer_is_taken_back_and_replaced() {
    let m = sample();
    let d = deal();
    let rec = Records { deal: &d, person: None, organization: None };
    let yes = vec![("budget".to_string(), "yes".to_string())];
    let first = diff(&[], &desired(&m, &Facts { records: rec, answers: &yes, events: &[] }), Timestamp(1));
    let no = vec![("budget".to_string(), "no".to_string())];
    let second = diff(&first, &desired(&m, &Facts { records: rec, answers: &no, events: &[] }), Timestamp(2));
    let points: Vec<f64> = second.iter().map(|e| e.points).collect();
    assert_eq!(points, [-30.0, -40.0]);
    let all = [first, second].concat();
    assert_eq!(score(&m, &all, Timestamp(2)).groups.questions, -40.0);
    assert_eq!(score(&m, &all, Timestamp(1)).groups.questions, 30.0, "as of before the change");
}

#[test]
fn a_hovering_score_fires_once_per_crossing() {
    let t = sample().thresholds;
    let mut armed = Armed::default();
    let mut fired = Vec::new();
    for total in [5.0, -1.0, 1.0, -2.0, 3.0, 9.0, 11.0, -5.0, 55.0, 45.0, 52.0, 39.0, 50.0] {
        let (next, f) = step(&t, armed, total);
        armed = next;
        fired.extend(f);
    }
    assert_eq!(fired, [Firing::Disqualify, Firing::Disqualify, Firing::Nurture, Firing::Nurture]);
}

fn fact_strategy() -> impl Strategy<Value = (u8, i64)> {
    (0u8..3, 0i64..200)
}

proptest! {
    /// Any sequence of fact sets, each diffed into the ledger: the ledger
    /// nets to what the last set earns, and the total is the sum of the
    /// contributions' points now, at any moment.
    #[test]
    fn the_score_is_the_sum_of_its_ledger(
        steps in prop::collection::vec((prop::collection::vec(fact_strategy(), 0..6), 0u8..3, any::<bool>()), 1..8),
        ask in 0i64..400,
    ) {
        let m = sample();
        let mut d = deal();
        let mut ledger: Vec<Entry> = Vec::new();
        let mut now = 0;
        for (n, (facts, answer, referral)) in steps.iter().enumerate() {
            now += DAY;
            d.source = referral.then(|| "Referral".to_string());
            let answers: Vec<(String, String)> = match answer {
                0 => vec![],
                1 => vec![("budget".into(), "yes".into())],
                _ => vec![("budget".into(), "no".into())],
            };
            let mut events: Vec<Fact> = facts.iter().map(|(k, day)| reply(i64::from(*k) + 10 * n as i64, day * DAY)).collect();
            // A fact's key is unique, as the store's keys are.
            events.sort_by(|a, b| a.key.cmp(&b.key));
            events.dedup_by(|a, b| a.key == b.key);
            let f = Facts { records: Records { deal: &d, person: None, organization: None }, answers: &answers, events: &events };
            let want = desired(&m, &f);
            ledger.extend(diff(&ledger, &want, Timestamp(now)));
            for w in &want {
                let held: f64 = ledger.iter().filter(|e| e.rule_id == w.rule_id && e.fact_key == w.fact_key).map(|e| e.points).sum();
                prop_assert!((held - w.points).abs() < 1e-9);
            }
            prop_assert!(diff(&ledger, &want, Timestamp(now)).is_empty(), "a second diff appends nothing");
        }
        let s = score(&m, &ledger, Timestamp(ask * DAY));
        let sum: f64 = s.contributions.iter().map(|c| c.points_now).sum();
        prop_assert!((round2(sum) - s.total).abs() < 0.011, "total {} against sum {}", s.total, sum);
        let groups = s.groups.fit + s.groups.engagement + s.groups.questions;
        prop_assert!((round2(groups) - s.total).abs() < 1e-9);
    }
}

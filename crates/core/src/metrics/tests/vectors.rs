//! Loads every world of `testdata/metrics-cases/` into the engine's
//! fact types and compares every expected figure (activity metrics, stage
//! metrics, planner, forecast): floats within 1e-6 relative, `null` only
//! where `null` is expected.

use super::{name_of, num};
use crate::ids::{CampaignId, DealId, PersonId, PipelineId, StageId, UserId};
use crate::metrics::*;
use crate::model::{Channel, DealStatus, Milestone, Sentiment};
use serde_json::Value;
use std::path::PathBuf;

fn cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/metrics-cases/")
}

/// An RFC 3339 instant, or a date meaning midnight UTC (the vectors' time zone).
pub(super) fn ms(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or_else(|| panic!("time expected, got {v}"));
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return t.timestamp_millis();
    }
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|e| panic!("bad time {s}: {e}"));
    d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_millis()
}

fn opt_ms(v: &Value) -> Option<i64> {
    (!v.is_null()).then(|| ms(v))
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_else(|| panic!("string expected, got {v}")).to_string()
}

/// A text id of the vectors (`"d0"`, `"s2"`) as its interned number.
fn id(v: &Value) -> i64 {
    num(&text(v))
}

/// An id that may be absent: the vectors write `""` for none.
fn opt_id(v: &Value) -> Option<i64> {
    (!text(v).is_empty()).then(|| id(v))
}

/// `v` with every object key that is an interned number turned back into
/// the vectors' text id, so results compare with the expected JSON.
fn named_keys(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            Value::Object(m.into_iter().map(|(k, v)| (k.parse::<i64>().map_or(k, name_of), named_keys(v))).collect())
        }
        other => other,
    }
}

/// The world's facts, through the engine's own types.
pub(super) fn load_facts(world: &Value) -> Facts {
    let pipelines = world["pipelines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| PipelineInfo {
            id: PipelineId(id(&p["id"])),
            stages: p["stages"]
                .as_array()
                .unwrap()
                .iter()
                .enumerate()
                .map(|(i, s)| StageInfo {
                    id: StageId(id(&s["id"])),
                    order: i as i64,
                    milestone: s["milestone"].as_str().map(|m| Milestone::parse(m).unwrap()),
                    probability: s["probability"].as_f64(),
                })
                .collect(),
        })
        .collect();
    let deals = world["deals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| DealFact {
            id: DealId(id(&d["id"])),
            pipeline: PipelineId(id(&d["pipeline"])),
            value: d["value"].as_i64().unwrap(),
            currency: text(&d["currency"]),
            contract_months: d.get("contract_months").and_then(Value::as_i64),
            probability: d.get("probability").and_then(Value::as_f64),
            expected_close_at: d.get("expected_close_date").and_then(opt_ms),
            owner: opt_id(&d["owner"]).map(UserId),
            source: text(&d["source"]),
            created_at: ms(&d["created_at"]),
            status: DealStatus::parse(d["status"].as_str().unwrap()).unwrap(),
            closed_at: opt_ms(&d["closed_at"]),
            events: d["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    let at = ms(&e["at"]);
                    match (e.get("stage").and_then(Value::as_str), e.get("status").and_then(Value::as_str)) {
                        (Some(s), _) => DealEvent::enter(StageId(num(s)), at),
                        (None, Some("won")) => DealEvent::won(at),
                        (None, Some("lost")) => DealEvent::lost(at),
                        (None, Some("open")) => DealEvent::reopen(at),
                        other => panic!("unknown event {other:?}"),
                    }
                })
                .collect(),
        })
        .collect();
    let outreach = world["outreach"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| OutreachFact {
            person: PersonId(id(&o["person"])),
            campaign: opt_id(&o["campaign"]).map(CampaignId),
            channel: Channel::parse(&text(&o["channel"])).unwrap(),
            sent_at: ms(&o["sent_at"]),
            replied_at: opt_ms(&o["replied_at"]),
            sentiment: o["sentiment"].as_str().map(|s| Sentiment::parse(s).unwrap()),
        })
        .collect();
    Facts { pipelines, deals, outreach, rates: ExchangeRates::base_only("USD") }
}

fn close(e: f64, a: f64) -> bool {
    (e - a).abs() <= 1e-6 * e.abs().max(a.abs()) || (e == 0.0 && a.abs() < 1e-9)
}

/// Every figure of `exp` must be in `act` and agree.
fn compare(path: &str, exp: &Value, act: &Value, errs: &mut Vec<String>) {
    match (exp, act) {
        (Value::Null, Value::Null) => {}
        (Value::Number(e), Value::Number(a)) => {
            let (e, a) = (e.as_f64().unwrap(), a.as_f64().unwrap());
            if !close(e, a) {
                errs.push(format!("{path}: expected {e}, got {a}"));
            }
        }
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                match a.get(k) {
                    Some(av) => compare(&format!("{path}.{k}"), ev, av, errs),
                    None => errs.push(format!("{path}.{k}: missing")),
                }
            }
        }
        (e, a) if e == a => {}
        (e, a) => errs.push(format!("{path}: expected {e}, got {a}")),
    }
}

fn check_world(name: &str, world: &Value, errs: &mut Vec<String>) -> usize {
    let facts = load_facts(world);
    let expected = &world["expected"];
    let input = &expected["planner_input"];
    let mut figures = 0;
    for per in expected["periods"].as_array().unwrap() {
        let p = Period::new(ms(&per["from"]), ms(&per["to"]));
        let at = format!("{name}[{}..{})", text(&per["from"]), text(&per["to"]));

        let m = serde_json::to_value(activity_metrics(&facts, &Slice::default(), p)).unwrap();
        compare(&format!("{at}.metrics"), &per["metrics"], &m, errs);
        figures += per["metrics"].as_object().unwrap().len();

        let s = named_keys(serde_json::to_value(stage_metrics(&facts, &Slice::default(), p).stages).unwrap());
        compare(&format!("{at}.stages"), &per["stages"], &s, errs);
        figures += per["stages"].as_object().unwrap().len() * 4;

        let plan = plan_goal(
            &facts,
            &PlannerInput {
                target_minor: input["target_minor"].as_i64().unwrap(),
                weeks: input["weeks"].as_f64().unwrap(),
                lookback: p,
                now: p.to,
                slice: Slice::default(),
            },
        );
        if per["planner"].is_null() {
            // No wins to learn from: every figure of the plan is null.
            if plan.wins.is_some() || plan.prospects_contacted_needed.is_some() || plan.outreach_needed.is_some() {
                errs.push(format!("{at}.planner: expected null, got {plan:?}"));
            }
            figures += 1;
        } else {
            compare(&format!("{at}.planner"), &per["planner"], &serde_json::to_value(&plan).unwrap(), errs);
            figures += 9;
        }
    }

    let fe = &expected["forecast"];
    let f = forecast(&facts, ms(&fe["as_of"]), &ForecastOptions::default());
    let fa = named_keys(serde_json::to_value(&f).unwrap());
    compare(&format!("{name}.forecast"), &fe["weighted_pipeline"], &fa["weighted_pipeline"], errs);
    compare(&format!("{name}.forecast"), &fe["unforecastable"], &fa["unforecastable"], errs);
    compare(&format!("{name}.forecast.deal_probability"), &fe["deal_probability"], &fa["deal_probability"], errs);
    // The same open deals, whatever order their numbers sort in.
    let mut want: Vec<String> = fe["deal_probability"].as_object().unwrap().keys().cloned().collect();
    want.sort();
    let mut got: Vec<String> = f.deal_probability.keys().map(|d| name_of(d.0)).collect();
    got.sort();
    if want != got {
        errs.push(format!("{name}.forecast: open deals differ: expected {want:?}, got {got:?}"));
    }
    figures + 2 + want.len() * 2
}

#[test]
fn every_vector_figure_agrees() {
    let dir = cases_dir();
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "metrics test vectors missing: cannot read {} ({e}); they ship in testdata/metrics-cases/ at the repository root",
            dir.display()
        )
    });
    let mut files: Vec<PathBuf> =
        entries.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "json")).collect();
    files.sort();
    assert!(files.len() >= 3, "expected at least 3 vector files in {}, found {files:?}", dir.display());
    let mut errs = Vec::new();
    for file in &files {
        let world: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let name = file.file_stem().unwrap().to_string_lossy().to_string();
        let n = check_world(&name, &world, &mut errs);
        eprintln!("{name}: {n} figures compared");
    }
    assert!(errs.is_empty(), "{} figures disagree:\n{}", errs.len(), errs.join("\n"));
}

#[test]
fn the_comparison_is_strict() {
    use serde_json::json;
    let mut errs = Vec::new();
    compare(
        "x",
        &json!({"a": 1.0, "b": null, "c": {"d": 2}}),
        &json!({"a": 1.0000000001, "b": null, "c": {"d": 2}}),
        &mut errs,
    );
    assert!(errs.is_empty(), "{errs:?}");
    for actual in [
        json!({"a": 1.00001, "b": null, "c": {"d": 2}}),
        json!({"a": 1.0, "b": 0.0, "c": {"d": 2}}),
        json!({"a": 1.0, "b": null, "c": {}}),
        json!({"a": null, "b": null, "c": {"d": 2}}),
    ] {
        let mut errs = Vec::new();
        compare("x", &json!({"a": 1.0, "b": null, "c": {"d": 2}}), &actual, &mut errs);
        assert_eq!(errs.len(), 1, "{actual}: {errs:?}");
    }
}

//! Every world of `testdata/metrics-cases/` loaded through the
//! product's storage path (pipelines, stages, users, people, campaigns,
//! deals with their historical stage moves, outreach), read back with
//! `Store::metric_facts`, and computed by the engine — and the activity and
//! stage figures a second time from the store's projections, as the API
//! computes them: every expected figure must agree (floats within 1e-6
//! relative, `null` only where expected).
//! Runs on the engine `DEALFLOW_TEST_DATABASE` selects.

use dealflow_core::currency::Currency;
use dealflow_core::metrics::*;
use dealflow_core::model::*;
use dealflow_core::time::Timestamp;
use dealflow_core::{CampaignId, PersonId, StageId, UserId};
use dealflow_store::{Actor, Store};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::PathBuf;

fn cases() -> Vec<(String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/metrics-cases");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "the metric test vectors are missing: cannot read {} ({e}); they ship in testdata/metrics-cases/",
                dir.display()
            )
        })
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "expected at least 3 vectors in {}", dir.display());
    files
        .iter()
        .map(|f| {
            let name = f.file_stem().unwrap().to_string_lossy().to_string();
            (name, serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap())
        })
        .collect()
}

/// An RFC 3339 instant, or a date meaning midnight (the vectors' workspace is in UTC).
fn ms(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or_else(|| panic!("time expected, got {v}"));
    if let Ok(t) = Timestamp::parse(s) {
        return t.0;
    }
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    dealflow_core::time::TimeZone::UTC.midnight(d)
}

fn ts(v: &Value) -> Option<Timestamp> {
    (!v.is_null()).then(|| Timestamp(ms(v)))
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("string expected, got {v}"))
}

/// The vector's ids → the store's ids (as the engine's strings).
#[derive(Default)]
struct Ids {
    stages: HashMap<String, String>,
    deals: HashMap<String, String>,
}

async fn load(store: &Store, world: &Value) -> Ids {
    let actor = Actor::system();
    let settings = store.settings().await.unwrap();
    let patch = SettingsPatch {
        version: settings.version,
        name: None,
        time_zone: None,
        base_currency: None,
        exchange_rates: None,
        working_days: None,
        require_lost_reason: Some(false),
        override_roles: None,
    };
    store.update_settings(&actor, patch).await.unwrap();

    let mut ids = Ids::default();
    let mut stage_of: HashMap<String, StageId> = HashMap::new();
    for p in world["pipelines"].as_array().unwrap() {
        let stages = p["stages"].as_array().unwrap();
        let new = NewPipeline {
            name: s(&p["name"]).to_string(),
            stages: stages
                .iter()
                .map(|st| NewStage {
                    name: s(&st["name"]).to_string(),
                    position: None,
                    probability: None,
                    rotting_days: None,
                    milestone: None,
                })
                .collect(),
        };
        let created = store.create_pipeline(&actor, new).await.unwrap();
        for (v, st) in stages.iter().zip(&created.stages) {
            let milestone = v["milestone"].as_str().map(|m| Milestone::parse(m).unwrap());
            let probability = v["probability"].as_f64().map(|x| x as i64);
            if milestone.is_some() || probability.is_some() {
                let patch = StagePatch {
                    version: st.version,
                    name: None,
                    position: None,
                    probability: Some(probability),
                    rotting_days: None,
                    milestone: Some(milestone),
                    archived: None,
                };
                store.update_stage(&actor, st.id, patch).await.unwrap();
            }
            ids.stages.insert(s(&v["id"]).to_string(), st.id.to_string());
            stage_of.insert(s(&v["id"]).to_string(), st.id);
        }
    }

    let mut owners: HashMap<String, UserId> = HashMap::new();
    for d in world["deals"].as_array().unwrap() {
        let o = s(&d["owner"]).to_string();
        if let Entry::Vacant(e) = owners.entry(o.clone()) {
            let u = store.create_user(&actor, &format!("{o}@example.com"), &o, Role::Rep, "x", None).await.unwrap();
            e.insert(u.id);
        }
    }
    for d in world["deals"].as_array().unwrap() {
        let events = d["events"].as_array().unwrap();
        let first = s(&events[0]["stage"]);
        let new = NewDeal {
            title: s(&d["id"]).to_string(),
            value: d["value"].as_i64().unwrap(),
            currency: Some(Currency::parse(s(&d["currency"])).unwrap()),
            contract_months: d.get("contract_months").and_then(Value::as_i64),
            pipeline_id: None,
            stage_id: Some(stage_of[first]),
            probability: d.get("probability").and_then(Value::as_f64).map(|p| p as i64),
            owner_id: Some(owners[s(&d["owner"])]),
            source: Some(s(&d["source"]).to_string()),
            created_at: ts(&d["created_at"]),
            ..Default::default()
        };
        // The pipeline follows from the stage.
        let stage = store.stage(stage_of[first]).await.unwrap();
        let mut deal =
            store.create_deal(&actor, NewDeal { pipeline_id: Some(stage.pipeline_id), ..new }).await.unwrap();
        assert_eq!(deal.created_at.0, ms(&events[0]["at"]));
        for e in &events[1..] {
            let mut p = DealPatch { version: deal.version, at: ts(&e["at"]), ..Default::default() };
            match (e.get("stage").and_then(Value::as_str), e.get("status").and_then(Value::as_str)) {
                (Some(st), _) => p.stage_id = Some(stage_of[st]),
                (None, Some(status)) => p.status = Some(DealStatus::parse(status).unwrap()),
                other => panic!("unknown event {other:?}"),
            }
            deal = store.update_deal(&actor, deal.id, p).await.unwrap();
        }
        assert_eq!(deal.status.as_str(), s(&d["status"]), "deal {}", d["id"]);
        assert_eq!(deal.closed_at, ts(&d["closed_at"]), "deal {}", d["id"]);
        ids.deals.insert(s(&d["id"]).to_string(), deal.id.to_string());
    }

    let mut people: HashMap<String, PersonId> = HashMap::new();
    let mut campaigns: HashMap<String, CampaignId> = HashMap::new();
    for o in world["outreach"].as_array().unwrap() {
        let (pe, ca) = (s(&o["person"]).to_string(), s(&o["campaign"]).to_string());
        if let Entry::Vacant(e) = people.entry(pe.clone()) {
            let p = store.create_person(&actor, NewPerson { name: pe.clone(), ..Default::default() }).await.unwrap();
            e.insert(p.id);
        }
        if let Entry::Vacant(e) = campaigns.entry(ca.clone()) {
            let c =
                store.create_campaign(&actor, NewCampaign { name: ca.clone(), ..Default::default() }).await.unwrap();
            e.insert(c.id);
        }
        let m = NewOutreachMessage {
            person_id: people[&pe],
            campaign_id: Some(campaigns[&ca]),
            channel: Some(Channel::parse(s(&o["channel"])).unwrap()),
            sent_at: ts(&o["sent_at"]),
            replied_at: ts(&o["replied_at"]),
            sentiment: o["sentiment"].as_str().map(|x| Sentiment::parse(x).unwrap()),
        };
        store.create_outreach(&actor, m).await.unwrap();
    }
    ids
}

fn close(e: f64, a: f64) -> bool {
    (e - a).abs() <= 1e-6 * e.abs().max(a.abs()) || (e == 0.0 && a.abs() < 1e-9)
}

/// Every figure of `exp` must be in `act` and agree.
fn compare(path: &str, exp: &Value, act: &Value, errs: &mut Vec<String>) {
    match (exp, act) {
        (Value::Null, Value::Null) => {}
        (Value::Number(e), Value::Number(a)) => {
            if !close(e.as_f64().unwrap(), a.as_f64().unwrap()) {
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

/// Re-keys a map by the vector's ids, keeping only the ids the vector knows.
fn rekey(map: &Value, ids: &HashMap<String, String>) -> Value {
    let back: HashMap<&String, &String> = ids.iter().map(|(v, real)| (real, v)).collect();
    let out: Map<String, Value> = map
        .as_object()
        .unwrap()
        .iter()
        .filter_map(|(k, v)| back.get(k).map(|vk| (vk.to_string(), v.clone())))
        .collect();
    Value::Object(out)
}

async fn check_world(name: &str, world: &Value, errs: &mut Vec<String>) -> usize {
    let db = dealflow_store::testing::test_database().await.unwrap();
    let store = db.open().await.unwrap();
    let ids = load(&store, world).await;
    let facts = store.metric_facts().await.unwrap();
    assert_eq!(facts.deals.len(), ids.deals.len(), "{name}: every deal is read back");
    let expected = &world["expected"];
    let input = &expected["planner_input"];
    let mut figures = 0;
    for per in expected["periods"].as_array().unwrap() {
        let p = Period::new(ms(&per["from"]), ms(&per["to"]));
        let at = format!("{name}[{}..{})", s(&per["from"]), s(&per["to"]));
        let m = serde_json::to_value(activity_metrics(&facts, &Slice::default(), p)).unwrap();
        compare(&format!("{at}.metrics"), &per["metrics"], &m, errs);
        figures += per["metrics"].as_object().unwrap().len();

        let st = rekey(&serde_json::to_value(stage_metrics(&facts, &Slice::default(), p).stages).unwrap(), &ids.stages);
        compare(&format!("{at}.stages"), &per["stages"], &st, errs);
        figures += per["stages"].as_object().unwrap().len() * 4;

        // The same figures from the projections, as the API answers them.
        let inputs = store.activity_inputs(&Slice::default(), p).await.unwrap();
        let m = serde_json::to_value(activity_from(&inputs, &facts.rates, &Slice::default())).unwrap();
        compare(&format!("{at}.metrics (projections)"), &per["metrics"], &m, errs);
        let inputs = store.stage_inputs(&Slice::default(), p).await.unwrap();
        let st = stages_from(&inputs, &facts.pipelines, &Slice::default()).stages;
        let st = rekey(&serde_json::to_value(st).unwrap(), &ids.stages);
        compare(&format!("{at}.stages (projections)"), &per["stages"], &st, errs);
        figures += per["metrics"].as_object().unwrap().len() + per["stages"].as_object().unwrap().len() * 4;

        let planner = PlannerInput {
            target_minor: input["target_minor"].as_i64().unwrap(),
            weeks: input["weeks"].as_f64().unwrap(),
            lookback: p,
            now: p.to,
            slice: Slice::default(),
        };
        let plan = plan_goal(&facts, &planner);
        // The same plan from the projections' inputs, as the API makes it.
        let none = Slice::default();
        let lookback = store.activity_inputs(&none, p).await.unwrap();
        let stages = store.stage_inputs(&none, p).await.unwrap();
        let pace = store.activity_inputs(&none, pace_period(p.to)).await.unwrap();
        let inputs = PlannerInputs {
            lookback: &lookback,
            stages: &stages,
            pace: &pace,
            pipelines: &facts.pipelines,
            rates: &facts.rates,
        };
        let plan_sql = plan_from(&inputs, &planner);
        assert_eq!(plan_sql, plan, "{at}: the planner from the projections differs from the replay");
        if per["planner"].is_null() {
            if plan.wins.is_some() || plan.prospects_contacted_needed.is_some() || plan.outreach_needed.is_some() {
                errs.push(format!("{at}.planner: expected null, got {plan:?}"));
            }
        } else {
            compare(&format!("{at}.planner"), &per["planner"], &serde_json::to_value(&plan).unwrap(), errs);
        }
        figures += 1;
    }

    let fe = &expected["forecast"];
    let history = store.deal_field_history_all().await.unwrap();
    let fields = |d: &DealFact, t: Ms| history.fields_at(d, t);
    let f = forecast_with_fields(&facts, ms(&fe["as_of"]), &fields, &ForecastOptions::default());
    let mut fa = serde_json::to_value(&f).unwrap();
    fa["deal_probability"] = rekey(&fa["deal_probability"], &ids.deals);
    for key in ["weighted_pipeline", "unforecastable", "deal_probability"] {
        compare(&format!("{name}.forecast.{key}"), &fe[key], &fa[key], errs);
    }
    let want: Vec<&String> = fe["deal_probability"].as_object().unwrap().keys().collect();
    let mut got: Vec<&String> = fa["deal_probability"].as_object().unwrap().keys().collect();
    got.sort();
    if want != got {
        errs.push(format!("{name}.forecast: open deals differ: expected {want:?}, got {got:?}"));
    }
    store.close().await;
    figures + 2 + want.len() * 2
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_vector_agrees_through_the_store() {
    let mut errs = Vec::new();
    for (name, world) in cases() {
        let n = check_world(&name, &world, &mut errs).await;
        eprintln!("{name}: {n} figures compared on {}", dealflow_store::testing::engine_name());
    }
    assert!(errs.is_empty(), "{} figures disagree:\n{}", errs.len(), errs.join("\n"));
}

#[test]
fn the_comparison_is_strict() {
    let want = json!({"a": 1.0, "b": null});
    let mut errs = Vec::new();
    compare("x", &want, &json!({"a": 1.0000000001, "b": null}), &mut errs);
    assert!(errs.is_empty(), "{errs:?}");
    for bad in [json!({"a": 1.00001, "b": null}), json!({"a": 1.0, "b": 0.0}), json!({"b": null})] {
        let mut errs = Vec::new();
        compare("x", &want, &bad, &mut errs);
        assert_eq!(errs.len(), 1, "{bad}");
    }
}

/// A backtest sees a deal's fields as they were: the old value before a
/// change, the new one from the change on; other fields stay current.
#[tokio::test]
async fn field_history_gives_values_as_of_a_moment() {
    let db = dealflow_store::testing::test_database().await.unwrap();
    let store = db.open().await.unwrap();
    let actor = Actor::system();
    let now = Timestamp::now().0;
    let day = 86_400_000;
    let new = NewDeal {
        title: "History".into(),
        value: 1_000,
        probability: Some(20),
        created_at: Some(Timestamp(now - 30 * day)),
        ..Default::default()
    };
    let d = store.create_deal(&actor, new).await.unwrap();
    let p =
        DealPatch { version: d.version, value: Some(5_000), at: Some(Timestamp(now - 10 * day)), ..Default::default() };
    let d = store.update_deal(&actor, d.id, p).await.unwrap();
    let p = DealPatch {
        version: d.version,
        probability: Some(Some(60)),
        at: Some(Timestamp(now - 5 * day)),
        ..Default::default()
    };
    store.update_deal(&actor, d.id, p).await.unwrap();

    let facts = store.metric_facts().await.unwrap();
    let history = store.deal_field_history_all().await.unwrap();
    let fact = facts.deals.iter().find(|f| f.id == d.id).unwrap();
    let early = history.fields_at(fact, now - 20 * day);
    assert_eq!((early.value, early.probability), (1_000, Some(20.0)));
    let middle = history.fields_at(fact, now - 10 * day);
    assert_eq!((middle.value, middle.probability), (5_000, Some(20.0)), "a change at T is known at T");
    let late = history.fields_at(fact, now);
    assert_eq!((late.value, late.probability), (5_000, Some(60.0)));
    store.close().await;
}

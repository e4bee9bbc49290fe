//! Metrics over HTTP: the `basics` test vector loaded through the API
//! (pipeline, people, campaigns, deals with their historical moves,
//! outreach), then `/api/v1/metrics`, `/metrics/stages`, `/forecast` and
//! `/planner` agree with its expected figures; bad parameters get problem
//! documents naming the parameter.

use crate::helpers::{TestApp, assert_problem, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;

fn vector() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/metrics-cases/basics.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!("the metric test vector {path} is missing ({e}); it ships in testdata/metrics-cases/")
    }))
    .expect("parse basics.json")
}

fn ok(status: StatusCode, body: &Value) {
    assert!(status.is_success(), "{status}: {body}");
}

/// Loads the vector; returns the vector's stage and deal ids → the app's.
async fn load(app: &TestApp, w: &Value) -> (HashMap<String, String>, HashMap<String, String>) {
    let (_, settings) = app.get("/api/v1/settings").await;
    let (s, b) =
        app.patch("/api/v1/settings", json!({"version": settings["version"], "require_lost_reason": false})).await;
    ok(s, &b);
    let mut stages = HashMap::new();
    let mut pipeline_id = Value::Null;
    for p in w["pipelines"].as_array().unwrap() {
        let body = json!({"name": p["name"], "stages": p["stages"].as_array().unwrap().iter()
            .map(|s| json!({"name": s["name"], "milestone": s["milestone"], "probability": s["probability"]}))
            .collect::<Vec<_>>()});
        let (s, created) = app.post("/api/v1/pipelines", body).await;
        ok(s, &created);
        pipeline_id = created["id"].clone();
        for (v, c) in p["stages"].as_array().unwrap().iter().zip(created["stages"].as_array().unwrap()) {
            stages.insert(v["id"].as_str().unwrap().to_string(), c["id"].as_str().unwrap().to_string());
        }
    }
    let mut deals = HashMap::new();
    for d in w["deals"].as_array().unwrap() {
        let ev = d["events"].as_array().unwrap();
        let mut body = json!({"title": d["id"], "value": d["value"], "currency": d["currency"], "source": d["source"],
            "pipeline_id": pipeline_id,
            "stage_id": stages[ev[0]["stage"].as_str().unwrap()], "created_at": d["created_at"]});
        for k in ["contract_months", "probability"] {
            if let Some(v) = d.get(k) {
                body[k] = v.clone();
            }
        }
        let mut deal = app.create_deal(body).await;
        let id = deal["id"].as_str().unwrap().to_string();
        for e in &ev[1..] {
            let mut p = json!({"version": deal["version"], "at": e["at"]});
            match e.get("stage").and_then(Value::as_str) {
                Some(st) => p["stage_id"] = json!(stages[st]),
                None => p["status"] = e["status"].clone(),
            }
            let (s, b) = app.patch(&format!("/api/v1/deals/{id}"), p).await;
            ok(s, &b);
            deal = b;
        }
        deals.insert(d["id"].as_str().unwrap().to_string(), id);
    }
    let (mut people, mut campaigns) = (HashMap::new(), HashMap::new());
    for o in w["outreach"].as_array().unwrap() {
        let (pe, ca) = (o["person"].as_str().unwrap(), o["campaign"].as_str().unwrap());
        if !people.contains_key(pe) {
            let (s, b) = app.post("/api/v1/people", json!({"name": pe})).await;
            ok(s, &b);
            people.insert(pe.to_string(), b["id"].clone());
        }
        if !campaigns.contains_key(ca) {
            let (s, b) = app.post("/api/v1/campaigns", json!({"name": ca})).await;
            ok(s, &b);
            campaigns.insert(ca.to_string(), b["id"].clone());
        }
        let body = json!({"person_id": people[pe], "campaign_id": campaigns[ca], "channel": o["channel"],
            "sent_at": o["sent_at"], "replied_at": o["replied_at"], "sentiment": o["sentiment"]});
        let (s, b) = app.post("/api/v1/outreach", body).await;
        ok(s, &b);
    }
    (stages, deals)
}

fn close(e: f64, a: f64) -> bool {
    (e - a).abs() <= 1e-6 * e.abs().max(a.abs())
}

/// Every figure of `exp` agrees with `act` (numbers within 1e-6 relative, null only as null).
fn agree(path: &str, exp: &Value, act: &Value) {
    match (exp, act) {
        (Value::Number(e), Value::Number(a)) => {
            assert!(close(e.as_f64().unwrap(), a.as_f64().unwrap()), "{path}: expected {e}, got {a}")
        }
        (Value::Object(e), Value::Object(_)) => {
            for (k, v) in e {
                agree(&format!("{path}.{k}"), v, &act[k]);
            }
        }
        (e, a) => assert_eq!(e, a, "{path}"),
    }
}

#[tokio::test]
async fn the_basics_vector_agrees_over_http() {
    let app = spawn_app().await;
    let w = vector();
    let (stages, deals) = load(&app, &w).await;
    for per in w["expected"]["periods"].as_array().unwrap() {
        let q = format!("from={}&to={}", per["from"].as_str().unwrap(), per["to"].as_str().unwrap());
        let (s, m) = app.get(&format!("/api/v1/metrics?{q}")).await;
        assert_eq!(s, StatusCode::OK, "{m}");
        agree(&format!("metrics[{q}]"), &per["metrics"], &m);
        assert_eq!(m["currency"], "USD");
        assert_eq!(m["period"]["from"].as_str().unwrap()[..10], *per["from"].as_str().unwrap());

        let (s, st) = app.get(&format!("/api/v1/metrics/stages?{q}")).await;
        assert_eq!(s, StatusCode::OK, "{st}");
        for (vid, exp) in per["stages"].as_object().unwrap() {
            let row = st["stages"].as_array().unwrap().iter().find(|r| r["stage_id"] == stages[vid]).unwrap();
            agree(&format!("stages[{q}].{vid}"), exp, row);
            assert!(row["name"].is_string() && row["pipeline"] == "Sales", "{row}");
        }
    }

    let fe = &w["expected"]["forecast"];
    let (s, f) = app.get("/api/v1/forecast?as_of=2026-04-10").await;
    assert_eq!(s, StatusCode::OK, "{f}");
    agree("forecast.weighted_pipeline", &fe["weighted_pipeline"], &f["weighted_pipeline"]);
    agree("forecast.unforecastable", &fe["unforecastable"], &f["unforecastable"]);
    for (vid, exp) in fe["deal_probability"].as_object().unwrap() {
        agree(&format!("forecast.{vid}"), exp, &f["deal_probability"][&deals[vid]]);
    }
    assert!(f["range"]["forecast_p50"].is_number(), "{f}");

    // Outreach carries no pipeline: under a pipeline slice it stays workspace-wide.
    let first_stage = &stages[w["pipelines"][0]["stages"][0]["id"].as_str().unwrap()];
    let (_, stage) = app.get(&format!("/api/v1/stages/{first_stage}")).await;
    let pipeline_id = stage["pipeline_id"].as_str().unwrap().to_string();
    let (s, m) = app.get(&format!("/api/v1/metrics?from=2026-01-01&to=2026-04-01&pipeline_id={pipeline_id}")).await;
    assert_eq!(s, StatusCode::OK, "{m}");
    assert_eq!(m["outreach_workspace_wide"], true);
    assert_eq!(m["deals_won"], 2);

    let (s, p) = app.get("/api/v1/planner?target=4000000&weeks=13&lookback_days=3650").await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert!(p["wins"].is_number() && p["per_week"].is_object() && p["current_pace"].is_object(), "{p}");
}

#[tokio::test]
async fn bad_parameters_get_problem_documents() {
    let app = spawn_app().await;
    let (s, b) = app.get("/api/v1/metrics").await;
    assert_eq!(s, StatusCode::OK, "the default period needs no parameters: {b}");
    assert!(b["response_rate"].is_null(), "a rate over nothing is null: {b}");
    for (url, field) in [
        ("/api/v1/metrics?from=2026-03-01&to=2026-03-01", "from"),
        ("/api/v1/metrics/stages?from=2026-04-01&to=2026-03-01", "from"),
        ("/api/v1/metrics?pipeline_id=1", "pipeline_id"),
        ("/api/v1/metrics/stages?owner_id=1", "owner_id"),
        ("/api/v1/forecast?pipeline_id=1", "pipeline_id"),
        ("/api/v1/forecast?as_of=2999-01-01", "as_of"),
        ("/api/v1/planner?target=100&weeks=0", "weeks"),
        ("/api/v1/planner?target=-1&weeks=4", "target"),
        ("/api/v1/planner?target=100&weeks=4&lookback_days=0", "lookback_days"),
    ] {
        let (s, b) = app.get(url).await;
        assert_problem(s, &b, StatusCode::UNPROCESSABLE_ENTITY, Some(field));
    }
    // Dates are typed query parameters: one that is not a date is a 400
    // like any other unreadable parameter, with the value in the message.
    for url in [
        "/api/v1/planner?target=100&weeks=abc",
        "/api/v1/planner?weeks=4",
        "/api/v1/metrics?channel=fax",
        "/api/v1/metrics?from=2026-13-01",
        "/api/v1/metrics?to=yesterday",
        "/api/v1/forecast?as_of=2026-02-30",
    ] {
        let (s, b) = app.get(url).await;
        assert_problem(s, &b, StatusCode::BAD_REQUEST, None);
    }
    let (s, b) = app.call_as(None, reqwest::Method::GET, "/api/v1/metrics", None).await;
    assert_problem(s, &b, StatusCode::UNAUTHORIZED, None);
}

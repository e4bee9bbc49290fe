//! The gate's rules over HTTP: who may override (a workspace setting),
//! skipping a step with a reason, pipelines that allow no skipping stages,
//! and loading history (admins only, marked on the events).

use crate::helpers::{TestApp, assert_problem, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn s(v: &Value) -> String {
    v.as_str().expect("a string id").to_string()
}

/// A token and the id of a new user of `role`.
async fn user(app: &TestApp, role: &str) -> (String, Value) {
    let body =
        json!({"email": format!("{role}@example.com"), "name": role, "role": role, "password": "a password 123"});
    let (st, u) = app.post("/api/v1/users", body).await;
    assert_eq!(st, StatusCode::CREATED, "{u}");
    let (st, t) = app.post("/api/v1/tokens", json!({"name": "t", "user_id": u["id"]})).await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    (s(&t["secret"]), u["id"].clone())
}

async fn step(app: &TestApp, stage: &str, body: Value) -> Value {
    let (st, v) = app.post(&format!("/api/v1/stages/{stage}/steps"), body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v
}

async fn set_override_roles(app: &TestApp, roles: Value) -> (StatusCode, Value) {
    let (_, cur) = app.get("/api/v1/settings").await;
    app.patch("/api/v1/settings", json!({"version": cur["version"], "override_roles": roles})).await
}

#[tokio::test]
async fn who_may_override_is_a_workspace_setting() {
    let app = spawn_app().await;
    let (_, settings) = app.get("/api/v1/settings").await;
    assert_eq!(settings["override_roles"], json!(["admin", "manager"]), "{settings}");
    let (st, p) = set_override_roles(&app, json!(["admin", "boss"])).await;
    assert_problem(st, &p, StatusCode::UNPROCESSABLE_ENTITY, Some("override_roles"));
    let (manager, _) = user(&app, "manager").await;
    let body = json!({"version": settings["version"], "override_roles": ["admin", "manager", "rep"]});
    let (st, p) = app.call_as(Some(&manager), Method::PATCH, "/api/v1/settings", Some(body)).await;
    assert_problem(st, &p, StatusCode::FORBIDDEN, None);

    let pl = app.default_pipeline().await;
    let (s0, s1) = (s(&pl["stages"][0]["id"]), s(&pl["stages"][1]["id"]));
    step(&app, &s0, json!({"title": "Qualify", "kind": "task"})).await;
    let d = app.create_deal(json!({"title": "Acme"})).await;
    let url = format!("/api/v1/deals/{}", s(&d["id"]));
    let (st, set) = set_override_roles(&app, json!(["admin"])).await;
    assert_eq!(st, StatusCode::OK, "{set}");
    assert_eq!(set["override_roles"], json!(["admin"]));
    let body = json!({"version": d["version"], "stage_id": s1, "override_reason": "customer asked"});
    let (st, p) = app.call_as(Some(&manager), Method::PATCH, &url, Some(body.clone())).await;
    assert_problem(st, &p, StatusCode::FORBIDDEN, None);
    assert!(p["detail"].as_str().is_some_and(|m| m.contains("admins may")), "says who may: {p}");

    let (rep, _) = user(&app, "rep").await;
    let (st, set) = set_override_roles(&app, json!(["rep", "admin", "rep"])).await;
    assert_eq!(st, StatusCode::OK, "{set}");
    assert_eq!(set["override_roles"], json!(["admin", "rep"]), "each role once, in order");
    let (st, moved) = app.call_as(Some(&rep), Method::PATCH, &url, Some(body)).await;
    assert_eq!(st, StatusCode::OK, "a rep may once the setting names reps: {moved}");
    assert_eq!(moved["stage_id"], json!(s1));
}

#[tokio::test]
async fn a_manager_skips_a_step_with_a_reason_and_it_counts_as_done() {
    let app = spawn_app().await;
    let pl = app.default_pipeline().await;
    let (s0, s1) = (s(&pl["stages"][0]["id"]), s(&pl["stages"][1]["id"]));
    let task = step(&app, &s0, json!({"title": "Qualify", "kind": "task"})).await;
    let field = step(&app, &s0, json!({"title": "Close date", "kind": "field", "field": "expected_close_date"})).await;
    let d = app.create_deal(json!({"title": "Acme"})).await;
    let id = s(&d["id"]);
    let skip = |step: &Value| format!("/api/v1/deals/{id}/steps/{}/skip", s(&step["id"]));
    let (rep, _) = user(&app, "rep").await;
    let (manager, manager_id) = user(&app, "manager").await;
    let why = json!({"reason": "qualified at the trade fair"});
    let (st, p) = app.call_as(Some(&rep), Method::POST, &skip(&task), Some(why.clone())).await;
    assert_problem(st, &p, StatusCode::FORBIDDEN, None);
    let (st, p) = app.call_as(Some(&manager), Method::POST, &skip(&task), Some(json!({"reason": "  "}))).await;
    assert_problem(st, &p, StatusCode::UNPROCESSABLE_ENTITY, Some("reason"));

    let (st, list) = app.call_as(Some(&manager), Method::POST, &skip(&task), Some(why.clone())).await;
    assert_eq!(st, StatusCode::OK, "{list}");
    let item = list.as_array().and_then(|l| l.iter().find(|i| i["step_id"] == task["id"])).cloned().expect("item");
    assert_eq!(item["status"], "skipped", "{item}");
    assert_eq!(item["reason"], "qualified at the trade fair");
    assert_eq!(item["done_by"], manager_id);
    assert!(item["done_at"].is_string(), "{item}");
    let (_, acts) = app.get(&format!("/api/v1/activities?deal_id={id}")).await;
    assert!(acts["items"][0]["done_at"].is_string(), "the step's task is closed: {acts}");
    // A field step may be skipped too; with both skipped the deal moves on.
    let (st, _) = app.call_as(Some(&manager), Method::POST, &skip(&field), Some(why)).await;
    assert_eq!(st, StatusCode::OK);
    let (_, moves) = app.get(&format!("/api/v1/deals/{id}/moves")).await;
    let to_s1 = moves.as_array().and_then(|m| m.iter().find(|m| m["stage_id"] == json!(s1))).cloned();
    assert_eq!(to_s1.expect("a move")["allowed"], true, "{moves}");

    // Ticking undone reopens a skipped step, and the gate holds again.
    let undone = format!("/api/v1/deals/{id}/steps/{}/undone", s(&field["id"]));
    let (st, list) = app.post(&undone, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{list}");
    let item = list.as_array().and_then(|l| l.iter().find(|i| i["step_id"] == field["id"])).cloned().expect("item");
    assert_eq!(item["status"], "open", "{item}");
    let (st, p) = app.patch(&format!("/api/v1/deals/{id}"), json!({"version": d["version"], "stage_id": s1})).await;
    assert_problem(st, &p, StatusCode::UNPROCESSABLE_ENTITY, Some("steps"));
    assert_eq!(p["errors"].as_array().map(Vec::len), Some(1), "only the reopened step: {p}");

    // Skipped again, the deal moves on; coming back keeps the skips (a
    // manager's decision, not a step left undone) and opens nothing.
    let (st, _) = app.call_as(Some(&manager), Method::POST, &skip(&field), Some(json!({"reason": "agreed"}))).await;
    assert_eq!(st, StatusCode::OK);
    let (_, now) = app.get(&format!("/api/v1/deals/{id}")).await;
    let (st, now) = app.patch(&format!("/api/v1/deals/{id}"), json!({"version": now["version"], "stage_id": s1})).await;
    assert_eq!(st, StatusCode::OK, "{now}");
    let (st, now) = app.patch(&format!("/api/v1/deals/{id}"), json!({"version": now["version"], "stage_id": s0})).await;
    assert_eq!(st, StatusCode::OK, "{now}");
    let (_, list) = app.get(&format!("/api/v1/deals/{id}/steps")).await;
    for (stp, reason) in [(&task, "qualified at the trade fair"), (&field, "agreed")] {
        let item = list.as_array().and_then(|l| l.iter().find(|i| i["step_id"] == stp["id"])).cloned().expect("item");
        assert_eq!(item["status"], "skipped", "kept on re-entry: {item}");
        assert_eq!(item["reason"], reason, "{item}");
    }

    let (st, log) = app.get(&format!("/api/v1/audit-log?record_type=deal&record_id={id}")).await;
    assert_eq!(st, StatusCode::OK, "{log}");
    let skips: Vec<&Value> =
        log["items"].as_array().expect("entries").iter().filter(|e| e["action"] == "deal.step_skip").collect();
    assert_eq!(skips.len(), 3, "{log}");
    assert!(skips.iter().any(|e| e["detail"]["title"] == "Qualify" && e["user_id"] == manager_id), "{log}");
}

#[tokio::test]
async fn a_pipeline_without_skipping_moves_deals_one_stage_at_a_time() {
    let app = spawn_app().await;
    let pl = app.default_pipeline().await;
    let stages: Vec<String> = pl["stages"].as_array().expect("stages").iter().map(|x| s(&x["id"])).collect();
    assert!(stages.len() >= 3, "{pl}");
    let purl = format!("/api/v1/pipelines/{}", s(&pl["id"]));
    let (st, p) = app.patch(&purl, json!({"version": pl["version"], "no_skipping_stages": true})).await;
    assert_eq!(st, StatusCode::OK, "{p}");
    assert_eq!(p["no_skipping_stages"], true);

    let (st, p) = app.post("/api/v1/deals", json!({"title": "Acme", "stage_id": stages[1]})).await;
    assert_problem(st, &p, StatusCode::UNPROCESSABLE_ENTITY, Some("stage_id"));
    let body = json!({"title": "Referral", "stage_id": stages[1], "override_reason": "came in qualified"});
    let (rep, _) = user(&app, "rep").await;
    let (st, p) = app.call_as(Some(&rep), Method::POST, "/api/v1/deals", Some(body.clone())).await;
    assert_problem(st, &p, StatusCode::FORBIDDEN, None);
    let placed = app.create_deal(body).await;
    let (_, events) = app.get(&format!("/api/v1/deals/{}/events", s(&placed["id"]))).await;
    assert_eq!(events["items"][0]["override_reason"], "came in qualified", "{events}");
    let d = app.create_deal(json!({"title": "Acme"})).await;
    let id = s(&d["id"]);
    let url = format!("/api/v1/deals/{id}");
    let (st, p) = app.patch(&url, json!({"version": d["version"], "stage_id": stages[2]})).await;
    assert_problem(st, &p, StatusCode::UNPROCESSABLE_ENTITY, Some("stage_id"));
    let name1 = pl["stages"][1]["name"].as_str().expect("a name");
    assert!(p["detail"].as_str().is_some_and(|m| m.contains(name1)), "names the stage to go through: {p}");
    let (st, p) = app.patch(&url, json!({"version": d["version"], "status": "won"})).await;
    assert_problem(st, &p, StatusCode::UNPROCESSABLE_ENTITY, Some("status"));

    let (_, moves) = app.get(&format!("{url}/moves")).await;
    let to = |stage: &str| moves.as_array().and_then(|m| m.iter().find(|m| m["stage_id"] == json!(stage))).cloned();
    let jump = to(&stages[2]).expect("a move");
    assert_eq!(jump["allowed"], false, "{moves}");
    assert_eq!(jump["stages_first"][0]["id"], json!(stages[1]), "{moves}");
    assert_eq!(to(&stages[1]).expect("a move")["allowed"], true, "{moves}");

    let (st, next) = app.patch(&url, json!({"version": d["version"], "stage_id": stages[1]})).await;
    assert_eq!(st, StatusCode::OK, "{next}");
    let (st, back) = app.patch(&url, json!({"version": next["version"], "stage_id": stages[0]})).await;
    assert_eq!(st, StatusCode::OK, "backwards is free: {back}");
    let body = json!({"version": back["version"], "stage_id": stages[2], "override_reason": "signed at once"});
    let (st, jumped) = app.patch(&url, body).await;
    assert_eq!(st, StatusCode::OK, "an override jumps: {jumped}");
    let (_, events) = app.get(&format!("{url}/events")).await;
    let last = events["items"].as_array().and_then(|a| a.last()).cloned().expect("an event");
    assert_eq!(last["override_reason"], "signed at once", "{events}");
}

#[tokio::test]
async fn only_admins_load_history_and_it_is_marked_loaded() {
    let app = spawn_app().await;
    let (rep, _) = user(&app, "rep").await;
    let hour_ago = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let minute_ago = (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
    let body = json!({"title": "Old", "created_at": hour_ago});
    let (st, p) = app.call_as(Some(&rep), Method::POST, "/api/v1/deals", Some(body.clone())).await;
    assert_problem(st, &p, StatusCode::FORBIDDEN, None);
    assert!(p["detail"].as_str().is_some_and(|m| m.contains("only admins load history")), "{p}");
    let body_now = json!({"title": "New", "created_at": minute_ago});
    let (st, live) = app.call_as(Some(&rep), Method::POST, "/api/v1/deals", Some(body_now)).await;
    assert_eq!(st, StatusCode::CREATED, "a minute back is now: {live}");
    let url = format!("/api/v1/deals/{}", s(&live["id"]));
    let pl = app.default_pipeline().await;
    let patch = json!({"version": live["version"], "stage_id": pl["stages"][1]["id"], "at": hour_ago});
    let (st, p) = app.call_as(Some(&rep), Method::PATCH, &url, Some(patch)).await;
    assert_problem(st, &p, StatusCode::FORBIDDEN, None);
    let (_, events) = app.get(&format!("{url}/events")).await;
    assert_eq!(events["items"][0]["origin"], "live", "{events}");

    let (st, old) = app.post("/api/v1/deals", body).await;
    assert_eq!(st, StatusCode::CREATED, "an admin loads history: {old}");
    let (_, events) = app.get(&format!("/api/v1/deals/{}/events", s(&old["id"]))).await;
    assert_eq!(events["items"][0]["origin"], "loaded", "{events}");
}

//! Playbooks over HTTP: steps per stage and their validation, the checklist
//! a deal gets when it enters a stage (with its tasks), the gate on forward
//! moves, ticks, re-entry, the moves endpoint and overrides by role.

use crate::helpers::{TestApp, assert_problem, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn s(v: &Value) -> String {
    v.as_str().expect("a string id").to_string()
}

async fn step(app: &TestApp, stage: &str, body: Value) -> Value {
    let (st, v) = app.post(&format!("/api/v1/stages/{stage}/steps"), body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v
}

/// A token for a new user of `role`.
async fn token_for(app: &TestApp, role: &str) -> String {
    let body =
        json!({"email": format!("{role}@example.com"), "name": role, "role": role, "password": "a password 123"});
    let (st, u) = app.post("/api/v1/users", body).await;
    assert_eq!(st, StatusCode::CREATED, "{u}");
    let (st, t) = app.post("/api/v1/tokens", json!({"name": "t", "user_id": u["id"]})).await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    s(&t["secret"])
}

#[tokio::test]
async fn bad_steps_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let stage = s(&app.default_pipeline().await["stages"][0]["id"]);
    let url = format!("/api/v1/stages/{stage}/steps");
    let cases = [
        (json!({"title": "x", "kind": "field", "field": "budget"}), "field"),
        (json!({"title": "x", "kind": "field", "field": "custom.budget"}), "field"),
        (
            json!({"title": "x", "kind": "email", "template": {"subject": "Hi", "body": "Dear {{person.nmae}}"}}),
            "template.body",
        ),
        (
            json!({"title": "x", "kind": "task", "due": {"anchor": "meeting", "offset_minutes": 600_000}}),
            "due.offset_minutes",
        ),
        (json!({"title": "x", "kind": "campaign", "campaign_id": "12345"}), "campaign_id"),
        (
            json!({"title": "x", "kind": "field", "field": "expected_close_date", "due": {"anchor": "stage_entered", "offset_minutes": 5}}),
            "due",
        ),
    ];
    for (body, field) in cases {
        let (st, p) = app.post(&url, body.clone()).await;
        assert_problem(st, &p, StatusCode::UNPROCESSABLE_ENTITY, Some(field));
    }
    let (_, list) = app.get(&url).await;
    assert_eq!(list, json!([]), "a refusal leaves the checklist as it was");
    let (st, p) = app.get("/api/v1/stages/1/steps").await;
    assert_problem(st, &p, StatusCode::NOT_FOUND, None);
}

#[tokio::test]
async fn the_gate_refuses_forward_moves_until_the_checklist_is_done() {
    let app = spawn_app().await;
    let p = app.default_pipeline().await;
    let (s0, s1) = (s(&p["stages"][0]["id"]), s(&p["stages"][1]["id"]));
    let call = step(
        &app,
        &s0,
        json!({"title": "Call", "kind": "task", "due": {"anchor": "stage_entered", "offset_minutes": 60}}),
    )
    .await;
    let close = step(&app, &s0, json!({"title": "Close date", "kind": "field", "field": "expected_close_date"})).await;
    let mail = step(
        &app,
        &s0,
        json!({"title": "Confirm", "kind": "email", "send": "draft",
               "template": {"subject": "Our call, {{person.first_name}}", "body": "Hello {{person.name}}, from {{owner.name}}"}}),
    )
    .await;
    step(&app, &s0, json!({"title": "Met", "kind": "evidence", "activity_kind": "meeting", "required": false})).await;
    let (_, steps) = app.get(&format!("/api/v1/stages/{s0}/steps")).await;
    assert_eq!(steps.as_array().map(Vec::len), Some(4));
    assert_eq!(steps[2]["send"], "draft");
    assert_eq!(steps[2]["template"]["subject"], "Our call, {{person.first_name}}");

    let (_, me) = app.get("/api/v1/auth/me").await;
    let (_, person) = app.post("/api/v1/people", json!({"name": "Pat Buyer"})).await;
    let d = app.create_deal(json!({"title": "Acme", "person_id": person["id"], "owner_id": me["user"]["id"]})).await;
    let id = s(&d["id"]);

    // Entering the stage made the tasks: one for the task step, one for the draft e-mail.
    let (_, acts) = app.get(&format!("/api/v1/activities?deal_id={id}")).await;
    let acts = acts["items"].as_array().expect("a page").clone();
    assert_eq!(acts.len(), 2, "{acts:?}");
    let draft = acts.iter().find(|a| a["subject"] == "Our call, Pat").expect("the draft's task");
    assert_eq!(draft["note"], "Hello Pat Buyer, from Ada Admin");
    assert!(acts.iter().any(|a| a["subject"] == "Call" && a["due_at"].is_string()));

    let (_, list) = app.get(&format!("/api/v1/deals/{id}/steps")).await;
    assert_eq!(list.as_array().map(Vec::len), Some(4), "{list}");
    assert!(list.as_array().expect("items").iter().all(|i| i["status"] == "open"), "{list}");
    assert_eq!(list[0]["step_id"], call["id"]);
    assert_eq!(list[0]["title"], "Call");

    // Forward: refused, naming each open required step.
    let (st, prob) = app.patch(&format!("/api/v1/deals/{id}"), json!({"version": d["version"], "stage_id": s1})).await;
    assert_problem(st, &prob, StatusCode::UNPROCESSABLE_ENTITY, Some("steps"));
    let named: Vec<_> = prob["errors"].as_array().expect("errors").iter().map(|e| e["title"].clone()).collect();
    assert_eq!(named, [json!("Call"), json!("Close date"), json!("Confirm")]);
    assert_eq!(prob["errors"][0]["id"], call["id"]);
    let (st, won) = app.patch(&format!("/api/v1/deals/{id}"), json!({"version": d["version"], "status": "won"})).await;
    assert_problem(st, &won, StatusCode::UNPROCESSABLE_ENTITY, Some("steps"));

    let (_, moves) = app.get(&format!("/api/v1/deals/{id}/moves")).await;
    let to = |target: &str| {
        moves
            .as_array()
            .expect("moves")
            .iter()
            .find(|m| m["stage_id"] == json!(target) || m["target"] == json!(target))
            .cloned()
            .expect("a move")
    };
    assert_eq!(to(&s1)["allowed"], false);
    assert_eq!(to(&s1)["open_steps"][1]["title"], "Close date");
    assert_eq!(to("won")["allowed"], false);
    assert_eq!(to(&s0)["allowed"], true);

    // Ticks: a task completes and reopens its activity; each tick is kept.
    let done = |step: &Value, how: &str| format!("/api/v1/deals/{id}/steps/{}/{how}", s(&step["id"]));
    let (st, l) = app.post(&done(&call, "done"), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{l}");
    assert_eq!(l[0]["status"], "done");
    assert!(l[0]["done_at"].is_string() && l[0]["done_by"] == me["user"]["id"]);
    let task = s(&l[0]["activity_id"]);
    let (_, a) = app.get(&format!("/api/v1/activities/{task}")).await;
    assert!(a["done_at"].is_string(), "the tick completed the task: {a}");
    let (_, l) = app.post(&done(&call, "undone"), json!({})).await;
    assert_eq!(l[0]["status"], "open");
    let (_, a) = app.get(&format!("/api/v1/activities/{task}")).await;
    assert!(a["done_at"].is_null());
    app.post(&done(&call, "done"), json!({})).await;
    app.post(&done(&mail, "done"), json!({})).await;
    let (st, p) = app.post(&done(&close, "done"), json!({})).await;
    assert_problem(st, &p, StatusCode::UNPROCESSABLE_ENTITY, Some("step_id"));

    // One PATCH fills the field and moves on.
    let body = json!({"version": d["version"], "stage_id": s1, "expected_close_date": "2027-03-31"});
    let (st, moved) = app.patch(&format!("/api/v1/deals/{id}"), body).await;
    assert_eq!(st, StatusCode::OK, "{moved}");

    // Back (never gated) and forward again: done steps stay done, no new tasks.
    let (st, back) =
        app.patch(&format!("/api/v1/deals/{id}"), json!({"version": moved["version"], "stage_id": s0})).await;
    assert_eq!(st, StatusCode::OK, "{back}");
    let (_, l) = app.get(&format!("/api/v1/deals/{id}/steps")).await;
    assert_eq!(l[0]["status"], "done", "{l}");
    let (_, acts) = app.get(&format!("/api/v1/activities?deal_id={id}")).await;
    assert_eq!(acts["items"].as_array().map(Vec::len), Some(2), "re-entry made no second task");
    let (st, again) =
        app.patch(&format!("/api/v1/deals/{id}"), json!({"version": back["version"], "stage_id": s1})).await;
    assert_eq!(st, StatusCode::OK, "{again}");
    let (st, won) =
        app.patch(&format!("/api/v1/deals/{id}"), json!({"version": again["version"], "status": "won"})).await;
    assert_eq!(st, StatusCode::OK, "{won}");
    let (_, moves) = app.get(&format!("/api/v1/deals/{id}/moves")).await;
    let all = moves.as_array().expect("moves");
    assert!(all.iter().all(|m| m["allowed"] == false), "a won deal moves nowhere: {moves}");
}

#[tokio::test]
async fn overrides_follow_the_role_and_are_recorded() {
    let app = spawn_app().await;
    let p = app.default_pipeline().await;
    let (s0, s1) = (s(&p["stages"][0]["id"]), s(&p["stages"][1]["id"]));
    let open = step(&app, &s0, json!({"title": "Qualify", "kind": "task"})).await;
    let d = app.create_deal(json!({"title": "Acme"})).await;
    let id = s(&d["id"]);
    let url = format!("/api/v1/deals/{id}");
    let rep = token_for(&app, "rep").await;
    let body = json!({"version": d["version"], "stage_id": s1, "override_reason": "customer asked"});
    let (st, prob) = app.call_as(Some(&rep), Method::PATCH, &url, Some(body.clone())).await;
    assert_problem(st, &prob, StatusCode::FORBIDDEN, None);
    // Losing is never gated, and neither is a rep's move backwards.
    let (_, reasons) = app.get("/api/v1/lost-reasons").await;
    let lose = json!({"version": d["version"], "status": "lost", "lost_reason": reasons[0]["label"]});
    let (st, lost) = app.call_as(Some(&rep), Method::PATCH, &url, Some(lose)).await;
    assert_eq!(st, StatusCode::OK, "{lost}");
    let (st, reopened) = app.patch(&url, json!({"version": lost["version"], "status": "open"})).await;
    assert_eq!(st, StatusCode::OK, "{reopened}");

    let manager = token_for(&app, "manager").await;
    let body = json!({"version": reopened["version"], "stage_id": s1, "override_reason": "customer asked"});
    let (st, moved) = app.call_as(Some(&manager), Method::PATCH, &url, Some(body)).await;
    assert_eq!(st, StatusCode::OK, "{moved}");
    assert_eq!(moved["stage_id"], json!(s1));
    // Leaving the stage closed its open playbook task.
    let (_, acts) = app.get(&format!("/api/v1/activities?deal_id={id}")).await;
    let task = acts["items"].as_array().and_then(|a| a.first()).cloned().expect("the step's task");
    assert_eq!(task["subject"], "Qualify");
    assert!(task["done_at"].is_string(), "closed on leaving: {task}");

    let (_, events) = app.get(&format!("{url}/events")).await;
    let last = events["items"].as_array().and_then(|a| a.last()).cloned().expect("an event");
    assert_eq!(last["override_reason"], "customer asked");
    assert_eq!(last["override_steps"][0]["id"], open["id"]);
    assert_eq!(last["override_steps"][0]["title"], "Qualify");
    let (st, list) = app.get("/api/v1/overrides").await;
    assert_eq!(st, StatusCode::OK, "{list}");
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["deal_id"], json!(id));
    assert_eq!(list[0]["reason"], "customer asked");
    let (st, p) = app.get("/api/v1/overrides?from=yesterday").await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{p}");
    assert!(p["detail"].as_str().is_some_and(|d| d.contains("from")), "{p}");
}

#[tokio::test]
async fn the_deal_page_shows_the_checklist_with_its_progress() {
    let app = spawn_app().await;
    let s0 = s(&app.default_pipeline().await["stages"][0]["id"]);
    let call = step(&app, &s0, json!({"title": "Call <them>", "kind": "task"})).await;
    step(&app, &s0, json!({"title": "Close date", "kind": "field", "field": "expected_close_date"})).await;
    let d = app.create_deal(json!({"title": "Acme"})).await;
    let id = s(&d["id"]);
    app.post(&format!("/api/v1/deals/{id}/steps/{}/done", s(&call["id"])), json!({})).await;
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let login = [("email", "admin@example.com"), ("password", "correct horse battery"), ("next", "/board")];
    let r = c.post(format!("{}/login", app.base)).form(&login).send().await.expect("sign in");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    for (lang, heading) in [("en", "Checklist"), ("zh-CN", "检查清单")] {
        let r = c.get(format!("{}/deals/{id}", app.base)).header("accept-language", lang).send().await.expect("page");
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.expect("a body");
        assert!(html.contains(heading), "{lang}: {html}");
        assert!(html.contains(r#"<span class="progress">1/2</span>"#), "{html}");
        assert!(html.contains("Call &#60;them&#62;") && !html.contains("Call <them>"), "escaped: {html}");
        assert!(html.contains(&format!(r#"data-step="{}" checked"#, s(&call["id"]))), "{html}");
    }
}

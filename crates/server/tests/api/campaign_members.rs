//! Campaign membership over HTTP: adding, listing and removing members,
//! who may, a playbook's campaign step that is done by membership and
//! enrols the deal's person when ticked, and the person page's timeline.

use crate::helpers::{TestApp, assert_problem, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn s(v: &Value) -> String {
    v.as_str().expect("a string id").to_string()
}

async fn created(app: &TestApp, path: &str, body: Value) -> Value {
    let (st, v) = app.post(path, body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v
}

/// A token for a new rep.
async fn rep_token(app: &TestApp) -> String {
    let body = json!({"email": "rep@example.com", "name": "Rep", "role": "rep", "password": "a password 123"});
    let u = created(app, "/api/v1/users", body).await;
    let t = created(app, "/api/v1/tokens", json!({"name": "t", "user_id": u["id"]})).await;
    s(&t["secret"])
}

#[tokio::test]
async fn members_are_added_listed_and_removed_by_staff() {
    let app = spawn_app().await;
    let c = created(&app, "/api/v1/campaigns", json!({"name": "Nurture"})).await;
    let p = created(&app, "/api/v1/people", json!({"name": "Pat Prospect"})).await;
    let members = format!("/api/v1/campaigns/{}/members", s(&c["id"]));

    let m = created(&app, &members, json!({"person_id": p["id"]})).await;
    assert_eq!(m["person_id"], p["id"]);
    assert_eq!(m["person_name"], "Pat Prospect");
    assert!(m["joined_by"].is_string(), "the admin added them: {m}");
    assert!(m["step_id"].is_null() && m["left_at"].is_null(), "{m}");
    let (st, again) = app.post(&members, json!({"person_id": p["id"]})).await;
    assert_eq!(st, StatusCode::OK, "a current member stays as they are: {again}");
    assert_eq!(again["joined_at"], m["joined_at"]);

    let (st, list) = app.get(&members).await;
    assert_eq!(st, StatusCode::OK, "{list}");
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");
    let (_, one) = app.get(&format!("{members}?limit=1")).await;
    assert!(one["next_cursor"].is_null(), "one member fits one page: {one}");

    let rep = rep_token(&app).await;
    let (st, v) = app.call_as(Some(&rep), Method::GET, &members, None).await;
    assert_eq!(st, StatusCode::OK, "everyone reads the members: {v}");
    let (st, v) = app.call_as(Some(&rep), Method::POST, &members, Some(json!({"person_id": p["id"]}))).await;
    assert_problem(st, &v, StatusCode::FORBIDDEN, None);
    let one_member = format!("{members}/{}", s(&p["id"]));
    let (st, v) = app.call_as(Some(&rep), Method::DELETE, &one_member, None).await;
    assert_problem(st, &v, StatusCode::FORBIDDEN, None);

    let (st, _) = app.delete(&one_member).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, list) = app.get(&members).await;
    assert_eq!(list["items"], json!([]), "a member who left is no longer listed");
    let (_, all) = app.get(&format!("{members}?include_left=true")).await;
    assert!(all["items"][0]["left_at"].is_string(), "{all}");
    let (st, v) = app.delete(&one_member).await;
    assert_problem(st, &v, StatusCode::NOT_FOUND, None);

    // Joining again is a new membership; the old one stays in the history.
    created(&app, &members, json!({"person_id": p["id"]})).await;
    let (_, all) = app.get(&format!("{members}?include_left=true")).await;
    assert_eq!(all["items"].as_array().map(Vec::len), Some(2), "{all}");

    let (st, v) = app.post(&members, json!({"person_id": "12345"})).await;
    assert_problem(st, &v, StatusCode::UNPROCESSABLE_ENTITY, Some("person_id"));
    let (st, v) = app.post(&members, json!({"person": p["id"]})).await;
    assert!(st.is_client_error() && st != StatusCode::NOT_FOUND, "an unknown property is refused: {st} {v}");
    let (st, v) = app.post("/api/v1/campaigns/12345/members", json!({"person_id": p["id"]})).await;
    assert_problem(st, &v, StatusCode::NOT_FOUND, None);
    let (st, v) = app.get("/api/v1/campaigns/12345/members").await;
    assert_problem(st, &v, StatusCode::NOT_FOUND, None);
}

#[tokio::test]
async fn a_campaign_step_is_done_by_membership_and_ticking_it_enrols_the_person() {
    let app = spawn_app().await;
    let pl = app.default_pipeline().await;
    let (s0, s1) = (s(&pl["stages"][0]["id"]), s(&pl["stages"][1]["id"]));
    let c = created(&app, "/api/v1/campaigns", json!({"name": "Nurture"})).await;
    let step = created(
        &app,
        &format!("/api/v1/stages/{s0}/steps"),
        json!({"title": "Into nurture", "kind": "campaign", "campaign_id": c["id"]}),
    )
    .await;
    let members = format!("/api/v1/campaigns/{}/members", s(&c["id"]));

    // Without a person there is nobody to enrol.
    let lone = app.create_deal(json!({"title": "Lone", "value": 100, "currency": "EUR", "stage_id": s0})).await;
    let tick = |d: &Value, what: &str| format!("/api/v1/deals/{}/steps/{}/{what}", s(&d["id"]), s(&step["id"]));
    let (st, v) = app.post(&tick(&lone, "done"), json!({})).await;
    assert_problem(st, &v, StatusCode::UNPROCESSABLE_ENTITY, Some("person_id"));
    assert!(v.to_string().contains("no person"), "{v}");

    let p = created(&app, "/api/v1/people", json!({"name": "Pat Prospect"})).await;
    let d = app
        .create_deal(json!({"title": "D", "value": 100, "currency": "EUR", "stage_id": s0, "person_id": p["id"]}))
        .await;
    let (st, v) = app.patch(&format!("/api/v1/deals/{}", s(&d["id"])), json!({"version": 1, "stage_id": s1})).await;
    assert_problem(st, &v, StatusCode::UNPROCESSABLE_ENTITY, Some("steps"));

    let (st, list) = app.post(&tick(&d, "done"), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{list}");
    assert_eq!(list[0]["status"], "done", "{list}");
    let (_, m) = app.get(&members).await;
    assert_eq!(m["items"][0]["step_id"], step["id"], "enrolled by this step: {m}");
    assert_eq!(m["items"][0]["deal_id"], d["id"], "{m}");

    // Leaving the campaign reopens the step; joining by hand closes it.
    let (st, _) = app.delete(&format!("{members}/{}", s(&p["id"]))).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, list) = app.get(&format!("/api/v1/deals/{}/steps", s(&d["id"]))).await;
    assert_eq!(list[0]["status"], "open", "{list}");
    created(&app, &members, json!({"person_id": p["id"]})).await;
    let (_, list) = app.get(&format!("/api/v1/deals/{}/steps", s(&d["id"]))).await;
    assert_eq!(list[0]["status"], "done", "{list}");

    // A deal of a person who already is a member finds the step done.
    let d2 = app
        .create_deal(json!({"title": "D2", "value": 100, "currency": "EUR", "stage_id": s0, "person_id": p["id"]}))
        .await;
    let (_, list) = app.get(&format!("/api/v1/deals/{}/steps", s(&d2["id"]))).await;
    assert_eq!(list[0]["status"], "done", "{list}");
    let (st, v) = app.patch(&format!("/api/v1/deals/{}", s(&d2["id"])), json!({"version": 1, "stage_id": s1})).await;
    assert_eq!(st, StatusCode::OK, "membership lets the deal move on: {v}");

    // Unticking ends the membership the step asks for.
    let (_, list) = app.post(&tick(&d, "undone"), json!({})).await;
    assert_eq!(list[0]["status"], "open", "{list}");
    let (_, m) = app.get(&members).await;
    assert_eq!(m["items"], json!([]), "{m}");
}

#[tokio::test]
async fn the_person_page_shows_joining_and_leaving() {
    let app = spawn_app().await;
    let c = created(&app, "/api/v1/campaigns", json!({"name": "Spring nurture"})).await;
    let p = created(&app, "/api/v1/people", json!({"name": "Pat Prospect"})).await;
    let members = format!("/api/v1/campaigns/{}/members", s(&c["id"]));
    created(&app, &members, json!({"person_id": p["id"]})).await;
    let (st, _) = app.delete(&format!("{members}/{}", s(&p["id"]))).await;
    assert_eq!(st, StatusCode::NO_CONTENT);

    let browser = reqwest::Client::builder().cookie_store(true).build().expect("client");
    let r = browser
        .post(format!("{}/login", app.base))
        .form(&[("email", "admin@example.com"), ("password", "correct horse battery"), ("next", "/board")])
        .send()
        .await
        .expect("sign in");
    assert!(r.status().is_success(), "{}", r.status());
    let html = browser
        .get(format!("{}/people/{}", app.base, s(&p["id"])))
        .send()
        .await
        .expect("person page")
        .text()
        .await
        .expect("body");
    assert!(html.contains("Joined campaign"), "{html}");
    assert!(html.contains("Left campaign"), "{html}");
    assert!(html.contains("Spring nurture"), "{html}");
    assert!(html.contains("added by hand"), "{html}");
}

//! The template preview of the step editor (`POST /api/v1/steps/preview`):
//! sample values without a deal, the deal's real values with one, every
//! unknown placeholder named, and admins only.

use crate::helpers::{assert_problem, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const URL: &str = "/api/v1/steps/preview";

#[tokio::test]
async fn a_preview_without_a_deal_shows_sample_values() {
    let app = spawn_app().await;
    let (st, f) = app
        .post("/api/v1/custom-fields", json!({"entity": "deal", "key": "plan", "label": "Plan", "kind": "text"}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{f}");
    let t = json!({"subject": "See you at {{meeting.time}}, {{person.first_name}}",
                   "body": "On {{ meeting.date }}: {{deal.title}} for {{deal.value}} {{deal.currency}} ({{custom.plan}})"});
    let (st, v) = app.post(URL, json!({"template": t})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["subject"], "See you at 10:00, Ada");
    assert_eq!(v["body"], "On 2026-03-05: Analytical Engines: 20 seats for 12500.00 EUR ([Plan])");
}

#[tokio::test]
async fn a_preview_with_a_deal_shows_its_real_values() {
    let app = spawn_app().await;
    let (st, s) = app.get("/api/v1/settings").await;
    assert_eq!(st, StatusCode::OK, "{s}");
    let (st, s) = app.patch("/api/v1/settings", json!({"version": s["version"], "time_zone": "Asia/Shanghai"})).await;
    assert_eq!(st, StatusCode::OK, "{s}");
    let (st, person) = app.post("/api/v1/people", json!({"name": "Grace Hopper"})).await;
    assert_eq!(st, StatusCode::CREATED, "{person}");
    let deal = app.create_deal(json!({"title": "Navy compilers", "value": 123_456, "person_id": person["id"]})).await;
    // 2026-06-01 02:30 UTC is 10:30 in Shanghai: the preview speaks the
    // workspace's time, as the e-mail would.
    let (st, a) = app
        .post(
            "/api/v1/activities",
            json!({"kind": "meeting", "subject": "Demo", "deal_id": deal["id"], "due_at": "2026-06-01T02:30:00Z"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    let (_, owner) = app.get(&format!("/api/v1/users/{}", deal["owner_id"].as_str().expect("an owner"))).await;
    let t = json!({"subject": "{{deal.title}}: {{meeting.date}} {{meeting.time}}",
                   "body": "Dear {{person.first_name}} ({{person.name}}), {{deal.value}} {{deal.currency}}. {{owner.name}}{{organization.name}}"});
    let (st, v) = app.post(URL, json!({"template": t, "deal_id": deal["id"]})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["subject"], "Navy compilers: 2026-06-01 10:30");
    let (cur, name) = (deal["currency"].as_str().expect("a currency"), owner["name"].as_str().expect("a name"));
    let want = format!("Dear Grace (Grace Hopper), 1234.56 {cur}. {name}");
    assert_eq!(v["body"], Value::String(want));
}

#[tokio::test]
async fn a_preview_names_every_unknown_placeholder_and_a_missing_deal() {
    let app = spawn_app().await;
    let t = json!({"subject": "Hi {{person.nmae}}", "body": "{{custom.nothing}} and {{deal.title}}"});
    let (st, p) = app.post(URL, json!({"template": t})).await;
    assert_problem(st, &p, StatusCode::UNPROCESSABLE_ENTITY, Some("template.subject"));
    assert_problem(st, &p, StatusCode::UNPROCESSABLE_ENTITY, Some("template.body"));
    let text = p.to_string();
    assert!(text.contains("person.nmae") && text.contains("custom.nothing"), "each unknown one is named: {p}");
    assert!(!text.contains("`{{deal.title}}` is not"), "a known one is not: {p}");
    let ok = json!({"subject": "Hi", "body": "there"});
    let (st, p) = app.post(URL, json!({"template": ok, "deal_id": "123456"})).await;
    assert_problem(st, &p, StatusCode::UNPROCESSABLE_ENTITY, Some("deal_id"));
    let (st, p) = app.post(URL, json!({"template": ok, "extra": 1})).await;
    assert_problem(st, &p, StatusCode::BAD_REQUEST, None);
}

#[tokio::test]
async fn only_admins_preview_templates() {
    let app = spawn_app().await;
    for role in ["manager", "rep"] {
        let body =
            json!({"email": format!("{role}@example.com"), "name": role, "role": role, "password": "a password 123"});
        let (st, u) = app.post("/api/v1/users", body).await;
        assert_eq!(st, StatusCode::CREATED, "{u}");
        let (st, t) = app.post("/api/v1/tokens", json!({"name": "t", "user_id": u["id"]})).await;
        assert_eq!(st, StatusCode::CREATED, "{t}");
        let secret = t["secret"].as_str().expect("a secret");
        let body = json!({"template": {"subject": "Hi", "body": "there"}});
        let (st, p) = app.call_as(Some(secret), Method::POST, URL, Some(body)).await;
        assert_problem(st, &p, StatusCode::FORBIDDEN, None);
    }
}

//! Goals over HTTP: create, read, list, change with a version check, delete;
//! progress equals what `/api/v1/metrics` says for the same period and
//! slice; bad input is a 422 naming the field.

use crate::helpers::{TestApp, assert_problem, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const FROM: &str = "2025-03-01";
const TO: &str = "2025-04-01";

/// Two won deals and a lost one in March 2025 (one won deal by another
/// owner), and one won in April; returns the admin's user id.
async fn seed(app: &TestApp) -> Value {
    let (_, settings) = app.get("/api/v1/settings").await;
    let (s, b) =
        app.patch("/api/v1/settings", json!({"version": settings["version"], "require_lost_reason": false})).await;
    assert!(s.is_success(), "{b}");
    let (s, rep) = app
        .post(
            "/api/v1/users",
            json!({"email": "rep@example.com", "name": "Rep", "role": "rep", "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{rep}");
    let won = |title: &str, value: i64, closed: &str| {
        json!({"title": title, "value": value, "status": "won",
            "created_at": "2025-02-01T10:00:00Z", "closed_at": closed})
    };
    let a = app.create_deal(won("A", 100_000, "2025-03-05T10:00:00Z")).await;
    app.create_deal(won("B", 50_000, "2025-03-20T10:00:00Z")).await;
    let mut c = won("C", 70_000, "2025-03-25T10:00:00Z");
    c["owner_id"] = rep["id"].clone();
    app.create_deal(c).await;
    app.create_deal(won("D", 999, "2025-04-02T10:00:00Z")).await;
    let mut lost = won("E", 1, "2025-03-07T10:00:00Z");
    lost["status"] = json!("lost");
    app.create_deal(lost).await;
    a["owner_id"].clone()
}

async fn create(app: &TestApp, body: Value) -> Value {
    let (s, g) = app.post("/api/v1/goals", body).await;
    assert_eq!(s, StatusCode::CREATED, "{g}");
    g
}

#[tokio::test]
async fn crud_with_version_checks() {
    let app = spawn_app().await;
    let g = create(&app, json!({"metric": "won_value", "target": 500_000, "from": FROM, "to": TO})).await;
    let id = g["id"].as_str().expect("id is a string").to_string();
    assert_eq!(g["metric"], "won_value");
    assert_eq!(g["metric_label"], "Won value");
    assert_eq!(g["target"], 500_000);
    assert_eq!(g["from"], FROM);
    assert_eq!(g["to"], TO);
    assert!(g["owner_id"].is_null() && g["pipeline_id"].is_null());
    assert_eq!(g["version"], 1);
    assert_eq!(g["progress"]["value"], 0);
    assert_eq!(g["progress"]["percent"], 0.0);

    let (s, got) = app.get(&format!("/api/v1/goals/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{got}");
    assert_eq!(got["id"], g["id"]);
    let (s, list) = app.get("/api/v1/goals").await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let (_, list) = app.get("/api/v1/goals?metric=deals_won").await;
    assert!(list["items"].as_array().unwrap().is_empty());

    let pipeline = app.default_pipeline().await;
    let (s, changed) = app
        .patch(
            &format!("/api/v1/goals/{id}"),
            json!({"version": 1, "target": 600_000, "metric": "deals_won", "pipeline_id": pipeline["id"]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{changed}");
    assert_eq!(changed["version"], 2);
    assert_eq!(changed["target"], 600_000);
    assert_eq!(changed["metric"], "deals_won");
    assert_eq!(changed["pipeline_id"], pipeline["id"]);
    assert!(changed["progress"]["currency"].is_null());

    // A stale version is refused with the current one.
    let (s, b) = app.patch(&format!("/api/v1/goals/{id}"), json!({"version": 1, "target": 1})).await;
    assert_problem(s, &b, StatusCode::CONFLICT, None);
    assert_eq!(b["current_version"], 2);

    // `null` clears the pipeline.
    let (s, cleared) = app.patch(&format!("/api/v1/goals/{id}"), json!({"version": 2, "pipeline_id": null})).await;
    assert_eq!(s, StatusCode::OK, "{cleared}");
    assert!(cleared["pipeline_id"].is_null());
    assert_eq!(cleared["target"], 600_000);

    let (s, _) = app.delete(&format!("/api/v1/goals/{id}")).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = app.get(&format!("/api/v1/goals/{id}")).await;
    assert_problem(s, &b, StatusCode::NOT_FOUND, None);
    let (s, b) = app.delete(&format!("/api/v1/goals/{id}")).await;
    assert_problem(s, &b, StatusCode::NOT_FOUND, None);
}

#[tokio::test]
async fn progress_agrees_with_metrics() {
    let app = spawn_app().await;
    let admin = seed(&app).await;
    let (s, team) = app.get(&format!("/api/v1/metrics?from={FROM}&to={TO}")).await;
    assert_eq!(s, StatusCode::OK, "{team}");
    assert_eq!(team["deals_won"], 3);
    assert_eq!(team["won_value"], 220_000);
    let (_, mine) = app.get(&format!("/api/v1/metrics?from={FROM}&to={TO}&owner_id={}", admin.as_str().unwrap())).await;
    assert_eq!(mine["deals_won"], 2);

    let g = create(&app, json!({"metric": "won_value", "target": 440_000, "from": FROM, "to": TO})).await;
    assert_eq!(g["progress"]["value"], team["won_value"]);
    assert_eq!(g["progress"]["percent"], 50.0);
    assert_eq!(g["progress"]["currency"], team["currency"]);
    assert_eq!(g["progress"]["period"]["from"], team["period"]["from"]);
    assert_eq!(g["progress"]["period"]["to"], team["period"]["to"]);

    let g = create(&app, json!({"metric": "deals_won", "target": 8, "from": FROM, "to": TO, "owner_id": admin})).await;
    assert_eq!(g["progress"]["value"], mine["deals_won"]);
    assert_eq!(g["progress"]["percent"], 25.0);
    let pipeline = app.default_pipeline().await;
    let (_, piped) =
        app.get(&format!("/api/v1/metrics?from={FROM}&to={TO}&pipeline_id={}", pipeline["id"].as_str().unwrap())).await;
    let g = create(
        &app,
        json!({"metric": "won_value", "target": 0, "from": FROM, "to": TO, "pipeline_id": pipeline["id"]}),
    )
    .await;
    assert_eq!(g["progress"]["value"], piped["won_value"]);
    assert!(g["progress"]["percent"].is_null(), "a target of 0 has no percent: {g}");

    // Moving the period moves the figure, as /metrics does.
    let id = g["id"].as_str().unwrap();
    let (s, moved) = app
        .patch(&format!("/api/v1/goals/{id}"), json!({"version": 1, "from": "2025-04-01", "to": "2025-05-01"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{moved}");
    let (_, april) = app.get("/api/v1/metrics?from=2025-04-01&to=2025-05-01").await;
    assert_eq!(moved["progress"]["value"], april["won_value"]);
    assert_eq!(april["won_value"], 999);

    // The list carries the same progress figures.
    let (_, list) = app.get("/api/v1/goals").await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    let found = items.iter().find(|x| x["metric"] == "deals_won").unwrap();
    assert_eq!(found["progress"]["value"], mine["deals_won"]);
    for m in ["meetings_booked", "proposals_sent", "outreach_sent"] {
        let g = create(&app, json!({"metric": m, "target": 10, "from": FROM, "to": TO})).await;
        assert_eq!(g["progress"]["value"], team[m], "{m}");
    }
}

#[tokio::test]
async fn bad_input_names_the_field() {
    let app = spawn_app().await;
    let base = json!({"metric": "won_value", "target": 100, "from": FROM, "to": TO});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let cases = [
        (with("metric", json!("revenue_magic")), "metric"),
        (with("metric", json!("win_rate")), "metric"),
        (with("target", json!(-1)), "target"),
        (with("from", json!(TO)), "from"),
        (with("to", json!("2025-02-01")), "from"),
        (with("from", json!("March")), "from"),
        (with("owner_id", json!("12345")), "owner_id"),
        (with("pipeline_id", json!("12345")), "pipeline_id"),
    ];
    for (body, field) in cases {
        let (s, b) = app.post("/api/v1/goals", body.clone()).await;
        assert_problem(s, &b, StatusCode::UNPROCESSABLE_ENTITY, Some(field));
    }
    let (s, b) = app.post("/api/v1/goals", with("colour", json!("red"))).await;
    assert_problem(s, &b, StatusCode::BAD_REQUEST, None);

    let g = create(&app, base.clone()).await;
    let id = g["id"].as_str().unwrap();
    for (body, field) in [
        (json!({"version": 1, "metric": "nope"}), "metric"),
        (json!({"version": 1, "target": -5}), "target"),
        (json!({"version": 1, "to": FROM}), "from"),
    ] {
        let (s, b) = app.patch(&format!("/api/v1/goals/{id}"), body).await;
        assert_problem(s, &b, StatusCode::UNPROCESSABLE_ENTITY, Some(field));
    }
    let (_, still) = app.get(&format!("/api/v1/goals/{id}")).await;
    assert_eq!(still["version"], 1);
    let (s, b) = app.get("/api/v1/goals/not-a-number").await;
    assert_problem(s, &b, StatusCode::NOT_FOUND, None);

    let (s, b) = app.call_as(None, Method::GET, "/api/v1/goals", None).await;
    assert_problem(s, &b, StatusCode::UNAUTHORIZED, None);
    let (s, b) = app.call_as(None, Method::POST, "/api/v1/goals", Some(base)).await;
    assert_problem(s, &b, StatusCode::UNAUTHORIZED, None);
}

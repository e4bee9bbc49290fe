//! Bad input gets a 4xx problem document naming the problem, and nothing
//! stored changes.

use crate::helpers::{assert_problem, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn malformed_and_invalid_deal_bodies() {
    let app = spawn_app().await;
    let d = app.create_deal(json!({"title": "Keep me", "value": 1000})).await;
    let id = d["id"].as_str().unwrap().to_string();
    let url = format!("/api/v1/deals/{id}");

    // Malformed JSON.
    let r = app
        .client
        .patch(format!("{}{url}", app.base))
        .bearer_auth(&app.token)
        .header("content-type", "application/json")
        .body("{\"version\": 1, \"title\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    // Missing content type.
    let r =
        app.client.post(format!("{}/api/v1/deals", app.base)).bearer_auth(&app.token).body("{}").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let cases: Vec<(Value, StatusCode, Option<&str>)> = vec![
        (json!({"value": 5}), StatusCode::BAD_REQUEST, None), // missing version
        (json!({"version": 1, "colour": "red"}), StatusCode::BAD_REQUEST, None), // unknown field
        (json!({"version": 1, "value": -1}), StatusCode::UNPROCESSABLE_ENTITY, Some("value")),
        (json!({"version": 1, "value": 10_000_000_000_000_000_000u64}), StatusCode::BAD_REQUEST, None),
        (json!({"version": 1, "value": 2_000_000_000_000_000i64}), StatusCode::UNPROCESSABLE_ENTITY, Some("value")),
        (json!({"version": 1, "currency": "XYZ"}), StatusCode::BAD_REQUEST, None),
        (json!({"version": 1, "title": ""}), StatusCode::UNPROCESSABLE_ENTITY, Some("title")),
        (json!({"version": 1, "title": "x".repeat(201)}), StatusCode::UNPROCESSABLE_ENTITY, Some("title")),
        (json!({"version": 1, "probability": 101}), StatusCode::UNPROCESSABLE_ENTITY, Some("probability")),
        (json!({"version": 1, "expected_close_date": "2026-02-30"}), StatusCode::BAD_REQUEST, None),
        (json!({"version": 1, "stage_id": "12345"}), StatusCode::UNPROCESSABLE_ENTITY, Some("stage_id")),
        (json!({"version": 1, "person_id": "12345"}), StatusCode::UNPROCESSABLE_ENTITY, Some("person_id")),
        (json!({"version": 1, "owner_id": "12345"}), StatusCode::UNPROCESSABLE_ENTITY, Some("owner_id")),
        (json!({"version": 1, "status": "lost"}), StatusCode::UNPROCESSABLE_ENTITY, Some("lost_reason")),
        (json!({"version": 1, "status": "paused"}), StatusCode::BAD_REQUEST, None),
        (json!({"version": 1, "stage_id": "abc"}), StatusCode::BAD_REQUEST, None),
        (json!({"version": 1, "value": 5, "at": "2999-01-01T00:00:00Z"}), StatusCode::UNPROCESSABLE_ENTITY, Some("at")),
        (json!({"version": 1, "value": 5, "at": "last tuesday"}), StatusCode::BAD_REQUEST, None),
        (json!({"version": 1, "custom": {"nope": 1}}), StatusCode::UNPROCESSABLE_ENTITY, Some("custom.nope")),
        (json!({"version": 99, "title": "Stale"}), StatusCode::CONFLICT, None),
    ];
    for (body, want, field) in cases {
        let (s, p) = app.patch(&url, body.clone()).await;
        assert_problem(s, &p, want, field);
        if want == StatusCode::CONFLICT {
            assert_eq!(p["current_version"], d["version"], "{p}");
        }
    }
    let (_, after) = app.get(&url).await;
    assert_eq!(after, d, "nothing stored changed");
    let (_, events) = app.get(&format!("{url}/events")).await;
    assert_eq!(events["items"].as_array().unwrap().len(), 1);
    let (_, hist) = app.get(&format!("{url}/history")).await;
    assert_eq!(hist["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn stage_of_another_pipeline_is_refused() {
    let app = spawn_app().await;
    let (_, other) = app.post("/api/v1/pipelines", json!({"name": "Other", "stages": [{"name": "A"}]})).await;
    let d = app.create_deal(json!({"title": "Sales deal"})).await;
    let (s, p) = app
        .patch(
            &format!("/api/v1/deals/{}", d["id"].as_str().unwrap()),
            json!({"version": d["version"], "stage_id": other["stages"][0]["id"]}),
        )
        .await;
    assert_problem(s, &p, StatusCode::UNPROCESSABLE_ENTITY, Some("stage_id"));
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("not a stage of pipeline"), "{p}");
    let (s, p) = app.post("/api/v1/deals", json!({"title": "x", "stage_id": other["stages"][0]["id"]})).await;
    assert_problem(s, &p, StatusCode::UNPROCESSABLE_ENTITY, Some("stage_id"));
}

#[tokio::test]
async fn invalid_creates_and_future_history() {
    let app = spawn_app().await;
    let cases: Vec<(Value, StatusCode, Option<&str>)> = vec![
        (json!({}), StatusCode::BAD_REQUEST, None),
        (json!({"title": "   "}), StatusCode::UNPROCESSABLE_ENTITY, Some("title")),
        (
            json!({"title": "x", "created_at": "2999-01-01T00:00:00Z"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("created_at"),
        ),
        (
            json!({"title": "x", "created_at": "1969-12-31T00:00:00Z"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("created_at"),
        ),
        (
            json!({"title": "x", "status": "won", "created_at": "2025-02-01T00:00:00Z", "closed_at": "2025-01-01T00:00:00Z"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("closed_at"),
        ),
        (
            json!({"title": "x", "closed_at": "2025-01-01T00:00:00Z"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("closed_at"),
        ),
        (json!({"title": "x", "pipeline_id": "77"}), StatusCode::UNPROCESSABLE_ENTITY, Some("pipeline_id")),
        (json!({"title": "x", "contract_months": 0}), StatusCode::UNPROCESSABLE_ENTITY, Some("contract_months")),
        (json!({"title": "x", "value": "ten"}), StatusCode::BAD_REQUEST, None),
        (json!({"title": "x", "value": 1.5}), StatusCode::BAD_REQUEST, None),
    ];
    for (body, want, field) in cases {
        let (s, p) = app.post("/api/v1/deals", body.clone()).await;
        assert_problem(s, &p, want, field);
    }
    let (_, list) = app.get("/api/v1/deals").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "no deal was created");
}

#[tokio::test]
async fn unknown_ids_routes_and_oversized_bodies() {
    let app = spawn_app().await;
    let (s, p) = app.get("/api/v1/deals/42").await;
    assert_problem(s, &p, StatusCode::NOT_FOUND, None);
    let (s, p) = app.get("/api/v1/deals/not-an-id").await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{p}");
    let (s, p) = app.get("/api/v1/nothing-here").await;
    assert_problem(s, &p, StatusCode::NOT_FOUND, None);
    let (s, p) = app.get("/api/v1/deals?limit=0").await;
    assert_problem(s, &p, StatusCode::UNPROCESSABLE_ENTITY, Some("limit"));
    let (s, p) = app.get("/api/v1/deals?cursor=xyz").await;
    assert_problem(s, &p, StatusCode::BAD_REQUEST, None);
    let (s, p) = app.get("/api/v1/deals?status=maybe").await;
    assert_problem(s, &p, StatusCode::BAD_REQUEST, None);
    let big = "x".repeat(2 * 1024 * 1024);
    let (s, _) = app.call(Method::POST, "/api/v1/deals", Some(json!({"title": big}))).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    let (s, p) = app.call_as(Some("garbage"), Method::GET, "/api/v1/deals", None).await;
    assert_problem(s, &p, StatusCode::UNAUTHORIZED, None);
    let r =
        app.client.get(format!("{}/api/v1/deals", app.base)).header("authorization", "Basic abc").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn settings_and_admin_input_is_checked() {
    let app = spawn_app().await;
    let (_, s0) = app.get("/api/v1/settings").await;
    let cases: Vec<(Value, StatusCode, Option<&str>)> = vec![
        (
            json!({"version": s0["version"], "time_zone": "Mars/Olympus"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("time_zone"),
        ),
        (
            json!({"version": s0["version"], "exchange_rates": {"EUR": -1.0}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("exchange_rates.EUR"),
        ),
        (
            json!({"version": s0["version"], "exchange_rates": {"ABC": 1.0}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("exchange_rates.ABC"),
        ),
        (
            json!({"version": s0["version"], "working_days": [0, 8]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("working_days"),
        ),
        (json!({"version": s0["version"], "base_currency": "EURO"}), StatusCode::BAD_REQUEST, None),
    ];
    for (body, want, field) in cases {
        let (s, p) = app.patch("/api/v1/settings", body).await;
        assert_problem(s, &p, want, field);
    }
    let (_, s1) = app.get("/api/v1/settings").await;
    assert_eq!(s0, s1);
    let (s, p) = app
        .post("/api/v1/users", json!({"email": "not-an-email", "name": "", "role": "rep", "password": "short"}))
        .await;
    assert_problem(s, &p, StatusCode::UNPROCESSABLE_ENTITY, Some("email"));
    assert_eq!(p["errors"].as_array().unwrap().len(), 3, "one message per field: {p}");
    let (s, p) = app
        .post(
            "/api/v1/users",
            json!({"email": "admin@example.com", "name": "Dup", "role": "rep", "password": "long enough pw"}),
        )
        .await;
    assert_problem(s, &p, StatusCode::CONFLICT, Some("email"));
    let (s, p) = app
        .post("/api/v1/custom-fields", json!({"entity": "deal", "key": "Bad Key", "label": "x", "kind": "text"}))
        .await;
    assert_problem(s, &p, StatusCode::UNPROCESSABLE_ENTITY, Some("key"));
    let (s, p) = app.post("/api/v1/pipelines", json!({"name": "Empty", "stages": []})).await;
    assert_problem(s, &p, StatusCode::UNPROCESSABLE_ENTITY, Some("stages"));
}

#[tokio::test]
async fn dates_outside_the_year_range_are_refused() {
    let app = spawn_app().await;
    // A body's date field: refused while parsing, with the range in the message.
    for date in ["3000-01-01", "1899-12-31", "-262143-01-01"] {
        let (s, body) = app.post("/api/v1/deals", json!({"title": "Far", "expected_close_date": date})).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{date}: {body}");
        let detail = body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("1900") || detail.contains("YYYY-MM-DD"), "{date}: {body}");
    }
    let (s, body) = app.post("/api/v1/deals", json!({"title": "Near", "expected_close_date": "2999-12-31"})).await;
    assert_eq!(s, StatusCode::CREATED, "the last day of the range is fine: {body}");
}

#[tokio::test]
async fn unknown_query_parameters_are_refused_by_name() {
    let app = spawn_app().await;
    // A planner question with a parameter it does not take would otherwise
    // be answered for another period without a word.
    let (s, b) = app.get("/api/v1/planner?target=100000&weeks=4&to=2026-04-01").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    let detail = b["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("`to`") && detail.contains("weeks"), "{b}");
    // Every parameter of a list, its filters and its paging, is known.
    let (s, b) = app.get("/api/v1/deals?limit=5&status=open&q=acme&deleted=false").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = app.get("/api/v1/deals?limit=5&pipeline=1").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert!(b["detail"].as_str().unwrap_or_default().contains("`pipeline`"), "{b}");
    let (s, b) = app.get("/api/v1/deals/export?format=csv&status=open").await;
    assert_ne!(s, StatusCode::BAD_REQUEST, "{b}");
    let (s, b) = app.get("/api/v1/settings?x=1").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert!(b["detail"].as_str().unwrap_or_default().contains("takes no query parameters"), "{b}");
}

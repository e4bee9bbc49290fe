//! `/api/v1/forecast`, `/planner` and `/metrics/stages` beyond the
//! vector: parameters are checked before the heavy load, a full heavy-read
//! bound answers 503 with `Retry-After`, instants are RFC 3339, small
//! ranges are exact, and archived pipelines stay out of the stage list
//! unless asked for.

use crate::helpers::{TestApp, assert_problem, spawn_app, spawn_app_with};
use dealflow_core::time::Timestamp;
use dealflow_server::Config;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

/// A config whose heavy-read bound has no permits at all: any request that
/// gets as far as loading the facts is refused, so an answer other than
/// 503 proves the request stopped before the load.
fn no_heavy_reads() -> Config {
    Config { heavy_reads: 0, heavy_wait: Duration::from_millis(50), ..Config::default() }
}

#[tokio::test]
async fn forecast_checks_parameters_before_loading_facts() {
    let app = spawn_app_with(no_heavy_reads()).await;
    for (url, field) in [
        ("/api/v1/forecast?pipeline_id=1", "pipeline_id"),
        ("/api/v1/forecast?owner_id=1", "owner_id"),
        ("/api/v1/forecast?as_of=2999-01-01", "as_of"),
        ("/api/v1/forecast?from=2026-03-01&to=2026-02-01", "from"),
    ] {
        let (s, b) = app.get(url).await;
        assert_problem(s, &b, StatusCode::UNPROCESSABLE_ENTITY, Some(field));
    }
}

#[tokio::test]
async fn saturated_forecasts_get_503_with_retry_after() {
    let app = spawn_app_with(no_heavy_reads()).await;
    open_deals(&app, 1).await;
    // As of yesterday, before the deal existed: a replay, which needs a permit.
    let yesterday = (chrono::Utc::now().date_naive() - chrono::Days::new(1)).format("%Y-%m-%d");
    let url = format!("{}/api/v1/forecast?as_of={yesterday}", app.base);
    let resp = app.client.get(url).bearer_auth(&app.token).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let retry = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    assert!(retry.is_some_and(|r| r > 0), "Retry-After in seconds expected: {:?}", resp.headers());
    let body: Value = resp.json().await.unwrap();
    assert_problem(StatusCode::SERVICE_UNAVAILABLE, &body, StatusCode::SERVICE_UNAVAILABLE, None);
    // The light metrics and the forecast as of now (from the projections)
    // do not need a heavy-read permit.
    let (s, b) = app.get("/api/v1/metrics").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = app.get("/api/v1/forecast").await;
    assert_eq!(s, StatusCode::OK, "{b}");
}

/// A month from today: inside the forecast's default range period.
fn close_day() -> String {
    (chrono::Utc::now().date_naive() + chrono::Days::new(30)).format("%Y-%m-%d").to_string()
}

/// A pipeline with one stage at 50 % and `n` open deals closing in a month.
async fn open_deals(app: &TestApp, n: usize) {
    let (s, p) = app
        .post("/api/v1/pipelines", json!({"name": format!("P{n}"), "stages": [{"name": "Open", "probability": 50}]}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    for i in 0..n {
        app.create_deal(json!({"title": format!("d{i}"), "value": 1_000 * (i as i64 + 1), "currency": "USD",
            "pipeline_id": p["id"], "stage_id": p["stages"][0]["id"], "expected_close_date": close_day()}))
            .await;
    }
}

fn is_instant(v: &Value) -> bool {
    v.as_str().is_some_and(|s| Timestamp::parse(s).is_ok())
}

#[tokio::test]
async fn forecast_times_are_rfc3339_and_small_ranges_are_exact() {
    let app = spawn_app().await;
    open_deals(&app, 3).await;
    let (s, f) = app.get("/api/v1/forecast").await;
    assert_eq!(s, StatusCode::OK, "{f}");
    assert!(is_instant(&f["as_of"]), "as_of: {f}");
    let deals = f["deal_probability"].as_object().unwrap();
    assert_eq!(deals.len(), 3, "{f}");
    assert!(
        deals
            .values()
            .all(|d| d["expected_close_at"].as_str().is_some_and(|s| s.starts_with(&format!("{}T", close_day()))))
    );
    assert_eq!((f["range"]["method"].as_str(), f["range"]["runs"].as_u64()), (Some("exact"), Some(0)), "{f}");
    // 1,000, 2,000 and 3,000 each at 50 %: every sum has chance 1/8, and
    // 3,000 has two ways (1/4); the CDF passes 0.1 at 0, 0.5 at 3,000 and
    // 0.9 only at 6,000 (5,000 reaches 7/8).
    let range = [&f["range"]["forecast_p10"], &f["range"]["forecast_p50"], &f["range"]["forecast_p90"]];
    assert_eq!(range, [0.0, 3_000.0, 6_000.0], "{f}");

    let (s, p) = app.get("/api/v1/planner?target=100000&weeks=4").await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert!(is_instant(&p["current_pace"]["from"]) && is_instant(&p["current_pace"]["to"]), "{p}");

    let (_, doc) = app.get("/api/openapi.json").await;
    let fc = &doc["components"]["schemas"]["Forecast"]["properties"]["as_of"];
    assert_eq!((fc["type"].as_str(), fc["format"].as_str()), (Some("string"), Some("date-time")), "{fc}");
}

#[tokio::test]
async fn forecast_ranges_over_twenty_deals_are_simulated() {
    let app = spawn_app().await;
    open_deals(&app, 21).await;
    let (s, f) = app.get("/api/v1/forecast").await;
    assert_eq!(s, StatusCode::OK, "{f}");
    assert_eq!((f["range"]["method"].as_str(), f["range"]["runs"].as_u64()), (Some("simulation"), Some(20_000)));
}

#[tokio::test]
async fn stage_metrics_leave_out_archived_pipelines_unless_asked() {
    let app = spawn_app().await;
    let (s, old) = app.post("/api/v1/pipelines", json!({"name": "Old", "stages": [{"name": "Gone"}]})).await;
    assert_eq!(s, StatusCode::CREATED, "{old}");
    let (s, b) = app
        .patch(
            &format!("/api/v1/pipelines/{}", old["id"].as_str().unwrap()),
            json!({"version": old["version"], "archived": true}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let rows_of = |st: &Value, name: &str| -> Vec<Value> {
        st["stages"].as_array().unwrap().iter().filter(|r| r["pipeline"] == name).cloned().collect()
    };

    let (s, st) = app.get("/api/v1/metrics/stages").await;
    assert_eq!(s, StatusCode::OK, "{st}");
    assert!(rows_of(&st, "Old").is_empty(), "archived pipelines are left out by default: {st}");
    assert!(!st["stages"].as_array().unwrap().is_empty(), "the live pipeline is listed: {st}");
    assert!(st["stages"].as_array().unwrap().iter().all(|r| r["pipeline_archived"] == false));

    let (_, st) = app.get("/api/v1/metrics/stages?include_archived=true").await;
    let old_rows = rows_of(&st, "Old");
    assert_eq!(old_rows.len(), 1, "{st}");
    assert_eq!(old_rows[0]["pipeline_archived"], true);

    let (_, st) = app.get(&format!("/api/v1/metrics/stages?pipeline_id={}", old["id"].as_str().unwrap())).await;
    assert_eq!(rows_of(&st, "Old").len(), 1, "naming the pipeline lists it: {st}");
}

//! Exports over HTTP: CSV parses back with the csv crate and has the
//! expected rows and columns (money in major units, custom fields as extra
//! columns), XLSX is a zip of some size, formula starters are neutralised,
//! list filters apply, every matching row is exported (more than one store
//! page), metric exports agree with `/metrics`, and no credentials is 401.

use crate::helpers::{TestApp, assert_problem, spawn_app, spawn_app_with};
use dealflow_core::model::{NewDeal, NewOrganization, NewPerson};
use dealflow_server::Config;
use dealflow_store::Actor;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, TRANSFER_ENCODING};
use serde_json::{Value, json};
use std::time::Duration;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

async fn download(app: &TestApp, token: Option<&str>, path: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = app.client.get(format!("{}{}", app.base, path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("send");
    let (status, headers) = (resp.status(), resp.headers().clone());
    (status, headers, resp.bytes().await.expect("body").to_vec())
}

/// Header row and records of a CSV body.
fn parse_csv(body: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(body);
    let headers = r.headers().expect("csv headers").iter().map(String::from).collect();
    let rows = r.records().map(|x| x.expect("csv record").iter().map(String::from).collect()).collect();
    (headers, rows)
}

fn col(headers: &[String], name: &str) -> usize {
    headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name} in {headers:?}"))
}

async fn csv_ok(app: &TestApp, path: &str, stem: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let (s, h, body) = download(app, Some(&app.token), path).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(h[CONTENT_TYPE], "text/csv; charset=utf-8");
    let cd = h[CONTENT_DISPOSITION].to_str().unwrap().to_string();
    assert!(cd.starts_with(&format!("attachment; filename=\"{stem}-")) && cd.ends_with(".csv\""), "{cd}");
    // The date in the name: YYYY-MM-DD.
    let date = &cd[format!("attachment; filename=\"{stem}-").len()..cd.len() - 5];
    assert!(chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok(), "{cd}");
    parse_csv(&body)
}

async fn seed_deals(app: &TestApp) -> Value {
    let (s, b) = app
        .post("/api/v1/custom-fields", json!({"entity": "deal", "key": "product", "label": "Product", "kind": "text"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, org) = app.post("/api/v1/organizations", json!({"name": "Acme"})).await;
    assert_eq!(s, StatusCode::CREATED, "{org}");
    let (s, person) = app.post("/api/v1/people", json!({"name": "Pat", "emails": ["pat@acme.test"]})).await;
    assert_eq!(s, StatusCode::CREATED, "{person}");
    app.create_deal(json!({"title": "Acme renewal", "value": 12050, "currency": "USD",
        "organization_id": org["id"], "person_id": person["id"], "custom": {"product": "Pro"},
        "created_at": "2026-01-05T10:00:00Z"}))
        .await;
    app.create_deal(json!({"title": "=HYPERLINK(\"http://evil\")", "value": 500, "currency": "JPY",
        "source": "@import", "custom": {"product": "+cmd"}}))
        .await;
    app.create_deal(json!({"title": "Won one", "value": 99, "currency": "EUR", "status": "won"})).await
}

#[tokio::test]
async fn deals_csv_has_every_column_money_and_custom_fields() {
    let app = spawn_app().await;
    seed_deals(&app).await;
    let (h, rows) = csv_ok(&app, "/api/v1/deals/export?format=csv", "deals").await;
    assert_eq!(rows.len(), 3);
    for name in ["id", "title", "value", "currency", "pipeline", "stage", "status", "owner", "created_at", "Product"] {
        col(&h, name);
    }
    assert!(rows.iter().all(|r| r.len() == h.len()));
    let acme = rows.iter().find(|r| r[col(&h, "title")] == "Acme renewal").expect("Acme row");
    assert_eq!(acme[col(&h, "value")], "120.50");
    assert_eq!(acme[col(&h, "currency")], "USD");
    assert_eq!(acme[col(&h, "organization")], "Acme");
    assert_eq!(acme[col(&h, "person")], "Pat");
    assert_eq!(acme[col(&h, "owner")], "Ada Admin");
    assert_eq!(acme[col(&h, "Product")], "Pro");
    assert_eq!(acme[col(&h, "status")], "open");
    // The default workspace is in UTC: RFC 3339 with `Z`.
    assert_eq!(acme[col(&h, "created_at")], "2026-01-05T10:00:00Z");
    let won = rows.iter().find(|r| r[col(&h, "title")] == "Won one").expect("won row");
    assert_eq!(won[col(&h, "value")], "0.99");
    assert!(!won[col(&h, "closed_at")].is_empty());
    let yen = rows.iter().find(|r| r[col(&h, "currency")] == "JPY").expect("yen row");
    assert_eq!(yen[col(&h, "value")], "500");
}

#[tokio::test]
async fn csv_neutralises_formulas() {
    let app = spawn_app().await;
    seed_deals(&app).await;
    let (h, rows) = csv_ok(&app, "/api/v1/deals/export", "deals").await;
    let evil = rows.iter().find(|r| r[col(&h, "currency")] == "JPY").expect("row");
    assert_eq!(evil[col(&h, "title")], "'=HYPERLINK(\"http://evil\")");
    assert_eq!(evil[col(&h, "source")], "'@import");
    assert_eq!(evil[col(&h, "Product")], "'+cmd");
    let (s, b) = app.post("/api/v1/people", json!({"name": "-2+3", "job_title": "=SUM(A1:A9)"})).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (h, rows) = csv_ok(&app, "/api/v1/people/export", "people").await;
    assert_eq!(rows[0][col(&h, "name")], "'-2+3");
    assert_eq!(rows[0][col(&h, "job_title")], "'=SUM(A1:A9)");
    // No cell of any export starts with a formula character.
    for r in &rows {
        assert!(r.iter().all(|c| !c.starts_with(['=', '+', '-', '@'])), "{r:?}");
    }
}

#[tokio::test]
async fn xlsx_is_a_real_workbook() {
    let app = spawn_app().await;
    seed_deals(&app).await;
    for (path, stem) in [
        ("/api/v1/deals/export?format=xlsx", "deals"),
        ("/api/v1/people/export?format=xlsx", "people"),
        ("/api/v1/organizations/export?format=xlsx", "organizations"),
        ("/api/v1/metrics/export?format=xlsx", "metrics"),
        ("/api/v1/metrics/stages/export?format=xlsx", "stages"),
    ] {
        let (s, h, body) = download(&app, Some(&app.token), path).await;
        assert_eq!(s, StatusCode::OK, "{path}: {}", String::from_utf8_lossy(&body));
        assert_eq!(h[CONTENT_TYPE], XLSX, "{path}");
        let cd = h[CONTENT_DISPOSITION].to_str().unwrap();
        assert!(cd.starts_with(&format!("attachment; filename=\"{stem}-")) && cd.ends_with(".xlsx\""), "{cd}");
        assert!(body.starts_with(b"PK"), "{path}: not a zip");
        assert!(body.len() > 2_000, "{path}: only {} bytes", body.len());
    }
}

#[tokio::test]
async fn filters_apply() {
    let app = spawn_app().await;
    seed_deals(&app).await;
    let (h, rows) = csv_ok(&app, "/api/v1/deals/export?status=won", "deals").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][col(&h, "title")], "Won one");
    let (h, rows) = csv_ok(&app, "/api/v1/deals/export?q=acme", "deals").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][col(&h, "title")], "Acme renewal");
    let (_, rows) = csv_ok(&app, "/api/v1/deals/export?deleted=true", "deals").await;
    assert!(rows.is_empty());
    let (h, rows) = csv_ok(&app, "/api/v1/organizations/export?q=acm", "organizations").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][col(&h, "name")], "Acme");
    let (_, rows) = csv_ok(&app, "/api/v1/organizations/export?q=nothing-like-it", "organizations").await;
    assert!(rows.is_empty());
    let (s, _, body) = download(&app, Some(&app.token), "/api/v1/deals/export?format=pdf").await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_problem(s, &body, StatusCode::BAD_REQUEST, None);
}

/// More rows than one store page: all arrive, each with its own person's
/// and organization's name (looked up a page at a time; a deleted person
/// shows its id), and the CSV is sent while it is read (chunked, no
/// Content-Length), while XLSX, built first, says its length.
#[tokio::test]
async fn exports_every_matching_row_across_store_pages() {
    let app = spawn_app().await;
    let actor = Actor::system();
    let mut people = Vec::new();
    for i in 0..3 {
        let o = NewOrganization { name: format!("Org {i}"), ..Default::default() };
        let o = app.store.create_organization(&actor, o).await.unwrap();
        let p = NewPerson { name: format!("Person {i}"), organization_id: Some(o.id), ..Default::default() };
        people.push(app.store.create_person(&actor, p).await.unwrap());
    }
    for i in 0..1_020 {
        let p = &people[i % 3];
        let n = NewDeal {
            title: format!("Bulk {i}"),
            value: i as i64,
            person_id: Some(p.id),
            organization_id: p.organization_id,
            ..Default::default()
        };
        app.store.create_deal(&actor, n).await.unwrap();
    }
    app.store.delete_person(&actor, people[2].id).await.unwrap();
    let (s, h, _) = download(&app, Some(&app.token), "/api/v1/deals/export").await;
    assert_eq!(s, StatusCode::OK);
    assert!(h.get(CONTENT_LENGTH).is_none(), "a streamed CSV has no length: {h:?}");
    assert_eq!(h.get(TRANSFER_ENCODING).map(|v| v.to_str().unwrap()), Some("chunked"));
    let (h, rows) = csv_ok(&app, "/api/v1/deals/export", "deals").await;
    assert_eq!(rows.len(), 1_020);
    let mut titles: Vec<_> = rows.iter().map(|r| r[col(&h, "title")].clone()).collect();
    titles.sort();
    titles.dedup();
    assert_eq!(titles.len(), 1_020);
    for r in &rows {
        let i: usize = r[col(&h, "title")].trim_start_matches("Bulk ").parse().unwrap();
        let person = if i % 3 == 2 { people[2].id.to_string() } else { format!("Person {}", i % 3) };
        assert_eq!(r[col(&h, "person")], person, "{r:?}");
        assert_eq!(r[col(&h, "organization")], format!("Org {}", i % 3), "{r:?}");
    }
    let (s, h, body) = download(&app, Some(&app.token), "/api/v1/deals/export?format=xlsx").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h[CONTENT_LENGTH].to_str().unwrap(), body.len().to_string());
    assert!(body.len() > 20_000, "{} bytes for 1,020 deals", body.len());
}

#[tokio::test]
async fn metric_exports_agree_with_the_api() {
    let app = spawn_app().await;
    app.create_deal(json!({"title": "W", "value": 123456, "status": "won",
        "created_at": "2025-03-01T10:00:00Z", "closed_at": "2025-03-10T10:00:00Z"}))
        .await;
    let q = "from=2025-03-01&to=2025-04-01";
    let (s, m) = app.get(&format!("/api/v1/metrics?{q}")).await;
    assert_eq!(s, StatusCode::OK, "{m}");
    let (h, rows) = csv_ok(&app, &format!("/api/v1/metrics/export?{q}"), "metrics").await;
    assert_eq!(h, ["key", "label", "value", "unit", "from", "to"]);
    let get = |k: &str| rows.iter().find(|r| r[0] == k).unwrap_or_else(|| panic!("no row {k}")).clone();
    assert_eq!(get("deals_won")[2], m["deals_won"].to_string());
    assert_eq!(get("won_value")[2], "1234.56");
    assert_eq!(get("won_value")[3], m["currency"].as_str().unwrap());
    assert_eq!(get("win_rate")[2].parse::<f64>().unwrap(), m["win_rate"].as_f64().unwrap());
    // A rate without a denominator is an empty cell.
    assert!(m["response_rate"].is_null());
    assert_eq!(get("response_rate")[2], "");
    assert_eq!(get("won_value")[4], "2025-03-01T00:00:00Z");
    assert_eq!(get("won_value")[5], "2025-04-01T00:00:00Z");
    let (s, st) = app.get(&format!("/api/v1/metrics/stages?{q}")).await;
    assert_eq!(s, StatusCode::OK, "{st}");
    let (h, rows) = csv_ok(&app, &format!("/api/v1/metrics/stages/export?{q}"), "stages").await;
    let stages = st["stages"].as_array().unwrap();
    assert_eq!(rows.len(), stages.len());
    for (r, s) in rows.iter().zip(stages) {
        assert_eq!(r[col(&h, "stage")], s["name"].as_str().unwrap());
        assert_eq!(r[col(&h, "stage_id")], s["stage_id"].as_str().unwrap());
        assert_eq!(r[col(&h, "closed_reached")], s["closed_reached"].to_string());
    }
    // Bad parameters: the same problems as /metrics.
    let (s, _, body) = download(&app, Some(&app.token), "/api/v1/metrics/export?from=2025-05-01&to=2025-04-01").await;
    assert_problem(s, &serde_json::from_slice(&body).unwrap(), StatusCode::UNPROCESSABLE_ENTITY, Some("from"));
}

#[tokio::test]
async fn no_credentials_is_401() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/deals/export",
        "/api/v1/people/export?format=xlsx",
        "/api/v1/organizations/export",
        "/api/v1/metrics/export",
        "/api/v1/metrics/stages/export",
    ] {
        let (s, _, body) = download(&app, None, path).await;
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        assert_problem(s, &body, StatusCode::UNAUTHORIZED, None);
        let (s, _, _) = download(&app, Some("not-a-token"), path).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{path}");
    }
}

/// Record exports are bounded in number: with every permit taken, the next
/// one waits briefly and gets 503 with `Retry-After`; reports (a few rows)
/// are not held back.
#[tokio::test]
async fn exports_beyond_the_bound_are_refused_busy() {
    let config = Config { export_streams: 0, heavy_wait: Duration::from_millis(50), ..Config::default() };
    let app = spawn_app_with(config).await;
    for path in ["/api/v1/deals/export", "/api/v1/people/export?format=xlsx", "/api/v1/organizations/export"] {
        let (s, h, body) = download(&app, Some(&app.token), path).await;
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_problem(s, &body, StatusCode::SERVICE_UNAVAILABLE, None);
        assert_eq!(h["retry-after"], "5", "{path}");
    }
    let (s, _, _) = download(&app, Some(&app.token), "/api/v1/metrics/export").await;
    assert_eq!(s, StatusCode::OK);
}

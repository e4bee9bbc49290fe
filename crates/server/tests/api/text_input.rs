//! Text that no engine should be asked to store or compare (a NUL byte,
//! other control characters) is refused as 422 naming the field or
//! parameter, never a 500: PostgreSQL cannot hold NUL in TEXT at all, and
//! SQLite used to fail on it where text reached SQL as a literal.

use crate::helpers::{assert_problem, spawn_app};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn nul_and_control_characters_in_bodies_are_422() {
    let app = spawn_app().await;
    for (body, field) in [
        (json!({"title": "x", "source": "a\u{0}b"}), "source"),
        (json!({"title": "a\u{0}b"}), "title"),
        (json!({"title": "red \u{1b}[31m"}), "title"),
        (json!({"title": "two\nlines"}), "title"),
    ] {
        let (s, p) = app.post("/api/v1/deals", body.clone()).await;
        assert_problem(s, &p, StatusCode::UNPROCESSABLE_ENTITY, Some(field));
    }
    let (_, list) = app.get("/api/v1/deals").await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0), "no deal was created: {list}");

    // A note may span lines (tabs and CRLF too), but not hold a NUL.
    let deal = app.create_deal(json!({"title": "Notes", "source": "web"})).await;
    let (s, n) = app.post("/api/v1/notes", json!({"body": "one\r\n\ttwo", "deal_id": deal["id"]})).await;
    assert_eq!(s, StatusCode::CREATED, "{n}");
    let (s, p) = app.post("/api/v1/notes", json!({"body": "a\u{0}", "deal_id": deal["id"]})).await;
    assert_problem(s, &p, StatusCode::UNPROCESSABLE_ENTITY, Some("body"));
}

#[tokio::test]
async fn nul_in_a_metrics_slice_is_422() {
    let app = spawn_app().await;
    app.create_deal(json!({"title": "Sliced", "source": "a'b"})).await;
    for path in ["/api/v1/metrics?source=a%00b", "/api/v1/metrics/stages?source=a%00b"] {
        let (s, p) = app.get(path).await;
        assert_problem(s, &p, StatusCode::UNPROCESSABLE_ENTITY, Some("source"));
    }
    // A quote in a slice value is just a value: bound, not pasted into SQL.
    let (s, b) = app.get("/api/v1/metrics?source=a%27b").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["pipeline_deals"], 1, "{b}");
}

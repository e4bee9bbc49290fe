//! Deals over HTTP: create, move through stages, win/lose/reopen, move to
//! another pipeline, history, soft delete and restore, lists.

use crate::helpers::spawn_app;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_deal_moves_through_the_pipeline() {
    let app = spawn_app().await;
    let p = app.default_pipeline().await;
    assert_eq!(p["name"], "Sales");
    let names: Vec<_> = p["stages"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Cold prospect", "Conversation started", "Demo booked", "Proposal sent"]);
    assert_eq!(p["stages"][2]["milestone"], "meeting");

    let d = app
        .create_deal(json!({"title": "Acme rollout", "value": 1_250_000, "currency": "eur", "contract_months": 24}))
        .await;
    assert_eq!(d["stage_id"], p["stages"][0]["id"]);
    assert_eq!(d["currency"], "EUR");
    assert_eq!(d["status"], "open");
    let id = d["id"].as_str().unwrap().to_string();

    let (s, d2) = app
        .patch(&format!("/api/v1/deals/{id}"), json!({"version": d["version"], "stage_id": p["stages"][1]["id"]}))
        .await;
    assert_eq!(s, StatusCode::OK, "{d2}");
    let (s, d3) = app.patch(&format!("/api/v1/deals/{id}"), json!({"version": d2["version"], "status": "won"})).await;
    assert_eq!(s, StatusCode::OK, "{d3}");
    assert!(d3["closed_at"].is_string());
    let (s, d4) = app.patch(&format!("/api/v1/deals/{id}"), json!({"version": d3["version"], "status": "open"})).await;
    assert_eq!(s, StatusCode::OK);
    assert!(d4["closed_at"].is_null());
    assert_eq!(d4["stage_id"], p["stages"][1]["id"], "a reopened deal resumes in its stage");

    let (_, events) = app.get(&format!("/api/v1/deals/{id}/events")).await;
    let events = &events["items"];
    let kinds: Vec<_> = events.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["enter", "enter", "won", "reopen"]);

    // Move to another pipeline: lands in its first stage.
    let (s, other) = app
        .post(
            "/api/v1/pipelines",
            json!({"name": "Partners", "stages": [{"name": "Intro"}, {"name": "Signed", "milestone": "proposal"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{other}");
    let (s, d5) =
        app.patch(&format!("/api/v1/deals/{id}"), json!({"version": d4["version"], "pipeline_id": other["id"]})).await;
    assert_eq!(s, StatusCode::OK, "{d5}");
    assert_eq!(d5["stage_id"], other["stages"][0]["id"]);
    let (_, events) = app.get(&format!("/api/v1/deals/{id}/events")).await;
    let events = &events["items"];
    assert_eq!(events.as_array().unwrap().len(), 5);
}

/// A deal's stage log and field history come a page at a time (bounded
/// however often the deal moved), oldest first, and the pages together are
/// the whole log in order; a bad cursor or limit is refused.
#[tokio::test]
async fn deal_logs_are_paged() {
    let app = spawn_app().await;
    let p = app.default_pipeline().await;
    let mut d = app.create_deal(json!({"title": "Ping-pong", "value": 100})).await;
    let id = d["id"].as_str().unwrap().to_string();
    for i in 0..7 {
        let body = json!({"version": d["version"], "stage_id": p["stages"][(i + 1) % 2]["id"], "value": 200 + i});
        let (s, next) = app.patch(&format!("/api/v1/deals/{id}"), body).await;
        assert_eq!(s, StatusCode::OK, "{next}");
        d = next;
    }
    for (log, total) in [("events", 8), ("history", 7)] {
        let (mut seen, mut cursor, mut pages) = (Vec::new(), String::new(), 0);
        loop {
            let (s, page) = app.get(&format!("/api/v1/deals/{id}/{log}?limit=3&cursor={cursor}")).await;
            assert_eq!(s, StatusCode::OK, "{page}");
            let items = page["items"].as_array().unwrap();
            assert!(items.len() <= 3);
            seen.extend(items.iter().cloned());
            pages += 1;
            match page["next_cursor"].as_str() {
                Some(c) => cursor = c.to_string(),
                None => break,
            }
        }
        assert_eq!((seen.len(), pages), (total, 3), "{log}");
        let (_, all) = app.get(&format!("/api/v1/deals/{id}/{log}")).await;
        assert_eq!(all["items"].as_array().unwrap(), &seen, "{log}: pages differ from the whole log");
        assert!(all["next_cursor"].is_null());
        let (s, _) = app.get(&format!("/api/v1/deals/{id}/{log}?cursor=yesterday")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        let (s, _) = app.get(&format!("/api/v1/deals/{id}/{log}?limit=501")).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    }
}

#[tokio::test]
async fn history_can_be_loaded_and_is_recorded() {
    let app = spawn_app().await;
    let p = app.default_pipeline().await;
    let d = app
        .create_deal(json!({"title": "Old deal", "value": 50_000, "created_at": "2025-01-10T09:00:00Z",
            "status": "lost", "lost_reason": "No budget", "closed_at": "2025-03-01T10:00:00Z", "stage_id": p["stages"][1]["id"]}))
        .await;
    assert_eq!(d["created_at"], "2025-01-10T09:00:00.000Z");
    assert_eq!(d["closed_at"], "2025-03-01T10:00:00.000Z");
    assert_eq!(d["lost_reason"], "No budget");
    let id = d["id"].as_str().unwrap();
    let (_, events) = app.get(&format!("/api/v1/deals/{id}/events")).await;
    let events = &events["items"];
    assert_eq!(events[0]["at"], "2025-01-10T09:00:00.000Z");
    assert_eq!(events[1]["kind"], "lost");
    assert_eq!(events[1]["lost_reason"], "No budget");

    let (s, d2) = app
        .patch(
            &format!("/api/v1/deals/{id}"),
            json!({"version": d["version"], "value": 70_000, "probability": 40, "expected_close_date": "2026-06-30"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{d2}");
    let (_, hist) = app.get(&format!("/api/v1/deals/{id}/history")).await;
    let hist = &hist["items"];
    let fields: Vec<_> = hist.as_array().unwrap().iter().map(|h| h["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["value", "probability", "expected_close_date"]);
    assert_eq!(hist[0]["old_value"], 50_000);
    assert_eq!(hist[0]["new_value"], 70_000);
    assert_eq!(hist[0]["user_id"], app.get("/api/v1/auth/me").await.1["user"]["id"]);
}

#[tokio::test]
async fn lists_filter_search_and_page() {
    let app = spawn_app().await;
    let p = app.default_pipeline().await;
    for i in 0..7 {
        let stage = &p["stages"][i % 2]["id"];
        app.create_deal(
            json!({"title": format!("Deal {i} {}", if i % 3 == 0 { "Rocket" } else { "Plain" }), "stage_id": stage}),
        )
        .await;
    }
    let (_, all) = app.get("/api/v1/deals?limit=3").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("/api/v1/deals?limit=3&cursor={c}"),
            None => "/api/v1/deals?limit=3".to_string(),
        };
        let (s, page) = app.get(&url).await;
        assert_eq!(s, StatusCode::OK);
        for d in page["items"].as_array().unwrap() {
            seen.push(d["title"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    assert_eq!(seen[0], "Deal 6 Rocket", "newest first");
    let (_, found) = app.get("/api/v1/deals?q=rOcKeT").await;
    assert_eq!(found["items"].as_array().unwrap().len(), 3);
    let stage1 = p["stages"][1]["id"].as_str().unwrap();
    let (_, in_stage) = app.get(&format!("/api/v1/deals?stage_id={stage1}&status=open")).await;
    assert_eq!(in_stage["items"].as_array().unwrap().len(), 3);
    // A LIKE wildcard in q is literal text.
    let (_, none) = app.get("/api/v1/deals?q=%25").await;
    assert_eq!(none["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn soft_delete_and_restore() {
    let app = spawn_app().await;
    let d = app.create_deal(json!({"title": "Trash me"})).await;
    let id = d["id"].as_str().unwrap();
    let (s, _) = app.delete(&format!("/api/v1/deals/{id}")).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = app.get(&format!("/api/v1/deals/{id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, live) = app.get("/api/v1/deals").await;
    assert_eq!(live["items"].as_array().unwrap().len(), 0);
    let (_, trash) = app.get("/api/v1/deals?deleted=true").await;
    assert_eq!(trash["items"][0]["id"], d["id"]);
    let (s, r) = app.post(&format!("/api/v1/deals/{id}/restore"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert!(r["deleted_at"].is_null());
    let (s, _) = app.post(&format!("/api/v1/deals/{id}/restore"), json!({})).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "restoring a live deal is a 404");
}

#[tokio::test]
async fn custom_fields_are_validated_and_returned() {
    let app = spawn_app().await;
    let (s, f) = app
        .post("/api/v1/custom-fields", json!({"entity": "deal", "key": "product", "label": "Product", "kind": "single_select", "options": ["GTX Pro", "MG Special"]}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{f}");
    let (s, _) = app
        .post("/api/v1/custom-fields", json!({"entity": "deal", "key": "product", "label": "Again", "kind": "text"}))
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let d = app.create_deal(json!({"title": "With product", "custom": {"product": "GTX Pro"}})).await;
    assert_eq!(d["custom"]["product"], "GTX Pro");
    let (s, _) = app
        .patch(
            &format!("/api/v1/deals/{}", d["id"].as_str().unwrap()),
            json!({"version": d["version"], "custom": {"product": null}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn settings_and_lost_reasons() {
    let app = spawn_app().await;
    let (_, s0) = app.get("/api/v1/settings").await;
    assert_eq!(s0["base_currency"], "USD");
    let (s, s1) = app
        .patch("/api/v1/settings", json!({"version": s0["version"], "time_zone": "Asia/Shanghai", "base_currency": "CNY", "exchange_rates": {"usd": 7.1}, "working_days": [1,2,3,4,5,6], "require_lost_reason": false}))
        .await;
    assert_eq!(s, StatusCode::OK, "{s1}");
    assert_eq!(s1["exchange_rates"]["USD"], 7.1);
    let d = app.create_deal(json!({"title": "Yuan deal"})).await;
    assert_eq!(d["currency"], "CNY", "new deals default to the base currency");
    // Lost without a reason is now allowed.
    let (s, _) = app
        .patch(
            &format!("/api/v1/deals/{}", d["id"].as_str().unwrap()),
            json!({"version": d["version"], "status": "lost"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, r) = app.post("/api/v1/lost-reasons", json!({"label": "Legal blocked"})).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let (_, list) = app.get("/api/v1/lost-reasons").await;
    assert_eq!(list.as_array().unwrap().len(), 6);
}

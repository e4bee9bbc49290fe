//! Activities, notes, campaigns and outreach over HTTP: the lifecycle of
//! each, list filters and paging, and bad input answered with a problem
//! document while nothing stored changes. Campaigns and outreach are in [`outreach`].

mod outreach;

use crate::helpers::{TestApp, assert_problem, spawn_app};
use dealflow_core::time::Timestamp;
use reqwest::StatusCode;
use serde_json::{Value, json};

const HOUR: i64 = 3_600_000;

/// An RFC 3339 time `offset` milliseconds from now.
fn at(offset: i64) -> String {
    Timestamp(Timestamp::now().0 + offset).to_rfc3339()
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

async fn created(app: &TestApp, path: &str, body: Value) -> Value {
    let (s, v) = app.post(path, body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v
}

/// The ids of a list page, in order.
async fn ids(app: &TestApp, path: &str) -> Vec<String> {
    let (s, page) = app.get(path).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    page["items"].as_array().expect("items").iter().map(id).collect()
}

#[tokio::test]
async fn activities_lifecycle_and_bad_input() {
    let app = spawn_app().await;
    let deal = app.create_deal(json!({"title": "Acme"})).await;
    let (_, me) = app.get("/api/v1/auth/me").await;

    let a = created(&app, "/api/v1/activities", json!({"subject": "Call Ann", "kind": "call", "deal_id": deal["id"]}))
        .await;
    assert_eq!((a["kind"].as_str(), a["version"].as_i64()), (Some("call"), Some(1)));
    assert_eq!(a["owner_id"], me["user"]["id"], "the caller owns it by default");
    let task = created(&app, "/api/v1/activities", json!({"subject": "Send deck", "due_at": at(HOUR)})).await;
    assert_eq!(task["kind"], "task");
    let url = format!("/api/v1/activities/{}", id(&a));
    let (s, got) = app.get(&url).await;
    assert_eq!((s, &got), (StatusCode::OK, &a));

    let cases: Vec<(Value, StatusCode, Option<&str>)> = vec![
        (json!({"subject": ""}), StatusCode::UNPROCESSABLE_ENTITY, Some("subject")),
        (json!({"subject": "x".repeat(201)}), StatusCode::UNPROCESSABLE_ENTITY, Some("subject")),
        (json!({"subject": "x", "deal_id": "12345"}), StatusCode::UNPROCESSABLE_ENTITY, Some("deal_id")),
        (json!({"subject": "x", "owner_id": "12345"}), StatusCode::UNPROCESSABLE_ENTITY, Some("owner_id")),
        (json!({"subject": "x", "done_at": at(24 * HOUR)}), StatusCode::UNPROCESSABLE_ENTITY, Some("done_at")),
        (json!({"subject": "x", "kind": "fax"}), StatusCode::BAD_REQUEST, None),
        (json!({"subject": "x", "colour": "red"}), StatusCode::BAD_REQUEST, None),
    ];
    for (body, want, field) in cases {
        let (s, p) = app.post("/api/v1/activities", body).await;
        assert_problem(s, &p, want, field);
    }
    // Checked in the store itself, not only through the API's own list.
    let stored = app.store.list_activities(&Default::default(), Default::default()).await.expect("list");
    assert_eq!(stored.items.len(), 2, "refused creates store nothing");

    // Complete it, then a stale edit is refused with the current version.
    let (s, done) = app.patch(&url, json!({"version": 1, "done_at": at(-HOUR)})).await;
    assert_eq!(s, StatusCode::OK, "{done}");
    assert_eq!(done["version"], 2);
    let cases: Vec<(Value, StatusCode, Option<&str>)> = vec![
        (json!({"version": 1, "subject": "Stale"}), StatusCode::CONFLICT, None),
        (json!({"version": 2, "subject": " "}), StatusCode::UNPROCESSABLE_ENTITY, Some("subject")),
        (json!({"version": 2, "kind": "fax"}), StatusCode::BAD_REQUEST, None),
        (json!({"version": 2, "deal_id": "12345"}), StatusCode::UNPROCESSABLE_ENTITY, Some("deal_id")),
        (json!({"version": 2, "done_at": at(24 * HOUR)}), StatusCode::UNPROCESSABLE_ENTITY, Some("done_at")),
    ];
    for (body, want, field) in cases {
        let (s, p) = app.patch(&url, body).await;
        assert_problem(s, &p, want, field);
        if want == StatusCode::CONFLICT {
            assert_eq!(p["current_version"], 2, "{p}");
        }
    }
    let (_, after) = app.get(&url).await;
    assert_eq!(after, done, "nothing changed after refused writes");

    // Filters and paging.
    let deal_id = id(&deal);
    assert_eq!(ids(&app, &format!("/api/v1/activities?deal_id={deal_id}&done=true")).await, [id(&a)]);
    assert_eq!(ids(&app, "/api/v1/activities?done=false").await, [id(&task)]);
    let window = format!("/api/v1/activities?due_after={}&due_before={}", at(0), at(2 * HOUR));
    assert_eq!(ids(&app, &window.replace('+', "%2B")).await, [id(&task)]);
    let (_, first) = app.get("/api/v1/activities?limit=1").await;
    assert_eq!(first["items"][0]["id"], task["id"], "newest first");
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let (_, second) = app.get(&format!("/api/v1/activities?limit=1&cursor={cursor}")).await;
    assert_eq!(second["items"][0]["id"], a["id"]);
    assert!(second["next_cursor"].is_null());
    let (s, p) = app.get("/api/v1/activities?done=maybe").await;
    assert_problem(s, &p, StatusCode::BAD_REQUEST, None);

    let (s, _) = app.delete(&url).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, p) = app.get(&url).await;
    assert_problem(s, &p, StatusCode::NOT_FOUND, None);
}

#[tokio::test]
async fn notes_lifecycle_and_bad_input() {
    let app = spawn_app().await;
    let deal = app.create_deal(json!({"title": "Acme"})).await;

    let cases: Vec<(Value, StatusCode, Option<&str>)> = vec![
        (json!({"body": "No home"}), StatusCode::UNPROCESSABLE_ENTITY, Some("deal_id")),
        (json!({"body": "", "deal_id": deal["id"]}), StatusCode::UNPROCESSABLE_ENTITY, Some("body")),
        (json!({"body": "x", "person_id": "12345"}), StatusCode::UNPROCESSABLE_ENTITY, Some("person_id")),
        (
            json!({"body": "x", "deal_id": deal["id"], "created_at": at(24 * HOUR)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("created_at"),
        ),
        (json!({"body": "x", "deal_id": deal["id"], "pinned": "yes"}), StatusCode::BAD_REQUEST, None),
    ];
    for (body, want, field) in cases {
        let (s, p) = app.post("/api/v1/notes", body).await;
        assert_problem(s, &p, want, field);
    }

    let n = created(&app, "/api/v1/notes", json!({"body": "**Budget** approved", "deal_id": deal["id"]})).await;
    assert_eq!(n["pinned"], false);
    assert!(n["author_id"].is_string(), "the caller is the author: {n}");
    let url = format!("/api/v1/notes/{}", id(&n));
    let (s, pinned) = app.patch(&url, json!({"version": 1, "pinned": true})).await;
    assert_eq!((s, &pinned["pinned"]), (StatusCode::OK, &json!(true)), "{pinned}");
    let (s, p) = app.patch(&url, json!({"version": 1, "body": "Stale"})).await;
    assert_problem(s, &p, StatusCode::CONFLICT, None);
    assert_eq!(p["current_version"], 2);
    let (_, after) = app.get(&url).await;
    assert_eq!(after, pinned);

    assert_eq!(ids(&app, &format!("/api/v1/notes?deal_id={}", id(&deal))).await, [id(&n)]);
    assert!(ids(&app, "/api/v1/notes?person_id=12345").await.is_empty());
    let (s, _) = app.delete(&url).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, p) = app.delete(&url).await;
    assert_problem(s, &p, StatusCode::NOT_FOUND, None);
}

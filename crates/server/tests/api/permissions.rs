//! Who may change what (issue 14): notes belong to their author (and
//! admins), goals to their owner, managers and admins.

use crate::helpers::{assert_problem, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn id(v: &Value) -> &str {
    v["id"].as_str().expect("an id")
}

#[tokio::test]
async fn rep_cannot_rewrite_or_delete_anothers_note() {
    let app = spawn_app().await;
    let (rep, rep_token) = app.user_with_token("rep@example.com", "rep").await;
    let (_, other_token) = app.user_with_token("rep2@example.com", "rep").await;
    let deal = app.create_deal(json!({"title": "Acme"})).await;
    let (s, n) = app
        .call_as(Some(&rep_token), Method::POST, "/api/v1/notes", Some(json!({"body": "mine", "deal_id": deal["id"]})))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{n}");
    let url = format!("/api/v1/notes/{}", id(&n));

    let (s, p) =
        app.call_as(Some(&other_token), Method::PATCH, &url, Some(json!({"version": 1, "body": "forged"}))).await;
    assert_problem(s, &p, StatusCode::FORBIDDEN, None);
    let (s, p) = app.call_as(Some(&other_token), Method::DELETE, &url, None).await;
    assert_problem(s, &p, StatusCode::FORBIDDEN, None);
    let (_, unchanged) = app.get(&url).await;
    assert_eq!(unchanged["body"], "mine");

    // The author edits; then an admin does, and the note says so.
    let (s, e) = app.call_as(Some(&rep_token), Method::PATCH, &url, Some(json!({"version": 1, "body": "v2"}))).await;
    assert_eq!(s, StatusCode::OK, "{e}");
    assert_eq!(e["edited_by"], rep["id"]);
    let (s, e) = app.patch(&url, json!({"version": e["version"], "body": "v3"})).await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let (_, me) = app.get("/api/v1/auth/me").await;
    assert_eq!(e["author_id"], rep["id"], "the author stays");
    assert_eq!(e["edited_by"], me["user"]["id"]);
    assert!(e["edited_at"].is_string(), "{e}");

    // Deletion hides the note everywhere the API lists it.
    let (s, _) = app.call_as(Some(&rep_token), Method::DELETE, &url, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, p) = app.get(&url).await;
    assert_problem(s, &p, StatusCode::NOT_FOUND, None);
    let (_, list) = app.get(&format!("/api/v1/notes?deal_id={}", id(&deal))).await;
    assert_eq!(list["items"], json!([]), "{list}");
}

#[tokio::test]
async fn rep_cannot_change_or_delete_others_goals() {
    let app = spawn_app().await;
    let (rep, rep_token) = app.user_with_token("rep@example.com", "rep").await;
    let (_, manager_token) = app.user_with_token("boss@example.com", "manager").await;
    let goal = |owner: Value| json!({"metric": "deals_won", "target": 5, "from": "2025-03-01", "to": "2025-04-01", "owner_id": owner});
    let (s, team) = app.post("/api/v1/goals", goal(Value::Null)).await;
    assert_eq!(s, StatusCode::CREATED, "{team}");
    let (s, own) = app.call_as(Some(&rep_token), Method::POST, "/api/v1/goals", Some(goal(rep["id"].clone()))).await;
    assert_eq!(s, StatusCode::CREATED, "{own}");

    let team_url = format!("/api/v1/goals/{}", id(&team));
    let (s, p) =
        app.call_as(Some(&rep_token), Method::PATCH, &team_url, Some(json!({"version": 1, "target": 0}))).await;
    assert_problem(s, &p, StatusCode::FORBIDDEN, None);
    let (s, p) = app.call_as(Some(&rep_token), Method::DELETE, &team_url, None).await;
    assert_problem(s, &p, StatusCode::FORBIDDEN, None);
    let (_, still) = app.get(&team_url).await;
    assert_eq!(still["target"], 5);

    // The owner changes their own goal but cannot give it away.
    let own_url = format!("/api/v1/goals/{}", id(&own));
    let (s, g) = app.call_as(Some(&rep_token), Method::PATCH, &own_url, Some(json!({"version": 1, "target": 7}))).await;
    assert_eq!(s, StatusCode::OK, "{g}");
    let (s, p) =
        app.call_as(Some(&rep_token), Method::PATCH, &own_url, Some(json!({"version": 2, "owner_id": null}))).await;
    assert_problem(s, &p, StatusCode::FORBIDDEN, None);
    // A manager may change and delete anyone's goal.
    let (s, g) =
        app.call_as(Some(&manager_token), Method::PATCH, &team_url, Some(json!({"version": 1, "target": 9}))).await;
    assert_eq!(s, StatusCode::OK, "{g}");
    let (s, _) = app.call_as(Some(&manager_token), Method::DELETE, &own_url, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
}

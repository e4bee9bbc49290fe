//! Sign-in, sessions, CSRF, tokens, roles and deactivation.

use crate::helpers::spawn_app;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn cookie_session_needs_csrf_for_changes() {
    let app = spawn_app().await;
    let (s, _) = app
        .call_as(
            None,
            Method::POST,
            "/api/v1/auth/login",
            Some(json!({"email": "admin@example.com", "password": "wrong password!"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let resp = app
        .client
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"email": "ADMIN@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Max-Age="), "{cookie}");
    let info: serde_json::Value = resp.json().await.unwrap();
    let csrf = info["csrf_token"].as_str().unwrap().to_string();

    // The client keeps the cookie: reads work without a token.
    let r = app.client.get(format!("{}/api/v1/deals", app.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // A change without the CSRF header is refused, with it accepted.
    let r = app.client.post(format!("{}/api/v1/deals", app.base)).json(&json!({"title": "x"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .client
        .post(format!("{}/api/v1/deals", app.base))
        .header("x-csrf-token", &csrf)
        .json(&json!({"title": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    // Logout ends the session.
    let r =
        app.client.post(format!("{}/api/v1/auth/logout", app.base)).header("x-csrf-token", &csrf).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = app.client.get(format!("{}/api/v1/deals", app.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn reps_cannot_administer_and_deactivation_stops_tokens() {
    let app = spawn_app().await;
    let (s, rep) = app
        .post(
            "/api/v1/users",
            json!({"email": "rep@example.com", "name": "Rita Rep", "role": "rep", "password": "rep password 1"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{rep}");
    let (s, t) = app.post("/api/v1/tokens", json!({"name": "rep token", "user_id": rep["id"]})).await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let rep_token = t["secret"].as_str().unwrap().to_string();

    let (s, _) = app.call_as(Some(&rep_token), Method::GET, "/api/v1/deals", None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, p) = app
        .call_as(Some(&rep_token), Method::PATCH, "/api/v1/settings", Some(json!({"version": 1, "name": "x"})))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{p}");

    // The rep owns a deal; deactivate and reassign.
    let (s, deal) =
        app.call_as(Some(&rep_token), Method::POST, "/api/v1/deals", Some(json!({"title": "Rep deal"}))).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(deal["owner_id"], rep["id"]);
    let (s, u) = app
        .patch(
            &format!("/api/v1/users/{}", rep["id"].as_str().unwrap()),
            json!({"version": rep["version"], "active": false}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{u}");
    let (s, _) = app.call_as(Some(&rep_token), Method::GET, "/api/v1/deals", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "a deactivated user's token stops at once");

    let (_, me) = app.get("/api/v1/auth/me").await;
    let (s, r) = app
        .post(
            &format!("/api/v1/users/{}/reassign", rep["id"].as_str().unwrap()),
            json!({"to_user_id": me["user"]["id"]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["deals"], 1);
    let (_, d) = app.get(&format!("/api/v1/deals/{}", deal["id"].as_str().unwrap())).await;
    assert_eq!(d["owner_id"], me["user"]["id"]);
    let (_, hist) = app.get(&format!("/api/v1/deals/{}/history", deal["id"].as_str().unwrap())).await;
    assert_eq!(hist["items"][0]["field"], "owner_id");

    // The last admin cannot be deactivated.
    let (s, p) = app
        .patch(
            &format!("/api/v1/users/{}", me["user"]["id"].as_str().unwrap()),
            json!({"version": me["user"]["version"], "active": false}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
}

#[tokio::test]
async fn revoked_token_stops_working() {
    let app = spawn_app().await;
    let (s, t) = app.post("/api/v1/tokens", json!({"name": "temp"})).await;
    assert_eq!(s, StatusCode::CREATED);
    let secret = t["secret"].as_str().unwrap();
    let (s, _) = app.call_as(Some(secret), Method::GET, "/api/v1/deals", None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app.post(&format!("/api/v1/tokens/{}/revoke", t["token"]["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app.call_as(Some(secret), Method::GET, "/api/v1/deals", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

/// Users and tokens are lists like any other: newest first, a page at a
/// time, so they stay bounded however many accumulate (revoked tokens are
/// kept and listed).
#[tokio::test]
async fn users_and_tokens_are_paged() {
    let app = spawn_app().await;
    for i in 0..3 {
        let (s, t) = app.post("/api/v1/tokens", json!({"name": format!("script {i}")})).await;
        assert_eq!(s, StatusCode::CREATED, "{t}");
        let (s, u) = app
            .post(
                "/api/v1/users",
                json!({"email": format!("u{i}@example.com"), "name": format!("User {i}"), "role": "rep",
                    "password": "a long password here"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{u}");
    }
    for (path, total) in [("/api/v1/tokens", 4), ("/api/v1/users", 4)] {
        let (s, first) = app.get(&format!("{path}?limit=3")).await;
        assert_eq!(s, StatusCode::OK, "{first}");
        assert_eq!(first["items"].as_array().unwrap().len(), 3, "{path}");
        let cursor = first["next_cursor"].as_str().expect("a second page").to_string();
        let (_, second) = app.get(&format!("{path}?limit=3&cursor={cursor}")).await;
        assert_eq!(second["items"].as_array().unwrap().len(), total - 3, "{path}");
        assert!(second["next_cursor"].is_null());
        let (s, _) = app.get(&format!("{path}?limit=0")).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    }
}

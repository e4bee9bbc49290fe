//! The audit log (issue 14): what each kind of change records, sign-ins and
//! failed sign-ins, who may read it, paging, filters, the CSV export and the
//! settings page.

use crate::helpers::{TestApp, assert_problem, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The entries matching `query` (a query string without `?`), newest first.
async fn entries(app: &TestApp, query: &str) -> Vec<Value> {
    let (s, page) = app.get(&format!("/api/v1/audit-log?limit=500&{query}")).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    page["items"].as_array().expect("items").clone()
}

/// The newest entry with `action`, asserting there is one.
async fn newest(app: &TestApp, action: &str) -> Value {
    entries(app, "").await.into_iter().find(|e| e["action"] == action).unwrap_or_else(|| panic!("no {action} entry"))
}

/// The change of `field` in an entry.
fn change<'a>(e: &'a Value, field: &str) -> &'a Value {
    e["changes"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["field"] == field))
        .unwrap_or_else(|| panic!("no {field}: {e}"))
}

fn fields(e: &Value) -> Vec<&str> {
    e["changes"].as_array().map(|cs| cs.iter().filter_map(|c| c["field"].as_str()).collect()).unwrap_or_default()
}

/// The admin's id and the id of the token the tests use.
async fn admin_and_token(app: &TestApp) -> (Value, Value) {
    let (_, me) = app.get("/api/v1/auth/me").await;
    let (_, tokens) = app.get("/api/v1/tokens").await;
    let token =
        tokens["items"].as_array().and_then(|ts| ts.iter().find(|t| t["name"] == "tests")).expect("the tests' token");
    (me["user"]["id"].clone(), token["id"].clone())
}

#[tokio::test]
async fn a_deal_update_records_the_changed_fields_with_who_how_and_where() {
    let app = spawn_app().await;
    let (admin, token_id) = admin_and_token(&app).await;
    let deal = app.create_deal(json!({"title": "Acme", "value": 500})).await;
    let (s, d) = app
        .patch(&format!("/api/v1/deals/{}", deal["id"].as_str().unwrap()), json!({"version": 1, "value": 900}))
        .await;
    assert_eq!(s, StatusCode::OK, "{d}");

    let list = entries(&app, &format!("record_type=deal&record_id={}", deal["id"].as_str().unwrap())).await;
    assert_eq!(list.len(), 2, "create and update: {list:?}");
    let e = &list[0];
    assert_eq!(e["action"], "deal.update");
    assert_eq!(e["record_id"], deal["id"]);
    assert_eq!(e["user_id"], admin);
    assert_eq!(e["credential"], "token");
    assert_eq!(e["credential_id"], token_id);
    assert_eq!(e["ip"], "127.0.0.1");
    assert_eq!(change(e, "value")["before"], 500);
    assert_eq!(change(e, "value")["after"], 900);
    assert_eq!(fields(e), vec!["value"], "only what changed, no version/updated_at noise");
    assert_eq!(list[1]["action"], "deal.create");
    assert_eq!(change(&list[1], "title")["after"], "Acme");

    // A patch that changes nothing writes nothing, so it logs nothing.
    let (s, _) = app
        .patch(&format!("/api/v1/deals/{}", deal["id"].as_str().unwrap()), json!({"version": 2, "value": 900}))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(entries(&app, "record_type=deal").await.len(), 2);
}

#[tokio::test]
async fn settings_users_tokens_pipelines_and_notes_are_recorded() {
    let app = spawn_app().await;
    let (s, _) = app.patch("/api/v1/settings", json!({"version": 1, "name": "Globex"})).await;
    assert_eq!(s, StatusCode::OK);
    let e = newest(&app, "settings.update").await;
    assert_eq!(
        (change(&e, "name")["before"].clone(), change(&e, "name")["after"].clone()),
        (json!("My company"), json!("Globex"))
    );

    let (rep, _) = app.user_with_token("rep@example.com", "rep").await;
    let (s, u) = app
        .patch(
            &format!("/api/v1/users/{}", rep["id"].as_str().unwrap()),
            json!({"version": rep["version"], "role": "manager", "password": "another password 456"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{u}");
    let e = newest(&app, "user.update").await;
    assert_eq!(e["record_id"], rep["id"]);
    assert_eq!(
        (change(&e, "role")["before"].clone(), change(&e, "role")["after"].clone()),
        (json!("rep"), json!("manager"))
    );
    assert_eq!(change(&e, "password")["after"], "changed");
    assert_eq!(change(&e, "password")["before"], Value::Null, "no password value is ever stored");
    let all = serde_json::to_string(&entries(&app, "").await).unwrap();
    assert!(!all.contains("another password") && !all.contains("argon2"), "no secret in the log");

    let (s, t) = app.post("/api/v1/tokens", json!({"name": "ci"})).await;
    assert_eq!(s, StatusCode::CREATED);
    let token_id = t["token"]["id"].clone();
    assert_eq!(newest(&app, "token.create").await["record_id"], token_id);
    let (s, _) = app.post(&format!("/api/v1/tokens/{}/revoke", token_id.as_str().unwrap()), json!({})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(newest(&app, "token.revoke").await["record_id"], token_id);
    let all = serde_json::to_string(&entries(&app, "").await).unwrap();
    assert!(!all.contains(t["secret"].as_str().unwrap()), "the token's secret is not logged");

    let p = app.default_pipeline().await;
    let (s, _) = app
        .patch(
            &format!("/api/v1/pipelines/{}", p["id"].as_str().unwrap()),
            json!({"version": p["version"], "name": "Renamed pipeline"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(change(&newest(&app, "pipeline.update").await, "name")["after"], "Renamed pipeline");
    let stage = &p["stages"][0];
    let (s, _) = app
        .patch(
            &format!("/api/v1/stages/{}", stage["id"].as_str().unwrap()),
            json!({"version": stage["version"], "probability": 15}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let e = newest(&app, "stage.update").await;
    assert_eq!((e["record_id"].clone(), change(&e, "probability")["after"].clone()), (stage["id"].clone(), json!(15)));

    let deal = app.create_deal(json!({"title": "Noted"})).await;
    let (s, n) = app.post("/api/v1/notes", json!({"body": "first", "deal_id": deal["id"]})).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = app
        .patch(&format!("/api/v1/notes/{}", n["id"].as_str().unwrap()), json!({"version": 1, "body": "second"}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let e = newest(&app, "note.update").await;
    assert_eq!(
        (change(&e, "body")["before"].clone(), change(&e, "body")["after"].clone()),
        (json!("first"), json!("second"))
    );
    let (s, _) = app.delete(&format!("/api/v1/notes/{}", n["id"].as_str().unwrap())).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(newest(&app, "note.delete").await["record_id"], n["id"]);
}

#[tokio::test]
async fn sign_ins_and_failed_sign_ins_are_recorded_with_the_address() {
    let app = spawn_app().await;
    let (admin, _) = admin_and_token(&app).await;
    let login = |email: &str, password: &str| {
        app.client
            .post(format!("{}/api/v1/auth/login", app.base))
            .json(&json!({"email": email, "password": password}))
            .send()
    };
    assert_eq!(login("admin@example.com", "wrong password").await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(login("nobody@example.com", "whatever it is").await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let resp = login("admin@example.com", "correct horse battery").await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let csrf = resp.json::<Value>().await.unwrap()["csrf_token"].as_str().unwrap().to_string();

    let failed: Vec<Value> =
        entries(&app, "").await.into_iter().filter(|e| e["action"] == "user.login_failed").collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert_eq!(failed[0]["user_id"], Value::Null, "an unknown e-mail names no account");
    assert_eq!(failed[0]["detail"]["email"], "nobody@example.com");
    assert_eq!(failed[1]["user_id"], admin, "a known e-mail names its account");
    assert_eq!(failed[1]["detail"]["email"], "admin@example.com");
    assert_eq!(failed[1]["ip"], "127.0.0.1");
    assert!(!serde_json::to_string(&failed).unwrap().contains("wrong password"), "passwords tried are never logged");

    let ok = newest(&app, "user.login").await;
    assert_eq!(
        (ok["user_id"].clone(), ok["credential"].clone(), ok["ip"].clone()),
        (admin.clone(), json!("session"), json!("127.0.0.1"))
    );
    assert!(ok["credential_id"].is_string(), "the session's id: {ok}");

    // A change made through that session names the same session.
    let resp = app
        .client
        .patch(format!("{}/api/v1/settings", app.base))
        .header("x-csrf-token", &csrf)
        .json(&json!({"version": 1, "name": "Initech"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let e = newest(&app, "settings.update").await;
    assert_eq!((e["credential"].clone(), e["credential_id"].clone()), (json!("session"), ok["credential_id"].clone()));

    // Signing out is recorded against the same session.
    let resp =
        app.client.post(format!("{}/api/v1/auth/logout", app.base)).header("x-csrf-token", &csrf).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let out = newest(&app, "user.logout").await;
    assert_eq!((out["user_id"].clone(), out["credential_id"].clone()), (admin, ok["credential_id"].clone()));
}

#[tokio::test]
async fn only_admins_read_or_export_the_log() {
    let app = spawn_app().await;
    for role in ["rep", "manager"] {
        let (_, token) = app.user_with_token(&format!("{role}@example.com"), role).await;
        for path in ["/api/v1/audit-log", "/api/v1/audit-log/export?format=csv"] {
            let (s, body) = app.call_as(Some(&token), Method::GET, path, None).await;
            assert_problem(s, &body, StatusCode::FORBIDDEN, None);
        }
        let (s, _) = app.call_as(None, Method::GET, "/api/v1/audit-log", None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    // Append-only: there is no route that changes or removes entries.
    let id = entries(&app, "").await[0]["id"].as_str().unwrap().to_string();
    for m in [Method::DELETE, Method::PATCH, Method::PUT] {
        let (s, _) = app.call(m.clone(), &format!("/api/v1/audit-log/{id}"), None).await;
        assert!(s == StatusCode::NOT_FOUND || s == StatusCode::METHOD_NOT_ALLOWED, "{m} answered {s}");
    }
}

#[tokio::test]
async fn pages_and_filters() {
    let app = spawn_app().await;
    let (admin, _) = admin_and_token(&app).await;
    let (rep, rep_token) = app.user_with_token("rep@example.com", "rep").await;
    let mut deals = Vec::new();
    for i in 0..3 {
        let (s, d) =
            app.call_as(Some(&rep_token), Method::POST, "/api/v1/deals", Some(json!({"title": format!("D{i}")}))).await;
        assert_eq!(s, StatusCode::CREATED);
        deals.push(d);
    }
    let all = entries(&app, "").await;
    // Pages of two, following the cursor, give every entry once, newest first.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let (s, page) = app.get(&format!("/api/v1/audit-log?limit=2{cursor}")).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        seen.extend(page["items"].as_array().unwrap().iter().map(|e| e["id"].clone()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, all.iter().map(|e| e["id"].clone()).collect::<Vec<_>>());

    let by_rep = entries(&app, &format!("user_id={}", rep["id"].as_str().unwrap())).await;
    assert_eq!(by_rep.len(), 3);
    assert!(by_rep.iter().all(|e| e["user_id"] == rep["id"] && e["action"] == "deal.create"));
    let by_admin = entries(&app, &format!("user_id={}", admin.as_str().unwrap())).await;
    assert!(!by_admin.is_empty() && by_admin.iter().all(|e| e["user_id"] == admin));

    let one = entries(&app, &format!("record_type=deal&record_id={}", deals[1]["id"].as_str().unwrap())).await;
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["record_id"], deals[1]["id"]);

    // Time: `from` is inclusive, `to` exclusive.
    let at = by_rep[1]["at"].as_str().unwrap();
    let enc = |s: &str| s.replace('+', "%2B").replace(':', "%3A");
    let from = entries(&app, &format!("user_id={}&from={}", rep["id"].as_str().unwrap(), enc(at))).await;
    assert!(from.iter().any(|e| e["id"] == by_rep[1]["id"]), "`from` includes its own instant");
    assert!(from.iter().all(|e| e["at"].as_str().unwrap() >= at), "{from:?}");
    let to = entries(&app, &format!("user_id={}&to={}", rep["id"].as_str().unwrap(), enc(at))).await;
    assert!(!to.iter().any(|e| e["id"] == by_rep[1]["id"]), "`to` excludes its own instant");
    assert!(to.iter().all(|e| e["at"].as_str().unwrap() < at), "{to:?}");
    assert!(entries(&app, "from=2999-01-01T00:00:00Z").await.is_empty());

    let (s, body) = app.get("/api/v1/audit-log?record_id=abc").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    let (s, body) = app.get("/api/v1/audit-log?from=yesterday").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    let (s, body) = app.get("/api/v1/audit-log?limit=0").await;
    assert_problem(s, &body, StatusCode::UNPROCESSABLE_ENTITY, Some("limit"));
}

#[tokio::test]
async fn the_export_is_csv_with_the_same_filters() {
    let app = spawn_app().await;
    for i in 0..3 {
        app.create_deal(json!({"title": format!("=cmd{i}")})).await;
    }
    let resp = app
        .client
        .get(format!("{}/api/v1/audit-log/export?format=csv&record_type=deal", app.base))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(resp.headers()["content-disposition"].to_str().unwrap().contains("audit-log-"));
    let body = resp.text().await.unwrap();
    let mut rows = csv::Reader::from_reader(body.as_bytes());
    let header: Vec<String> = rows.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(header[..3], ["id", "at", "user_id"]);
    assert!(header.contains(&"record_id".to_string()));
    let records: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 3, "{body}");
    assert!(records.iter().all(|r| &r[6] == "deal.create"));
    let (s, _) = app.get("/api/v1/audit-log/export?format=xlsx").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "only CSV is offered");
}

#[tokio::test]
async fn the_settings_page_shows_the_log_to_admins_only() {
    let app = spawn_app().await;
    app.create_deal(json!({"title": "Shown"})).await;
    let resp = app
        .client
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"email": "admin@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = app.client.get(format!("{}/settings/audit-log?record_type=deal", app.base)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let page = resp.text().await.unwrap();
    assert!(page.contains("Audit log") && page.contains("deal.create"), "{page}");
    let href = page.split("class=\"export\" href=\"").nth(1).and_then(|r| r.split('"').next()).expect("export link");
    let href = href.replace("&amp;", "&").replace("&#38;", "&").replace("&#x2f;", "/").replace("&#61;", "=");
    assert_eq!(href, "/api/v1/audit-log/export?format=csv&record_type=deal", "the export keeps the filter");
    assert!(!page.contains("<script>") && !page.contains("style="), "no inline script or style (CSP)");
    let resp = app.client.get(format!("{}/settings/audit-log?from=someday", app.base)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let (_, _) = app.user_with_token("rep@example.com", "rep").await;
    let rep = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let resp = rep
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"email": "rep@example.com", "password": "a password 123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = rep.get(format!("{}/settings/audit-log", app.base)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
}

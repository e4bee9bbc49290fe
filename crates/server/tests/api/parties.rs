//! Organizations and people over HTTP: the full lifecycle, filters and
//! search, and refused input that leaves the stored record unchanged.

use crate::helpers::{TestApp, assert_problem, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Creates a record under `path`, asserting success.
async fn create(app: &TestApp, path: &str, body: Value) -> Value {
    let (s, v) = app.post(path, body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v
}

fn id(v: &Value) -> &str {
    v["id"].as_str().expect("id")
}

/// Names of the items of a list response.
async fn names(app: &TestApp, path: &str) -> Vec<String> {
    let (s, page) = app.get(path).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn organization_lifecycle() {
    let app = spawn_app().await;
    let (_, me) = app.get("/api/v1/auth/me").await;
    let o = create(
        &app,
        "/api/v1/organizations",
        json!({"name": "Acme", "domain": "http://www.ACME.com/", "employees": 50}),
    )
    .await;
    assert_eq!((o["domain"].as_str(), o["version"].as_i64()), (Some("acme.com"), Some(1)));
    assert_eq!(o["owner_id"], me["user"]["id"], "the owner defaults to the caller");
    let url = format!("/api/v1/organizations/{}", id(&o));
    let (s, got) = app.get(&url).await;
    assert_eq!((s, &got), (StatusCode::OK, &o));

    let (s, up) = app.patch(&url, json!({"version": 1, "industry": "Rockets", "employees": null})).await;
    assert_eq!(s, StatusCode::OK, "{up}");
    assert_eq!(
        (up["industry"].as_str(), &up["employees"], up["version"].as_i64()),
        (Some("Rockets"), &Value::Null, Some(2))
    );

    let (s, _) = app.delete(&url).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, gone) = app.get(&url).await;
    assert_problem(s, &gone, StatusCode::NOT_FOUND, None);
    assert_eq!(names(&app, "/api/v1/organizations?deleted=true").await, ["Acme"]);
    assert!(names(&app, "/api/v1/organizations").await.is_empty());
    let (s, back) = app.post(&format!("{url}/restore"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{back}");
    assert_eq!((&back["deleted_at"], &back["industry"]), (&Value::Null, &json!("Rockets")));
    let (s, p) = app.post(&format!("{url}/restore"), json!({})).await;
    assert_problem(s, &p, StatusCode::NOT_FOUND, None);
}

#[tokio::test]
async fn person_lifecycle_and_filters() {
    let app = spawn_app().await;
    let acme = create(&app, "/api/v1/organizations", json!({"name": "Acme", "domain": "acme.com"})).await;
    create(&app, "/api/v1/organizations", json!({"name": "Globex", "domain": "globex.io"})).await;
    assert_eq!(names(&app, "/api/v1/organizations?q=GLOBEX.I").await, ["Globex"]);
    assert_eq!(names(&app, "/api/v1/organizations?q=acm").await, ["Acme"]);

    let ann = create(
        &app,
        "/api/v1/people",
        json!({"name": "Ann Lee", "emails": ["Ann@Acme.com", "ann@home.org"], "phones": ["+1 555"],
               "organization_id": acme["id"], "job_title": "CTO"}),
    )
    .await;
    assert_eq!(ann["emails"], json!(["ann@acme.com", "ann@home.org"]));
    create(&app, "/api/v1/people", json!({"name": "Bob", "emails": ["bob@example.org"]})).await;
    assert_eq!(names(&app, &format!("/api/v1/people?organization_id={}", id(&acme))).await, ["Ann Lee"]);
    assert_eq!(names(&app, "/api/v1/people?q=BOB@EX").await, ["Bob"]);
    assert_eq!(names(&app, "/api/v1/people?q=lee").await, ["Ann Lee"]);
    assert_eq!(names(&app, "/api/v1/people").await, ["Bob", "Ann Lee"], "newest first");
    assert!(names(&app, "/api/v1/people?updated_since=2999-01-01T00:00:00Z").await.is_empty());

    let (s, page) = app.get("/api/v1/people?limit=1").await;
    assert_eq!(s, StatusCode::OK);
    let cursor = page["next_cursor"].as_str().expect("a next page").to_string();
    assert_eq!(names(&app, &format!("/api/v1/people?limit=1&cursor={cursor}")).await, ["Ann Lee"]);

    let url = format!("/api/v1/people/{}", id(&ann));
    let (s, up) = app.patch(&url, json!({"version": 1, "emails": ["lee@acme.com"], "organization_id": null})).await;
    assert_eq!(s, StatusCode::OK, "{up}");
    assert_eq!(
        (&up["emails"], &up["organization_id"], &up["version"]),
        (&json!(["lee@acme.com"]), &Value::Null, &json!(2))
    );
    let (s, _) = app.delete(&url).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(names(&app, "/api/v1/people?deleted=true").await, ["Ann Lee"]);
    let (s, back) = app.post(&format!("{url}/restore"), json!({})).await;
    assert_eq!((s, back["name"].as_str()), (StatusCode::OK, Some("Ann Lee")));
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let (s, _) = app
        .post("/api/v1/custom-fields", json!({"entity": "person", "key": "seats", "label": "Seats", "kind": "number"}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let o = create(&app, "/api/v1/organizations", json!({"name": "Keep Org"})).await;
    let p = create(&app, "/api/v1/people", json!({"name": "Keep Me", "emails": ["keep@me.com"]})).await;
    let org_url = format!("/api/v1/organizations/{}", id(&o));
    let url = format!("/api/v1/people/{}", id(&p));

    let many_phones = vec!["1"; 21];
    let posts: Vec<(&str, Value, StatusCode, Option<&str>)> = vec![
        ("/api/v1/organizations", json!({"name": " "}), StatusCode::UNPROCESSABLE_ENTITY, Some("name")),
        (
            "/api/v1/organizations",
            json!({"name": "A", "employees": -5}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("employees"),
        ),
        (
            "/api/v1/organizations",
            json!({"name": "A", "owner_id": "123"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("owner_id"),
        ),
        ("/api/v1/organizations", json!({"name": "A", "colour": "red"}), StatusCode::BAD_REQUEST, None),
        ("/api/v1/people", json!({"name": ""}), StatusCode::UNPROCESSABLE_ENTITY, Some("name")),
        (
            "/api/v1/people",
            json!({"name": "A", "emails": ["nope"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("emails[0]"),
        ),
        (
            "/api/v1/people",
            json!({"name": "A", "organization_id": "123"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("organization_id"),
        ),
        (
            "/api/v1/people",
            json!({"name": "A", "custom": {"seats": "x"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("custom.seats"),
        ),
        (
            "/api/v1/people",
            json!({"name": "A", "phones": many_phones}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("phones"),
        ),
        ("/api/v1/people", json!({"name": "A", "emails": "a@b.com"}), StatusCode::BAD_REQUEST, None),
    ];
    for (path, body, want, field) in posts {
        let (s, v) = app.post(path, body).await;
        assert_problem(s, &v, want, field);
    }
    assert_eq!(names(&app, "/api/v1/organizations").await, ["Keep Org"], "no organization was created");
    assert_eq!(names(&app, "/api/v1/people").await, ["Keep Me"], "no person was created");

    let patches: Vec<(&str, Value, StatusCode, Option<&str>)> = vec![
        (&url, json!({"version": 1, "name": ""}), StatusCode::UNPROCESSABLE_ENTITY, Some("name")),
        (
            &url,
            json!({"version": 1, "emails": ["ok@x.com", "bad"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("emails[1]"),
        ),
        (
            &url,
            json!({"version": 1, "organization_id": "999"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("organization_id"),
        ),
        (
            &url,
            json!({"version": 1, "custom": {"seats": true}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("custom.seats"),
        ),
        (&url, json!({"version": 1, "nickname": "K"}), StatusCode::BAD_REQUEST, None),
        (&url, json!({"name": "No version"}), StatusCode::BAD_REQUEST, None),
        (&url, json!({"version": 7, "name": "Stale"}), StatusCode::CONFLICT, None),
        (&org_url, json!({"version": 1, "name": "  "}), StatusCode::UNPROCESSABLE_ENTITY, Some("name")),
        (
            &org_url,
            json!({"version": 1, "custom": {"seats": 1}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("custom.seats"),
        ),
        (&org_url, json!({"version": 3, "name": "Stale"}), StatusCode::CONFLICT, None),
    ];
    for (path, body, want, field) in patches {
        let (s, v) = app.patch(path, body).await;
        assert_problem(s, &v, want, field);
        if want == StatusCode::CONFLICT {
            assert_eq!(v["current_version"], 1, "{v}");
        }
    }
    for path in [&url, &org_url] {
        let r = app
            .client
            .patch(format!("{}{path}", app.base))
            .bearer_auth(&app.token)
            .header("content-type", "application/json")
            .body("{\"version\": 1, \"name\": ")
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "malformed JSON");
    }
    let (s, v) = app.get("/api/v1/people?cursor=abc").await;
    assert_problem(s, &v, StatusCode::BAD_REQUEST, None);
    let (s, v) = app.get("/api/v1/organizations?limit=0").await;
    assert_problem(s, &v, StatusCode::UNPROCESSABLE_ENTITY, Some("limit"));

    assert_eq!(app.get(&url).await.1, p, "the person is unchanged");
    assert_eq!(app.get(&org_url).await.1, o, "the organization is unchanged");
}

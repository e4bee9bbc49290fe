//! Intake forms over real HTTP: a form posted form-encoded (as a browser
//! does) creates the person, their organization and a deal in the
//! self-serve pipeline; the same e-mail again adds no duplicate; free-mail
//! addresses make no organization; the spam trap and bad input store
//! nothing; a billing system's paid sign-up is won; and one address is
//! limited per minute.

use crate::helpers::{TestApp, assert_problem, spawn_app};
use crate::mail::s;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Posts `body` form-encoded to the form's public endpoint, without a token.
async fn post_form(app: &TestApp, key: &str, body: &str, secret: Option<&str>) -> (StatusCode, String) {
    let mut req = app
        .client
        .post(format!("{}/f/{key}", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string());
    if let Some(s) = secret {
        req = req.header("x-form-secret", s);
    }
    let resp = req.send().await.expect("post the form");
    let status = resp.status();
    (status, resp.text().await.expect("the answer"))
}

async fn self_serve(app: &TestApp) -> (Value, Value) {
    let (st, p) = app
        .post("/api/v1/pipelines", json!({"name": "Self-serve", "stages": [{"name": "Trial"}, {"name": "Paying"}]}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{p}");
    let body = json!({"name": "Trial sign-up", "pipeline_id": p["id"], "source": "self-serve",
        "fields": ["name", "email", "company"]});
    let (st, f) = app.post("/api/v1/forms", body).await;
    assert_eq!(st, StatusCode::CREATED, "{f}");
    (p, f)
}

async fn items(app: &TestApp, path: &str) -> Vec<Value> {
    let (st, v) = app.get(path).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["items"].as_array().expect("items").clone()
}

#[tokio::test]
async fn a_sign_up_lands_in_the_pipeline_once_per_person() {
    let app = spawn_app().await;
    let (p, f) = self_serve(&app).await;
    let key = s(&f["key"]);
    assert!(f["secret"].as_str().is_some_and(|s| s.len() >= 32), "{f}");
    let snippet = s(&f["snippet"]);
    assert!(snippet.contains(&format!("/f/{key}\"")) && snippet.contains("name=\"email\""), "{snippet}");
    assert!(snippet.contains("name=\"website\""), "the spam trap is in the snippet");

    let (st, page) = post_form(&app, &key, "name=Grace+Hopper&email=Grace%40Navy-Example.com&company=Navy", None).await;
    assert_eq!(st, StatusCode::OK, "{page}");
    assert!(page.contains("Thank you"), "{page}");
    let people = items(&app, "/api/v1/people?q=grace").await;
    assert_eq!(people.len(), 1, "{people:?}");
    assert_eq!(people[0]["emails"], json!(["grace@navy-example.com"]));
    let org = people[0]["organization_id"].clone();
    let (_, o) = app.get(&format!("/api/v1/organizations/{}", s(&org))).await;
    assert_eq!(o["domain"], "navy-example.com", "{o}");
    let deals = items(&app, &format!("/api/v1/deals?pipeline_id={}", s(&p["id"]))).await;
    assert_eq!(deals.len(), 1, "{deals:?}");
    assert_eq!(deals[0]["stage_id"], p["stages"][0]["id"], "the pipeline's first stage");
    assert_eq!(deals[0]["source"], "self-serve");
    assert_eq!(deals[0]["form_id"], f["id"], "marked with the form");
    assert_eq!(deals[0]["person_id"], people[0]["id"]);
    assert_eq!(deals[0]["organization_id"], org);

    // The same person again, their address in other letters: nothing new.
    let (st, _) = post_form(&app, &key, "name=G.+Hopper&email=GRACE%40navy-example.com", None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(items(&app, "/api/v1/people?q=grace").await.len(), 1);
    assert_eq!(items(&app, &format!("/api/v1/deals?pipeline_id={}", s(&p["id"]))).await.len(), 1);
    let subs = items(&app, &format!("/api/v1/forms/{}/submissions", s(&f["id"]))).await;
    let outcomes: Vec<&str> = subs.iter().filter_map(|x| x["outcome"].as_str()).collect();
    assert_eq!(outcomes, ["existing", "created"], "newest first");

    // A free-mail address makes no organization.
    post_form(&app, &key, "name=Ada&email=ada%40gmail.com", None).await;
    let ada = items(&app, "/api/v1/people?q=ada").await;
    assert_eq!(ada.len(), 1);
    assert_eq!(ada[0]["organization_id"], Value::Null);
}

#[tokio::test]
async fn spam_bad_input_and_wrong_secrets_store_nothing_and_a_paid_sign_up_is_won() {
    let app = spawn_app().await;
    let (p, f) = self_serve(&app).await;
    let key = s(&f["key"]);
    let (st, page) = post_form(&app, &key, "name=Bot&email=bot%40spam-example.com&website=http%3A%2F%2Fx", None).await;
    assert_eq!(st, StatusCode::OK, "a trapped post looks accepted: {page}");
    assert!(items(&app, "/api/v1/people?q=bot").await.is_empty(), "and stores nothing");

    let (st, body) = post_form(&app, &key, "name=No+mail&email=not-an-address", None).await;
    let body: Value = serde_json::from_str(&body).expect("a problem document");
    assert_problem(st, &body, StatusCode::UNPROCESSABLE_ENTITY, Some("email"));
    let (st, _) = post_form(&app, "no-such-form", "email=a%40example.com", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = post_form(&app, &key, "email=payer%40acme-example.com&value=4900", Some("wrong")).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert!(items(&app, "/api/v1/people?q=payer").await.is_empty());

    let secret = s(&f["secret"]);
    let body = "name=Payer&email=payer%40acme-example.com&company=Acme&value=4900&currency=EUR";
    let (st, page) = post_form(&app, &key, body, Some(&secret)).await;
    assert_eq!(st, StatusCode::OK, "{page}");
    let deals = items(&app, &format!("/api/v1/deals?pipeline_id={}", s(&p["id"]))).await;
    assert_eq!(deals.len(), 1, "{deals:?}");
    assert_eq!((deals[0]["status"].clone(), deals[0]["value"].clone()), (json!("won"), json!(4900)));
    assert_eq!(deals[0]["currency"], "EUR");
}

#[tokio::test]
async fn one_address_gets_thirty_posts_a_minute_and_json_clients_get_json() {
    let app = spawn_app().await;
    let (_, f) = self_serve(&app).await;
    let key = s(&f["key"]);
    let resp = app
        .client
        .post(format!("{}/f/{key}", app.base))
        .json(&json!({"email": "json@example.org", "name": "Jay"}))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), StatusCode::OK);
    let v: Value = resp.json().await.expect("json");
    assert_eq!(v["ok"], true, "{v}");
    // Trapped posts count too, and are cheap.
    for i in 1..30 {
        let (st, _) = post_form(&app, &key, "email=t%40example.org&website=x", None).await;
        assert_eq!(st, StatusCode::OK, "post {}", i + 1);
    }
    let (st, body) = post_form(&app, &key, "email=t%40example.org&website=x", None).await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS, "{body}");
}

//! Findings of the security review (issue 14), one test or more each:
//! the sign-in redirect, sign-in throttling, cross-site sign-in, password
//! changes, and the security headers. Note and goal permissions are in
//! `permissions.rs`.

use crate::helpers::{TestApp, assert_problem, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const ADMIN_PW: &str = "correct horse battery";

/// A client that keeps cookies and does not follow redirects, from `ip`.
fn browser_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .local_address(Some(ip.parse().expect("an IP address")))
        .build()
        .expect("client")
}

fn browser() -> reqwest::Client {
    browser_from("127.0.0.1")
}

/// Posts the sign-in form.
async fn form_login(app: &TestApp, c: &reqwest::Client, email: &str, pw: &str, next: &str) -> reqwest::Response {
    c.post(format!("{}/login", app.base))
        .form(&[("email", email), ("password", pw), ("next", next)])
        .send()
        .await
        .expect("send sign-in form")
}

/// Signs in through the API; returns the status, the body and the response's Retry-After.
async fn api_login(app: &TestApp, c: &reqwest::Client, email: &str, pw: &str) -> (StatusCode, Value, Option<u64>) {
    let r = c
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"email": email, "password": pw}))
        .send()
        .await
        .expect("send login");
    let status = r.status();
    let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
    (status, r.json().await.unwrap_or(Value::Null), retry)
}

/// A user with a password, created by the admin.
async fn add_user(app: &TestApp, email: &str, role: &str, pw: &str) -> Value {
    let (s, u) =
        app.post("/api/v1/users", json!({"email": email, "name": "Someone", "role": role, "password": pw})).await;
    assert_eq!(s, StatusCode::CREATED, "{u}");
    u
}

#[tokio::test]
async fn login_next_rejects_tab_redirect() {
    let app = spawn_app().await;
    let r = form_login(&app, &browser(), "admin@example.com", ADMIN_PW, "/\t/evil.example").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/board", "a tab in `next` must not reach the Location header");
    for next in ["/\\evil.example", "//evil.example", "/ok?a=b c"] {
        let r = form_login(&app, &browser(), "admin@example.com", ADMIN_PW, next).await;
        assert_eq!(r.headers()["location"], "/board", "{next:?}");
    }
    let r = form_login(&app, &browser(), "admin@example.com", ADMIN_PW, "/deals?stage=2&q=a%20b").await;
    assert_eq!(r.headers()["location"], "/deals?stage=2&q=a%20b", "ordinary local paths still work");
}

#[tokio::test]
async fn login_next_with_newline_redirects_instead_of_500() {
    let app = spawn_app().await;
    let r = form_login(&app, &browser(), "admin@example.com", ADMIN_PW, "/board\r\nSet-Cookie: x=1").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/board");
}

#[tokio::test]
async fn login_throttles_eleventh_failure_with_retry_after() {
    let app = spawn_app().await;
    let attacker = browser_from("127.0.0.1");
    for i in 1..=10 {
        let (s, p, _) = api_login(&app, &attacker, "admin@example.com", "wrong password!").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "failure {i}: {p}");
    }
    let (s, p, retry) = api_login(&app, &attacker, "admin@example.com", "wrong password!").await;
    assert_problem(s, &p, StatusCode::TOO_MANY_REQUESTS, None);
    let retry = retry.expect("a 429 carries Retry-After");
    assert!((1..=15 * 60).contains(&retry), "Retry-After {retry}");
    // Even the right password waits: otherwise the 429 would only slow the
    // guessing, not stop it.
    let (s, _, _) = api_login(&app, &attacker, "admin@example.com", ADMIN_PW).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    // The sign-in form shares the count.
    let r = form_login(&app, &attacker, "admin@example.com", ADMIN_PW, "/board").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    assert!(r.text().await.unwrap().contains("Too many failed sign-ins"));

    // Another account from another address is unaffected.
    add_user(&app, "rep@example.com", "rep", "rep password 1").await;
    let (s, p, _) = api_login(&app, &browser_from("127.0.0.2"), "rep@example.com", "rep password 1").await;
    assert_eq!(s, StatusCode::OK, "{p}");
    // The address that failed ten times is blocked for every account.
    let (s, _, _) = api_login(&app, &attacker, "rep@example.com", "rep password 1").await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn web_login_failures_count_toward_the_throttle() {
    let app = spawn_app().await;
    let c = browser();
    for i in 1..=10 {
        let r = form_login(&app, &c, "nobody@example.com", "wrong password!", "/board").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "failure {i}");
    }
    let r = form_login(&app, &c, "nobody@example.com", "wrong password!", "/board").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let (s, _, retry) = api_login(&app, &browser_from("127.0.0.3"), "nobody@example.com", "x").await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "the account is blocked from any address");
    assert!(retry.is_some());
}

#[tokio::test]
async fn web_login_refuses_cross_site_posts() {
    let app = spawn_app().await;
    let post = |headers: &'static [(&'static str, &'static str)]| {
        let mut req = browser().post(format!("{}/login", app.base)).form(&[
            ("email", "admin@example.com"),
            ("password", ADMIN_PW),
            ("next", "/board"),
        ]);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send()
    };
    let r = post(&[("sec-fetch-site", "cross-site")]).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.headers().get("set-cookie").is_none(), "no session for a cross-site post");
    let r = post(&[("origin", "https://evil.example")]).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let own = app.base.clone();
    let r = browser()
        .post(format!("{}/login", app.base))
        .header("origin", own)
        .header("sec-fetch-site", "same-origin")
        .form(&[("email", "admin@example.com"), ("password", ADMIN_PW), ("next", "/board")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "a post from the site itself signs in");
}

/// Signs `email` in through the API on a fresh client; returns the client
/// (holding the cookie) and the CSRF token.
async fn session(app: &TestApp, email: &str, pw: &str) -> (reqwest::Client, String) {
    let c = browser();
    let (s, info, _) = api_login(app, &c, email, pw).await;
    assert_eq!(s, StatusCode::OK, "{info}");
    (c, info["csrf_token"].as_str().unwrap().to_string())
}

async fn me_status(app: &TestApp, c: &reqwest::Client) -> StatusCode {
    c.get(format!("{}/api/v1/auth/me", app.base)).send().await.unwrap().status()
}

async fn patch_self(app: &TestApp, c: &reqwest::Client, csrf: &str, id: &str, body: Value) -> (StatusCode, Value) {
    let r = c
        .patch(format!("{}/api/v1/users/{id}", app.base))
        .header("x-csrf-token", csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn password_change_needs_current_password_and_ends_other_sessions() {
    let app = spawn_app().await;
    let rep = add_user(&app, "rep@example.com", "rep", "rep password 1").await;
    let id = rep["id"].as_str().unwrap();
    let (a, csrf) = session(&app, "rep@example.com", "rep password 1").await;
    let (b, _) = session(&app, "rep@example.com", "rep password 1").await;
    let (s, t) = app.post("/api/v1/tokens", json!({"name": "rep's", "user_id": id})).await;
    assert_eq!(s, StatusCode::CREATED);
    let token = t["secret"].as_str().unwrap().to_string();

    let body = json!({"version": rep["version"], "password": "new password 2"});
    let (s, p) = patch_self(&app, &a, &csrf, id, body).await;
    assert_problem(s, &p, StatusCode::UNPROCESSABLE_ENTITY, Some("current_password"));
    let body = json!({"version": rep["version"], "password": "new password 2", "current_password": "guess guess"});
    let (s, p) = patch_self(&app, &a, &csrf, id, body).await;
    assert_problem(s, &p, StatusCode::UNPROCESSABLE_ENTITY, Some("current_password"));
    let (s, _, _) = api_login(&app, &browser(), "rep@example.com", "new password 2").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "the refused change changed nothing");

    let body = json!({"version": rep["version"], "password": "new password 2", "current_password": "rep password 1"});
    let (s, p) = patch_self(&app, &a, &csrf, id, body).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(me_status(&app, &a).await, StatusCode::OK, "the session that made the change stays");
    assert_eq!(me_status(&app, &b).await, StatusCode::UNAUTHORIZED, "other sessions end");
    let (s, _) = app.call_as(Some(&token), Method::GET, "/api/v1/auth/me", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "the user's tokens are revoked");
    let (s, _, _) = api_login(&app, &browser(), "rep@example.com", "new password 2").await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn password_change_by_token_keeps_that_token_only() {
    let app = spawn_app().await;
    let rep = add_user(&app, "rep@example.com", "rep", "rep password 1").await;
    let id = rep["id"].as_str().unwrap();
    let mut tokens = Vec::new();
    for name in ["one", "two"] {
        let (_, t) = app.post("/api/v1/tokens", json!({"name": name, "user_id": id})).await;
        tokens.push(t["secret"].as_str().unwrap().to_string());
    }
    let body = json!({"version": rep["version"], "password": "new password 2", "current_password": "rep password 1"});
    let (s, p) = app.call_as(Some(&tokens[0]), Method::PATCH, &format!("/api/v1/users/{id}"), Some(body)).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    let (s, _) = app.call_as(Some(&tokens[0]), Method::GET, "/api/v1/auth/me", None).await;
    assert_eq!(s, StatusCode::OK, "the token that made the change keeps working");
    let (s, _) = app.call_as(Some(&tokens[1]), Method::GET, "/api/v1/auth/me", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn admin_resets_anothers_password_without_current_one() {
    let app = spawn_app().await;
    let rep = add_user(&app, "rep@example.com", "rep", "rep password 1").await;
    let (c, _) = session(&app, "rep@example.com", "rep password 1").await;
    let path = format!("/api/v1/users/{}", rep["id"].as_str().unwrap());
    let (s, p) = app.patch(&path, json!({"version": rep["version"], "password": "reset password 3"})).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(me_status(&app, &c).await, StatusCode::UNAUTHORIZED, "the user's sessions end on a reset");
    // The admin's own password still needs the current one.
    let (_, me) = app.get("/api/v1/auth/me").await;
    let path = format!("/api/v1/users/{}", me["user"]["id"].as_str().unwrap());
    let (s, p) = app.patch(&path, json!({"version": me["user"]["version"], "password": "admin password 4"})).await;
    assert_problem(s, &p, StatusCode::UNPROCESSABLE_ENTITY, Some("current_password"));
}

#[tokio::test]
async fn responses_carry_security_headers() {
    let app = spawn_app().await;
    for path in ["/login", "/api/v1/auth/me", "/healthz", "/no/such/page"] {
        let r = browser().get(format!("{}{path}", app.base)).send().await.unwrap();
        let h = r.headers();
        let csp = h.get("content-security-policy").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        for part in ["default-src 'self'", "img-src 'self'", "frame-ancestors 'none'"] {
            assert!(csp.contains(part), "{path}: CSP {csp:?} lacks {part}");
        }
        assert_eq!(h.get("x-content-type-options").map(|v| v.to_str().unwrap()), Some("nosniff"), "{path}");
        assert_eq!(h.get("referrer-policy").map(|v| v.to_str().unwrap()), Some("same-origin"), "{path}");
        assert!(h.get("strict-transport-security").is_none(), "{path}: no HSTS without secure cookies");
    }
}

#[tokio::test]
async fn hsts_is_sent_when_cookies_are_secure() {
    let db = dealflow_store::testing::test_database().await.expect("create a test database");
    let store = dealflow_store::Store::open(&db.url, &dealflow_store::PoolSettings::default()).await.expect("open");
    let config = dealflow_server::Config { secure_cookies: true, ..Default::default() };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let state = dealflow_server::AppState::new(store, config);
    tokio::spawn(dealflow_server::serve(listener, state, std::future::pending()));
    let r = browser().get(format!("{base}/login")).send().await.unwrap();
    let hsts = r.headers().get("strict-transport-security").map(|v| v.to_str().unwrap().to_string());
    assert!(hsts.is_some_and(|v| v.starts_with("max-age=")), "{:?}", r.headers());
}

/// The fastest of five sign-in form posts, in milliseconds.
async fn fastest_form_login(app: &TestApp, email: &str) -> u128 {
    let mut best = u128::MAX;
    for _ in 0..5 {
        let started = std::time::Instant::now();
        let r = form_login(app, &browser(), email, "wrong password!", "/board").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        best = best.min(started.elapsed().as_millis());
    }
    best
}

#[tokio::test]
async fn web_login_takes_as_long_for_unknown_emails() {
    let app = spawn_app().await;
    let known = fastest_form_login(&app, "admin@example.com").await;
    let unknown = fastest_form_login(&app, "nobody@example.com").await;
    // Both run one argon2 verification; without the dummy one an unknown
    // e-mail answers in a millisecond or two, some thirty times faster. The
    // margin of 4 leaves room for a loaded machine (seen: 30 ms against 74)
    // and still catches a missing verification.
    assert!(unknown * 4 >= known, "unknown {unknown} ms, known {known} ms");
}

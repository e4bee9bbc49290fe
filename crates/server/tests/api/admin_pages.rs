//! The activities, settings and search pages over HTTP: grouping by due
//! time in the workspace time zone, admin-only settings, search results and
//! escaping of user text.

use crate::helpers::{TestApp, spawn_app};
use dealflow_core::time::Timestamp;
use reqwest::StatusCode;
use serde_json::json;

const DAY: i64 = 86_400_000;

/// A browser-like client signed in as `email`.
async fn signed_in(app: &TestApp, email: &str, password: &str) -> reqwest::Client {
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let r = c
        .post(format!("{}/login", app.base))
        .form(&[("email", email), ("password", password), ("next", "/board")])
        .send()
        .await
        .expect("sign in");
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "sign-in as {email}");
    c
}

async fn page(app: &TestApp, c: &reqwest::Client, path: &str) -> (StatusCode, String) {
    let r = c.get(format!("{}{path}", app.base)).send().await.expect("get page");
    (r.status(), r.text().await.expect("body"))
}

/// The HTML of the activity group `key` (up to the next group).
fn group<'a>(html: &'a str, key: &str) -> &'a str {
    let start = html.find(&format!("data-group=\"{key}\"")).unwrap_or_else(|| panic!("group {key} missing"));
    let rest = &html[start..];
    let end = rest[1..].find("data-group=").map(|e| e + 1).unwrap_or(rest.len());
    &rest[..end]
}

async fn make_rep(app: &TestApp) -> serde_json::Value {
    let (s, rep) = app
        .post(
            "/api/v1/users",
            json!({"email": "rep@example.com", "name": "Rita Rep", "role": "rep", "password": "rep password 123"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{rep}");
    rep
}

#[tokio::test]
async fn activities_are_grouped_overdue_today_upcoming() {
    let app = spawn_app().await;
    let rep = make_rep(&app).await;
    let deal = app.create_deal(json!({"title": "Globex <renewal>"})).await;
    let now = Timestamp::now();
    let at = |ms: i64| Timestamp(ms).to_rfc3339();
    // Later today (the workspace is on UTC): halfway to midnight.
    let later_today = now.0 + (DAY - now.0.rem_euclid(DAY)) / 2;
    for (subject, due, done) in [
        ("Call back overdue", Some(at(now.0 - 2 * DAY)), None),
        ("Missed this morning", Some(at(now.0 - 1_000)), None),
        ("Send deck today", Some(at(later_today)), None),
        ("Meeting next week", Some(at(now.0 + 5 * DAY)), None),
        ("Already finished", Some(at(now.0 - DAY)), Some(at(now.0 - DAY))),
    ] {
        let (s, a) = app
            .post(
                "/api/v1/activities",
                json!({"subject": subject, "due_at": due, "done_at": done, "deal_id": deal["id"], "kind": "call"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{a}");
    }
    let (s, _) = app
        .post("/api/v1/activities", json!({"subject": "Rita's task", "due_at": at(now.0 + DAY), "owner_id": rep["id"]}))
        .await;
    assert_eq!(s, StatusCode::CREATED);

    let c = signed_in(&app, "admin@example.com", "correct horse battery").await;
    let (s, html) = page(&app, &c, "/activities").await;
    assert_eq!(s, StatusCode::OK);
    assert!(group(&html, "overdue").contains("Call back overdue"));
    assert!(group(&html, "overdue").contains("Missed this morning"), "overdue from its due time, not the next day");
    assert!(group(&html, "today").contains("Send deck today"));
    assert!(group(&html, "upcoming").contains("Meeting next week"));
    assert!(!html.contains("Already finished"), "done activities are not listed");
    assert!(!html.contains("Rita&#39;s task") && !html.contains("Rita's task"), "mine only by default");
    // The deal link, escaped.
    assert!(html.contains(&format!("href=\"/deals/{}\"", deal["id"].as_str().unwrap())));
    assert!(html.contains("Globex &lt;renewal&gt;") || html.contains("Globex &#60;renewal&#62;"), "escaped title");
    assert!(!html.contains("Globex <renewal>"));
    assert!(html.contains("data-complete="), "one-click complete buttons");

    let (_, all) = page(&app, &c, "/activities?scope=all").await;
    assert!(group(&all, "upcoming").contains("Rita"), "everyone's activities with scope=all");

    // Completing through the API (what the button does) removes it from the page.
    let (_, list) = app.get("/api/v1/activities?done=false").await;
    let overdue = list["items"].as_array().unwrap().iter().find(|a| a["subject"] == "Call back overdue").unwrap();
    let (s, _) = app
        .patch(
            &format!("/api/v1/activities/{}", overdue["id"].as_str().unwrap()),
            json!({"version": overdue["version"], "done_at": now.to_rfc3339()}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, html) = page(&app, &c, "/activities").await;
    assert!(!html.contains("Call back overdue"));
}

#[tokio::test]
async fn today_follows_the_workspace_time_zone() {
    let app = spawn_app().await;
    // A zone far from UTC (UTC+14), so local and UTC days differ: an
    // activity due just before the next local midnight is later today, one
    // just after it is upcoming, and one earlier today is already overdue.
    let (_, st) = app.get("/api/v1/settings").await;
    let (s, _) =
        app.patch("/api/v1/settings", json!({"version": st["version"], "time_zone": "Pacific/Kiritimati"})).await;
    assert_eq!(s, StatusCode::OK);
    let tz: chrono_tz::Tz = "Pacific/Kiritimati".parse().unwrap();
    use chrono::TimeZone;
    let local_today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let midnight = |d: chrono::NaiveDate| tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap()).earliest().unwrap();
    let next = midnight(local_today.succ_opt().unwrap()).timestamp_millis();
    let this = midnight(local_today).timestamp_millis();
    let due = |ms: i64| Timestamp(ms).to_rfc3339();
    app.post("/api/v1/activities", json!({"subject": "Local tonight", "due_at": due(next - 60_000)})).await;
    app.post("/api/v1/activities", json!({"subject": "Local tomorrow", "due_at": due(next + 60_000)})).await;
    app.post("/api/v1/activities", json!({"subject": "Local yesterday", "due_at": due(this - 60_000)})).await;
    let c = signed_in(&app, "admin@example.com", "correct horse battery").await;
    let (_, html) = page(&app, &c, "/activities").await;
    assert!(group(&html, "today").contains("Local tonight"));
    assert!(group(&html, "upcoming").contains("Local tomorrow"));
    assert!(group(&html, "overdue").contains("Local yesterday"));
}

#[tokio::test]
async fn settings_are_for_admins_only() {
    let app = spawn_app().await;
    make_rep(&app).await;
    let rep = signed_in(&app, "rep@example.com", "rep password 123").await;
    let (s, body) = page(&app, &rep, "/settings").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(body.contains("admins"), "{body}");
    let (_, board) = page(&app, &rep, "/board").await;
    assert!(!board.contains("href=\"/settings\""), "no settings link for a rep");

    let admin = signed_in(&app, "admin@example.com", "correct horse battery").await;
    let (s, html) = page(&app, &admin, "/settings").await;
    assert_eq!(s, StatusCode::OK);
    for section in ["s-workspace", "s-pipelines", "s-lost", "s-fields", "s-users", "s-tokens"] {
        assert!(html.contains(&format!("id=\"{section}\"")), "{section} missing");
    }
    for text in ["Cold prospect", "No budget", "Rita Rep", "tests"] {
        assert!(html.contains(text), "{text} missing");
    }
    assert!(html.contains(r#"name="csrf-token""#));

    let anon = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = anon.get(format!("{}/settings", app.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn search_lists_deals_people_and_organizations_escaped() {
    let app = spawn_app().await;
    app.create_deal(json!({"title": "Zebra <b>deal</b>"})).await;
    app.create_deal(json!({"title": "Unrelated"})).await;
    let (s, p) = app.post("/api/v1/people", json!({"name": "Zebra Person", "emails": ["z@zebra.example"]})).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let (s, o) = app.post("/api/v1/organizations", json!({"name": "Zebra Corp", "domain": "zebra.example"})).await;
    assert_eq!(s, StatusCode::CREATED, "{o}");

    let c = signed_in(&app, "admin@example.com", "correct horse battery").await;
    let (s, html) = page(&app, &c, "/search?q=zebra").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Zebra &lt;b&gt;deal&lt;/b&gt;") || html.contains("Zebra &#60;b&#62;"), "escaped");
    assert!(!html.contains("<b>deal</b>"));
    assert!(!html.contains("Unrelated"));
    assert!(html.contains(&format!("href=\"/people/{}\"", p["id"].as_str().unwrap())));
    assert!(html.contains(&format!("href=\"/organizations/{}\"", o["id"].as_str().unwrap())));
    assert!(html.contains("Zebra Corp"));

    // The query is echoed escaped, and a search without results says so.
    let (_, html) = page(&app, &c, "/search?q=%22%3E%3Cscript%3Ex").await;
    assert!(!html.contains("\"><script>x"));
    assert!(html.contains("Nothing found for"));
    // Every page carries the quick-add dialog and the header search.
    assert!(html.contains("id=\"quick-add\"") && html.contains("action=\"/search\""));
}

#[tokio::test]
async fn a_search_without_results_says_so_once_in_both_languages() {
    let app = spawn_app().await;
    app.create_deal(json!({"title": "Zebra deal"})).await;
    let c = signed_in(&app, "admin@example.com", "correct horse battery").await;

    let (s, html) = page(&app, &c, "/search?q=okapi").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(html.matches("Nothing found for “okapi”.").count(), 1, "one message");
    assert!(!html.contains(r#"class="results""#), "no empty groups");
    assert!(!html.contains(r#"<span class="count">0</span>"#), "no headings counting 0");

    let zh = app.zh_page(&c, "/search?q=okapi").await;
    assert_eq!(zh.matches("没有找到与“okapi”相关的交易、联系人或组织。").count(), 1);
    assert!(!zh.contains(r#"class="results""#));

    // With results, only the groups that have some are shown.
    let (_, html) = page(&app, &c, "/search?q=zebra").await;
    assert!(html.contains(r#"data-kind="deals""#) && html.contains("Zebra deal"));
    assert!(!html.contains(r#"data-kind="people""#) && !html.contains(r#"data-kind="organizations""#));
    assert!(!html.contains("Nothing found"));
}

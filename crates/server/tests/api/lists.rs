//! The list pages (`/deals`, `/people`, `/organizations`) and the detail
//! pages of people and organizations over HTTP: rendering, sort order,
//! filters, pagination links, escaping, 404s, sign-in redirects.

use crate::helpers::{TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

async fn signed_in(app: &TestApp) -> reqwest::Client {
    let c = browser();
    let r = c
        .post(format!("{}/login", app.base))
        .form(&[("email", "admin@example.com"), ("password", "correct horse battery"), ("next", "/deals")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    c
}

async fn page(app: &TestApp, c: &reqwest::Client, path: &str) -> String {
    let r = c.get(format!("{}{path}", app.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.text().await.unwrap()
}

fn unescape(s: &str) -> String {
    s.replace("&#38;", "&")
        .replace("&amp;", "&")
        .replace("&#60;", "<")
        .replace("&lt;", "<")
        .replace("&#62;", ">")
        .replace("&gt;", ">")
        .replace("&#39;", "'")
}

/// The `data-name` of every row, in page order.
fn names(html: &str) -> Vec<String> {
    html.split(r#"<tr data-id=""#)
        .skip(1)
        .filter_map(|s| s.split(r#"data-name=""#).nth(1).and_then(|s| s.split('"').next()))
        .map(unescape)
        .collect()
}

/// The href of the `rel` pager link, if the page has one.
fn link(html: &str, rel: &str) -> Option<String> {
    let marker = format!(r#"rel="{rel}" href=""#);
    html.split(&marker).nth(1).and_then(|s| s.split('"').next()).map(unescape)
}

async fn person(app: &TestApp, body: Value) -> Value {
    let (s, p) = app.post("/api/v1/people", body).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    p
}

async fn org(app: &TestApp, body: Value) -> Value {
    let (s, o) = app.post("/api/v1/organizations", body).await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    o
}

#[tokio::test]
async fn list_and_detail_pages_need_a_session() {
    let app = spawn_app().await;
    let c = browser();
    for (path, next) in [
        ("/deals?sort=value", "/deals%3Fsort%3Dvalue"),
        ("/people", "/people"),
        ("/organizations", "/organizations"),
        ("/people/1", "/people/1"),
        ("/organizations/1", "/organizations/1"),
    ] {
        let r = c.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(r.headers()["location"], format!("/login?next={next}"));
    }
}

#[tokio::test]
async fn deals_render_escaped_and_sort_by_each_column() {
    let app = spawn_app().await;
    for (title, value) in [("<b>Beta</b>", 30_000), ("alpha & co", 10_000), ("Gamma", 20_000)] {
        app.create_deal(json!({"title": title, "value": value})).await;
    }
    let c = signed_in(&app).await;
    let html = page(&app, &c, "/deals").await;
    assert!(html.contains("&#60;b&#62;Beta&#60;/b&#62;") || html.contains("&lt;b&gt;Beta&lt;/b&gt;"), "escaped");
    assert!(!html.contains("<b>Beta</b>"));
    assert!(html.contains(r#"data-version="1""#));
    assert!(html.contains("/deals/"), "rows link to the deal page");
    assert!(html.contains("$300"));
    // Newest first by default.
    assert_eq!(names(&html), ["Gamma", "alpha & co", "<b>Beta</b>"]);
    let html = page(&app, &c, "/deals?sort=value&dir=desc").await;
    assert_eq!(names(&html), ["<b>Beta</b>", "Gamma", "alpha & co"]);
    assert!(html.contains(r#"aria-sort="descending""#));
    let html = page(&app, &c, "/deals?sort=value&dir=asc").await;
    assert_eq!(names(&html), ["alpha & co", "Gamma", "<b>Beta</b>"]);
    let html = page(&app, &c, "/deals?sort=name&dir=asc").await;
    assert_eq!(names(&html), ["<b>Beta</b>", "alpha & co", "Gamma"], "by lower-cased title");
    let html = page(&app, &c, "/deals?sort=created&dir=asc").await;
    assert_eq!(names(&html), ["<b>Beta</b>", "alpha & co", "Gamma"]);
    // A change moves a deal to the top of "updated, newest first".
    let (_, d) = app.get("/api/v1/deals?limit=10").await;
    let beta = d["items"].as_array().unwrap().iter().find(|x| x["title"] == "<b>Beta</b>").unwrap().clone();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (s, _) =
        app.patch(&format!("/api/v1/deals/{}", beta["id"].as_str().unwrap()), json!({"version": 1, "value": 1})).await;
    assert_eq!(s, StatusCode::OK);
    let html = page(&app, &c, "/deals?sort=updated&dir=desc").await;
    assert_eq!(names(&html)[0], "<b>Beta</b>");
    // An unknown sort falls back to the default order.
    let html = page(&app, &c, "/deals?sort=bogus&dir=sideways").await;
    assert_eq!(names(&html).len(), 3);
}

#[tokio::test]
async fn deal_filters_by_owner_text_pipeline_stage_and_status() {
    let app = spawn_app().await;
    let p = app.default_pipeline().await;
    let first = p["stages"][0]["id"].as_str().unwrap().to_string();
    let second = p["stages"][1]["id"].as_str().unwrap().to_string();
    let (s, u) = app
        .post(
            "/api/v1/users",
            json!({"email": "rita@example.com", "name": "Rita Rep", "role": "rep", "password": "a long password here"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{u}");
    let rita = u["id"].as_str().unwrap().to_string();
    app.create_deal(json!({"title": "Mine in first", "stage_id": first})).await;
    app.create_deal(json!({"title": "Rita's in second", "stage_id": second, "owner_id": rita})).await;
    app.create_deal(json!({"title": "Won one", "stage_id": second, "status": "won"})).await;
    let c = signed_in(&app).await;
    let html = page(&app, &c, &format!("/deals?owner={rita}")).await;
    assert_eq!(names(&html), ["Rita's in second"]);
    let html = page(&app, &c, "/deals?q=FIRST").await;
    assert_eq!(names(&html), ["Mine in first"]);
    let html = page(&app, &c, &format!("/deals?stage={second}&sort=name&dir=asc")).await;
    assert_eq!(names(&html), ["Rita's in second", "Won one"]);
    let html = page(&app, &c, "/deals?status=won").await;
    assert_eq!(names(&html), ["Won one"]);
    let html = page(&app, &c, &format!("/deals?pipeline={}", p["id"].as_str().unwrap())).await;
    assert_eq!(names(&html).len(), 3);
    let html = page(&app, &c, "/deals?q=nothing-like-this").await;
    assert!(names(&html).is_empty());
    assert!(html.contains("Nothing matches"));
    // The filter survives in the sort links.
    let html = page(&app, &c, &format!("/deals?owner={rita}&q=x%20y")).await;
    assert!(unescape(&html).contains(&format!("/deals?owner={rita}&q=x%20y&sort=name&dir=asc")));
}

#[tokio::test]
async fn pagination_walks_forward_and_back_for_each_sort() {
    let app = spawn_app().await;
    // Equal values on purpose: the id breaks ties, so no row is skipped or repeated.
    for i in 0..57 {
        app.create_deal(json!({"title": format!("Deal {i:02}"), "value": (i % 3) * 100})).await;
    }
    let c = signed_in(&app).await;
    for sort in ["name", "value", "created", "updated"] {
        for dir in ["asc", "desc"] {
            let first = page(&app, &c, &format!("/deals?sort={sort}&dir={dir}")).await;
            assert!(link(&first, "prev").is_none(), "no previous page on the first");
            let a = names(&first);
            assert_eq!(a.len(), 50);
            let next = link(&first, "next").expect("a next link");
            assert!(next.contains(&format!("sort={sort}&dir={dir}&after=")), "{next}");
            let second = page(&app, &c, &next).await;
            let b = names(&second);
            assert_eq!(b.len(), 7, "{sort} {dir}");
            assert!(link(&second, "next").is_none());
            let mut all: Vec<_> = a.iter().chain(&b).cloned().collect();
            all.sort();
            all.dedup();
            assert_eq!(all.len(), 57, "every deal once for {sort} {dir}");
            let prev = link(&second, "prev").expect("a previous link");
            let back = page(&app, &c, &prev).await;
            assert_eq!(names(&back), a, "previous returns the first page for {sort} {dir}");
            assert!(link(&back, "prev").is_none());
        }
    }
}

#[tokio::test]
async fn people_and_organizations_lists() {
    let app = spawn_app().await;
    let acme = org(&app, json!({"name": "Acme <Corp>", "domain": "acme.com", "country": "DE"})).await;
    org(&app, json!({"name": "Zeta", "domain": "zeta.io"})).await;
    person(&app, json!({"name": "Bob", "emails": ["bob@acme.com"], "organization_id": acme["id"]})).await;
    person(&app, json!({"name": "alice", "emails": ["alice@x.org"], "job_title": "CTO"})).await;
    let c = signed_in(&app).await;
    let html = page(&app, &c, "/people?sort=name&dir=asc").await;
    assert_eq!(names(&html), ["alice", "Bob"]);
    assert!(html.contains("bob@acme.com") && html.contains("CTO"));
    assert!(html.contains(&format!("/organizations/{}", acme["id"].as_str().unwrap())));
    let html = page(&app, &c, "/people?q=acme.com").await;
    assert_eq!(names(&html), ["Bob"], "searches the e-mail too");
    let html = page(&app, &c, "/organizations?sort=name&dir=desc").await;
    assert_eq!(names(&html), ["Zeta", "Acme <Corp>"]);
    assert!(html.contains("Acme &#60;Corp&#62;") || html.contains("Acme &lt;Corp&gt;"));
    let html = page(&app, &c, "/organizations?q=zeta").await;
    assert_eq!(names(&html), ["Zeta"]);
    // Value sorting does not apply to people: it falls back without failing.
    let html = page(&app, &c, "/people?sort=value").await;
    assert_eq!(names(&html).len(), 2);
    // Chinese labels.
    let r = c.get(format!("{}/people", app.base)).header("accept-language", "zh-CN").send().await.unwrap();
    assert!(r.text().await.unwrap().contains("全选本页"));
}

#[tokio::test]
async fn detail_pages_show_fields_relations_and_timeline() {
    let app = spawn_app().await;
    let acme = org(&app, json!({"name": "Acme", "industry": "Rockets", "employees": 42})).await;
    let oid = acme["id"].as_str().unwrap().to_string();
    let bob = person(&app, json!({"name": "Bob <B>", "emails": ["bob@acme.com"], "organization_id": oid})).await;
    let pid = bob["id"].as_str().unwrap().to_string();
    let deal = app.create_deal(json!({"title": "Rocket deal", "person_id": pid, "organization_id": oid})).await;
    let did = deal["id"].as_str().unwrap();
    let (s, n) = app.post("/api/v1/notes", json!({"body": "First <note>", "person_id": pid})).await;
    assert_eq!(s, StatusCode::CREATED, "{n}");
    let (s, n) = app.post("/api/v1/notes", json!({"body": "Org note", "organization_id": oid})).await;
    assert_eq!(s, StatusCode::CREATED, "{n}");
    let (s, a) = app.post("/api/v1/activities", json!({"subject": "Call Bob", "person_id": pid})).await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    let c = signed_in(&app).await;
    let html = page(&app, &c, &format!("/people/{pid}")).await;
    assert!(html.contains("Bob &#60;B&#62;") || html.contains("Bob &lt;B&gt;"));
    assert!(!html.contains("Bob <B>"));
    assert!(html.contains(r#"data-kind="people""#) && html.contains(r#"data-version="1""#));
    assert!(html.contains("bob@acme.com"));
    assert!(html.contains(&format!(r#"href="/organizations/{oid}""#)));
    assert!(html.contains(&format!(r#"href="/deals/{did}""#)) && html.contains("Rocket deal"));
    assert!(html.contains("First &#60;note&#62;") || html.contains("First &lt;note&gt;"));
    assert!(html.contains("Call Bob"));
    let html = page(&app, &c, &format!("/organizations/{oid}")).await;
    assert!(html.contains("Rockets") && html.contains(r#"value="42""#));
    assert!(html.contains(&format!(r#"href="/people/{pid}""#)));
    assert!(html.contains("Rocket deal") && html.contains("Org note"));
    for path in ["/people/12345", "/organizations/12345", "/people/not-a-number", "/organizations/x"] {
        let r = c.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // A deleted person is gone from the list and the page.
    let (s, _) = app.delete(&format!("/api/v1/people/{pid}")).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let r = c.get(format!("{}/people/{pid}", app.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(names(&page(&app, &c, "/people").await).is_empty());
}

#[tokio::test]
async fn a_search_with_a_nul_character_is_answered_on_every_engine() {
    let app = crate::helpers::spawn_app().await;
    for path in ["/api/v1/deals?q=a%00b", "/api/v1/people?q=%00", "/api/v1/organizations?q=x%00"] {
        let (st, body) = app.get(path).await;
        assert_eq!(st, reqwest::StatusCode::OK, "{path}: {body}");
    }
}

/// The `<ol class="timeline">` of a detail page, or "" when it has none.
fn timeline_of(html: &str) -> String {
    html.split(r#"<ol class="timeline">"#).nth(1).and_then(|s| s.split("</ol>").next()).unwrap_or("").to_string()
}

#[tokio::test]
async fn organization_and_person_timelines_tell_their_deals_story() {
    let app = spawn_app().await;
    let p = app.default_pipeline().await;
    let acme = org(&app, json!({"name": "Acme"})).await;
    let oid = acme["id"].as_str().unwrap().to_string();
    let bob = person(&app, json!({"name": "Bob", "organization_id": oid})).await;
    let pid = bob["id"].as_str().unwrap().to_string();
    let moved = app.create_deal(json!({"title": "Rocket deal", "organization_id": oid, "person_id": pid})).await;
    let lost = app.create_deal(json!({"title": "Fuel deal", "organization_id": oid})).await;
    let gone = app.create_deal(json!({"title": "Deleted deal", "organization_id": oid})).await;
    let url = |d: &Value| format!("/api/v1/deals/{}", d["id"].as_str().unwrap());
    let (s, v) = app.patch(&url(&moved), json!({"version": moved["version"], "stage_id": p["stages"][1]["id"]})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let body = json!({"version": lost["version"], "status": "lost", "lost_reason": "Timing"});
    let (s, v) = app.patch(&url(&lost), body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, _) = app.delete(&url(&gone)).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (first, second) = (p["stages"][0]["name"].as_str().unwrap(), p["stages"][1]["name"].as_str().unwrap());

    let c = signed_in(&app).await;
    let html = page(&app, &c, &format!("/organizations/{oid}")).await;
    assert!(!html.contains("Nothing has happened yet"), "an organization with deals has a story");
    let tl = unescape(&timeline_of(&html));
    for needle in [
        format!("Created in {first}"),
        format!("Moved from {first} to {second}"),
        format!("Lost (in {first}): Timing"),
        format!(r#"href="/deals/{}">Rocket deal</a>"#, moved["id"].as_str().unwrap()),
        format!(r#"href="/deals/{}">Fuel deal</a>"#, lost["id"].as_str().unwrap()),
    ] {
        assert!(tl.contains(&needle), "the organization's timeline lacks {needle}: {tl}");
    }
    assert_eq!(tl.matches("Created in").count(), 2, "a deleted deal's events are left out: {tl}");
    assert!(!tl.contains("Deleted deal"));

    // The person's timeline has the deals they are on, only those.
    let tl = unescape(&timeline_of(&page(&app, &c, &format!("/people/{pid}")).await));
    assert!(tl.contains("Rocket deal") && tl.contains(&format!("Moved from {first} to {second}")), "{tl}");
    assert!(!tl.contains("Fuel deal"), "{tl}");

    let zh = app.zh_page(&c, &format!("/organizations/{oid}")).await;
    let tl = unescape(&timeline_of(&zh));
    assert!(tl.contains(&format!("创建于阶段 {first}")) && tl.contains("输单"), "{tl}");
}

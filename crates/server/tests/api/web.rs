//! The web pages over HTTP: sign-in redirects, the board's columns and
//! cards, progressive loading, language choice, sign-out.

use crate::helpers::spawn_app;
use reqwest::StatusCode;
use serde_json::json;

/// A client that does not follow redirects, so tests can see them.
fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

async fn sign_in(app: &crate::helpers::TestApp, c: &reqwest::Client) {
    let r = c
        .post(format!("{}/login", app.base))
        .form(&[("email", "admin@example.com"), ("password", "correct horse battery"), ("next", "/board")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/board");
}

#[tokio::test]
async fn pages_need_a_session_and_sign_in_works() {
    let app = spawn_app().await;
    let c = browser();
    let r = c.get(format!("{}/board?pipeline=1", app.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login?next=/board%3Fpipeline%3D1");
    let r = c.get(format!("{}/login", app.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = c
        .post(format!("{}/login", app.base))
        .form(&[("email", "admin@example.com"), ("password", "nope"), ("next", "//evil.example")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("Wrong e-mail or password"));
    sign_in(&app, &c).await;
    let r = c.get(format!("{}/board", app.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    for stage in ["Cold prospect", "Conversation started", "Demo booked", "Proposal sent"] {
        assert!(page.contains(stage), "{stage} column missing");
    }
    assert!(page.contains(r#"name="csrf-token""#));
}

#[tokio::test]
async fn board_shows_cards_totals_and_loads_the_rest_progressively() {
    let app = spawn_app().await;
    let p = app.default_pipeline().await;
    let first = p["stages"][0]["id"].as_str().unwrap().to_string();
    for i in 0..45 {
        app.create_deal(json!({"title": format!("Deal <{i}>"), "value": 100_000, "stage_id": first})).await;
    }
    let (_, d) = app.get("/api/v1/deals?limit=1").await;
    let id = d["items"][0]["id"].as_str().unwrap();
    let (s, _) = app
        .post("/api/v1/activities", json!({"subject": "Call back", "deal_id": id, "due_at": "2020-01-01T00:00:00Z"}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let c = browser();
    sign_in(&app, &c).await;
    let page = c.get(format!("{}/board", app.base)).send().await.unwrap().text().await.unwrap();
    assert_eq!(page.matches(r#"class="card""#).count(), 40, "the first page of the column only");
    assert_eq!(page.matches(r#"id="moves-dialog""#).count(), 1, "one blocked-move dialog");
    let title = page.split("<title>").nth(1).and_then(|t| t.split("</title>").next()).expect("a title");
    assert!(!title.contains('<'), "the title is text: {title}");
    assert!(page.contains("Deal &#60;44&#62;") || page.contains("Deal &lt;44&gt;"), "titles are escaped");
    assert!(page.contains(r#"<span class="count">45</span>"#));
    assert!(page.contains("$45,000"), "total of 45 deals of $1,000");
    assert!(page.contains("next overdue"), "the overdue activity shows");
    let more = page
        .split(r#"data-more=""#)
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a more marker")
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    let rest = c.get(format!("{}/board/cards?{more}", app.base)).send().await.unwrap().text().await.unwrap();
    assert_eq!(rest.matches(r#"class="card""#).count(), 5);
    assert!(!rest.contains("data-more"), "the last page has no marker");
}

#[tokio::test]
async fn language_follows_the_browser_and_the_user() {
    let app = spawn_app().await;
    let c = browser();
    sign_in(&app, &c).await;
    let zh = c.get(format!("{}/board", app.base)).header("accept-language", "zh-CN,zh;q=0.9").send().await.unwrap();
    let zh = zh.text().await.unwrap();
    assert!(zh.contains(r#"<html lang="zh-CN">"#) && zh.contains("看板"));
    let (_, me) = app.get("/api/v1/auth/me").await;
    let (s, _) = app
        .patch(
            &format!("/api/v1/users/{}", me["user"]["id"].as_str().unwrap()),
            json!({"version": me["user"]["version"], "locale": "en"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let en = c
        .get(format!("{}/board", app.base))
        .header("accept-language", "zh-CN")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(en.contains(r#"<html lang="en">"#), "the user's setting wins");
}

#[tokio::test]
async fn sign_out_needs_the_csrf_token() {
    let app = spawn_app().await;
    let c = browser();
    sign_in(&app, &c).await;
    let page = c.get(format!("{}/board", app.base)).send().await.unwrap().text().await.unwrap();
    let csrf =
        page.split(r#"name="csrf-token" content=""#).nth(1).and_then(|s| s.split('"').next()).unwrap().to_string();
    let r = c.post(format!("{}/logout", app.base)).form(&[("csrf", "wrong")]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c.post(format!("{}/logout", app.base)).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = c.get(format!("{}/board", app.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "signed out");
}

#[tokio::test]
async fn a_columns_stats_come_from_the_server_under_the_boards_filter() {
    let app = spawn_app().await;
    let p = app.default_pipeline().await;
    let first = p["stages"][0]["id"].as_str().unwrap().to_string();
    app.create_deal(json!({"title": "Alpha", "value": 5_590_000, "stage_id": first})).await;
    app.create_deal(json!({"title": "Beta", "value": 100_000, "stage_id": first})).await;
    let c = browser();
    sign_in(&app, &c).await;
    let get = |q: String| {
        let c = c.clone();
        let url = format!("{}/board/stats?{q}", app.base);
        async move {
            let r = c.get(url).send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (s, all) = get(format!("stage={first}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(all.contains(r#"<span class="count">2</span>"#), "{all}");
    assert!(all.contains("$56,900"), "the total in full: {all}");
    let (_, one) = get(format!("stage={first}&q=Alpha")).await;
    assert!(one.contains(r#"<span class="count">1</span>"#) && one.contains("$55,900"), "{one}");
    // The stage has no win probability and no deal its own: "not
    // weighted", not $0.
    assert!(all.contains(r#"class="weighted none""#) && !all.contains("$0"), "{all}");
    let stage = &p["stages"][0];
    let (st, v) =
        app.patch(&format!("/api/v1/stages/{first}"), json!({"version": stage["version"], "probability": 10})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, weighted) = get(format!("stage={first}")).await;
    assert!(weighted.contains(r#"<span class="weighted">$5,690</span>"#), "10% of $56,900: {weighted}");
    // A deal's own probability counts before its stage's.
    app.create_deal(json!({"title": "Gamma", "value": 100_000, "stage_id": first, "probability": 50})).await;
    let (_, mixed) = get(format!("stage={first}")).await;
    assert!(mixed.contains(r#"<span class="weighted">$6,190</span>"#), "10% of $56,900 and 50% of $1,000: {mixed}");
    let (s, bad) = get("stage=first".into()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(bad.contains("stage must be an id"), "{bad}");
    let (s, _) = get("stage=999999".into()).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

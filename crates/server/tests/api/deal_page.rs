//! The deal page over HTTP: fields, custom fields, the timeline, escaping,
//! 404 for deleted or unknown deals, sign-in redirect.

use crate::helpers::{TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

async fn sign_in(app: &TestApp, c: &reqwest::Client) {
    let r = c
        .post(format!("{}/login", app.base))
        .form(&[("email", "admin@example.com"), ("password", "correct horse battery"), ("next", "/board")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

async fn page(app: &TestApp, c: &reqwest::Client, path: &str) -> (StatusCode, String) {
    let r = c.get(format!("{}{path}", app.base)).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn created(app: &TestApp, path: &str, body: Value) -> Value {
    let (s, v) = app.post(path, body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v
}

#[tokio::test]
async fn deal_page_shows_fields_custom_fields_and_timeline_escaped() {
    let app = spawn_app().await;
    for (key, label, kind, extra) in [
        ("region", "Region", "single_select", json!({"options": ["EMEA", "APAC"]})),
        ("seats", "Seats", "number", json!({})),
        ("renewal", "Renewal date", "date", json!({})),
        ("strategic", "Strategic", "boolean", json!({})),
        ("setup_fee", "Setup fee", "money", json!({})),
        ("champion", "Champion <b>", "text", json!({})),
    ] {
        let mut body = json!({"entity": "deal", "key": key, "label": label, "kind": kind});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        created(&app, "/api/v1/custom-fields", body).await;
    }
    let org = created(&app, "/api/v1/organizations", json!({"name": "Acme & Sons"})).await;
    let person = created(&app, "/api/v1/people", json!({"name": "Pat Buyer", "organization_id": org["id"]})).await;
    let deal = app
        .create_deal(json!({
            "title": "Big <script>alert(1)</script> deal",
            "value": 1_250_050,
            "currency": "EUR",
            "person_id": person["id"],
            "organization_id": org["id"],
            "source": "referral",
            "contract_months": 24,
            "expected_close_date": "2030-06-30",
            "custom": {"region": "APAC", "seats": 42, "renewal": "2031-01-15", "strategic": true,
                       "setup_fee": {"value": 99_900, "currency": "EUR"}, "champion": "Jo <i>"}
        }))
        .await;
    let id = deal["id"].as_str().unwrap().to_string();
    let p = app.default_pipeline().await;
    let second = p["stages"][1]["id"].as_str().unwrap();
    let (s, moved) = app
        .patch(
            &format!("/api/v1/deals/{id}"),
            json!({"version": deal["version"], "stage_id": second, "value": 2_000_000}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{moved}");
    created(
        &app,
        "/api/v1/notes",
        json!({"deal_id": id, "body": "Hello **world** <script>alert(2)</script> [x](javascript:alert(3))"}),
    )
    .await;
    created(
        &app,
        "/api/v1/activities",
        json!({"deal_id": id, "subject": "Send <proposal>", "kind": "email", "due_at": "2030-01-01T10:00:00Z"}),
    )
    .await;
    created(
        &app,
        "/api/v1/activities",
        json!({"deal_id": id, "subject": "Intro call", "kind": "call", "done_at": "2024-01-01T10:00:00Z"}),
    )
    .await;
    created(&app, "/api/v1/outreach", json!({"person_id": person["id"], "channel": "email", "sent_at": "2024-01-02T10:00:00Z", "replied_at": "2024-01-03T10:00:00Z", "sentiment": "positive"})).await;

    let c = browser();
    // No session: to sign-in and back.
    let r = c.get(format!("{}/deals/{id}", app.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], format!("/login?next=/deals/{id}"));
    sign_in(&app, &c).await;
    let (s, html) = page(&app, &c, &format!("/deals/{id}")).await;
    assert_eq!(s, StatusCode::OK);

    // Header, links and escaping of the title.
    assert!(!html.contains("<script>alert"), "no raw script anywhere");
    assert!(html.contains("Big &#60;script&#62;") || html.contains("Big &lt;script&gt;"), "title escaped");
    assert!(html.contains("€20,000"), "value in the header");
    assert!(html.contains(&format!(r#"href="/organizations/{}""#, org["id"].as_str().unwrap())));
    assert!(html.contains(&format!(r#"href="/people/{}""#, person["id"].as_str().unwrap())));
    assert!(html.contains("Acme &#38; Sons") || html.contains("Acme &amp; Sons"));
    assert!(html.contains(r#"data-action="won""#) && html.contains(r#"data-action="lost""#));
    assert!(html.contains("/static/deal.js?v=") && html.contains("/static/deal.css?v="));

    // Stage path: the first stage done, the second current.
    assert_eq!(html.matches(r#"<li class="done">"#).count(), 1);
    assert_eq!(html.matches(r#"aria-current="step""#).count(), 1);

    // Fields in place, value in major units.
    assert!(html.contains(r#"name="value" value="20000""#), "value in major units");
    assert!(html.contains(r#"<option value="EUR" data-digits="2" selected>"#));
    assert!(html.contains(r#"name="expected_close_date" value="2030-06-30""#));
    assert!(html.contains(r#"name="contract_months" min="1" max="1200" step="1" value="24""#));
    assert!(html.contains(r#"name="source" value="referral""#));

    // Custom fields by kind.
    assert!(html.contains(r#"<option value="APAC" selected>"#), "single select");
    assert!(html.contains(r#"name="custom_seats" value="42""#), "number");
    assert!(html.contains(r#"name="custom_renewal" value="2031-01-15""#), "date");
    assert!(html.contains(r#"data-kind="boolean" checked"#), "boolean");
    assert!(html.contains(r#"name="custom_setup_fee" value="999""#), "money in major units");
    assert!(html.contains("Champion &#60;b&#62;") || html.contains("Champion &lt;b&gt;"), "label escaped");
    assert!(html.contains("Jo &#60;i&#62;") || html.contains("Jo &lt;i&gt;"), "value escaped");

    // Activities and notes.
    assert!(html.contains("Send &#60;proposal&#62;") || html.contains("Send &lt;proposal&gt;"));
    assert!(html.contains("Hello <strong>world</strong>"), "Markdown rendered");
    assert!(html.contains("&lt;script&gt;alert(2)"), "raw HTML in a note shows as text");
    assert!(!html.contains("javascript:alert(3)\""), "unsafe link neutralised");
    assert!(html.contains(r##"<a href="#">x</a>"##));

    // One timeline, newest first.
    let tl = html.split(r#"<ol class="timeline">"#).nth(1).expect("timeline").to_string();
    for needle in [
        "Entered stage Cold prospect",
        "Moved from Cold prospect to Conversation started",
        "Value changed from €12,501 to €20,000",
        "Planned E-mail: Send",
        "Done: Call: Intro call",
        "E-mail message sent to Pat Buyer",
        "Pat Buyer replied (positive)",
        "<strong>world</strong>",
    ] {
        assert!(tl.contains(needle), "timeline lacks {needle}: {tl}");
    }
    let times: Vec<&str> = tl.split(r#"<time datetime=""#).skip(1).filter_map(|s| s.split('"').next()).collect();
    assert!(times.len() >= 8, "{times:?}");
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first: {times:?}");

    // Lost with a reason appears in the timeline.
    let (_, cur) = app.get(&format!("/api/v1/deals/{id}")).await;
    let (s, _) = app
        .patch(
            &format!("/api/v1/deals/{id}"),
            json!({"version": cur["version"], "status": "lost", "lost_reason": "Timing"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, html) = page(&app, &c, &format!("/deals/{id}")).await;
    assert!(html.contains("Lost (in Conversation started): Timing"));
    assert!(html.contains(r#"data-action="reopen""#));

    // Chinese.
    let zh = app.zh_page(&c, &format!("/deals/{id}")).await;
    assert!(zh.contains("时间线") && zh.contains("重新打开"));
}

#[tokio::test]
async fn deleted_or_unknown_deal_is_404() {
    let app = spawn_app().await;
    let deal = app.create_deal(json!({"title": "Gone soon"})).await;
    let id = deal["id"].as_str().unwrap().to_string();
    let c = browser();
    sign_in(&app, &c).await;
    let (s, _) = page(&app, &c, &format!("/deals/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app.delete(&format!("/api/v1/deals/{id}")).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, body) = page(&app, &c, &format!("/deals/{id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(body.contains("does not exist"), "{body}");
    let (s, _) = page(&app, &c, "/deals/12345").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = page(&app, &c, "/deals/not-a-number").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// The `<li>` of the deal page's open activity with this subject.
fn activity_item<'a>(html: &'a str, subject: &str) -> &'a str {
    let at = html.find(subject).unwrap_or_else(|| panic!("{subject} is on the page"));
    let start = html[..at].rfind("<li class=\"act").expect("inside an activity item");
    &html[start..at]
}

#[tokio::test]
async fn board_and_deal_page_share_one_overdue_rule() {
    use dealflow_core::time::Timestamp;
    let app = spawn_app().await;
    let now = Timestamp::now().0;
    let due = |ms: i64| Timestamp(ms).to_rfc3339();
    let late = app.create_deal(json!({"title": "Late deal"})).await;
    let soon = app.create_deal(json!({"title": "Soon deal"})).await;
    // Due a minute ago, earlier today or late yesterday: overdue from its
    // due time on both pages, not only from the next day.
    created(
        &app,
        "/api/v1/activities",
        json!({"subject": "Missed call", "deal_id": late["id"], "due_at": due(now - 60_000)}),
    )
    .await;
    created(
        &app,
        "/api/v1/activities",
        json!({"subject": "Next call", "deal_id": soon["id"], "due_at": due(now + 3_600_000)}),
    )
    .await;
    let c = browser();
    sign_in(&app, &c).await;

    let (_, html) = page(&app, &c, &format!("/deals/{}", late["id"].as_str().unwrap())).await;
    assert!(activity_item(&html, "Missed call").contains("act overdue"), "past its due time");
    let (_, html) = page(&app, &c, &format!("/deals/{}", soon["id"].as_str().unwrap())).await;
    assert!(!activity_item(&html, "Next call").contains("overdue"), "still ahead");

    let (_, board) = page(&app, &c, "/board").await;
    let card = |title: &str| {
        let at = board.find(title).unwrap_or_else(|| panic!("{title} on the board"));
        let start = board[..at].rfind(r#"class="card""#).expect("inside a card");
        let end = board[at..].find("</article>").or_else(|| board[at..].find("</li>")).unwrap_or(board.len() - at);
        board[start..at + end].to_string()
    };
    assert!(card("Late deal").contains("next overdue"), "{}", card("Late deal"));
    assert!(!card("Soon deal").contains("next overdue"), "{}", card("Soon deal"));
}

/// The deal page's stage path, from `<nav class="path` to its `</nav>`.
fn stage_path(html: &str) -> &str {
    let start = html.find(r#"<nav class="path"#).expect("a stage path");
    let end = html[start..].find("</nav>").expect("its end");
    &html[start..start + end]
}

#[tokio::test]
async fn a_closed_deals_stage_path_is_plain_steps_ending_in_the_outcome() {
    let app = spawn_app().await;
    let c = browser();
    sign_in(&app, &c).await;
    let lost = app.create_deal(json!({"title": "Lost deal"})).await;
    let won = app.create_deal(json!({"title": "Won deal"})).await;
    let url = |d: &Value| format!("/deals/{}", d["id"].as_str().unwrap());

    // Open: every stage is a button that moves the deal.
    let (_, html) = page(&app, &c, &url(&lost)).await;
    let path = stage_path(&html);
    assert!(path.contains("<button") && path.contains("data-stage="), "{path}");
    assert!(!path.contains("aria-disabled"), "{path}");

    for (d, body) in [
        (&lost, json!({"version": lost["version"], "status": "lost", "lost_reason": "Timing"})),
        (&won, json!({"version": won["version"], "status": "won"})),
    ] {
        let (s, v) = app.patch(&format!("/api/v1{}", url(d)), body).await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    for (d, outcome) in [(&lost, "Lost: Timing"), (&won, "Won")] {
        let (_, html) = page(&app, &c, &url(d)).await;
        let path = stage_path(&html);
        assert!(!path.contains("<button") && !path.contains("<a ") && !path.contains("data-stage"), "{path}");
        assert!(path.contains(r#"class="path closed""#), "{path}");
        let steps = path.matches("<li ").count();
        assert!(steps >= 3, "{path}");
        assert_eq!(path.matches(r#"aria-disabled="true""#).count(), steps, "every step is disabled: {path}");
        assert_eq!(path.matches(r#"aria-current="step""#).count(), 1, "the stage it closed in: {path}");
        assert!(path.contains(&format!(r#"<span class="step">{outcome}</span>"#)), "the outcome is shown: {path}");
        assert!(path.contains("Reopen the deal to move it"), "{path}");
    }
    let zh = c
        .get(format!("{}{}", app.base, url(&lost)))
        .header("accept-language", "zh-CN")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let path = stage_path(&zh);
    assert!(path.contains("输单：Timing") && path.contains("重新打开交易后才能移动阶段"), "{path}");
}

#[tokio::test]
async fn a_rename_shows_on_the_deal_timeline_in_both_languages() {
    let app = spawn_app().await;
    let deal = app.create_deal(json!({"title": "Old name"})).await;
    let id = deal["id"].as_str().unwrap();
    let (s, v) =
        app.patch(&format!("/api/v1/deals/{id}"), json!({"version": deal["version"], "title": "New name"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, hist) = app.get(&format!("/api/v1/deals/{id}/history")).await;
    assert_eq!(hist["items"][0]["field"], "title", "{hist}");
    assert_eq!(
        (&hist["items"][0]["old_value"], &hist["items"][0]["new_value"]),
        (&json!("Old name"), &json!("New name"))
    );

    let c = browser();
    sign_in(&app, &c).await;
    let (_, html) = page(&app, &c, &format!("/deals/{id}")).await;
    let tl = html.split(r#"<ol class="timeline">"#).nth(1).expect("timeline");
    assert!(tl.contains("Renamed from “Old name” to “New name”"), "{tl}");
    let zh = app.zh_page(&c, &format!("/deals/{id}")).await;
    let tl = zh.split(r#"<ol class="timeline">"#).nth(1).expect("timeline");
    assert!(tl.contains("名称从“Old name”改为“New name”"), "{tl}");
}

/// The texts of the `<time>` elements in `html`'s timeline.
fn timeline_times(html: &str) -> Vec<String> {
    let tl = html.split(r#"<ol class="timeline">"#).nth(1).expect("a timeline").split("</ol>").next().unwrap();
    tl.split("<time")
        .skip(1)
        .filter_map(|s| s.split('>').nth(1))
        .map(|s| s.trim_end_matches("</time").to_string())
        .collect()
}

/// Whether the timeline's visible text holds an ISO date (`2030-06-30`).
fn has_iso_date(html: &str) -> bool {
    let tl = html.split(r#"<ol class="timeline">"#).nth(1).expect("a timeline").split("</ol>").next().unwrap();
    let visible: String = tl.split('<').map(|s| s.split_once('>').map_or(s, |(_, text)| text)).collect();
    let b = visible.as_bytes();
    b.windows(10)
        .any(|w| w.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() }))
}

/// `Mar 1, 2026 14:30`.
fn is_long_en(s: &str) -> bool {
    let p: Vec<&str> = s.split(' ').collect();
    p.len() == 4
        && p[0].len() == 3
        && p[1].ends_with(',')
        && p[2].len() == 4
        && p[3].len() == 5
        && p[3].as_bytes()[2] == b':'
}

#[tokio::test]
async fn timelines_show_every_date_in_the_long_form_with_the_time() {
    let app = spawn_app().await;
    let org = created(&app, "/api/v1/organizations", json!({"name": "Acme"})).await;
    let oid = org["id"].as_str().unwrap();
    let deal = app
        .create_deal(json!({"title": "Dated deal", "organization_id": oid, "expected_close_date": "2030-06-30"}))
        .await;
    let id = deal["id"].as_str().unwrap();
    let body = json!({"version": deal["version"], "expected_close_date": "2030-07-15"});
    let (s, v) = app.patch(&format!("/api/v1/deals/{id}"), body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    created(&app, "/api/v1/notes", json!({"body": "Met them", "organization_id": oid})).await;
    created(&app, "/api/v1/activities", json!({"subject": "Call", "deal_id": id, "due_at": "2030-07-01T09:30:00Z"}))
        .await;

    let c = browser();
    sign_in(&app, &c).await;
    for path in [format!("/deals/{id}"), format!("/organizations/{oid}")] {
        let (_, html) = page(&app, &c, &path).await;
        let times = timeline_times(&html);
        assert!(times.len() >= 2, "{path}: {times:?}");
        assert!(times.iter().all(|t| is_long_en(t)), "{path}: one long form with the time: {times:?}");
        assert!(!has_iso_date(&html), "{path}: no ISO date in the timeline");
    }
    let (_, html) = page(&app, &c, &format!("/deals/{id}")).await;
    assert!(html.contains("Expected close date changed from Jun 30, 2030 to Jul 15, 2030"), "dates in words");
    assert!(html.contains("Planned Call: Call (due Jul 1, 2030 09:30)") || html.contains("(due Jul 1, 2030 09:30)"));

    for path in [format!("/deals/{id}"), format!("/organizations/{oid}")] {
        let zh = c
            .get(format!("{}{path}", app.base))
            .header("accept-language", "zh-CN")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let times = timeline_times(&zh);
        let long_zh = |t: &str| t.contains('年') && t.contains('月') && t.contains("日 ") && t.contains(':');
        assert!(times.iter().all(|t| long_zh(t)), "{path}: {times:?}");
        assert!(!has_iso_date(&zh), "{path}");
    }
    let zh = app.zh_page(&c, &format!("/deals/{id}")).await;
    assert!(zh.contains("2030年6月30日") && zh.contains("2030年7月15日"), "zh dates in words");
}

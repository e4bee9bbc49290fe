//! Quick add, settings and activities in real Chromium.

use crate::harness::{Screen, enabled, start};
use fantoccini::Locator;
use serde_json::json;

#[tokio::test]
async fn quick_add_settings_stage_and_completing_an_activity() {
    if !enabled() {
        return;
    }
    let s = start(true, Screen::Desktop, "en").await;
    s.login().await;

    // Quick add a deal from the board's header; the dialog links to it and
    // the board shows it.
    s.client.find(Locator::Css("#quick-add-open")).await.expect("+").click().await.expect("open");
    s.wait_for("dialog#quick-add[open]").await;
    s.until("return document.querySelectorAll('#qa-deal select[name=pipeline_id] option').length > 1").await;
    let title = s.client.find(Locator::Css("#qa-deal input[name=title]")).await.expect("title");
    title.send_keys("Quick Added Deal").await.expect("type");
    s.client.find(Locator::Css("#qa-deal input[name=value]")).await.expect("value").send_keys("1234").await.expect("v");
    s.client.find(Locator::Css("#qa-deal button[type=submit]")).await.expect("submit").click().await.expect("click");
    let link = s.wait_for("#quick-add .qa-result a").await;
    let href = link.attr("href").await.expect("href").unwrap_or_default();
    assert!(href.starts_with("/deals/"), "{href}");
    let id = href.trim_start_matches("/deals/").to_string();
    let deal = s.store.deal(dealflow_core::DealId(id.parse().expect("id"))).await.expect("stored");
    assert_eq!(deal.title, "Quick Added Deal");
    assert_eq!(deal.value, 123_400);
    s.goto("/board").await;
    s.wait_for(&format!(".board .card[data-id='{id}']")).await;

    // Add a stage in settings; it becomes a board column.
    s.goto("/settings").await;
    s.wait_for(".settings .add-stage").await;
    let before = s.js("return document.querySelectorAll('.pipeline:first-of-type .stages > li').length").await;
    s.client
        .find(Locator::Css(".pipeline .add-stage input[name=name]"))
        .await
        .expect("stage name")
        .send_keys("Negotiation")
        .await
        .expect("type");
    s.client
        .find(Locator::Css(".pipeline .add-stage input[name=probability]"))
        .await
        .expect("probability")
        .send_keys("60")
        .await
        .expect("type");
    s.client
        .find(Locator::Css(".pipeline .add-stage button[type=submit]"))
        .await
        .expect("add")
        .click()
        .await
        .expect("c");
    s.until(&format!(
        "return document.querySelectorAll('.pipeline:first-of-type .stages > li').length === {} \
         && !document.getElementById('toast').hidden",
        before.as_i64().unwrap_or(0) + 1
    ))
    .await;
    let last = s
        .js("return [...document.querySelectorAll('.pipeline:first-of-type .stages input[name=name]')].pop().value")
        .await;
    assert_eq!(last, json!("Negotiation"));
    let widths = s.js("return [document.documentElement.scrollWidth, window.innerWidth]").await;
    assert_eq!(widths[0], widths[1], "the settings page does not scroll sideways: {widths}");
    s.screenshot("settings").await;

    s.goto("/board").await;
    s.wait_for(".board .column").await;
    let names = s.js("return [...document.querySelectorAll('.board .column h2')].map(h => h.textContent)").await;
    assert!(names.as_array().expect("names").iter().any(|n| n == "Negotiation"), "{names}");

    // Complete an activity in one click.
    s.goto("/activities?scope=all").await;
    let btn = s.wait_for(".act button[data-complete]").await;
    let aid = btn.attr("data-complete").await.expect("attr").expect("id");
    btn.click().await.expect("complete");
    s.until(&format!("return !document.querySelector(\".act[data-id='{aid}']\")")).await;
    let a = s.store.activity(dealflow_core::ActivityId(aid.parse().expect("id"))).await.expect("activity");
    assert!(a.done_at.is_some(), "the activity is done");
    s.close().await;
}

#[tokio::test]
async fn admin_pages_fit_a_phone_in_chinese() {
    if !enabled() {
        return;
    }
    let s = start(true, Screen::Phone, "zh-CN").await;
    s.login().await;
    for (path, ready) in
        [("/settings", ".settings .panel"), ("/activities", ".activities .act-group"), ("/search?q=a", ".results")]
    {
        s.goto(path).await;
        s.wait_for(ready).await;
        let widths = s.js("return [document.documentElement.scrollWidth, window.innerWidth]").await;
        assert_eq!(widths[0], widths[1], "{path} does not scroll sideways: {widths}");
    }
    s.goto("/settings").await;
    s.wait_for(".settings .panel").await;
    let title = s.js("return document.querySelector('h1').textContent").await;
    assert_eq!(title, json!("设置"));
    s.screenshot("settings-phone-zh").await;
    s.client.find(Locator::Css("#quick-add-open")).await.expect("+").click().await.expect("open");
    s.wait_for("dialog#quick-add[open]").await;
    let fits = s.js("const r = document.getElementById('quick-add').getBoundingClientRect(); return r.left >= 0 && r.right <= window.innerWidth").await;
    assert_eq!(fits, json!(true), "the quick-add dialog fits the screen");
    s.screenshot("quick-add-phone-zh").await;
    s.close().await;
}

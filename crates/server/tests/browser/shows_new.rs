//! New records show where they belong without a reload: a deal made with
//! quick add on the board (in its column) and on the deal list, and an API
//! token made in settings (in the tokens list, its secret shown once).

use crate::harness::{Screen, Session, enabled, start};
use fantoccini::Locator;
use serde_json::json;

/// Quick-adds a deal titled `title` from the header; returns its id.
async fn quick_add_deal(s: &Session, title: &str) -> String {
    s.client.find(Locator::Css("#quick-add-open")).await.expect("+").click().await.expect("open");
    s.wait_for("dialog#quick-add[open]").await;
    s.until("return document.querySelectorAll('#qa-deal select[name=pipeline_id] option').length > 1").await;
    s.client.find(Locator::Css("#qa-deal input[name=title]")).await.expect("title").send_keys(title).await.expect("t");
    s.client.find(Locator::Css("#qa-deal button[type=submit]")).await.expect("submit").click().await.expect("click");
    let link = s.wait_for("#quick-add .qa-result a").await;
    let href = link.attr("href").await.expect("href").unwrap_or_default();
    s.js("document.getElementById('quick-add').close(); return true").await;
    href.trim_start_matches("/deals/").to_string()
}

/// Marks the loaded page, so a later check can tell it was not reloaded.
async fn mark_page(s: &Session) {
    s.js("window.notReloaded = true; return true").await;
}

async fn assert_not_reloaded(s: &Session) {
    assert_eq!(s.js("return window.notReloaded === true").await, json!(true), "the page was not reloaded");
}

#[tokio::test]
async fn quick_added_deals_and_new_tokens_show_without_a_reload() {
    if !enabled() {
        return;
    }
    let s = start(true, Screen::Desktop, "en").await;
    s.login().await;
    s.wait_for(".board .card").await;
    mark_page(&s).await;

    // On the board: the card shows at the top of its stage's column, and
    // the column's count follows.
    let first = ".board .column:nth-of-type(1)";
    let stats = format!("return document.querySelector('{first} .stats').textContent");
    let before = s.js(&stats).await;
    let id = quick_add_deal(&s, "Fresh on the board").await;
    s.until(&format!("return document.querySelector('{first} .cards .card')?.dataset.id === '{id}'")).await;
    let stage = s.store.deal(dealflow_core::DealId(id.parse().expect("id"))).await.expect("deal").stage_id;
    assert_eq!(
        s.js(&format!("return document.querySelector('{first}').dataset.stage")).await,
        json!(stage.to_string())
    );
    s.until(&format!("return document.querySelector('{first} .stats').textContent !== {before}")).await;
    assert_not_reloaded(&s).await;

    // On the deal list: the row shows, first under the default sort.
    s.goto("/deals").await;
    s.wait_for("table.list tbody tr").await;
    mark_page(&s).await;
    let id = quick_add_deal(&s, "Fresh on the list").await;
    s.until(&format!("return document.querySelector('table.list tbody tr')?.dataset.id === '{id}'")).await;
    let name = s.js(&format!("return document.querySelector(\"tr[data-id='{id}'] td.name\").textContent")).await;
    assert_eq!(name, json!("Fresh on the list"));
    assert_not_reloaded(&s).await;

    // In settings: the new token is in the list, its secret shown once.
    s.goto("/settings").await;
    s.wait_for("#s-tokens form").await;
    mark_page(&s).await;
    let has_token =
        "return [...document.querySelectorAll('#token-list strong')].some(e => e.textContent === 'Nightly export')";
    assert_eq!(s.js(has_token).await, json!(false));
    s.client
        .find(Locator::Css("#s-tokens input[name=name]"))
        .await
        .expect("token name")
        .send_keys("Nightly export")
        .await
        .expect("type");
    s.client.find(Locator::Css("#s-tokens button[type=submit]")).await.expect("create").click().await.expect("click");
    s.until(has_token).await;
    let secret = s.js("return document.querySelector('#token-secret code').textContent").await;
    assert!(secret.as_str().is_some_and(|x| x.len() > 20), "the secret shows: {secret}");
    assert_eq!(s.js("return document.getElementById('token-secret').hidden").await, json!(false));
    let page = s.js("return document.getElementById('token-list').textContent").await;
    assert!(
        !page.as_str().unwrap_or("").contains(secret.as_str().unwrap_or("")),
        "the list does not repeat the secret"
    );
    assert_not_reloaded(&s).await;
    s.close().await;
}

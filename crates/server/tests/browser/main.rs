//! Browser tests of the web app in real headless Chromium.

mod audit_meeting;
mod board;
mod board_steps;
mod checklist;
mod deal_page;
mod edit_merge;
mod errors;
mod harness;
mod insights;
mod integrations;
mod lists;
mod overdue;
mod scoring;
mod settings;
mod shows_new;
mod steps_editor;

use harness::{Screen, enabled, start};
use serde_json::json;

/// Column `i` (0-based) of the board, as a CSS selector.
fn column(i: usize) -> String {
    format!(".board .column:nth-of-type({})", i + 1)
}

#[tokio::test]
async fn board_drag_refusal_and_lost() {
    if !enabled() {
        return;
    }
    let s = start(true, Screen::Desktop, "en").await;
    s.login().await;
    s.wait_for(".board .card").await;
    let columns = s.js("return document.querySelectorAll('.board .column').length").await;
    assert_eq!(columns, json!(4));
    s.screenshot("board").await;

    // Drag the first card of the first column to the second column.
    let id = s.js(&format!("return document.querySelector('{} .card').dataset.id", column(0))).await;
    let id = id.as_str().expect("card id").to_string();
    s.drag(&format!(".card[data-id='{id}']"), &format!("{} .cards", column(1))).await;
    s.until(&format!("return !!document.querySelector(\"{} .card[data-id='{id}']\")", column(1))).await;
    // The server stored it: after a reload the card is still there.
    s.until(&format!(
        "return fetch('/api/v1/deals/{id}').then(r => r.json()).then(d => d.stage_id === document.querySelector('{}').dataset.stage)",
        column(1)
    ))
    .await;
    s.goto("/board").await;
    s.wait_for(&format!("{} .card[data-id='{id}']", column(1))).await;

    // Someone else changes the deal meanwhile: the page's move is refused,
    // the message shows, and the card returns to its column.
    let deal = s.store.deal(dealflow_core::DealId(id.parse().expect("id"))).await.expect("deal");
    s.store
        .update_deal(
            &dealflow_store::Actor::system(),
            deal.id,
            dealflow_core::model::DealPatch {
                version: deal.version,
                title: Some("Changed elsewhere".into()),
                ..Default::default()
            },
        )
        .await
        .expect("concurrent edit");
    s.drag(&format!(".card[data-id='{id}']"), &format!("{} .cards", column(2))).await;
    s.until("return !document.getElementById('toast').hidden").await;
    let msg = s.js("return document.getElementById('toast').textContent").await;
    assert!(msg.as_str().unwrap_or("").contains("changed by someone else"), "{msg}");
    s.until(&format!("return !!document.querySelector(\"{} .card[data-id='{id}']\")", column(1))).await;

    // Mark another deal lost with a reason: drop on "Lost", pick the reason.
    s.goto("/board").await;
    s.wait_for(".board .card").await;
    let other = s.js(&format!("return document.querySelector('{} .card').dataset.id", column(2))).await;
    let other = other.as_str().expect("card id").to_string();
    s.drag(&format!(".card[data-id='{other}']"), ".outcomes .drop.lost").await;
    s.wait_for("dialog#lost-dialog[open]").await;
    s.js("const sel = document.querySelector('#lost-dialog select'); sel.value = 'Timing'; return true").await;
    s.client
        .find(fantoccini::Locator::Css("#lost-dialog button[value=ok]"))
        .await
        .expect("ok")
        .click()
        .await
        .expect("click");
    s.until(&format!("return !document.querySelector(\".card[data-id='{other}']\")")).await;
    let d = s.store.deal(dealflow_core::DealId(other.parse().expect("id"))).await.expect("deal");
    assert_eq!(d.status, dealflow_core::model::DealStatus::Lost);
    assert_eq!(d.lost_reason.as_deref(), Some("Timing"));
    s.close().await;
}

#[tokio::test]
async fn a_long_column_loads_to_its_last_card() {
    if !enabled() {
        return;
    }
    let s = start(false, Screen::Desktop, "en").await;
    let actor = dealflow_store::Actor::system();
    for i in 0..130 {
        s.store
            .create_deal(&actor, dealflow_core::model::NewDeal { title: format!("Deal {i:03}"), ..Default::default() })
            .await
            .expect("deal");
    }
    s.login().await;
    s.wait_for(".board .card").await;
    let first = column(0);
    // Scroll the column down until every card is there.
    for _ in 0..30 {
        let n = s
            .js(&format!(
                "const c = document.querySelector('{first} .cards'); c.scrollTop = c.scrollHeight; return c.querySelectorAll('.card').length"
            ))
            .await;
        if n == json!(130) && s.js(&format!("return !document.querySelector('{first} .more')")).await == json!(true) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let n = s.js(&format!("return document.querySelectorAll('{first} .card').length")).await;
    assert_eq!(n, json!(130));
    let last = s.js(&format!("return [...document.querySelectorAll('{first} .card .title')].pop().textContent")).await;
    assert_eq!(last, json!("Deal 000"), "the oldest deal is the last card");
    s.close().await;
}

#[tokio::test]
async fn chinese_and_phone_width() {
    if !enabled() {
        return;
    }
    let s = start(true, Screen::Phone, "zh-CN").await;
    s.login().await;
    s.wait_for(".board .card").await;
    let text = s.js("return document.querySelector('nav').textContent").await;
    assert!(text.as_str().unwrap_or("").contains("看板"), "{text}");
    let widths = s.js("return [document.documentElement.scrollWidth, window.innerWidth]").await;
    assert_eq!(widths[0], widths[1], "the page does not scroll sideways: {widths}");
    assert_eq!(widths[1], json!(390));
    let board_scrolls = s.js("const b = document.querySelector('.board'); return b.scrollWidth > b.clientWidth").await;
    assert_eq!(board_scrolls, json!(true), "the board scrolls inside its own container");
    s.screenshot("board-phone-zh").await;
    s.close().await;
}

#[tokio::test]
async fn the_language_menu_switches_to_chinese() {
    if !enabled() {
        return;
    }
    let s = start(false, Screen::Desktop, "en").await;
    s.login().await;
    let text = s.js("return document.querySelector('nav').textContent").await;
    assert!(text.as_str().unwrap_or("").contains("Board"), "{text}");
    s.js("const sel = document.getElementById('lang-switch'); sel.value = 'zh-CN'; sel.dispatchEvent(new Event('change')); return true").await;
    s.until("return document.documentElement.lang === 'zh-CN'").await;
    let text = s.js("return document.querySelector('nav').textContent").await;
    assert!(text.as_str().unwrap_or("").contains("看板"), "{text}");
    // The choice is stored on the account, so it holds on the next page too.
    s.goto("/deals").await;
    s.until("return document.documentElement.lang === 'zh-CN'").await;
    s.close().await;
}

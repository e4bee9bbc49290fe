//! The board's moves in real Chromium: column totals follow every move
//! without a reload, Won/Lost say so and can be undone, keyboard focus
//! stays on the board, the Lost dialog makes the reason a choice, and a
//! touch drag (long press, then move) survives the first finger movement.

use crate::column;
use crate::harness::{Screen, Session, enabled, start};
use dealflow_core::DealId;
use dealflow_core::model::DealStatus;
use fantoccini::Locator;
use fantoccini::actions::{InputSource, PointerAction, TouchActions};
use serde_json::json;
use std::time::Duration;

/// A script that is true when every column's statistics read as the server
/// renders them on a fresh `/board` (the same text a reload would show).
const STATS_MATCH_A_RELOAD: &str = r#"
  return fetch('/board' + location.search).then(r => r.text()).then(html => {
    const fresh = new DOMParser().parseFromString(html, 'text/html');
    return [...document.querySelectorAll('.board .column')].every(c => {
      const f = fresh.querySelector(`.column[data-stage="${c.dataset.stage}"] .stats`);
      return f && f.textContent.trim() === c.querySelector('.stats').textContent.trim();
    });
  });"#;

async fn stats_text(s: &Session, i: usize) -> String {
    let v = s.js(&format!("return document.querySelector('{} .stats').textContent.trim()", column(i))).await;
    v.as_str().expect("stats text").to_string()
}

async fn first_card(s: &Session, i: usize) -> String {
    let v = s.js(&format!("return document.querySelector('{} .card').dataset.id", column(i))).await;
    v.as_str().expect("card id").to_string()
}

#[tokio::test]
async fn totals_follow_a_drag_and_won_and_undo_reopens() {
    if !enabled() {
        return;
    }
    let s = start(true, Screen::Desktop, "en").await;
    s.login().await;
    s.wait_for(".board .card").await;
    let (before0, before1) = (stats_text(&s, 0).await, stats_text(&s, 1).await);
    assert!(before0.contains("Total $"), "totals are written in full: {before0}");

    // A drag changes both columns' Total and Weighted, not only the count.
    let id = first_card(&s, 0).await;
    s.drag(&format!(".card[data-id='{id}']"), &format!("{} .cards", column(1))).await;
    s.until(&format!("return !!document.querySelector(\"{} .card[data-id='{id}']\")", column(1))).await;
    s.until(STATS_MATCH_A_RELOAD).await;
    assert_ne!(stats_text(&s, 0).await, before0);
    assert_ne!(stats_text(&s, 1).await, before1);

    // Won: the card leaves, the totals follow, a message offers Undo.
    let won = first_card(&s, 1).await;
    let title = s.js(&format!("return document.querySelector(\".card[data-id='{won}'] .title\").textContent")).await;
    let with_it = stats_text(&s, 1).await;
    s.drag(&format!(".card[data-id='{won}']"), ".outcomes .drop.won").await;
    s.until(&format!("return !document.querySelector(\".card[data-id='{won}']\")")).await;
    s.until(STATS_MATCH_A_RELOAD).await;
    assert_ne!(stats_text(&s, 1).await, with_it);
    let toast = s.wait_for("#toast:not([hidden]) button").await;
    let said = s.js("return document.getElementById('toast').textContent").await;
    let said = said.as_str().unwrap_or_default();
    assert!(said.contains("Marked won") && said.contains(title.as_str().unwrap_or("?")), "{said}");
    assert_eq!(s.js("return document.getElementById('toast').getAttribute('aria-live')").await, json!("polite"));
    s.screenshot("board-won-undo").await;
    let stage1 = s.js(&format!("return document.querySelector('{}').dataset.stage", column(1))).await;

    // Undo reopens the deal in the stage it was in, through the API.
    toast.click().await.expect("click undo");
    s.until(&format!("return !!document.querySelector(\"{} .card[data-id='{won}']\")", column(1))).await;
    s.until(STATS_MATCH_A_RELOAD).await;
    assert_eq!(stats_text(&s, 1).await, with_it);
    let d = s.store.deal(DealId(won.parse().expect("id"))).await.expect("deal");
    assert_eq!(d.status, DealStatus::Open);
    assert_eq!(json!(d.stage_id.to_string()), stage1);
    s.close().await;
}

#[tokio::test]
async fn keyboard_won_keeps_focus_and_lost_asks_for_a_reason() {
    if !enabled() {
        return;
    }
    let s = start(true, Screen::Desktop, "en").await;
    s.login().await;
    s.wait_for(".board .card").await;
    let focused_on_board = "const a = document.activeElement; return a !== document.body && !!a.closest('.board')";

    // Shift+W on a focused card: won, focus on the next card, totals right.
    let won = first_card(&s, 0).await;
    let card = s.wait_for(&format!(".card[data-id='{won}']")).await;
    s.js(&format!("document.querySelector(\".card[data-id='{won}']\").focus(); return true")).await;
    card.send_keys("\u{E008}W").await.expect("shift+w");
    s.until(&format!("return !document.querySelector(\".card[data-id='{won}']\")")).await;
    s.until(focused_on_board).await;
    s.until(STATS_MATCH_A_RELOAD).await;
    let d = s.store.deal(DealId(won.parse().expect("id"))).await.expect("deal");
    assert_eq!(d.status, DealStatus::Won);

    // Shift+L: the dialog's reason is empty and required until chosen.
    let lost = first_card(&s, 0).await;
    s.js(&format!("document.querySelector(\".card[data-id='{lost}']\").focus(); return true")).await;
    s.wait_for(&format!(".card[data-id='{lost}']")).await.send_keys("\u{E008}L").await.expect("shift+l");
    s.wait_for("dialog#lost-dialog[open]").await;
    let sel = s
        .js("const s = document.querySelector('#lost-dialog select[name=reason]'); return [s.value, s.required, s.options[0].value]")
        .await;
    assert_eq!(sel, json!(["", true, ""]), "no reason is preselected");
    s.screenshot("board-lost-dialog").await;
    let ok = s.client.find(Locator::Css("#lost-dialog button[value=ok]")).await.expect("ok");
    ok.click().await.expect("click ok");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s.js("return document.getElementById('lost-dialog').open").await, json!(true), "empty reason refused");
    s.js("document.querySelector('#lost-dialog select').value = 'Timing'; return true").await;
    s.client
        .find(Locator::Css("#lost-dialog textarea[name=comment]"))
        .await
        .expect("comment")
        .send_keys("Budget moves to next year")
        .await
        .expect("type");
    ok.click().await.expect("click ok");
    s.until(&format!("return !document.querySelector(\".card[data-id='{lost}']\")")).await;
    s.until(focused_on_board).await;
    let d = s.store.deal(DealId(lost.parse().expect("id"))).await.expect("deal");
    assert_eq!(d.status, DealStatus::Lost);
    assert_eq!(d.lost_reason.as_deref(), Some("Timing"));
    // The comment is kept as a note on the deal.
    s.until(&format!(
        "return fetch('/api/v1/notes?deal_id={lost}').then(r => r.text()).then(t => t.includes('Budget moves to next year'))"
    ))
    .await;
    s.until("return document.getElementById('toast').textContent.includes('Marked lost')").await;
    s.close().await;
}

#[tokio::test]
async fn a_touch_drag_moves_a_card_on_a_phone() {
    if !enabled() {
        return;
    }
    let s = start(true, Screen::Phone, "en").await;
    s.login().await;
    s.wait_for(".board .card").await;
    let action = s.js("return getComputedStyle(document.querySelector('.board .card')).touchAction").await;
    assert_ne!(action, json!("auto"), "cards tell the browser which touches are theirs");

    // Long press on a card, then move the finger: first down (the move that
    // makes a browser scroll), then onto the next column's visible edge.
    let id = first_card(&s, 0).await;
    let src = s.wait_for(&format!(".card[data-id='{id}']")).await;
    let to = s
        .js(&format!(
            "const r = document.querySelector('{} .cards').getBoundingClientRect(); return [Math.min(r.left + 12, innerWidth - 4), r.top + 60]",
            column(1)
        ))
        .await;
    let (x, y) = (to[0].as_f64().expect("x"), to[1].as_f64().expect("y"));
    let finger = TouchActions::new("finger".into())
        .then(PointerAction::MoveToElement { element: src, duration: None, x: 0.0, y: 0.0 })
        .then(PointerAction::Down { button: 0 })
        .then(PointerAction::Pause { duration: Duration::from_millis(600) })
        .then(PointerAction::MoveBy { duration: Some(Duration::from_millis(150)), x: 0.0, y: 40.0 })
        .then(PointerAction::MoveTo { duration: Some(Duration::from_millis(300)), x, y })
        .then(PointerAction::Up { button: 0 });
    s.client.perform_actions(finger).await.expect("touch drag");
    s.until(&format!("return !!document.querySelector(\"{} .card[data-id='{id}']\")", column(1))).await;
    let stage1 = s.js(&format!("return document.querySelector('{}').dataset.stage", column(1))).await;
    let d = s.store.deal(DealId(id.parse().expect("id"))).await.expect("deal");
    assert_eq!(json!(d.stage_id.to_string()), stage1);
    s.until(STATS_MATCH_A_RELOAD).await;
    s.screenshot("board-phone-touch").await;
    s.close().await;
}

/// Five columns share a 1280 px wide window: neither the page nor the
/// board scrolls sideways.
#[tokio::test]
async fn five_columns_fit_a_1280_px_window() {
    if !enabled() {
        return;
    }
    let s = start(true, Screen::Desktop, "en").await;
    s.client.set_window_size(1280, 800).await.expect("window size");
    s.login().await;
    s.wait_for(".board .card").await;
    let pipeline = s.js("return document.querySelector('.board').dataset.pipeline").await;
    let pipeline = dealflow_core::PipelineId(pipeline.as_str().expect("pipeline id").parse().expect("id"));
    let stage = dealflow_core::model::NewStage {
        name: "Negotiation".into(),
        position: None,
        probability: Some(70),
        rotting_days: None,
        milestone: None,
    };
    s.store.add_stage(&dealflow_store::Actor::system(), pipeline, stage).await.expect("fifth stage");
    s.goto("/board").await;
    s.wait_for(".board .card").await;
    assert_eq!(s.js("return document.querySelectorAll('.board .column').length").await, json!(5));
    assert_eq!(s.js("return window.innerWidth").await, json!(1280));
    let widths = s
        .js("const d = document.documentElement, b = document.querySelector('.board'); \
             return [d.scrollWidth, d.clientWidth, b.scrollWidth, b.clientWidth]")
        .await;
    let w: Vec<i64> = widths.as_array().expect("widths").iter().map(|v| v.as_i64().unwrap_or(-1)).collect();
    assert!(w[0] <= w[1], "the page does not scroll sideways: {widths}");
    assert!(w[2] <= w[3], "the board does not scroll sideways: {widths}");
    let wide = s
        .js("return [...document.querySelectorAll('.board .cards')].filter(c => c.scrollWidth > c.clientWidth).length")
        .await;
    assert_eq!(wide, json!(0), "no column's cards scroll sideways either");
    s.screenshot("board-five-columns").await;
    s.close().await;
}

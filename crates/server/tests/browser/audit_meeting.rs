//! The weekly audit's meeting mode in real Chromium, driven by the
//! keyboard: one deal at a time with the three answers, `k` keeps, `d`
//! opens the disqualify panel and Enter confirms, the arrows go back and
//! forth, and the progress follows; the decisions reach the deals.

use crate::harness::{Screen, enabled, start};
use dealflow_core::model::{DealStatus, NewDeal};
use dealflow_store::Actor;

#[tokio::test]
async fn the_meeting_is_driven_by_the_keyboard() {
    if !enabled() {
        return;
    }
    let s = start(false, Screen::Desktop, "en").await;
    let actor = Actor::system();
    let pipeline = s.store.pipelines().await.expect("pipelines")[0].id;
    let mut deals = Vec::new();
    for title in ["Acme", "Globex", "Initech"] {
        let d = NewDeal { title: title.into(), ..Default::default() };
        deals.push(s.store.create_deal(&actor, d).await.expect("deal"));
    }
    let audit = s.store.create_audit(&actor, pipeline, None).await.expect("audit");

    s.login().await;
    s.goto(&format!("/audits/{}", audit.id)).await;
    s.wait_for(".review-card:not([hidden])").await;
    let text = |css: &str| format!("return document.querySelector('{css}').textContent.trim()");
    assert_eq!(s.js(&text("#position")).await, "Deal 1 of 3");
    assert_eq!(s.js(&text("#progress")).await, "0 of 3 decided");
    let answers = s.js(&text(".review-card:not([hidden]) .review-answers")).await;
    for want in ["Last contact", "Still qualified?", "Unknown", "Next action", "None planned"] {
        assert!(answers.as_str().is_some_and(|a| a.contains(want)), "{want} missing: {answers}");
    }
    let first = s.js("return document.querySelector('.review-card:not([hidden])').dataset.deal").await;

    // k keeps the first deal and moves on to the next undecided one.
    s.wait_for("#next").await.send_keys("k").await.expect("k");
    s.until("return document.getElementById('progress').textContent.trim() === '1 of 3 decided'").await;
    assert_eq!(s.js(&text("#position")).await, "Deal 2 of 3");
    // d opens the disqualify panel on its reason; Enter confirms.
    let second = s.js("return document.querySelector('.review-card:not([hidden])').dataset.deal").await;
    s.wait_for("#next").await.send_keys("d").await.expect("d");
    s.until("return document.activeElement && document.activeElement.name === 'lost_reason'").await;
    let reason = s.wait_for("input[name=lost_reason]").await;
    reason.send_keys("Went quiet\u{E007}").await.expect("reason and Enter");
    s.until("return document.getElementById('progress').textContent.trim() === '2 of 3 decided'").await;
    // ← goes back to the decided deal, which shows its decision.
    s.wait_for("#next").await.send_keys("\u{E012}").await.expect("left");
    let shown = s.js("return document.querySelector('.review-card:not([hidden])').dataset.deal").await;
    assert_eq!(shown, second);
    let decision = s.js(&text(".review-card:not([hidden]) .review-decision")).await;
    assert!(decision.as_str().is_some_and(|d| d.contains("disqualify")), "{decision}");

    let a = s.store.audit(audit.id).await.expect("audit");
    let kinds: Vec<_> = a
        .items
        .iter()
        .flatten()
        .filter_map(|i| i.decision.as_ref().map(|d| (i.facts.deal_id.to_string(), d.kind.as_str())))
        .collect();
    assert!(kinds.contains(&(first.as_str().unwrap_or_default().to_string(), "keep")), "{kinds:?}");
    let lost = deals.iter().find(|d| Some(d.id.to_string().as_str()) == second.as_str()).expect("the second deal");
    let lost = s.store.deal(lost.id).await.expect("deal");
    assert_eq!((lost.status, lost.lost_reason.as_deref()), (DealStatus::Lost, Some("Went quiet")));
    s.close().await;
}

/// The demo's open audit on a phone in Chinese (the pre-review): the page
/// fits the screen, says what it is in Chinese, and the next button moves
/// on by touch.
#[tokio::test]
async fn the_meeting_fits_a_phone_in_chinese() {
    if !enabled() {
        return;
    }
    let s = start(true, Screen::Phone, "zh-CN").await;
    let open = s.store.audits(None, 10).await.expect("audits");
    let open = open.iter().find(|a| a.status.as_str() == "open").expect("the demo's open audit");
    s.login().await;
    s.goto(&format!("/audits/{}", open.id)).await;
    s.wait_for(".review-card:not([hidden])").await;
    let position = "return document.getElementById('position').textContent.trim()";
    let first = s.js(position).await;
    assert!(first.as_str().is_some_and(|p| p.starts_with("第 1 /")), "{first}");
    let widths = s.js("return [document.documentElement.scrollWidth, window.innerWidth]").await;
    assert_eq!(widths[0], widths[1], "the page does not scroll sideways: {widths}");
    s.wait_for("#next").await.click().await.expect("tap next");
    s.until("return document.getElementById('position').textContent.trim().startsWith('第 2 /')").await;
    s.screenshot("audit-phone-zh").await;
    s.close().await;
}

//! The insights page in real Chromium: reached from the navigation, a
//! chart's numbers opened, the planner used, and the phone layout.

use crate::harness::{Screen, enabled, start};
use fantoccini::Locator;
use serde_json::json;

#[tokio::test]
async fn insights_from_the_nav_with_numbers_and_planner() {
    if !enabled() {
        return;
    }
    let s = start(true, Screen::Desktop, "en").await;
    s.login().await;
    s.client.find(Locator::Css("nav a[href='/insights']")).await.expect("nav link").click().await.expect("click");
    s.wait_for(".insights .tiles .tile").await;
    let current = s.js("return document.querySelector(\"nav a[href='/insights']\").getAttribute('aria-current')").await;
    assert_eq!(current, json!("page"));
    let charts = s.js("return document.querySelectorAll('.insights svg.chart').length").await;
    assert!(charts.as_u64().unwrap_or(0) >= 5, "{charts}");
    // The bars are drawn: the funnel's first bar has a width.
    let w = s.js("return document.querySelector('#funnel-0 rect.bar').getBoundingClientRect().width").await;
    assert!(w.as_f64().unwrap_or(0.0) > 0.0, "{w}");

    // The numbers of a chart open with a click (and are hidden before).
    let hidden = s.js("const d = document.querySelector('#funnel-0 details'); return !d.open && !d.querySelector('table').checkVisibility()").await;
    assert_eq!(hidden, json!(true), "the numbers are folded away at first");
    s.client.find(Locator::Css("#funnel-0 details summary")).await.expect("summary").click().await.expect("click");
    s.until("const d = document.querySelector('#funnel-0 details'); return d.open && d.querySelector('table').checkVisibility()").await;
    let rows = s.js("return document.querySelectorAll('#funnel-0 details tbody tr').length").await;
    assert!(rows.as_u64().unwrap_or(0) >= 3, "{rows}");
    s.js("window.scrollTo(0, 0); document.querySelector('main').scrollTo(0, 0); return true").await;
    s.screenshot("insights").await;

    // The planner from the keyboard-usable form.
    let target = s.client.find(Locator::Css("form.planner input[name=target]")).await.expect("target");
    target.send_keys("50000").await.expect("type");
    let weeks = s.client.find(Locator::Css("form.planner input[name=weeks]")).await.expect("weeks");
    weeks.send_keys("13\n").await.expect("type and submit");
    s.wait_for("#planner svg.chart").await;
    let url = s.client.current_url().await.expect("url");
    assert!(url.as_str().contains("target=50000") && url.as_str().contains("weeks=13"), "{url}");
    s.screenshot("insights-planner").await;
    s.close().await;
}

#[tokio::test]
async fn insights_fit_a_phone_in_chinese() {
    if !enabled() {
        return;
    }
    let s = start(true, Screen::Phone, "zh-CN").await;
    s.login().await;
    s.goto("/insights").await;
    s.wait_for(".insights .tiles .tile").await;
    let title = s.js("return document.querySelector('.insights h1').textContent").await;
    assert_eq!(title, json!("洞察"));
    let widths = s.js("return [document.documentElement.scrollWidth, window.innerWidth]").await;
    assert_eq!(widths[0], widths[1], "the page does not scroll sideways: {widths}");
    assert_eq!(widths[1], json!(390));
    // Nothing inside the page is wider than the screen either (the charts scale).
    let wide = s
        .js("return [...document.querySelectorAll('.insights section, .insights svg.chart, .insights .tiles, .insights form')]\
             .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).map(e => e.className.baseVal ?? e.className)")
        .await;
    assert_eq!(wide, json!([]), "elements wider than the screen");
    let svg = s.js("return document.querySelector('.insights svg.chart').getBoundingClientRect().width").await;
    assert!(svg.as_f64().unwrap_or(0.0) <= 390.0 && svg.as_f64().unwrap_or(0.0) > 200.0, "{svg}");
    s.js("document.querySelector('#funnel-0').scrollIntoView(); return true").await;
    s.screenshot("insights-phone-zh").await;
    s.close().await;
}

//! The deal page in real Chromium: open it from the board, add and complete
//! an activity, add a note, lose and reopen the deal, edit a field in place.

use crate::harness::{Screen, enabled, start};
use dealflow_core::DealId;
use dealflow_core::model::DealStatus;
use fantoccini::Locator;
use serde_json::json;

#[tokio::test]
async fn deal_page_activity_note_outcome_and_inline_edit() {
    if !enabled() {
        return;
    }
    let s = start(true, Screen::Desktop, "en").await;
    s.login().await;
    s.wait_for(".board .card a.title").await;

    // Open the first deal of the first column from its card title.
    let first = ".board .column:nth-of-type(1) .card";
    let id = s.js(&format!("return document.querySelector('{first}').dataset.id")).await;
    let id = id.as_str().expect("card id").to_string();
    let deal_id = DealId(id.parse().expect("numeric id"));
    s.client
        .find(Locator::Css(&format!("{first}[data-id='{id}'] a.title")))
        .await
        .expect("card title")
        .click()
        .await
        .expect("click title");
    s.wait_for("#deal").await;
    let path = s.js("return location.pathname").await;
    assert_eq!(path, json!(format!("/deals/{id}")));
    let deal = s.store.deal(deal_id).await.expect("deal");
    let h1 = s.js("return document.querySelector('.deal h1').textContent").await;
    assert_eq!(h1, json!(deal.title));
    assert_eq!(s.js("return document.querySelectorAll('.path li.current').length").await, json!(1));

    // Add an activity, then complete it in one click.
    s.client
        .find(Locator::Css("#add-activity input[name=subject]"))
        .await
        .expect("subject")
        .send_keys("Call the CFO")
        .await
        .expect("type");
    s.client.find(Locator::Css("#add-activity button[type=submit]")).await.expect("add").click().await.expect("click");
    let has_open = "return [...document.querySelectorAll('.open-acts .act')].some(a => a.querySelector('.subject').textContent === 'Call the CFO')";
    s.until(has_open).await;
    let act = s
        .js("return [...document.querySelectorAll('.open-acts .act')].find(a => a.querySelector('.subject').textContent === 'Call the CFO').dataset.id")
        .await;
    let act = act.as_str().expect("activity id").to_string();
    s.client
        .find(Locator::Css(&format!(".open-acts .act[data-id='{act}'] button[data-action=complete]")))
        .await
        .expect("complete button")
        .click()
        .await
        .expect("click complete");
    s.until(&format!("return !!document.querySelector(\".done-acts .act[data-id='{act}']\")")).await;
    let a = s.store.activity(dealflow_core::ActivityId(act.parse().expect("id"))).await.expect("activity");
    assert!(a.done_at.is_some(), "the activity is done");
    let tl = s.js("return document.querySelector('.timeline').textContent").await;
    assert!(tl.as_str().unwrap_or("").contains("Done: Task: Call the CFO"), "{tl}");

    // Add a note with Markdown: bold renders as <strong>.
    s.client
        .find(Locator::Css("#add-note textarea[name=body]"))
        .await
        .expect("note body")
        .send_keys("Budget is **approved** <script>window.pwned = 1</script>")
        .await
        .expect("type");
    s.client.find(Locator::Css("#add-note button[type=submit]")).await.expect("add note").click().await.expect("click");
    s.until("return [...document.querySelectorAll('.notes .md strong')].some(e => e.textContent === 'approved')").await;
    assert_eq!(s.js("return window.pwned === undefined && !document.querySelector('.md script')").await, json!(true));

    // Mark the deal lost with a reason, from the deal page.
    s.client.find(Locator::Css("button[data-action=lost]")).await.expect("lost").click().await.expect("click");
    s.wait_for("dialog#lost-dialog[open]").await;
    s.js("document.querySelector('#lost-dialog select').value = 'Timing'; return true").await;
    s.client.find(Locator::Css("#lost-dialog button[value=ok]")).await.expect("ok").click().await.expect("click");
    s.wait_for(".status-lost").await;
    let d = s.store.deal(deal_id).await.expect("deal");
    assert_eq!(d.status, DealStatus::Lost);
    assert_eq!(d.lost_reason.as_deref(), Some("Timing"));
    let tl = s.js("return document.querySelector('.timeline').textContent").await;
    assert!(tl.as_str().unwrap_or("").contains("Timing"), "the timeline shows the reason: {tl}");
    // The closed deal's stage path is plain steps ending in the outcome:
    // nothing to click, no pointer cursor.
    let path = s
        .js("const p = document.querySelector('.path'); return [p.querySelectorAll('button, a, [tabindex]').length, \
             [...p.querySelectorAll('li')].every(l => l.getAttribute('aria-disabled') === 'true'), \
             [...p.querySelectorAll('li, .step')].map(e => getComputedStyle(e).cursor).filter(c => c !== 'default' && c !== 'auto'), \
             p.querySelector('.outcome').textContent.trim()]")
        .await;
    assert_eq!(path, json!([0, true, [], "Lost: Timing"]));

    // Reopen it.
    s.client.find(Locator::Css("button[data-action=reopen]")).await.expect("reopen").click().await.expect("click");
    s.wait_for(".status-open").await;
    assert_eq!(s.store.deal(deal_id).await.expect("deal").status, DealStatus::Open);

    // Edit the value in place (major units); it is saved on leaving the field.
    let digits = d.currency.minor_digits() as u32;
    let input = s.wait_for("#fields input[name=value]").await;
    input.clear().await.expect("clear");
    input.send_keys("98765").await.expect("type");
    input.send_keys("\u{e004}").await.expect("tab"); // Tab: leave the field
    let want = 98_765 * 10i64.pow(digits);
    for _ in 0..100 {
        if s.store.deal(deal_id).await.expect("deal").value == want {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(s.store.deal(deal_id).await.expect("deal").value, want);
    s.goto(&format!("/deals/{id}")).await;
    s.wait_for("#deal").await;
    assert_eq!(s.js("return document.querySelector('#fields input[name=value]').value").await, json!("98765"));
    let shown = s.js("return document.querySelector('.deal-value').textContent").await;
    assert!(shown.as_str().unwrap_or("").contains("98,765"), "{shown}");
    let tl = s.js("return document.querySelector('.timeline').textContent").await;
    assert!(tl.as_str().unwrap_or("").contains("Value changed from"), "{tl}");
    assert!(!tl.as_str().unwrap_or("").contains("to $0"), "clearing the field saved nothing: {tl}");
    let conflict_shown = "return getComputedStyle(document.getElementById('conflict')).display !== 'none'";
    assert_eq!(s.js(conflict_shown).await, json!(false));
    s.screenshot("deal").await;

    // Clicking a later stage on the path moves the deal there.
    let target = s.js("return document.querySelector('.path li.todo button').dataset.stage").await;
    let target = target.as_str().expect("stage id").to_string();
    s.client.find(Locator::Css(".path li.todo button")).await.expect("stage").click().await.expect("click");
    s.wait_for(&format!(".path li.current button[data-stage='{target}']")).await;
    assert_eq!(s.store.deal(deal_id).await.expect("deal").stage_id.to_string(), target);

    // Someone else renames the deal: saving another field still works (the
    // page merges the edit), and the page shows the new title.
    let d = s.store.deal(deal_id).await.expect("deal");
    let source_then = d.source.clone().unwrap_or_default();
    s.store
        .update_deal(
            &dealflow_store::Actor::system(),
            deal_id,
            dealflow_core::model::DealPatch {
                version: d.version,
                title: Some("Changed elsewhere".into()),
                ..Default::default()
            },
        )
        .await
        .expect("concurrent edit");
    let source = s.wait_for("#fields input[name=source]").await;
    source.send_keys("x\u{e004}").await.expect("type");
    s.until("return document.querySelector('.deal h1').textContent === 'Changed elsewhere'").await;
    let d = s.store.deal(deal_id).await.expect("deal");
    assert_eq!((d.title.as_str(), d.source.unwrap_or_default()), ("Changed elsewhere", format!("{source_then}x")));
    assert_eq!(s.js(conflict_shown).await, json!(false));
    s.close().await;
}

#[tokio::test]
async fn deal_page_on_a_phone_in_chinese() {
    if !enabled() {
        return;
    }
    let s = start(true, Screen::Phone, "zh-CN").await;
    s.login().await;
    s.wait_for(".board .card").await;
    let id = s.js("return document.querySelector('.board .card').dataset.id").await;
    s.goto(&format!("/deals/{}", id.as_str().expect("card id"))).await;
    s.wait_for("#deal").await;
    let text = s.js("return document.querySelector('.deal-timeline h2').textContent").await;
    assert_eq!(text, json!("时间线"));
    let widths = s.js("return [document.documentElement.scrollWidth, window.innerWidth]").await;
    assert_eq!(widths[0], widths[1], "the page does not scroll sideways: {widths}");
    let wide = s
        .js("return [...document.querySelectorAll('#deal *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).map(e => e.tagName + '.' + e.className).slice(0, 5)")
        .await;
    assert_eq!(wide, json!([]), "nothing sticks out to the right");
    s.screenshot("deal-phone-zh").await;
    s.close().await;
}

//! The step editor in real Chromium: the count of deals a new step applies
//! to, an e-mail step's live template preview, an unknown placeholder and
//! an unknown field named next to their fields, and the due rule in words
//! as it is set and as the list shows it after saving.

use crate::harness::{Screen, enabled, start};
use dealflow_core::model::NewDeal;
use dealflow_store::Actor;
use fantoccini::Locator;
use serde_json::json;

#[tokio::test]
async fn an_email_step_is_previewed_checked_and_saved_with_its_due_rule_in_words() {
    if !enabled() {
        return;
    }
    let s = start(false, Screen::Desktop, "en").await;
    let stage = s.store.pipelines().await.expect("pipelines")[0].stages[0].id;
    s.store
        .create_deal(&Actor::system(), NewDeal { title: "Already here".into(), ..Default::default() })
        .await
        .expect("deal");
    s.login().await;
    s.goto(&format!("/settings/stages/{stage}/steps")).await;
    s.wait_for("#step-form").await;
    assert_eq!(s.js("return document.querySelector('.open-deals strong').textContent").await, json!("1"));

    // An e-mail step: its fields show, and the template previews live.
    s.client
        .find(Locator::Css("#step-form input[name=title]"))
        .await
        .expect("title")
        .send_keys("Reminder")
        .await
        .expect("t");
    s.js("const k = document.querySelector('#step-form select[name=kind]'); k.value = 'email'; k.dispatchEvent(new Event('change', {bubbles: true})); return true").await;
    s.until("return !document.querySelector('#step-form fieldset[data-kinds=email]').hidden").await;
    let subject = s.client.find(Locator::Css("#step-form input[name='template.subject']")).await.expect("subject");
    subject.send_keys("See you at {{meeting.time}}").await.expect("t");
    let body = s.client.find(Locator::Css("#step-form textarea[name='template.body']")).await.expect("body");
    body.send_keys("Hi {{person.first_name}} {{nope}}").await.expect("t");
    // The unknown placeholder is named next to the body.
    s.until("const e = document.querySelector('[data-err=\"template.body\"]'); return !e.hidden && e.textContent.includes('nope')").await;
    s.js("const b = document.querySelector(\"#step-form textarea[name='template.body']\"); b.value = 'Hi {{person.first_name}}'; b.dispatchEvent(new Event('input', {bubbles: true})); return true").await;
    s.until("return document.querySelector('#step-form .preview-subject').textContent === 'See you at 10:00'").await;
    s.until("return document.querySelector('#step-form .preview-body').textContent === 'Hi Ada'").await;
    s.until("return document.querySelector('[data-err=\"template.body\"]').hidden").await;

    // The due rule reads as words while it is set.
    s.js("const f = document.getElementById('step-form'); \
          const set = (n, v) => { const el = f.elements.namedItem(n); el.value = v; el.dispatchEvent(new Event('change', {bubbles: true})); }; \
          set('due.anchor', 'meeting'); set('due.amount', '2'); set('due.unit', 'hours'); set('due.direction', 'before'); return true")
        .await;
    let words = s.js("return document.querySelector('.due-reads .due-words').textContent").await;
    assert_eq!(words, json!("2 hours before the meeting"));
    s.screenshot("step-editor").await;
    s.client.find(Locator::Css("#step-form button[type=submit]")).await.expect("save").click().await.expect("click");
    s.wait_for(".step-list .step-row").await;
    let listed = s.js("return document.querySelector('.step-list .step-row .due-words').textContent").await;
    assert_eq!(listed, json!("2 hours before the meeting"));
    let steps = s.store.stage_steps(stage).await.expect("steps");
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].spec.due.as_ref().and_then(|d| d.offset_minutes), Some(-120));
    assert_eq!(steps[0].spec.template.as_ref().map(|t| t.body.as_str()), Some("Hi {{person.first_name}}"));

    // A field step naming an unknown field: the 422 shows by the field,
    // and nothing is saved.
    s.client
        .find(Locator::Css("#step-form input[name=title]"))
        .await
        .expect("title")
        .send_keys("Budget")
        .await
        .expect("t");
    s.js("const k = document.querySelector('#step-form select[name=kind]'); k.value = 'field'; k.dispatchEvent(new Event('change', {bubbles: true})); return true").await;
    s.client
        .find(Locator::Css("#step-form input[name=field]"))
        .await
        .expect("field")
        .send_keys("budget")
        .await
        .expect("t");
    s.client.find(Locator::Css("#step-form button[type=submit]")).await.expect("save").click().await.expect("click");
    s.until("const e = document.querySelector('[data-err=\"field\"]'); return !e.hidden && e.textContent.includes('budget')").await;
    assert_eq!(s.store.stage_steps(stage).await.expect("steps").len(), 1);
    s.close().await;
}

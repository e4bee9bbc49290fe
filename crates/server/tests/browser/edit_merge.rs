//! Two people editing one deal: an edit to one field is not blocked by
//! someone else's change to another field; a change to the same field
//! shows both values and lets the user choose.

use crate::harness::{Screen, Session, enabled, start};
use dealflow_core::DealId;
use dealflow_core::model::DealPatch;
use dealflow_store::Actor;
use serde_json::json;

/// What the other tab does: change the deal through the store, bumping its
/// version.
async fn change_elsewhere(s: &Session, id: DealId, patch: impl FnOnce(i64) -> DealPatch) {
    let d = s.store.deal(id).await.expect("deal");
    s.store.update_deal(&Actor::system(), id, patch(d.version)).await.expect("concurrent edit");
}

/// Types `text` over the deal page's field `name` (Ctrl+A selects what is
/// there; clearing would save an empty field first) and leaves it (Tab).
async fn type_into(s: &Session, name: &str, text: &str) {
    let input = s.wait_for(&format!("#fields input[name={name}]")).await;
    input.send_keys(&format!("\u{e009}a\u{e000}{text}\u{e004}")).await.expect("type");
}

/// The deal as `GET /api/v1/deals/{id}` returns it, fetched by the page.
async fn api_deal(s: &Session, id: &str) -> serde_json::Value {
    let script = format!("const done = arguments[0]; fetch('/api/v1/deals/{id}').then(r => r.json()).then(done)");
    s.client.execute_async(&script, vec![]).await.expect("fetch the deal")
}

#[tokio::test]
async fn edits_to_different_fields_merge_and_the_same_field_asks() {
    if !enabled() {
        return;
    }
    let s = start(true, Screen::Desktop, "en").await;
    s.login().await;
    s.wait_for(".board .card").await;
    let id = s.js("return document.querySelector('.board .card').dataset.id").await;
    let id = id.as_str().expect("card id").to_string();
    let deal_id = DealId(id.parse().expect("numeric id"));
    s.goto(&format!("/deals/{id}")).await;
    s.wait_for("#deal").await;
    let hidden = |sel: &str| format!("return document.getElementById('{sel}').hidden");

    // The other tab changes Source; this page then changes Contract months.
    change_elsewhere(&s, deal_id, |version| DealPatch {
        version,
        source: Some(Some("Referral".into())),
        ..Default::default()
    })
    .await;
    type_into(&s, "contract_months", "24").await;
    s.until("return document.querySelector('#fields input[name=source]').value === 'Referral'").await;
    let d = api_deal(&s, &id).await;
    assert_eq!((d["contract_months"].clone(), d["source"].clone()), (json!(24), json!("Referral")), "{d}");
    assert_eq!(s.js(&hidden("conflict")).await, json!(true), "no stale-version message");
    assert_eq!(s.js(&hidden("merge")).await, json!(true), "nothing to choose");
    assert_eq!(s.js("return document.querySelector('#fields input[name=contract_months]').value").await, json!("24"));

    // The other tab changes Source again; this page changes it too: both
    // values are shown, and "keep mine" stores the page's.
    change_elsewhere(&s, deal_id, |version| DealPatch {
        version,
        source: Some(Some("Partner".into())),
        ..Default::default()
    })
    .await;
    type_into(&s, "source", "Webinar").await;
    s.until("return !document.getElementById('merge').hidden").await;
    let text = s.js("return document.getElementById('merge').textContent").await;
    let text = text.as_str().unwrap_or("");
    assert!(text.contains("Yours: Webinar") && text.contains("Now: Partner"), "{text}");
    assert_eq!(s.js("return document.querySelector('#fields input[name=source]').value").await, json!("Webinar"));
    s.screenshot("deal-merge").await;
    s.client
        .find(fantoccini::Locator::Css("#merge button[data-action=keep-mine]"))
        .await
        .expect("keep mine")
        .click()
        .await
        .expect("click");
    s.until(&hidden("merge")).await;
    for _ in 0..100 {
        if s.store.deal(deal_id).await.expect("deal").source.as_deref() == Some("Webinar") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let d = api_deal(&s, &id).await;
    assert_eq!((d["source"].clone(), d["contract_months"].clone()), (json!("Webinar"), json!(24)), "{d}");
    s.close().await;
}

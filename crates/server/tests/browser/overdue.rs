//! An open activity is overdue from its due time on, also on a page left
//! open across that time: the activities page moves it to Overdue and the
//! deal page marks it, without a reload.

use crate::harness::{Screen, Session, enabled, start};
use dealflow_core::model::{NewActivity, NewDeal};
use dealflow_core::time::Timestamp;
use dealflow_store::Actor;
use serde_json::json;
use std::time::Duration;

/// Polls `script` until it returns true, for up to 20 s.
async fn within_20s(s: &Session, script: &str) {
    for _ in 0..200 {
        if s.js(script).await == json!(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("condition never held: {script}");
}

#[tokio::test]
async fn an_activity_turns_overdue_at_its_due_time_on_an_open_page() {
    if !enabled() {
        return;
    }
    let s = start(false, Screen::Desktop, "en").await;
    let actor = Actor::system();
    let deal =
        s.store.create_deal(&actor, NewDeal { title: "Due soon".into(), ..Default::default() }).await.expect("deal");
    let soon = |subject: &str| NewActivity {
        subject: subject.into(),
        deal_id: Some(deal.id),
        due_at: Some(Timestamp(Timestamp::now().0 + 8_000)),
        ..Default::default()
    };
    let a = s.store.create_activity(&actor, soon("Call at noon")).await.expect("activity");
    s.login().await;

    // The activities page: still ahead, then Overdue once its time passed.
    s.goto("/activities?scope=all").await;
    s.wait_for(&format!(".act[data-id='{}']", a.id)).await;
    s.js("window.notReloaded = true; return true").await;
    let in_overdue = format!(
        "return document.querySelector(\".act[data-id='{}']\").closest('.act-group').dataset.group === 'overdue'",
        a.id
    );
    assert_eq!(s.js(&in_overdue).await, json!(false), "not overdue before its due time");
    within_20s(&s, &in_overdue).await;
    let counts = s.js("return [...document.querySelectorAll('.act-group')].map(g => [g.dataset.group, g.querySelector('h2 .count').textContent, g.querySelectorAll('.act').length, g.querySelector('.group-empty').hidden])").await;
    assert_eq!(counts[0], json!(["overdue", "1", 1, true]), "{counts}");
    assert_eq!(s.js("return window.notReloaded === true").await, json!(true), "no reload");

    // The deal page: the open activity gets its overdue mark.
    let b = s.store.create_activity(&actor, soon("Send the offer")).await.expect("activity");
    s.goto(&format!("/deals/{}", deal.id)).await;
    let item = format!(".open-acts .act[data-id='{}']", b.id);
    s.wait_for(&item).await;
    s.js("window.notReloaded = true; return true").await;
    let marked = format!("return document.querySelector(\"{item}\").classList.contains('overdue')");
    assert_eq!(s.js(&marked).await, json!(false), "not overdue before its due time");
    within_20s(&s, &marked).await;
    let due = s.js(&format!("return document.querySelector(\"{item} .due\").textContent")).await;
    assert!(due.as_str().unwrap_or("").ends_with(" · overdue"), "{due}");
    let colour = s.js(&format!("return getComputedStyle(document.querySelector(\"{item} .due\")).color")).await;
    let plain = s.js("return getComputedStyle(document.querySelector('.open-acts .act .subject')).color").await;
    assert_ne!(colour, plain, "the overdue due time is coloured");
    assert_eq!(s.js("return window.notReloaded === true").await, json!(true), "no reload");
    s.close().await;
}

//! Playbooks on the board in real Chromium: a card shows its checklist
//! progress and a mark while required steps are open; a dragged card marks
//! the columns it may not enter; a drop there opens a dialog naming what is
//! missing, where a deal field is filled and the move tried again, and
//! where an admin moves anyway with a reason — a rep is offered no override.

use crate::column;
use crate::harness::{Screen, Session, enabled, start};
use dealflow_core::model::{NewDeal, NewUser, Role};
use dealflow_core::playbook::StepSpec;
use dealflow_core::{DealId, StageId};
use dealflow_store::Actor;
use fantoccini::Locator;
use fantoccini::actions::{InputSource, MouseActions, PointerAction};
use serde_json::{Value, json};
use std::time::Duration;

/// The first two stages of the default pipeline.
async fn stages(s: &Session) -> (StageId, StageId) {
    let p = s.store.pipelines().await.expect("pipelines");
    (p[0].stages[0].id, p[0].stages[1].id)
}

async fn add_step(s: &Session, stage: StageId, spec: Value) {
    let spec: StepSpec = serde_json::from_value(spec).expect("a step spec");
    s.store.create_step(&Actor::system(), stage, spec).await.expect("step");
}

async fn deal(s: &Session, title: &str) -> DealId {
    let n = NewDeal { title: title.into(), ..Default::default() };
    s.store.create_deal(&Actor::system(), n).await.expect("deal").id
}

/// Waits until the server has the deal in `stage` (the page moves the card
/// before the server answers).
async fn until_in(s: &Session, id: DealId, stage: StageId) {
    for _ in 0..100 {
        if s.store.deal(id).await.expect("deal").stage_id == stage {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("deal {id} never reached stage {stage}");
}

async fn click(s: &Session, css: &str) {
    s.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).click().await.expect("click");
}

#[tokio::test]
async fn a_blocked_drop_names_the_missing_field_and_filling_it_moves_the_card() {
    if !enabled() {
        return;
    }
    let s = start(false, Screen::Desktop, "en").await;
    let (s0, s1) = stages(&s).await;
    add_step(&s, s0, json!({"title": "Close date known", "kind": "field", "field": "expected_close_date"})).await;
    add_step(&s, s0, json!({"title": "Intro call", "kind": "task", "required": false})).await;
    let id = deal(&s, "Gated deal").await;
    let card = format!(".card[data-id='{id}']");
    s.login().await;
    s.wait_for(&card).await;

    // The card: none of two steps done, and the mark of a blocked deal.
    let badge = s.js(&format!("return document.querySelector(\"{card} .steps .n\").textContent")).await;
    assert_eq!(badge, json!("0/2"));
    assert_eq!(
        s.js(&format!("return document.querySelector(\"{card}\").classList.contains('blocked')")).await,
        json!(true)
    );
    assert_eq!(s.js(&format!("return !!document.querySelector(\"{card} .steps .stop\")")).await, json!(true));

    // While the card is held over the board, the column it may not enter
    // is marked; the one it is in is not.
    let src = s.client.find(Locator::Css(&card)).await.expect("card");
    let dst = s.client.find(Locator::Css(&format!("{} .cards", column(1)))).await.expect("column");
    let hold = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement { element: src, duration: None, x: 0.0, y: 0.0 })
        .then(PointerAction::Down { button: fantoccini::actions::MOUSE_BUTTON_LEFT })
        .then(PointerAction::MoveBy { duration: Some(Duration::from_millis(100)), x: 12.0, y: 12.0 })
        .then(PointerAction::MoveToElement {
            element: dst,
            duration: Some(Duration::from_millis(200)),
            x: 0.0,
            y: 0.0,
        });
    s.client.perform_actions(hold).await.expect("hold");
    s.until(&format!("return document.querySelector('{}').classList.contains('no-entry')", column(1))).await;
    assert_eq!(
        s.js(&format!("return document.querySelector('{}').classList.contains('no-entry')", column(0))).await,
        json!(false)
    );
    s.screenshot("board-drag-no-entry").await;
    let up =
        MouseActions::new("mouse".into()).then(PointerAction::Up { button: fantoccini::actions::MOUSE_BUTTON_LEFT });
    s.client.perform_actions(up).await.expect("release");

    // The drop opens the dialog naming the open required step, with its
    // field to fill; the optional step is not named; the deal stays.
    s.wait_for("#moves-dialog[open] .open-steps input[name=expected_close_date]").await;
    let said = s.js("return document.querySelector('#moves-dialog .open-steps').textContent").await;
    let said = said.as_str().unwrap_or_default().to_string();
    assert!(said.contains("Close date known") && !said.contains("Intro call"), "{said}");
    assert_eq!(
        s.js("return document.querySelector('#moves-dialog .override').hidden").await,
        json!(false),
        "admins may override"
    );
    s.screenshot("board-moves-dialog").await;
    assert_eq!(s.store.deal(id).await.expect("deal").stage_id, s0);

    // Filling the field saves the deal and makes the move.
    s.js("document.querySelector('#moves-dialog input[name=expected_close_date]').value = '2026-12-31'; return true")
        .await;
    click(&s, "#moves-dialog button[value=fill]").await;
    s.until(&format!("return !!document.querySelector(\"{} {card}\")", column(1))).await;
    s.until("return !document.getElementById('moves-dialog').open").await;
    until_in(&s, id, s1).await;
    let d = s.store.deal(id).await.expect("deal");
    assert_eq!(d.expected_close_date.map(|x| x.to_iso()).as_deref(), Some("2026-12-31"));
    // The next stage has no steps: the badge goes.
    s.until(&format!("return document.querySelector(\"{card} .steps\").hidden")).await;
    s.close().await;
}

#[tokio::test]
async fn an_admin_overrides_with_a_reason_and_a_rep_sees_no_override() {
    if !enabled() {
        return;
    }
    let s = start(false, Screen::Desktop, "zh-CN").await;
    let (s0, s1) = stages(&s).await;
    add_step(&s, s0, json!({"title": "Discovery call", "kind": "task"})).await;
    let id = deal(&s, "Override me").await;
    let card = format!(".card[data-id='{id}']");
    s.login().await;
    s.wait_for(&card).await;
    assert_eq!(s.js(&format!("return document.querySelector(\"{card} .steps .n\").textContent")).await, json!("0/1"));

    // A task step cannot be filled in the dialog: it points to the deal.
    s.drag(&card, &format!("{} .cards", column(1))).await;
    s.wait_for("#moves-dialog[open]").await;
    let title = s.js("return document.getElementById('moves-title').textContent").await;
    assert_eq!(title, json!("还不能推进"), "the dialog speaks the page's language");
    assert_eq!(s.js("return document.querySelector('#moves-dialog button[value=fill]').hidden").await, json!(true));
    let link = s.js("return document.querySelector('#moves-dialog .open-steps a').getAttribute('href')").await;
    assert_eq!(link, json!(format!("/deals/{id}")));

    // Moving anyway needs a reason; with one the deal moves and the stage
    // event records it.
    click(&s, "#moves-dialog .override button").await;
    s.until("return !document.querySelector('#moves-dialog .error').hidden").await;
    assert_eq!(s.store.deal(id).await.expect("deal").stage_id, s0);
    s.js("document.querySelector('#moves-dialog textarea[name=override_reason]').value = '客户急需'; return true")
        .await;
    click(&s, "#moves-dialog .override button").await;
    s.until(&format!("return !!document.querySelector(\"{} {card}\")", column(1))).await;
    until_in(&s, id, s1).await;
    let events = s.store.deal_events(id).await.expect("events");
    assert!(events.iter().any(|e| e.override_reason.as_deref() == Some("客户急需")), "{events:?}");

    // A rep dropping a blocked card sees what is missing but no override.
    let rep = NewUser {
        email: "rep@example.com".into(),
        name: "Rita Rep".into(),
        role: Role::Rep,
        password: "a rep password 123".into(),
        locale: None,
    };
    dealflow_server::api::users::add_user(&s.store, &Actor::system(), rep).await.expect("rep");
    let other = deal(&s, "Rep's deal").await;
    s.goto("/login").await;
    s.client.delete_all_cookies().await.expect("sign out");
    s.goto("/login").await;
    s.client
        .find(Locator::Css("input[name=email]"))
        .await
        .expect("email")
        .send_keys("rep@example.com")
        .await
        .expect("t");
    s.client
        .find(Locator::Css("input[name=password]"))
        .await
        .expect("pw")
        .send_keys("a rep password 123")
        .await
        .expect("t");
    click(&s, "form button[type=submit]").await;
    let other_card = format!(".card[data-id='{other}']");
    s.wait_for(&other_card).await;
    s.drag(&other_card, &format!("{} .cards", column(1))).await;
    s.wait_for("#moves-dialog[open]").await;
    assert_eq!(s.js("return document.querySelector('#moves-dialog .override').hidden").await, json!(true));
    assert_eq!(s.store.deal(other).await.expect("deal").stage_id, s0);
    s.close().await;
}

//! The deal page's playbook checklist in real Chromium: progress, due
//! times in the workspace's time zone, and tick boxes that complete and
//! reopen a step through the API; its task marked on the activities page.

use crate::harness::{Screen, enabled, start};
use dealflow_core::model::{NewDeal, SettingsPatch};
use dealflow_core::playbook::{StepSpec, StepStatus};
use dealflow_store::Actor;
use fantoccini::Locator;
use serde_json::json;

#[tokio::test]
async fn ticking_a_step_completes_it_and_unticking_reopens_it() {
    if !enabled() {
        return;
    }
    let s = start(false, Screen::Desktop, "en").await;
    let actor = Actor::system();
    let settings = s.store.settings().await.expect("settings");
    let patch: SettingsPatch =
        serde_json::from_value(json!({"version": settings.version, "time_zone": "Asia/Tokyo"})).expect("patch");
    s.store.update_settings(&actor, patch).await.expect("time zone");
    let stage = s.store.pipelines().await.expect("pipelines")[0].stages[0].id;
    let call: StepSpec = serde_json::from_value(
        json!({"title": "Intro call", "kind": "task", "due": {"anchor": "stage_entered", "offset_minutes": 60}}),
    )
    .expect("spec");
    s.store.create_step(&actor, stage, call).await.expect("step");
    let close: StepSpec =
        serde_json::from_value(json!({"title": "Close date", "kind": "field", "field": "expected_close_date"}))
            .expect("spec");
    s.store.create_step(&actor, stage, close).await.expect("step");
    let deal = s.store.create_deal(&actor, NewDeal { title: "Checklist deal".into(), ..Default::default() }).await;
    let deal = deal.expect("deal");
    s.login().await;
    s.goto(&format!("/deals/{}", deal.id)).await;
    s.wait_for(".checklist").await;
    assert_eq!(s.js("return document.querySelector('.checklist .progress').textContent").await, json!("0/2"));

    // The task's due time is shown in the workspace's zone (Tokyo, UTC+9).
    let items = s.store.deal_checklist(deal.id).await.expect("checklist");
    let due = items[0].due_at.expect("a due time");
    let local = chrono::DateTime::from_timestamp_millis(due.0)
        .expect("time")
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .format("%H:%M")
        .to_string();
    let shown = s.js("return document.querySelector('.checklist li.step time').textContent").await;
    assert!(shown.as_str().unwrap_or_default().ends_with(&local), "{shown} vs {local}");
    // A field step follows the deal's data: no tick box to click.
    let disabled = s.js("return document.querySelectorAll('.checklist input[data-step]')[1].disabled").await;
    assert_eq!(disabled, json!(true));

    // Tick the task: it is done, with who and when, and the progress moves.
    let box_css = format!(".checklist input[data-step='{}']", items[0].step_id);
    s.client.find(Locator::Css(&box_css)).await.expect("box").click().await.expect("tick");
    s.until("return document.querySelector('.checklist .progress')?.textContent === '1/2'").await;
    assert_eq!(s.store.deal_checklist(deal.id).await.expect("checklist")[0].status, StepStatus::Done);
    let text = s.js("return document.querySelector('.checklist li.step').textContent").await;
    assert!(text.as_str().unwrap_or_default().contains("done"), "{text}");

    // Untick: open again.
    s.client.find(Locator::Css(&box_css)).await.expect("box").click().await.expect("untick");
    s.until("return document.querySelector('.checklist .progress')?.textContent === '0/2'").await;
    assert_eq!(s.store.deal_checklist(deal.id).await.expect("checklist")[0].status, StepStatus::Open);

    // The activities page marks the step's task as coming from the playbook.
    let task = items[0].activity_id.expect("the step's task");
    s.goto("/activities?scope=all").await;
    let mark = s.wait_for(&format!(".act[data-id='{task}'] .playbook")).await;
    let title = mark.attr("title").await.expect("title").unwrap_or_default();
    assert!(title.ends_with(": Intro call"), "{title}");
    s.close().await;
}

//! The playbook a new workspace starts with: the five required steps of
//! "Demo booked" (draft e-mails with their due rules, and the nurture
//! campaign step pointing at the "Nurture" campaign created with it).

use crate::helpers::spawn_app;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn demo_booked_carries_the_five_steps_and_gates_the_stage() {
    let app = spawn_app().await;
    let p = app.default_pipeline().await;
    let stage = &p["stages"][2];
    assert_eq!(stage["name"], "Demo booked");
    let (st, steps) = app.get(&format!("/api/v1/stages/{}/steps", stage["id"].as_str().unwrap_or_default())).await;
    assert_eq!(st, StatusCode::OK, "{steps}");
    let steps = steps.as_array().cloned().unwrap_or_default();
    let shape: Vec<(Value, Value, Value, Value, Value)> = steps
        .iter()
        .map(|s| {
            let due = &s["due"];
            (
                s["kind"].clone(),
                s["send"].clone(),
                due["anchor"].clone(),
                due["offset_minutes"].clone(),
                due["offset_working_days"].clone(),
            )
        })
        .collect();
    let n = Value::Null;
    let (email, draft) = (json!("email"), json!("draft"));
    assert_eq!(
        shape,
        vec![
            (email.clone(), draft.clone(), json!("stage_entered"), json!(0), n.clone()),
            (email.clone(), draft.clone(), json!("meeting"), n.clone(), json!(-1)),
            (email.clone(), draft.clone(), json!("meeting"), json!(-120), n.clone()),
            (email, draft, json!("meeting"), json!(60), n.clone()),
            (json!("campaign"), n.clone(), n.clone(), n.clone(), n),
        ]
    );
    assert!(steps.iter().all(|s| s["required"] == true), "{steps:?}");
    for s in &steps[..4] {
        let body = s["template"]["body"].as_str().unwrap_or_default();
        assert!(body.contains("{{owner.name}}") && body.contains("{{person."), "{body}");
    }
    let (st, c) = app.get(&format!("/api/v1/campaigns/{}", steps[4]["campaign_id"].as_str().unwrap_or_default())).await;
    assert_eq!(st, StatusCode::OK, "{c}");
    assert_eq!(c["name"], "Nurture");

    // A deal in the stage gets the drafts as tasks, and cannot move on yet.
    let (_, person) = app.post("/api/v1/people", json!({"name": "Pat Prospect"})).await;
    let deal = app
        .create_deal(json!({"title": "Demo", "value": 100, "currency": "EUR", "stage_id": stage["id"], "person_id": person["id"]}))
        .await;
    let id = deal["id"].as_str().unwrap_or_default();
    let (_, list) = app.get(&format!("/api/v1/deals/{id}/steps")).await;
    assert_eq!(list.as_array().map(Vec::len), Some(5), "{list}");
    assert!(list[0]["activity_id"].is_string(), "the confirmation is a draft task: {list}");
    let (st, moved) = app
        .patch(&format!("/api/v1/deals/{id}"), json!({"version": deal["version"], "stage_id": p["stages"][3]["id"]}))
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{moved}");
    assert_eq!(moved["errors"].as_array().map(Vec::len), Some(5), "{moved}");
}

/// The demo works its deals' checklists: the open deals in "Demo booked"
/// stand at different points of theirs, one has a playbook task overdue
/// (the confirmation was due when it entered the stage), and one an
/// automatic e-mail that failed.
#[tokio::test]
async fn the_demo_has_deals_at_every_point_of_the_demo_checklist() {
    let app = spawn_app().await;
    dealflow_server::demo::ensure(&app.store, None).await.expect("demo workspace");
    let p = app.default_pipeline().await;
    let stage = p["stages"][2]["id"].as_str().unwrap_or_default().to_string();
    let (st, deals) = app.get(&format!("/api/v1/deals?stage_id={stage}&status=open&limit=500")).await;
    assert_eq!(st, StatusCode::OK, "{deals}");
    let now = dealflow_core::time::Timestamp::now().to_rfc3339();
    let (mut done_counts, mut overdue) = (std::collections::BTreeSet::new(), 0);
    for d in deals["items"].as_array().cloned().unwrap_or_default() {
        let (_, list) = app.get(&format!("/api/v1/deals/{}/steps", d["id"].as_str().unwrap_or_default())).await;
        let items = list.as_array().cloned().unwrap_or_default();
        done_counts.insert(items.iter().filter(|i| i["status"] == "done").count());
        overdue += items
            .iter()
            .filter(|i| i["status"] == "open" && i["activity_id"].is_string())
            .filter(|i| i["due_at"].as_str().is_some_and(|due| due < now.as_str()))
            .count();
    }
    assert!(done_counts.len() >= 3, "deals at several points of the checklist: {done_counts:?}");
    assert!(overdue >= 1, "a playbook task overdue");

    // The self-serve "Activated" stage's automatic welcome e-mail: one
    // failed (its person is marked "do not e-mail"), the others waiting
    // for "send now" (they fell due before the step was added).
    let (_, pipelines) = app.get("/api/v1/pipelines").await;
    let activated = pipelines
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["stages"].as_array().cloned().unwrap_or_default())
        .find(|s| s["name"] == "Activated")
        .expect("the self-serve pipeline's Activated stage");
    let stage = activated["id"].as_str().unwrap_or_default();
    let (_, deals) = app.get(&format!("/api/v1/deals?stage_id={stage}&status=open&limit=500")).await;
    let mut states = Vec::new();
    for d in deals["items"].as_array().cloned().unwrap_or_default() {
        let (_, list) = app.get(&format!("/api/v1/deals/{}/steps", d["id"].as_str().unwrap_or_default())).await;
        for i in list.as_array().cloned().unwrap_or_default() {
            states.push((i["status"].as_str().unwrap_or_default().to_string(), i["reason"].to_string()));
        }
    }
    let failed: Vec<_> = states.iter().filter(|(st, _)| st == "failed").collect();
    assert_eq!(failed.len(), 1, "one failed e-mail: {states:?}");
    assert!(failed[0].1.contains("do not e-mail"), "{failed:?}");
    assert!(states.iter().any(|(st, r)| st == "waiting" && r.contains("send it now")), "{states:?}");
}

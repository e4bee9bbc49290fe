//! What happens to deals' checklists when things around them change: a
//! person marked "do not e-mail", a step switched between draft and
//! automatic e-mail, a deal deleted and restored, and a meeting marked done
//! before the follow-up after it went out, and a step changed while a deal
//! was in another stage.

use crate::helpers::spawn_app;
use crate::mail::{
    add_meeting, auto_email_stage, deal_with_person, item, quick_runner, rfc3339_in, s, smtp_on, wait_item,
};
use crate::sink::Sink;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The e-mail jobs of a deal, newest first as the API lists them.
async fn email_jobs(app: &crate::helpers::TestApp, deal: &str) -> Vec<Value> {
    let (st, jobs) = app.get(&format!("/api/v1/jobs?deal_id={deal}&kind=playbook.email")).await;
    assert_eq!(st, StatusCode::OK, "{jobs}");
    jobs["items"].as_array().cloned().unwrap_or_default()
}

async fn activity(app: &crate::helpers::TestApp, id: &str) -> Value {
    let (st, a) = app.get(&format!("/api/v1/activities/{id}")).await;
    assert_eq!(st, StatusCode::OK, "{a}");
    a
}

#[tokio::test]
async fn a_person_marked_do_not_email_gets_nothing_and_the_step_says_why() {
    let app = spawn_app().await;
    let sink = Sink::start();
    smtp_on(&app, sink.port).await;
    let (_, step) = auto_email_stage(&app, json!({"anchor": "stage_entered", "offset_minutes": 0}), true).await;
    let body = json!({"name": "Quiet Quinn", "emails": ["quinn@example.com"], "do_not_email": true});
    let (st, p) = app.post("/api/v1/people", body).await;
    assert_eq!(st, StatusCode::CREATED, "{p}");
    assert_eq!(p["do_not_email"], true);
    let d = app.create_deal(json!({"title": "Quiet deal", "person_id": p["id"]})).await;
    let deal = s(&d["id"]);

    let runner = quick_runner(&app);
    let it = wait_item(&app, &deal, &step, |i| i["status"] == "failed").await;
    assert_eq!(it["email_state"], "failed", "{it}");
    assert!(s(&it["reason"]).contains("do not e-mail"), "{it}");
    assert!(sink.messages().is_empty(), "nothing went out");

    // Cleared again, "send now" sends it.
    let (st, p) = app
        .patch(&format!("/api/v1/people/{}", s(&p["id"])), json!({"version": p["version"], "do_not_email": false}))
        .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    assert_eq!(p["do_not_email"], false);
    let (st, v) = app.post(&format!("/api/v1/deals/{deal}/steps/{step}/send"), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    wait_item(&app, &deal, &step, |i| i["status"] == "done").await;
    runner.stop().await;
    assert_eq!(sink.messages().len(), 1);
    let (st, bad) = app.post("/api/v1/people", json!({"name": "X", "do_not_email": "yes"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "a flag is true or false: {bad}");
    assert!(s(&bad["detail"]).contains("do_not_email"), "the message names the field: {bad}");
}

#[tokio::test]
async fn switching_a_draft_email_to_auto_schedules_it_and_back_makes_the_task_again() {
    let app = spawn_app().await;
    let stage = s(&app.default_pipeline().await["stages"][0]["id"]);
    let body = json!({"title": "Welcome", "kind": "email", "send": "draft", "required": true,
        "template": {"subject": "Welcome, {{person.first_name}}", "body": "Hello {{person.name}}"},
        "due": {"anchor": "stage_entered", "offset_minutes": 1440}});
    let (st, step) = app.post(&format!("/api/v1/stages/{stage}/steps"), body).await;
    assert_eq!(st, StatusCode::CREATED, "{step}");
    let id = s(&step["id"]);
    let (deal, _) = deal_with_person(&app, json!(["grace@example.com"])).await;
    let it = item(&app, &deal, &id).await;
    assert_eq!(it["status"], "open", "a draft is a task: {it}");
    let task = s(&it["activity_id"]);
    assert_eq!(activity(&app, &task).await["subject"], "Welcome, Grace");

    let (st, step) =
        app.patch(&format!("/api/v1/steps/{id}"), json!({"version": step["version"], "send": "auto"})).await;
    assert_eq!(st, StatusCode::OK, "{step}");
    let it = item(&app, &deal, &id).await;
    assert_eq!((&it["status"], &it["email_state"]), (&json!("waiting"), &json!("scheduled")), "{it}");
    assert!(it["activity_id"].is_null(), "no task for an automatic e-mail: {it}");
    assert!(activity(&app, &task).await["done_at"].is_string(), "the draft's task is closed");
    let jobs = email_jobs(&app, &deal).await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!((&jobs[0]["status"], &jobs[0]["due_at"]), (&json!("pending"), &it["due_at"]));

    // A change that does not touch how it works leaves the deal alone.
    let (st, step) =
        app.patch(&format!("/api/v1/steps/{id}"), json!({"version": step["version"], "title": "Hello"})).await;
    assert_eq!(st, StatusCode::OK, "{step}");
    assert_eq!(item(&app, &deal, &id).await["job_id"], it["job_id"], "the same job");

    let (st, step) =
        app.patch(&format!("/api/v1/steps/{id}"), json!({"version": step["version"], "send": "draft"})).await;
    assert_eq!(st, StatusCode::OK, "{step}");
    let it = item(&app, &deal, &id).await;
    assert_eq!(it["status"], "open", "{it}");
    let again = s(&it["activity_id"]);
    assert_ne!(again, task, "a new task");
    assert!(activity(&app, &again).await["done_at"].is_null());
    let jobs = email_jobs(&app, &deal).await;
    assert_eq!(jobs[0]["status"], "cancelled", "{jobs:?}");
}

#[tokio::test]
async fn deleting_a_deal_closes_its_checklist_and_restoring_reopens_it() {
    let app = spawn_app().await;
    let (stage, mail) = auto_email_stage(&app, json!({"anchor": "stage_entered", "offset_minutes": 1440}), true).await;
    let body = json!({"title": "Call them", "kind": "task", "due": {"anchor": "stage_entered", "offset_minutes": 60}});
    let (st, task_step) = app.post(&format!("/api/v1/stages/{stage}/steps"), body).await;
    assert_eq!(st, StatusCode::CREATED, "{task_step}");
    let task_step = s(&task_step["id"]);
    let (deal, _) = deal_with_person(&app, json!(["grace@example.com"])).await;
    let task = s(&item(&app, &deal, &task_step).await["activity_id"]);
    assert_eq!(email_jobs(&app, &deal).await[0]["status"], "pending");

    let (st, _) = app.delete(&format!("/api/v1/deals/{deal}")).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(email_jobs(&app, &deal).await[0]["status"], "cancelled", "a deleted deal sends nothing");
    assert!(activity(&app, &task).await["done_at"].is_string(), "its playbook task is closed");

    let (st, r) = app.post(&format!("/api/v1/deals/{deal}/restore"), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    let it = item(&app, &deal, &mail).await;
    assert_eq!((&it["status"], &it["email_state"]), (&json!("waiting"), &json!("scheduled")), "{it}");
    let jobs = email_jobs(&app, &deal).await;
    assert_eq!(jobs.iter().filter(|j| j["status"] == "pending").count(), 1, "scheduled again: {jobs:?}");
    let t = item(&app, &deal, &task_step).await;
    assert_eq!((&t["status"], &t["activity_id"]), (&json!("open"), &json!(task)), "the same task reopened: {t}");
    assert!(activity(&app, &task).await["done_at"].is_null());
}

#[tokio::test]
async fn marking_the_meeting_done_keeps_the_follow_up_after_it() {
    let app = spawn_app().await;
    let (stage, follow) = auto_email_stage(&app, json!({"anchor": "meeting", "offset_minutes": 60}), true).await;
    let body = json!({"title": "Reminder", "kind": "email", "send": "auto",
        "template": {"subject": "Soon", "body": "See you at {{meeting.time}}"},
        "due": {"anchor": "meeting", "offset_minutes": -120}});
    let (st, reminder) = app.post(&format!("/api/v1/stages/{stage}/steps"), body).await;
    assert_eq!(st, StatusCode::CREATED, "{reminder}");
    let reminder = s(&reminder["id"]);
    let (deal, _) = deal_with_person(&app, json!(["grace@example.com"])).await;
    let meeting = add_meeting(&app, &deal, "2027-06-01T10:00:00Z").await;
    assert_eq!(item(&app, &deal, &reminder).await["email_state"], "scheduled");

    let a = activity(&app, &meeting).await;
    let (st, a) = app
        .patch(&format!("/api/v1/activities/{meeting}"), json!({"version": a["version"], "done_at": rfc3339_in(0)}))
        .await;
    assert_eq!(st, StatusCode::OK, "{a}");
    let it = item(&app, &deal, &follow).await;
    assert_eq!((&it["email_state"], &it["due_at"]), (&json!("scheduled"), &json!("2027-06-01T11:00:00.000Z")), "{it}");
    let it = item(&app, &deal, &reminder).await;
    assert_eq!((&it["status"], &it["email_state"]), (&json!("waiting"), &Value::Null), "waits again: {it}");
}

/// Moves a deal to `stage` (its current version read first).
async fn move_to(app: &crate::helpers::TestApp, deal: &str, stage: &str) {
    let (_, d) = app.get(&format!("/api/v1/deals/{deal}")).await;
    let (st, v) =
        app.patch(&format!("/api/v1/deals/{deal}"), json!({"version": d["version"], "stage_id": stage})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn a_step_changed_while_the_deal_was_away_gives_its_task_as_it_now_reads() {
    let app = spawn_app().await;
    let p = app.default_pipeline().await;
    let (first, second) = (s(&p["stages"][0]["id"]), s(&p["stages"][1]["id"]));
    let body = json!({"title": "Close date", "kind": "field", "required": false, "field": "expected_close_date"});
    let (st, step) = app.post(&format!("/api/v1/stages/{first}/steps"), body).await;
    assert_eq!(st, StatusCode::CREATED, "{step}");
    let id = s(&step["id"]);
    let d = app.create_deal(json!({"title": "Away", "stage_id": first})).await;
    let deal = s(&d["id"]);
    assert!(item(&app, &deal, &id).await["activity_id"].is_null(), "a field step has no task");

    // Away while the step becomes a task: back in the stage, the task is there.
    move_to(&app, &deal, &second).await;
    let (st, step) = app
        .patch(&format!("/api/v1/steps/{id}"), json!({"version": step["version"], "kind": "task", "field": null}))
        .await;
    assert_eq!(st, StatusCode::OK, "{step}");
    move_to(&app, &deal, &first).await;
    let it = item(&app, &deal, &id).await;
    assert_eq!(it["status"], "open", "{it}");
    let task = s(&it["activity_id"]);
    let a = activity(&app, &task).await;
    assert!(a["done_at"].is_null(), "{a}");
    assert_eq!(a["subject"], "Close date");

    // Away while it becomes a field step again: its old task stays closed.
    move_to(&app, &deal, &second).await;
    assert!(activity(&app, &task).await["done_at"].is_string(), "leaving closed the task");
    let body = json!({"version": step["version"], "kind": "field", "field": "expected_close_date"});
    let (st, step) = app.patch(&format!("/api/v1/steps/{id}"), body).await;
    assert_eq!(st, StatusCode::OK, "{step}");
    move_to(&app, &deal, &first).await;
    let it = item(&app, &deal, &id).await;
    assert_eq!(it["status"], "open", "{it}");
    assert!(it["activity_id"].is_null(), "no task for a field step: {it}");
    assert!(activity(&app, &task).await["done_at"].is_string(), "the old task is not reopened");
}

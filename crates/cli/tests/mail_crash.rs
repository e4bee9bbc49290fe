//! A playbook e-mail scheduled while `dealflow serve` runs, whose process is
//! killed (SIGKILL) before it is sent, goes out after the restart exactly
//! once: a real SMTP server on loopback (the sink of the API tests) counts
//! what arrived, on the engine under test.

#[path = "support/serve.rs"]
mod support_serve;

#[path = "../../server/tests/api/venv.rs"]
mod venv;
// Only part of the helper is used here.
#[allow(dead_code)]
#[path = "../../server/tests/api/sink.rs"]
mod sink;

use dealflow_core::model::Pipeline;
use dealflow_core::playbook::StepStatus;
use dealflow_core::time::Timestamp;
use dealflow_store::testing::test_database;
use dealflow_store::{Actor, EMAIL_JOB, JobFilter, JobStatus, Page, Store};
use serde_json::json;
use sink::{Sink, header};
use std::time::Duration;
use support_serve::{kill, serve};

/// A workspace sending through the sink, with an automatic e-mail step on
/// the first stage due at the deal's meeting, and a person to write to.
async fn workspace(store: &Store, port: u16) -> (i64, i64) {
    let a = Actor::system();
    let version = store.settings().await.expect("settings").version;
    let patch = json!({"version": version, "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none",
                       "mail_from": "sales@example.com"});
    store.update_settings(&a, serde_json::from_value(patch).expect("a patch")).await.expect("smtp settings");
    let pipelines: Vec<Pipeline> = store.pipelines().await.expect("pipelines");
    let stage = pipelines[0].stages[0].id;
    let spec = json!({"title": "Confirm", "kind": "email", "send": "auto",
        "template": {"subject": "Our call, {{person.first_name}}", "body": "See you at {{meeting.time}}."},
        "due": {"anchor": "meeting", "offset_minutes": 0}});
    let step = store.create_step(&a, stage, serde_json::from_value(spec).expect("a step")).await.expect("step");
    let person = store
        .create_person(
            &a,
            serde_json::from_value(json!({"name": "Grace Hopper", "emails": ["grace@example.com"]})).expect("a person"),
        )
        .await
        .expect("person");
    (step.id.0, person.id.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_scheduled_before_serve_was_killed_is_sent_once_after_the_restart() {
    let db = test_database().await.expect("a test database");
    let store = db.open().await.expect("open");
    let sink = Sink::start();
    let (step, person) = workspace(&store, sink.port).await;

    let first = serve(&db.url);
    // Scheduled while serve runs: a deal with a meeting three seconds away.
    let a = Actor::system();
    let new_deal = json!({"title": "Compiler", "value": 1, "person_id": person.to_string()});
    let deal = store.create_deal(&a, serde_json::from_value(new_deal).expect("a deal")).await.expect("deal");
    let due = Timestamp(Timestamp::now().0 + 3_000);
    let meeting = json!({"kind": "meeting", "subject": "Call", "due_at": due, "deal_id": deal.id});
    store.create_activity(&a, serde_json::from_value(meeting).expect("a meeting")).await.expect("meeting");
    let f = JobFilter { kind: Some(EMAIL_JOB.into()), deal_id: Some(deal.id), ..Default::default() };
    let jobs = store.jobs(&f, Page::default()).await.expect("jobs").items;
    assert_eq!(jobs.len(), 1, "one send job scheduled");
    assert_eq!(jobs[0].status, JobStatus::Pending);
    kill(first);

    // Down past the due time: nothing is sent.
    tokio::time::sleep(Duration::from_millis(4_000)).await;
    assert!(sink.messages().is_empty(), "no process ran, nothing was sent");

    let second = serve(&db.url);
    let got = sink.wait_for(1, 30).await;
    // Long enough for a second send to show up if there were one.
    tokio::time::sleep(Duration::from_millis(3_000)).await;
    kill(second);
    let got_now = sink.messages();
    assert_eq!(got.len(), 1, "sent after the restart");
    assert_eq!(got_now.len(), 1, "sent exactly once");
    assert_eq!(header(&got_now[0], "Subject"), Some("Our call, Grace"));
    let job = store.job(jobs[0].id).await.expect("the job");
    assert_eq!(job.status, JobStatus::Done, "{job:?}");
    assert_eq!(job.attempts, 1, "one attempt");
    let list = store.deal_checklist(deal.id).await.expect("checklist");
    let it = list.iter().find(|i| i.step_id.0 == step).expect("the step");
    assert_eq!(it.status, StepStatus::Done);
}

//! The "Demo booked" checklist a new workspace starts with, switched to
//! automatic e-mails as an admin would once the mail server works, run end
//! to end against a real SMTP server with the job clock stepped through
//! each due time: the confirmation at once, the case study one working day
//! before a Monday meeting (across Europe's change to summer time and a
//! Friday holiday), the reminder two hours before, the follow-up an hour
//! after — each sent at its time and not before, once, with the meeting's
//! date and time in the workspace's zone — then the nurture step, after
//! which the gate lets the deal move on.

use crate::helpers::{TestApp, spawn_app};
use crate::mail::{add_meeting, item, s, settings, smtp_on};
use crate::sink::{Sink, header};
use dealflow_core::time::Timestamp;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn at(rfc3339: &str) -> Timestamp {
    let t = chrono::DateTime::parse_from_rfc3339(rfc3339).unwrap_or_else(|e| panic!("{rfc3339}: {e}"));
    Timestamp(t.timestamp_millis())
}

/// Runs every e-mail job due at `now` as the runner would, and returns the
/// subjects of the messages the sink got meanwhile.
async fn tick(app: &TestApp, sink: &Sink, now: Timestamp) -> Vec<String> {
    let before = sink.messages().len();
    let mut ran = 0;
    for job in app.store.claim_jobs("clock", now, 60_000, 10).await.expect("claim") {
        if job.kind != dealflow_server::jobs::EMAIL_JOB {
            continue;
        }
        let result = dealflow_server::jobs::run_email_job(app.store.clone(), job.clone()).await.expect("sent");
        assert_eq!(result["sent"], true, "{result}");
        assert!(app.store.complete_job(&job, &result, now).await.expect("complete"));
        ran += 1;
    }
    let got = sink.wait_for(before + ran, 10).await;
    got[before..].iter().map(|m| header(m, "Subject").unwrap_or_default().to_string()).collect()
}

#[tokio::test]
async fn the_default_demo_booked_checklist_sends_each_email_at_its_time_once() {
    let app = spawn_app().await;
    let sink = Sink::start();
    smtp_on(&app, sink.port).await;
    settings(&app, json!({"time_zone": "Europe/Berlin", "holidays": ["2027-03-26"]})).await;
    let p = app.default_pipeline().await;
    assert_eq!(p["stages"][2]["name"], "Demo booked");
    let stage = s(&p["stages"][2]["id"]);
    let (_, steps) = app.get(&format!("/api/v1/stages/{stage}/steps")).await;
    let steps = steps.as_array().cloned().unwrap_or_default();
    assert_eq!(steps.len(), 5, "{steps:?}");
    for st in steps.iter().filter(|x| x["kind"] == "email") {
        let (code, v) = app
            .patch(&format!("/api/v1/steps/{}", s(&st["id"])), json!({"version": st["version"], "send": "auto"}))
            .await;
        assert_eq!(code, StatusCode::OK, "{v}");
    }
    let id = |i: usize| s(&steps[i]["id"]);

    let (_, person) =
        app.post("/api/v1/people", json!({"name": "Grace Hopper", "emails": ["grace@example.com"]})).await;
    let d = app.create_deal(json!({"title": "Compiler licence", "person_id": person["id"], "stage_id": stage})).await;
    let deal = s(&d["id"]);
    // Monday 29 March 2027, 10:00 in Berlin, the day after clocks went forward.
    add_meeting(&app, &deal, "2027-03-29T08:00:00Z").await;
    let due = |v: Value| v["due_at"].clone();
    assert_eq!(due(item(&app, &deal, &id(0)).await), d["stage_entered_at"], "confirm: on entering");
    // One working day before: Friday the 26th is a holiday, so Thursday the
    // 25th at 10:00 winter time.
    assert_eq!(due(item(&app, &deal, &id(1)).await), "2027-03-25T09:00:00.000Z");
    assert_eq!(due(item(&app, &deal, &id(2)).await), "2027-03-29T06:00:00.000Z", "two hours before");
    assert_eq!(due(item(&app, &deal, &id(3)).await), "2027-03-29T09:00:00.000Z", "an hour after");

    let clock = [
        (Timestamp::now(), vec!["Our meeting on 2027-03-29 at 10:00"]),
        (at("2027-03-25T08:59:59.999Z"), vec![]),
        (at("2027-03-25T09:00:00Z"), vec!["Before our meeting: how others use it"]),
        (at("2027-03-29T05:59:59.999Z"), vec![]),
        (at("2027-03-29T06:00:00Z"), vec!["See you at 10:00"]),
        (at("2027-03-29T08:59:59.999Z"), vec![]),
        (at("2027-03-29T09:00:00Z"), vec!["Thank you for your time, Grace"]),
        (at("2027-04-30T00:00:00Z"), vec![]),
    ];
    for (now, want) in clock {
        assert_eq!(tick(&app, &sink, now).await, want, "at {}", now.to_rfc3339());
    }
    let mail = sink.messages();
    assert!(mail.iter().all(|m| header(m, "X-Sink-Rcpt") == Some("grace@example.com")));
    // The body is quoted-printable: join its soft line breaks before reading.
    let confirm = mail[0].replace("=\r\n", "").replace("=\n", "");
    assert!(confirm.contains("This confirms our meeting on 2027-03-29 at 10:00."), "{confirm}");
    for i in 0..4 {
        let it = item(&app, &deal, &id(i)).await;
        assert_eq!((&it["status"], &it["email_state"]), (&json!("done"), &json!("sent")), "{it}");
    }
    let (_, acts) = app.get(&format!("/api/v1/activities?deal_id={deal}&done=true")).await;
    let emails = acts["items"].as_array().map_or(0, |l| l.iter().filter(|a| a["kind"] == "email").count());
    assert_eq!(emails, 4, "each on the timeline once");

    // The last step is the nurture campaign; then the deal may move on.
    let (_, moves) = app.get(&format!("/api/v1/deals/{deal}/moves")).await;
    let next = moves.as_array().and_then(|m| m.iter().find(|x| x["stage_id"] == p["stages"][3]["id"]).cloned());
    let next = next.expect("the next stage is listed");
    assert_eq!(next["allowed"], false, "{next}");
    assert_eq!(next["open_steps"][0]["title"], "Move into nurture", "{next}");
    let (code, v) = app.post(&format!("/api/v1/deals/{deal}/steps/{}/done", id(4)), json!({})).await;
    assert_eq!(code, StatusCode::OK, "{v}");
    let (_, d) = app.get(&format!("/api/v1/deals/{deal}")).await;
    let (code, v) = app
        .patch(&format!("/api/v1/deals/{deal}"), json!({"version": d["version"], "stage_id": p["stages"][3]["id"]}))
        .await;
    assert_eq!(code, StatusCode::OK, "{v}");
}

//! E-mails that send themselves, against a real SMTP server (the sink of
//! `sink.rs` on loopback): the SMTP settings and the test e-mail, an
//! automatic playbook e-mail sent at its due time with its placeholders
//! filled and recorded on the timeline, cancelled when the deal leaves the
//! stage, retried while the server is down, failed without an address, a
//! step added late that waits for "send now", and due times counted in
//! working days across a daylight-saving change and a holiday.

use crate::helpers::{TestApp, assert_problem, spawn_app};
use crate::sink::{Sink, closed_port, header};
use dealflow_server::jobs::{Handlers, Runner, RunnerConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

pub(crate) fn s(v: &Value) -> String {
    v.as_str().unwrap_or_else(|| panic!("a string, not {v}")).to_string()
}

pub(crate) fn quick_runner(app: &TestApp) -> Runner {
    let config = RunnerConfig { poll: Duration::from_millis(200), ..Default::default() };
    Runner::start(app.store.clone(), Handlers::standard(), config)
}

/// Sets the workspace's settings from `body` (plus the current version).
pub(crate) async fn settings(app: &TestApp, mut body: Value) -> Value {
    let (_, cur) = app.get("/api/v1/settings").await;
    body["version"] = cur["version"].clone();
    let (st, v) = app.patch("/api/v1/settings", body).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v
}

/// Points the workspace at a plain SMTP server on loopback `port`.
pub(crate) async fn smtp_on(app: &TestApp, port: u16) {
    settings(
        app,
        json!({"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none", "mail_from": "sales@example.com"}),
    )
    .await;
}

/// The first stage of the default pipeline, with one automatic e-mail step
/// due as `due`; returns (stage id, step id).
pub(crate) async fn auto_email_stage(app: &TestApp, due: Value, required: bool) -> (String, String) {
    let stage = s(&app.default_pipeline().await["stages"][0]["id"]);
    let body = json!({"title": "Reminder", "kind": "email", "send": "auto", "required": required,
        "template": {"subject": "See you {{meeting.date}}, {{person.first_name}}",
                     "body": "Hello {{person.name}},\nour call about {{deal.title}} is at {{meeting.time}}.\n{{owner.name}}"},
        "due": due});
    let (st, v) = app.post(&format!("/api/v1/stages/{stage}/steps"), body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    (stage, s(&v["id"]))
}

/// A person (with `emails`) and a deal of theirs in the first stage.
pub(crate) async fn deal_with_person(app: &TestApp, emails: Value) -> (String, String) {
    let (st, p) = app.post("/api/v1/people", json!({"name": "Grace Hopper", "emails": emails})).await;
    assert_eq!(st, StatusCode::CREATED, "{p}");
    let d = app.create_deal(json!({"title": "Compiler licence", "value": 100_000, "person_id": p["id"]})).await;
    (s(&d["id"]), s(&p["id"]))
}

pub(crate) async fn add_meeting(app: &TestApp, deal: &str, due: &str) -> String {
    let body = json!({"kind": "meeting", "subject": "Demo", "due_at": due, "deal_id": deal});
    let (st, a) = app.post("/api/v1/activities", body).await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    s(&a["id"])
}

/// The checklist item of `step` for `deal`.
pub(crate) async fn item(app: &TestApp, deal: &str, step: &str) -> Value {
    let (st, list) = app.get(&format!("/api/v1/deals/{deal}/steps")).await;
    assert_eq!(st, StatusCode::OK, "{list}");
    list.as_array().and_then(|l| l.iter().find(|i| i["step_id"] == step).cloned()).expect("the step is listed")
}

/// Polls the checklist item until `done` holds.
pub(crate) async fn wait_item(app: &TestApp, deal: &str, step: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..300 {
        let it = item(app, deal, step).await;
        if done(&it) {
            return it;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the checklist item never reached the expected state: {}", item(app, deal, step).await);
}

pub(crate) fn rfc3339_in(secs: i64) -> String {
    let t = chrono::Utc::now() + chrono::Duration::seconds(secs);
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[tokio::test]
async fn smtp_settings_are_checked_and_the_password_is_never_returned() {
    let app = spawn_app().await;
    let v = settings(
        &app,
        json!({"smtp_host": "smtp.example.com", "smtp_port": 587, "smtp_security": "starttls",
               "smtp_username": "crm", "smtp_password": "s3cret!", "mail_from": "sales@example.com",
               "holidays": ["2026-12-25", "2026-12-24"]}),
    )
    .await;
    assert_eq!(v["smtp_host"], "smtp.example.com");
    assert_eq!(v["smtp_password_set"], true);
    assert_eq!(v["holidays"], json!(["2026-12-24", "2026-12-25"]), "kept in order");
    let (_, got) = app.get("/api/v1/settings").await;
    assert!(got.get("smtp_password").is_none(), "the password is never returned: {got}");
    assert!(!got.to_string().contains("s3cret!"), "{got}");
    let (_, audit) = app.get("/api/v1/audit-log").await;
    assert!(!audit.to_string().contains("s3cret!"), "nor written to the audit log");
    for (body, field) in [
        (json!({"smtp_port": 70000}), "smtp_port"),
        (json!({"smtp_port": 0}), "smtp_port"),
        (json!({"mail_from": "not an address"}), "mail_from"),
        (json!({"smtp_host": "smtp.example.com/x"}), "smtp_host"),
    ] {
        let mut body = body;
        body["version"] = got["version"].clone();
        let (st, p) = app.patch("/api/v1/settings", body).await;
        assert_problem(st, &p, StatusCode::UNPROCESSABLE_ENTITY, Some(field));
    }
    let (st, p) = app.patch("/api/v1/settings", json!({"version": got["version"], "smtp_security": "ssl"})).await;
    assert!(st.is_client_error(), "an unknown security mode is refused: {p}");
    let v = settings(&app, json!({"smtp_password": null})).await;
    assert_eq!(v["smtp_password_set"], false, "null clears it");
    assert_eq!(v["smtp_port"], 587, "refusals changed nothing");
}

#[tokio::test]
async fn the_test_email_action_sends_or_says_what_the_server_said() {
    let app = spawn_app().await;
    let (st, p) = app.post("/api/v1/settings/test-email", json!({"to": "me@example.com"})).await;
    assert_problem(st, &p, StatusCode::UNPROCESSABLE_ENTITY, Some("smtp_host"));

    let sink = Sink::start();
    smtp_on(&app, sink.port).await;
    let (st, p) = app.post("/api/v1/settings/test-email", json!({"to": "nope"})).await;
    assert_problem(st, &p, StatusCode::UNPROCESSABLE_ENTITY, Some("to"));
    let (st, v) = app.post("/api/v1/settings/test-email", json!({"to": "me@example.com"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let got = sink.wait_for(1, 10).await;
    assert_eq!(got.len(), 1, "one test e-mail arrived");
    assert_eq!(header(&got[0], "X-Sink-Rcpt"), Some("me@example.com"));
    assert_eq!(header(&got[0], "From"), Some("sales@example.com"));

    let refusing = Sink::refusing();
    smtp_on(&app, refusing.port).await;
    let (st, p) = app.post("/api/v1/settings/test-email", json!({"to": "me@example.com"})).await;
    assert_problem(st, &p, StatusCode::BAD_GATEWAY, None);
    assert!(s(&p["detail"]).contains("554"), "says what the server said: {p}");

    smtp_on(&app, closed_port()).await;
    let (st, p) = app.post("/api/v1/settings/test-email", json!({"to": "me@example.com"})).await;
    assert_problem(st, &p, StatusCode::BAD_GATEWAY, None);
    assert!(s(&p["detail"]).contains("could not be reached"), "{p}");
}

#[tokio::test]
async fn an_auto_email_goes_out_at_its_due_time_once_and_lands_on_the_timeline() {
    let app = spawn_app().await;
    let sink = Sink::start();
    smtp_on(&app, sink.port).await;
    let (_, step) = auto_email_stage(&app, json!({"anchor": "meeting", "offset_minutes": 0}), true).await;
    let (deal, person) = deal_with_person(&app, json!(["grace@example.com"])).await;
    let it = item(&app, &deal, &step).await;
    assert_eq!(it["status"], "waiting", "no meeting yet: {it}");
    assert_eq!(it["email_state"], Value::Null, "nothing scheduled: {it}");

    let runner = quick_runner(&app);
    let meeting = add_meeting(&app, &deal, &rfc3339_in(3)).await;
    let it = item(&app, &deal, &step).await;
    assert_eq!(it["email_state"], "scheduled", "the meeting schedules it: {it}");
    assert!(it["job_id"].is_string(), "{it}");
    let (_, a) = app.get(&format!("/api/v1/activities/{meeting}")).await;
    assert_eq!(it["due_at"], a["due_at"], "due at the meeting");
    assert!(sink.messages().is_empty(), "not before its due time");

    let it = wait_item(&app, &deal, &step, |i| i["status"] == "done").await;
    assert_eq!(it["email_state"], "sent", "{it}");
    let got = sink.messages();
    assert_eq!(got.len(), 1, "sent once");
    let m = &got[0];
    assert_eq!(header(m, "X-Sink-Rcpt"), Some("grace@example.com"));
    let subject = header(m, "Subject").expect("a subject");
    assert!(subject.starts_with("See you 20") && subject.ends_with(", Grace"), "{subject}");
    assert!(m.contains("Hello Grace Hopper,") && m.contains("Compiler licence"), "{m}");
    assert!(header(m, "Message-ID").is_some_and(|id| id.ends_with("@example.com>")), "{m}");

    let (_, acts) = app.get(&format!("/api/v1/activities?deal_id={deal}&done=true")).await;
    let email = acts["items"].as_array().and_then(|l| l.iter().find(|a| a["kind"] == "email")).expect("an e-mail");
    assert_eq!(email["person_id"], person.as_str(), "on the person's timeline too");
    assert!(s(&email["subject"]).ends_with(", Grace"));
    // Grace answers it: the reply finds the playbook e-mail by its
    // Message-ID and is kept on that activity, not in the response rate.
    let message_id = header(m, "Message-ID").expect("a Message-ID").to_string();
    let (_, before) = app.get("/api/v1/metrics").await;
    let (_, pm) = app.post("/api/v1/connections", json!({"provider": "postmark"})).await;
    let reply = json!({"FromFull": {"Email": "grace@example.com"}, "Subject": "Re: see you", "TextBody": "Looking forward.",
        "Headers": [{"Name": "Message-ID", "Value": "<answer-1@grace.example>"}, {"Name": "In-Reply-To", "Value": message_id}]});
    let r = app
        .client
        .post(format!("{}/ingest/{}/inbound", app.base, s(&pm["id"])))
        .basic_auth(s(&pm["username"]), Some(s(&pm["password"])))
        .json(&reply)
        .send()
        .await
        .expect("post the reply");
    assert_eq!(r.status(), StatusCode::OK);
    let (_, replies) = app.get(&format!("/api/v1/replies?person_id={person}")).await;
    assert_eq!(replies["items"][0]["activity_id"], email["id"], "{replies}");
    assert_eq!(replies["items"][0]["outreach_id"], Value::Null);
    let (_, after) = app.get("/api/v1/metrics").await;
    assert_eq!(after["replies"], before["replies"], "a reply to a playbook e-mail is contact, not a response");
    let (_, moves) = app.get(&format!("/api/v1/deals/{deal}/moves")).await;
    assert!(moves.as_array().is_some_and(|m| m.iter().all(|x| x["open_steps"] == json!([]))), "{moves}");
    // A second run of the same job sends nothing.
    let (_, job) = app.get(&format!("/api/v1/jobs?deal_id={deal}&kind=playbook.email")).await;
    assert_eq!(job["items"][0]["status"], "done", "{job}");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(sink.messages().len(), 1);
    runner.stop().await;
}

#[tokio::test]
async fn moving_the_meeting_moves_the_email_and_leaving_the_stage_cancels_it() {
    let app = spawn_app().await;
    let sink = Sink::start();
    smtp_on(&app, sink.port).await;
    let (_, step) = auto_email_stage(&app, json!({"anchor": "meeting", "offset_minutes": -120}), false).await;
    let (deal, _) = deal_with_person(&app, json!(["grace@example.com"])).await;
    let meeting = add_meeting(&app, &deal, "2027-06-01T10:00:00Z").await;
    let it = item(&app, &deal, &step).await;
    assert_eq!(it["due_at"], "2027-06-01T08:00:00.000Z", "{it}");
    let (_, a) = app.get(&format!("/api/v1/activities/{meeting}")).await;
    let (st, _) = app
        .patch(
            &format!("/api/v1/activities/{meeting}"),
            json!({"version": a["version"], "due_at": "2027-06-02T10:00:00Z"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let it = item(&app, &deal, &step).await;
    assert_eq!(it["due_at"], "2027-06-02T08:00:00.000Z", "the e-mail follows the meeting: {it}");
    let (_, jobs) = app.get(&format!("/api/v1/jobs?deal_id={deal}&kind=playbook.email")).await;
    assert_eq!(jobs["items"].as_array().map(Vec::len), Some(1), "moved, not doubled: {jobs}");
    assert_eq!(jobs["items"][0]["due_at"], "2027-06-02T08:00:00.000Z");

    let p = app.default_pipeline().await;
    let (_, d) = app.get(&format!("/api/v1/deals/{deal}")).await;
    let (st, d) = app
        .patch(&format!("/api/v1/deals/{deal}"), json!({"version": d["version"], "stage_id": p["stages"][1]["id"]}))
        .await;
    assert_eq!(st, StatusCode::OK, "{d}");
    let (_, jobs) = app.get(&format!("/api/v1/jobs?deal_id={deal}&kind=playbook.email")).await;
    assert_eq!(jobs["items"][0]["status"], "cancelled", "leaving the stage cancels it: {jobs}");
}

#[tokio::test]
async fn a_mail_server_that_is_down_is_retried_and_the_checklist_shows_why() {
    let app = spawn_app().await;
    smtp_on(&app, closed_port()).await;
    let (_, step) = auto_email_stage(&app, json!({"anchor": "stage_entered", "offset_minutes": 0}), true).await;
    let (deal, _) = deal_with_person(&app, json!(["grace@example.com"])).await;
    let runner = quick_runner(&app);
    let it = wait_item(&app, &deal, &step, |i| i["last_error"].is_string()).await;
    runner.stop().await;
    assert_eq!(it["status"], "waiting", "retried, not failed yet: {it}");
    assert_eq!(it["email_state"], "scheduled", "{it}");
    assert!(s(&it["last_error"]).contains("could not be reached"), "{it}");
    let job = app.store.job(s(&it["job_id"]).parse().expect("an id")).await.expect("the job");
    assert_eq!(job.attempts, 1);
    assert!(job.due_at.0 > chrono::Utc::now().timestamp_millis() + 20_000, "backs off");

    // Its last attempt: claimed again with no attempts left, the step fails.
    let mut claimed =
        app.store.claim_jobs("test", job.due_at, 60_000, 1).await.expect("claim").pop().expect("the job is due");
    claimed.max_attempts = claimed.attempts;
    let outcome = dealflow_server::jobs::run_email_job(app.store.clone(), claimed).await;
    assert!(outcome.is_err(), "the attempt fails");
    let it = item(&app, &deal, &step).await;
    assert_eq!(it["status"], "failed", "{it}");
    assert_eq!(it["email_state"], "failed");
    assert!(s(&it["reason"]).contains("could not be reached"), "{it}");
}

#[tokio::test]
async fn an_email_without_an_address_fails_and_a_late_step_waits_for_send_now() {
    let app = spawn_app().await;
    let sink = Sink::start();
    smtp_on(&app, sink.port).await;
    let (nobody, _) = deal_with_person(&app, json!([])).await;
    let (late, _) = deal_with_person(&app, json!(["grace@example.com"])).await;
    // Added while both deals are in the stage, due when they entered it: past.
    let (_, step) = auto_email_stage(&app, json!({"anchor": "stage_entered", "offset_minutes": 0}), true).await;
    let it = item(&app, &late, &step).await;
    assert_eq!(it["status"], "waiting", "{it}");
    assert_eq!(it["email_state"], Value::Null, "not sent by itself: {it}");
    assert!(s(&it["reason"]).contains("send it now"), "{it}");

    let runner = quick_runner(&app);
    let (st, list) = app.post(&format!("/api/v1/deals/{late}/steps/{step}/send"), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{list}");
    wait_item(&app, &late, &step, |i| i["status"] == "done").await;
    assert_eq!(sink.wait_for(1, 10).await.len(), 1);
    let (st, p) = app.post(&format!("/api/v1/deals/{late}/steps/{step}/send"), json!({})).await;
    assert_problem(st, &p, StatusCode::CONFLICT, None);

    app.post(&format!("/api/v1/deals/{nobody}/steps/{step}/send"), json!({})).await;
    let it = wait_item(&app, &nobody, &step, |i| i["status"] == "failed").await;
    runner.stop().await;
    assert_eq!(it["email_state"], "failed");
    assert!(s(&it["reason"]).contains("no e-mail address"), "{it}");
    assert_eq!(sink.messages().len(), 1, "nothing sent to nobody");
}

#[tokio::test]
async fn working_days_before_a_meeting_skip_a_holiday_across_a_dst_change() {
    let app = spawn_app().await;
    settings(&app, json!({"time_zone": "Europe/Berlin", "holidays": ["2027-03-26"]})).await;
    let (_, step) = auto_email_stage(&app, json!({"anchor": "meeting", "offset_working_days": -1}), true).await;
    let (deal, _) = deal_with_person(&app, json!(["grace@example.com"])).await;
    // Monday 29 March 2027, 10:00 summer time (Europe switched on the 28th).
    add_meeting(&app, &deal, "2027-03-29T08:00:00Z").await;
    let it = item(&app, &deal, &step).await;
    // Friday the 26th is a holiday: Thursday the 25th, 10:00 winter time.
    assert_eq!(it["due_at"], "2027-03-25T09:00:00.000Z", "{it}");
    let (_, jobs) = app.get(&format!("/api/v1/jobs?deal_id={deal}&kind=playbook.email")).await;
    assert_eq!(jobs["items"][0]["due_at"], "2027-03-25T09:00:00.000Z", "{jobs}");
}

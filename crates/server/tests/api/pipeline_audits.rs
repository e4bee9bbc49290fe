//! The weekly pipeline audit (issue 13): the snapshot with its facts and
//! flags from constructed facts, each decision through the normal path,
//! refusals, sign-off, the next audit's comparison, the export and the
//! weekly schedule.

use crate::helpers::{TestApp, spawn_app};
use dealflow_core::time::Timestamp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const DAY: i64 = 86_400_000;

fn s(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

fn ago(days: i64) -> String {
    Timestamp(Timestamp::now().0 - days * DAY).to_rfc3339()
}

fn item<'a>(audit: &'a Value, deal: &Value) -> &'a Value {
    let items = audit["items"].as_array().expect("items");
    items.iter().find(|i| i["deal_id"] == deal["id"]).unwrap_or_else(|| panic!("{deal} not in {audit}"))
}

fn flags(item: &Value) -> Vec<String> {
    item["flags"].as_array().expect("flags").iter().map(s).collect()
}

async fn audit_of(app: &TestApp, pipeline: &Value) -> Value {
    let (st, a) = app.post("/api/v1/audits", json!({"pipeline_id": pipeline["id"]})).await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    a
}

async fn decide(app: &TestApp, audit: &Value, deal: &Value, body: Value) -> (StatusCode, Value) {
    app.post(&format!("/api/v1/audits/{}/items/{}/decision", s(&audit["id"]), s(&deal["id"])), body).await
}

/// Three open deals, each with constructed facts, and a won one: the audit
/// lists the open ones in stage order with the answers and flags the facts
/// give; without a scoring model `qualified` is unknown.
#[tokio::test]
async fn an_audit_lists_the_open_deals_with_the_facts_and_flags() {
    let app = spawn_app().await;
    let p = app.default_pipeline().await;
    let stages = p["stages"].as_array().unwrap().clone();
    let (st, _) = app
        .patch(
            &format!("/api/v1/stages/{}", s(&stages[1]["id"])),
            json!({"version": stages[1]["version"], "rotting_days": 10}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let quiet = app.create_deal(json!({"title": "Quiet", "stage_id": stages[1]["id"], "created_at": ago(30)})).await;
    let late = app.create_deal(json!({"title": "Late", "stage_id": stages[0]["id"]})).await;
    let pushed = app
        .create_deal(json!({"title": "Pushed", "stage_id": stages[0]["id"], "expected_close_date": "2020-01-01"}))
        .await;
    let won = app.create_deal(json!({"title": "Won", "stage_id": stages[0]["id"]})).await;
    let (st, _) = app
        .patch(&format!("/api/v1/deals/{}", s(&won["id"])), json!({"version": won["version"], "status": "won"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    // Quiet: a call 20 days ago (contact), nothing planned.
    let call =
        json!({"kind": "call", "subject": "Intro", "deal_id": quiet["id"], "done_at": ago(20), "created_at": ago(20)});
    assert_eq!(app.post("/api/v1/activities", call).await.0, StatusCode::CREATED);
    // Late: a task that was due yesterday; never contacted.
    let task = json!({"kind": "task", "subject": "Send the quote", "deal_id": late["id"], "due_at": ago(1)});
    let (_, task) = app.post("/api/v1/activities", task).await;
    // Pushed: the close date moved later twice, still in the past.
    let mut v = pushed["version"].clone();
    for d in ["2020-02-01", "2020-03-01"] {
        let (st, d) = app
            .patch(&format!("/api/v1/deals/{}", s(&pushed["id"])), json!({"version": v, "expected_close_date": d}))
            .await;
        assert_eq!(st, StatusCode::OK, "{d}");
        v = d["version"].clone();
    }

    let a = audit_of(&app, &p).await;
    assert_eq!(
        (&a["status"], &a["progress"]["total"], &a["progress"]["decided"]),
        (&json!("open"), &json!(3), &json!(0))
    );
    let order: Vec<String> = a["items"].as_array().unwrap().iter().map(|i| s(&i["title"])).collect();
    assert_eq!(order.last().map(String::as_str), Some("Quiet"), "stage order: {order:?}");
    assert!(!order.contains(&"Won".to_string()));

    let q = item(&a, &quiet);
    assert_eq!(q["days_since_contact"], 20, "{q}");
    assert!(q["qualified"].is_null() && s(&q["qualified_reason"]).contains("no published scoring model"), "{q}");
    assert_eq!(flags(q), ["no_next_action", "rotting", "no_contact_14d"], "{q}");

    let l = item(&a, &late);
    assert_eq!(l["next_action"]["activity_id"], task["id"], "{l}");
    assert_eq!(l["last_contact_at"], late["stage_entered_at"], "never contacted: from the stage entry");
    // The won deal's stay in the first stage (created after Late, won at
    // once) is the stage's whole history: Late has been there longer.
    assert_eq!(flags(l), ["next_action_overdue", "stuck"], "{l}");

    let pu = item(&a, &pushed);
    assert_eq!(flags(pu), ["no_next_action", "stuck", "close_date_past", "close_date_pushed"], "{pu}");
    assert_eq!(pu["changes"], json!([]), "no previous audit: nothing to compare");
}

/// Every decision kind changes the deal through the normal path and is
/// recorded; refusals are 409/403/422 and change nothing; sign-off keeps a
/// summary and closes the audit; the next audit compares and checks the
/// next action a `keep` created.
#[tokio::test]
async fn decisions_act_at_once_and_sign_off_freezes_the_audit() {
    let app = spawn_app().await;
    let p = app.default_pipeline().await;
    let stages = p["stages"].as_array().unwrap().clone();
    let (rep, rep_token) = app.user_with_token("rep@example.com", "rep").await;
    let deal = |t: &str| json!({"title": t, "value": 100_000, "stage_id": stages[0]["id"]});
    let keep = app.create_deal(deal("Keep")).await;
    let drop = app.create_deal(deal("Drop")).await;
    let mover = app.create_deal(deal("Move")).await;
    let other = app.create_deal(deal("Reassign")).await;
    let later = app.create_deal(deal("Later")).await;
    let gone = app.create_deal(deal("Gone")).await;
    let mine = app.create_deal(json!({"title": "Mine", "stage_id": stages[0]["id"], "owner_id": rep["id"]})).await;
    let a = audit_of(&app, &p).await;
    assert_eq!(a["progress"]["total"], 7);
    let h = &a["hygiene"];
    assert_eq!((&h["open"], &h["with_next_action"], &h["rotting"]), (&json!(7), &json!(0), &json!(0)), "{h}");

    let (st, it) = decide(
        &app,
        &a,
        &keep,
        json!({"kind": "keep", "note": "on track", "next_action": {"subject": "Follow up", "due_at": ago(-3)}}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{it}");
    assert_eq!(it["decision"]["kind"], "keep");
    let task = it["decision"]["activity_id"].clone();
    let (_, acts) = app.get(&format!("/api/v1/activities?deal_id={}", s(&keep["id"]))).await;
    assert_eq!(acts["items"][0]["id"], task, "the next action is a task on the deal: {acts}");

    let (st, it) = decide(&app, &a, &drop, json!({"kind": "disqualify", "lost_reason": "No budget"})).await;
    assert_eq!(st, StatusCode::OK, "{it}");
    let (_, d) = app.get(&format!("/api/v1/deals/{}", s(&drop["id"]))).await;
    assert_eq!((&d["status"], &d["lost_reason"]), (&json!("lost"), &json!("No budget")));

    let (st, it) = decide(&app, &a, &mover, json!({"kind": "move", "stage_id": stages[1]["id"]})).await;
    assert_eq!(st, StatusCode::OK, "{it}");
    assert_eq!(app.get(&format!("/api/v1/deals/{}", s(&mover["id"]))).await.1["stage_id"], stages[1]["id"]);

    let (st, _) = decide(&app, &a, &other, json!({"kind": "reassign", "owner_id": rep["id"]})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(app.get(&format!("/api/v1/deals/{}", s(&other["id"]))).await.1["owner_id"], rep["id"]);

    let (st, bad) = decide(&app, &a, &later, json!({"kind": "update_close_date"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert!(bad.to_string().contains("expected_close_date"), "{bad}");
    let (st, _) =
        decide(&app, &a, &later, json!({"kind": "update_close_date", "expected_close_date": "2031-05-01"})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(app.get(&format!("/api/v1/deals/{}", s(&later["id"]))).await.1["expected_close_date"], "2031-05-01");

    // Twice: one action only.
    let (st, again) = decide(&app, &a, &drop, json!({"kind": "keep"})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{again}");
    // Deleted since the snapshot.
    assert_eq!(app.delete(&format!("/api/v1/deals/{}", s(&gone["id"]))).await.0, StatusCode::NO_CONTENT);
    let (st, g) = decide(&app, &a, &gone, json!({"kind": "keep"})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{g}");
    assert!(s(&g["detail"]).contains("deleted"), "{g}");
    // A rep decides on their own deals' items only.
    let path = |d: &Value| format!("/api/v1/audits/{}/items/{}/decision", s(&a["id"]), s(&d["id"]));
    let (st, _) = app.call_as(Some(&rep_token), Method::POST, &path(&keep), Some(json!({"kind": "keep"}))).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, it) = app.call_as(Some(&rep_token), Method::POST, &path(&mine), Some(json!({"kind": "keep"}))).await;
    assert_eq!(st, StatusCode::OK, "{it}");
    // Reps do not sign off.
    let sign = format!("/api/v1/audits/{}/sign-off", s(&a["id"]));
    assert_eq!(app.call_as(Some(&rep_token), Method::POST, &sign, None).await.0, StatusCode::FORBIDDEN);

    let (st, done) = app.post(&sign, json!(null)).await;
    assert_eq!(st, StatusCode::OK, "{done}");
    assert_eq!(done["status"], "signed_off");
    let sum = &done["summary"];
    assert_eq!((&sum["items"], &sum["decided"], &sum["undecided"]), (&json!(7), &json!(6), &json!(1)), "{sum}");
    assert_eq!(sum["decisions"]["keep"], 2, "{sum}");
    assert_eq!((&sum["value_disqualified"], &sum["value_moved"]), (&json!(100_000), &json!(100_000)), "{sum}");
    let (st, late) = decide(&app, &a, &mover, json!({"kind": "keep"})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{late}");
    assert_eq!(app.post(&sign, json!(null)).await.0, StatusCode::CONFLICT);
    // The deal's timeline shows the decision from the sign-off on.
    let stored = app.store.deal(serde_json::from_value(keep["id"].clone()).unwrap()).await.unwrap();
    let timeline = app.store.deal_timeline(&stored, 50).await.unwrap();
    let reviewed = timeline.iter().find_map(|e| match &e.kind {
        dealflow_store::DealTimelineKind::Review(r) => Some(r.clone()),
        _ => None,
    });
    let reviewed = reviewed.expect("a review entry on the timeline");
    assert_eq!((reviewed.kind.as_str(), reviewed.note.as_deref()), ("keep", Some("on track")));
    let (_, list) = app.get(&format!("/api/v1/audits?pipeline_id={}", s(&p["id"]))).await;
    assert_eq!(list[0]["id"], a["id"]);
    assert!(list[0].get("items").is_none(), "the list leaves items out");

    // The next audit: what changed, and whether the keep's task was done.
    let b = audit_of(&app, &p).await;
    assert_eq!(b["previous_id"], a["id"]);
    assert_eq!(b["progress"]["total"], 5, "the lost and the deleted deal are gone");
    let k = item(&b, &keep);
    assert_eq!((&k["previous_action"]["activity_id"], &k["previous_action"]["done"]), (&task, &json!(false)), "{k}");
    assert_eq!((&k["in_previous"], &k["carried_over"]), (&json!(true), &json!(1)), "{k}");
    let m = item(&b, &mover);
    assert_eq!(m["changes"][0]["field"], "stage", "{m}");
    assert_eq!(item(&b, &other)["changes"][0]["field"], "owner");

    // The export.
    let resp = app
        .client
        .get(format!("{}/api/v1/audits/{}/export", app.base, s(&a["id"])))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let csv = resp.text().await.unwrap();
    assert!(csv.starts_with("position,stage,deal_id,title"), "{csv}");
    assert_eq!(csv.lines().count(), 8, "a header and a row per deal: {csv}");
    assert!(csv.contains("No budget") || csv.contains("disqualify"), "{csv}");
}

/// The weekly schedule: off by default; once set, one audit per slot, made
/// late after a "restart" (a run at a later moment) and never twice.
#[tokio::test]
async fn the_weekly_schedule_makes_one_audit_per_slot() {
    let app = spawn_app().await;
    let p = app.default_pipeline().await;
    app.create_deal(json!({"title": "Open"})).await;
    let now = Timestamp::now();
    assert!(app.store.run_audit_schedule(now).await.unwrap().is_empty(), "off by default");
    let (st, bad) = app
        .patch(&format!("/api/v1/pipelines/{}", s(&p["id"])), json!({"version": p["version"], "audit_weekday": 8}))
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    // The weekday of two days ago (the workspace's zone is UTC): its latest
    // slot lies before the schedule is set, the next one five days on.
    use chrono::Datelike;
    let day = chrono::DateTime::from_timestamp_millis(now.0 - 2 * DAY).unwrap().weekday().number_from_monday();
    let body = json!({"version": p["version"], "audit_weekday": day, "audit_time": "09:00"});
    let (st, q) = app.patch(&format!("/api/v1/pipelines/{}", s(&p["id"])), body).await;
    assert_eq!((st, &q["audit_weekday"]), (StatusCode::OK, &json!(day)), "{q}");
    // The slot before the schedule was set is not made.
    assert!(app.store.run_audit_schedule(now).await.unwrap().is_empty());
    // Eight days on (a server that was down over the slot): made once.
    let later = Timestamp(now.0 + 8 * DAY);
    assert_eq!(app.store.run_audit_schedule(later).await.unwrap().len(), 1);
    assert!(app.store.run_audit_schedule(Timestamp(later.0 + 60_000)).await.unwrap().is_empty(), "never twice");
    let (_, list) = app.get("/api/v1/audits").await;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert!(list[0]["scheduled_for"].is_string(), "{list}");
}

/// A scheduled audit e-mails each owner with flagged deals on the audit
/// day: their flagged deals with the flags and links to the deals and to
/// the pre-review (the workspace's `public_url`), through a real SMTP sink.
#[tokio::test]
async fn a_scheduled_audit_briefs_each_owner_by_email() {
    use crate::mail::{settings, smtp_on};
    use crate::sink::{Sink, header};
    let app = spawn_app().await;
    let sink = Sink::start();
    smtp_on(&app, sink.port).await;
    let (_, cur) = app.get("/api/v1/settings").await;
    let (st, bad) =
        app.patch("/api/v1/settings", json!({"version": cur["version"], "public_url": "crm.example.com"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    settings(&app, json!({"public_url": "https://crm.example.com/"})).await;
    let (rep, _) = app.user_with_token("rep@example.com", "rep").await;
    let deal = app.create_deal(json!({"title": "Flagged deal", "owner_id": rep["id"]})).await;
    let p = app.default_pipeline().await;
    let now = Timestamp::now();
    use chrono::Datelike;
    let day = chrono::DateTime::from_timestamp_millis(now.0 - 2 * DAY).unwrap().weekday().number_from_monday();
    let body = json!({"version": p["version"], "audit_weekday": day});
    assert_eq!(app.patch(&format!("/api/v1/pipelines/{}", s(&p["id"])), body).await.0, StatusCode::OK);
    let later = Timestamp(now.0 + 8 * DAY);
    assert_eq!(app.store.run_audit_schedule(later).await.unwrap().len(), 1);
    // The brief is due at the audit's making (eight days on): run it then.
    let jobs = app.store.claim_jobs("clock", later, 60_000, 10).await.unwrap();
    let briefs: Vec<_> = jobs.into_iter().filter(|j| j.kind == dealflow_server::jobs::AUDIT_BRIEF_JOB).collect();
    assert_eq!(briefs.len(), 1, "one owner has flagged deals");
    let sent = dealflow_server::jobs::run_audit_brief_job(app.store.clone(), briefs[0].clone()).await.unwrap();
    assert_eq!(sent["sent"], true, "{sent}");
    let got = sink.wait_for(1, 20).await;
    assert_eq!(got.len(), 1, "one owner with flagged deals: {got:?}");
    // The body is quoted-printable: soft line breaks and `=` come encoded.
    let mail = &got[0].replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
    assert_eq!(header(mail, "X-Sink-Rcpt"), Some("rep@example.com"));
    assert!(header(mail, "Subject").is_some_and(|s| s.contains("1 of your deals")), "{mail}");
    let (_, audits) = app.get("/api/v1/audits").await;
    let audit = s(&audits[0]["id"]);
    for want in [
        "Flagged deal: no next action".to_string(),
        format!("https://crm.example.com/deals/{}", s(&deal["id"])),
        format!("https://crm.example.com/audits/{audit}?mine=1"),
    ] {
        assert!(mail.contains(&want), "{want} missing from:\n{mail}");
    }
}

/// The flags that come from playbooks and scores, end to end: a required
/// step past its due time, a move past it with an override, and a lead
/// score below the published threshold (which also answers "qualified").
#[tokio::test]
async fn playbook_and_score_facts_reach_the_audit() {
    let app = spawn_app().await;
    let p = app.default_pipeline().await;
    let stages = p["stages"].as_array().unwrap().clone();
    let model = json!({"name": "Fit", "pipeline_id": p["id"],
        "rules": [{"group": "fit", "field": "source", "op": "eq", "value": "Referral", "points": 20}],
        "thresholds": {"disqualify_below": 10}});
    let (st, m) = app.post("/api/v1/scoring/models", model).await;
    assert_eq!(st, StatusCode::CREATED, "{m}");
    let (st, m) = app.post(&format!("/api/v1/scoring/models/{}/publish", s(&m["id"])), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{m}");
    let step = json!({"title": "Qualify", "kind": "task", "required": true, "due": {"anchor": "stage_entered", "offset_minutes": 1}});
    let (st, step) = app.post(&format!("/api/v1/stages/{}/steps", s(&stages[0]["id"])), step).await;
    assert_eq!(st, StatusCode::CREATED, "{step}");

    let late = json!({"title": "Late step", "source": "Referral", "stage_id": stages[0]["id"], "created_at": ago(1)});
    let late = app.create_deal(late).await;
    let pushed =
        app.create_deal(json!({"title": "Pushed past", "source": "Referral", "stage_id": stages[0]["id"]})).await;
    let body = json!({"version": pushed["version"], "stage_id": stages[1]["id"], "override_reason": "customer asked"});
    let (st, moved) = app.patch(&format!("/api/v1/deals/{}", s(&pushed["id"])), body).await;
    assert_eq!(st, StatusCode::OK, "{moved}");
    let cold = app.create_deal(json!({"title": "Cold", "source": "Cold call", "stage_id": stages[1]["id"]})).await;

    let a = audit_of(&app, &p).await;
    let l = item(&a, &late);
    assert!(flags(l).contains(&"open_steps_overdue".to_string()), "{l}");
    assert_eq!((&l["qualified"], &l["score"]), (&json!(true), &json!(20.0)), "{l}");
    let o = item(&a, &pushed);
    assert!(flags(o).contains(&"override_since_last_audit".to_string()), "{o}");
    assert!(!flags(o).contains(&"open_steps_overdue".to_string()), "steps of the stage it left do not count: {o}");
    let c = item(&a, &cold);
    assert!(flags(c).contains(&"below_threshold".to_string()), "{c}");
    assert_eq!(c["qualified"], false, "{c}");
    // The next audit counts overrides since this one: none.
    let b = audit_of(&app, &p).await;
    assert!(!flags(item(&b, &pushed)).contains(&"override_since_last_audit".to_string()));
}

/// Two screens deciding on the same item at once: one acts, the other is
/// told the item was decided, and the deal changed once.
#[tokio::test]
async fn two_decisions_at_once_make_one_change() {
    let app = spawn_app().await;
    let p = app.default_pipeline().await;
    let deal = app.create_deal(json!({"title": "Contested", "value": 5_000})).await;
    let a = audit_of(&app, &p).await;
    let lose = json!({"kind": "disqualify", "lost_reason": "No budget"});
    let date = json!({"kind": "update_close_date", "expected_close_date": "2031-01-01"});
    let (x, y) = tokio::join!(decide(&app, &a, &deal, lose), decide(&app, &a, &deal, date));
    let mut codes = [x.0, y.0];
    codes.sort();
    assert_eq!(codes, [StatusCode::OK, StatusCode::CONFLICT], "{x:?} {y:?}");
    let (_, d) = app.get(&format!("/api/v1/deals/{}", s(&deal["id"]))).await;
    let lost = d["status"] == "lost";
    let dated = d["expected_close_date"] == "2031-01-01";
    assert!(lost != dated, "exactly one of the two acted: {d}");
}

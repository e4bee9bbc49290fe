//! Outgoing webhooks against a real receiver on loopback that verifies
//! every delivery with the `standardwebhooks` package (`receiver.rs`): the
//! forgery guard and its setting, every event of a stage move delivered
//! and verified, retries after a failure, 410 switching the subscription
//! off, manual redelivery with the same `webhook-id`, a rotated secret
//! signing beside the old one, and a checklist step that fell due while
//! open announced once.

use crate::helpers::{TestApp, assert_problem, spawn_app};
use crate::mail::{quick_runner, s, settings};
use crate::receiver::Receiver;
use dealflow_core::time::Timestamp;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

/// A subscription of `events` to the receiver; answers the create.
async fn subscribe(app: &TestApp, rx: &Receiver, events: &[&str]) -> Value {
    let (st, w) = app.post("/api/v1/webhooks", json!({"url": rx.url(), "events": events})).await;
    assert_eq!(st, StatusCode::CREATED, "{w}");
    rx.secrets(&[w["secret"].as_str().expect("the secret")]);
    w
}

/// Waits until the subscription's log holds an attempt that `pred` accepts.
async fn wait_for_attempt(app: &TestApp, hook: &str, pred: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..300 {
        let (_, log) = app.get(&format!("/api/v1/webhooks/{hook}/deliveries")).await;
        if let Some(a) = log["items"].as_array().and_then(|items| items.iter().find(|a| pred(a))) {
            return a.clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, log) = app.get(&format!("/api/v1/webhooks/{hook}/deliveries")).await;
    panic!("no such attempt in the log: {log}");
}

#[tokio::test]
async fn a_url_on_a_private_network_is_refused_until_an_admin_allows_it() {
    let app = spawn_app().await;
    for url in ["http://127.0.0.1:9/hooks", "http://10.1.2.3/hooks", "http://[::1]/x", "http://localhost:9/x"] {
        let (st, body) = app.post("/api/v1/webhooks", json!({"url": url, "events": ["deal.created"]})).await;
        assert_problem(st, &body, StatusCode::UNPROCESSABLE_ENTITY, Some("url"));
        assert!(body.to_string().contains("webhooks_allow_private"), "the refusal says how to allow it: {body}");
    }
    let (st, body) =
        app.post("/api/v1/webhooks", json!({"url": "ftp://example.com/", "events": ["deal.created"]})).await;
    assert_problem(st, &body, StatusCode::UNPROCESSABLE_ENTITY, Some("url"));

    settings(&app, json!({"webhooks_allow_private": true})).await;
    let (st, w) =
        app.post("/api/v1/webhooks", json!({"url": "http://127.0.0.1:9/hooks", "events": ["deal.nope"]})).await;
    assert_problem(st, &w, StatusCode::UNPROCESSABLE_ENTITY, Some("events"));
    let (st, w) =
        app.post("/api/v1/webhooks", json!({"url": "http://127.0.0.1:9/hooks", "events": ["deal.won"]})).await;
    assert_eq!(st, StatusCode::CREATED, "{w}");
    let secret = s(&w["secret"]);
    assert!(secret.starts_with("whsec_") && secret.len() >= 6 + 32, "{secret}");
    let (_, got) = app.get(&format!("/api/v1/webhooks/{}", s(&w["id"]))).await;
    assert!(got.get("secret").is_none(), "the secret is shown once: {got}");
    assert_eq!(got["events"], json!(["deal.won"]));
}

#[tokio::test]
async fn every_event_of_a_deal_s_life_reaches_the_subscriber_verified() {
    let app = spawn_app().await;
    let _runner = quick_runner(&app);
    let rx = Receiver::start();
    settings(&app, json!({"webhooks_allow_private": true})).await;
    let events = ["deal.created", "deal.updated", "deal.stage_changed", "deal.won", "person.created", "activity.done"];
    let w = subscribe(&app, &rx, &events).await;

    let (_, person) = app.post("/api/v1/people", json!({"name": "Ada Lovelace", "emails": ["ada@example.com"]})).await;
    let p = app.default_pipeline().await;
    let d = app.create_deal(json!({"title": "Engines", "pipeline_id": p["id"], "person_id": person["id"]})).await;
    let id = s(&d["id"]);
    let (st, d2) = app
        .patch(&format!("/api/v1/deals/{id}"), json!({"version": d["version"], "stage_id": p["stages"][1]["id"]}))
        .await;
    assert_eq!(st, StatusCode::OK, "{d2}");
    let (st, d3) = app.patch(&format!("/api/v1/deals/{id}"), json!({"version": d2["version"], "status": "won"})).await;
    assert_eq!(st, StatusCode::OK, "{d3}");
    let (_, act) = app.post("/api/v1/activities", json!({"kind": "call", "subject": "Kick-off", "deal_id": id})).await;
    let (st, _) = app
        .patch(
            &format!("/api/v1/activities/{}", s(&act["id"])),
            json!({"version": act["version"], "done_at": act["created_at"]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);

    let want = [
        "person.created",
        "deal.created",
        "deal.updated",
        "deal.stage_changed",
        "deal.updated",
        "deal.won",
        "activity.done",
    ];
    let got = rx.wait_for_types(&want, 30).await;
    assert!(rx.rejected().is_empty(), "every delivery verified: {:?}", rx.rejected());
    let types: Vec<&str> = got.iter().filter_map(|r| r["payload"]["type"].as_str()).collect();
    let mut sorted_got = types.clone();
    sorted_got.sort();
    let mut sorted_want = want.to_vec();
    sorted_want.sort();
    assert_eq!(sorted_got, sorted_want, "each event once, nothing unsubscribed (activity.created)");

    let moved = got.iter().find(|r| r["payload"]["type"] == "deal.stage_changed").expect("the move");
    assert_eq!(moved["payload"]["data"]["id"], d["id"]);
    assert_eq!(moved["payload"]["data"]["stage_id"], p["stages"][1]["id"], "the record as the API returns it");
    assert_eq!(moved["payload"]["previous"]["stage_id"], p["stages"][0]["id"], "and where it was");
    assert!(moved["payload"]["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
    let won = got.iter().find(|r| r["payload"]["type"] == "deal.won").expect("the win");
    assert_eq!(won["payload"]["data"]["status"], "won");
    let mut ids: Vec<&str> = got.iter().filter_map(|r| r["id"].as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), want.len(), "one webhook-id per message");

    let hook = s(&w["id"]);
    let a = wait_for_attempt(&app, &hook, |a| a["event_type"] == "deal.won").await;
    assert_eq!((a["ok"].clone(), a["status"].clone(), a["attempt"].clone()), (json!(true), json!(204), json!(1)));
}

#[tokio::test]
async fn a_failed_delivery_is_retried_a_410_switches_off_and_a_redelivery_posts_the_same_message() {
    let app = spawn_app().await;
    let _runner = quick_runner(&app);
    let rx = Receiver::start();
    settings(&app, json!({"webhooks_allow_private": true})).await;
    let w = subscribe(&app, &rx, &["deal.created"]).await;
    let hook = s(&w["id"]);
    let p = app.default_pipeline().await;

    rx.answer(503);
    app.create_deal(json!({"title": "Down", "pipeline_id": p["id"]})).await;
    let failed = wait_for_attempt(&app, &hook, |a| a["status"] == 503).await;
    assert_eq!(failed["ok"], false);
    rx.answer(204);
    // The first retry comes about 5 seconds later.
    let got = rx.wait_for_types(&["deal.created"], 20).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let ok = wait_for_attempt(&app, &hook, |a| a["ok"] == true).await;
    assert_eq!((ok["attempt"].clone(), ok["message_id"].clone()), (json!(2), failed["message_id"].clone()));
    assert_eq!(got[0]["id"], failed["message_id"], "the retry carries the same webhook-id");

    rx.answer(410);
    app.create_deal(json!({"title": "Gone", "pipeline_id": p["id"]})).await;
    wait_for_attempt(&app, &hook, |a| a["status"] == 410).await;
    let (_, off) = app.get(&format!("/api/v1/webhooks/{hook}")).await;
    assert_eq!(off["active"], false, "{off}");
    assert!(off["disabled_reason"].as_str().is_some_and(|r| r.contains("410")), "{off}");

    let path = format!("/api/v1/webhooks/{hook}/deliveries/{}/redeliver", s(&ok["id"]));
    let (st, body) = app.post(&path, json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "an inactive subscription gets nothing: {body}");
    let (st, on) =
        app.patch(&format!("/api/v1/webhooks/{hook}"), json!({"version": off["version"], "active": true})).await;
    assert_eq!(st, StatusCode::OK, "{on}");
    assert_eq!(on["disabled_reason"], Value::Null);
    rx.answer(204);
    let (st, body) = app.post(&path, json!({})).await;
    assert_eq!(st, StatusCode::ACCEPTED, "{body}");
    let again = rx.wait_for_types(&["deal.created", "deal.created"], 20).await;
    assert_eq!(again.len(), 2, "{again:?}");
    assert_eq!(again[1]["id"], again[0]["id"], "a redelivery is the same message");
    let manual = wait_for_attempt(&app, &hook, |a| a["manual"] == true).await;
    assert_eq!(manual["ok"], true);
}

#[tokio::test]
async fn after_a_rotation_both_the_old_and_the_new_secret_verify() {
    let app = spawn_app().await;
    let _runner = quick_runner(&app);
    let rx = Receiver::start();
    settings(&app, json!({"webhooks_allow_private": true})).await;
    let w = subscribe(&app, &rx, &["deal.created"]).await;
    let old = s(&w["secret"]);
    let (st, r) = app.post(&format!("/api/v1/webhooks/{}/rotate-secret", s(&w["id"])), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    let new = s(&r["secret"]);
    assert_ne!(old, new);
    assert!(r["previous_secret_until"].is_string(), "{r}");
    let p = app.default_pipeline().await;

    rx.secrets(&[&old]);
    app.create_deal(json!({"title": "Old", "pipeline_id": p["id"]})).await;
    rx.wait_for_types(&["deal.created"], 20).await;
    rx.secrets(&[&new]);
    app.create_deal(json!({"title": "New", "pipeline_id": p["id"]})).await;
    let got = rx.wait_for_types(&["deal.created", "deal.created"], 20).await;
    assert_eq!(got.len(), 2, "both verified: {got:?}, rejected {:?}", rx.rejected());
    assert!(rx.rejected().is_empty());
}

#[tokio::test]
async fn a_step_still_open_past_its_due_time_is_announced_once() {
    let app = spawn_app().await;
    let rx = Receiver::start();
    settings(&app, json!({"webhooks_allow_private": true})).await;
    subscribe(&app, &rx, &["step.overdue"]).await;
    let p = app.default_pipeline().await;
    let stage = s(&p["stages"][1]["id"]);
    let body = json!({"title": "Call back", "kind": "task", "due": {"anchor": "stage_entered", "offset_minutes": 0}});
    let (st, step) = app.post(&format!("/api/v1/stages/{stage}/steps"), body).await;
    assert_eq!(st, StatusCode::CREATED, "{step}");
    // A sweep's window ends a minute before its `now`; the test sweeps as
    // if a minute had passed. The first sweep only marks where the next
    // one starts; the server's own runner (sweeping real time) stays behind.
    let later = || Timestamp(Timestamp::now().0 + dealflow_store::OVERDUE_SETTLE_MS);
    assert_eq!(app.store.sweep_overdue_steps(later()).await.expect("sweep"), 0);
    // A window is (mark, end]: a deal made in the very millisecond of the
    // mark would fall before the next window.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let deal = app.create_deal(json!({"title": "Late", "pipeline_id": p["id"], "stage_id": stage})).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let announced = app.store.sweep_overdue_steps(later()).await.expect("sweep");
    assert!(announced >= 1, "the step fell due and is open");
    assert_eq!(app.store.sweep_overdue_steps(later()).await.expect("sweep"), 0, "announced once");

    let _runner = quick_runner(&app);
    rx.wait_for_types(&["step.overdue"], 20).await;
    let got = rx.received();
    let all: Vec<&Value> = got.iter().filter(|r| r["payload"]["data"]["step_id"] == step["id"]).collect();
    assert_eq!(all.len(), 1, "announced once: {got:?}");
    let ours = all[0];
    assert_eq!(ours["payload"]["data"]["deal_id"], deal["id"]);
    assert_eq!(ours["payload"]["data"]["status"], "open");
    assert_eq!(ours["payload"]["data"]["title"], "Call back");
}

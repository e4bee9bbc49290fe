//! Webhooks pending when `dealflow serve` is killed (SIGKILL) are all
//! delivered after the restart: the events of a stage move, written while
//! the receiver refuses, and one written while no server runs. The
//! receiver verifies each delivery with the `standardwebhooks` package
//! (the API tests' `receiver.rs`), on the engine under test.

#[path = "support/serve.rs"]
mod support_serve;

#[path = "../../server/tests/api/venv.rs"]
mod venv;
// Only part of the helper is used here.
#[allow(dead_code)]
#[path = "../../server/tests/api/receiver.rs"]
mod receiver;

use dealflow_core::model::{DealPatch, NewDeal, SettingsPatch};
use dealflow_store::testing::test_database;
use dealflow_store::{Actor, NewWebhook};
use receiver::Receiver;
use std::time::Duration;
use support_serve::{kill, serve};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_pending_when_serve_is_killed_are_delivered_after_the_restart() {
    let db = test_database().await.expect("a test database");
    let store = db.open().await.expect("open");
    let a = Actor::system();
    let version = store.settings().await.expect("settings").version;
    let allow = SettingsPatch { version, webhooks_allow_private: Some(true), ..Default::default() };
    store.update_settings(&a, allow).await.expect("allow loopback");
    let rx = Receiver::start();
    let events = ["deal.created", "deal.updated", "deal.stage_changed"].map(String::from).to_vec();
    let hook = store
        .create_webhook(&a, NewWebhook { url: rx.url(), events, active: None, description: None })
        .await
        .expect("subscribe");
    rx.secrets(&[&hook.secret]);
    rx.answer(503);

    let first = serve(&db.url);
    let pipeline = store.pipelines().await.expect("pipelines").remove(0);
    let deal = NewDeal { title: "Restart".into(), pipeline_id: Some(pipeline.id), ..Default::default() };
    let deal = store.create_deal(&a, deal).await.expect("deal");
    let moved = DealPatch { version: deal.version, stage_id: Some(pipeline.stages[1].id), ..Default::default() };
    store.update_deal(&a, deal.id, moved).await.expect("move");
    // Wait until serve has tried every message once (and failed), so
    // each is pending a retry when it is killed.
    let page = dealflow_store::Page { limit: 100, before: None };
    for _ in 0..300 {
        if store.webhook_attempts(hook.webhook.id, page).await.expect("log").items.len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let tried = store.webhook_attempts(hook.webhook.id, page).await.expect("log").items;
    assert!(tried.len() >= 3 && tried.iter().all(|t| !t.ok), "three tried, none delivered: {tried:?}");
    kill(first);

    // While no server runs: one more change.
    let other = NewDeal { title: "While down".into(), pipeline_id: Some(pipeline.id), ..Default::default() };
    store.create_deal(&a, other).await.expect("deal while down");
    rx.answer(204);
    assert!(rx.received().is_empty());

    let second = serve(&db.url);
    let want = ["deal.created", "deal.updated", "deal.stage_changed", "deal.created"];
    let got = rx.wait_for_types(&want, 60).await;
    // Long enough for a duplicate to show up if there were one.
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    kill(second);
    assert!(rx.rejected().is_empty(), "every delivery verified: {:?}", rx.rejected());
    let got_now = rx.received();
    assert_eq!(got.len(), want.len(), "every event delivered: {got:?}");
    assert_eq!(got_now.len(), want.len(), "each once: {got_now:?}");
    let titles: Vec<&str> = got_now.iter().filter_map(|r| r["payload"]["data"]["title"].as_str()).collect();
    assert!(titles.contains(&"While down"), "{titles:?}");
}

//! Two `dealflow serve` processes on one database, each on its own
//! loopback port (as behind a load balancer), on the engine under test.
//! Concurrent writes through both lose no update and leave every deal and
//! projection consistent; every webhook message is delivered exactly once
//! although both processes run the job loop; and a token revoked through
//! one process is refused by the other within the token cache's lifetime.

#[path = "support/serve.rs"]
mod support_serve;

#[path = "../../server/tests/api/venv.rs"]
mod venv;
// Only part of the helper is used here.
#[allow(dead_code)]
#[path = "../../server/tests/api/receiver.rs"]
mod receiver;

use dealflow_core::model::{Role, SettingsPatch};
use dealflow_store::testing::test_database;
use dealflow_store::{Actor, NewWebhook, TOKEN_CACHE_TTL};
use receiver::Receiver;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support_serve::{kill, serve_at};

const WRITERS: usize = 12;
const ROUNDS: usize = 8;

/// A client of one server with one token.
#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    token: String,
}

impl Api {
    async fn call(&self, method: reqwest::Method, url: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.http.request(method, url).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("the server answers");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_on_one_database_lose_no_update_and_deliver_each_webhook_once() {
    let db = test_database().await.expect("a test database");
    let store = db.open().await.expect("open");
    let a = Actor::system();
    let version = store.settings().await.expect("settings").version;
    let allow = SettingsPatch { version, webhooks_allow_private: Some(true), ..Default::default() };
    store.update_settings(&a, allow).await.expect("allow loopback");
    let admin = store.create_user(&a, "ops@example.com", "Ops", Role::Admin, "unused", None).await.expect("admin");
    let issued = dealflow_server::api::users::issue_token(&store, &a, admin.id, "two servers")
        .await
        .unwrap_or_else(|e| panic!("a token: {}", e.to_problem().detail));
    let rx = Receiver::start();
    let events = ["deal.created", "deal.stage_changed"].map(String::from).to_vec();
    let hook = store
        .create_webhook(&a, NewWebhook { url: rx.url(), events, active: None, description: None })
        .await
        .expect("subscribe");
    rx.secrets(&[&hook.secret]);
    rx.answer(200);

    let (first, base_a) = serve_at(&db.url);
    let (second, base_b) = serve_at(&db.url);
    let bases = [base_a.clone(), base_b.clone()];
    let api = Api { http: reqwest::Client::new(), token: issued.secret.clone() };

    // A pipeline of its own (no playbook steps), and three deals, made
    // through alternate servers.
    let body = json!({"name": "Shared", "stages": [{"name": "A"}, {"name": "B"}, {"name": "C"}, {"name": "D"}]});
    let (st, pipeline) = api.call(reqwest::Method::POST, &format!("{base_a}/api/v1/pipelines"), Some(body)).await;
    assert_eq!(st, StatusCode::CREATED, "{pipeline}");
    let stages: Vec<String> =
        pipeline["stages"].as_array().expect("stages").iter().map(|s| s["id"].as_str().expect("id").into()).collect();
    let mut deals = Vec::new();
    for (i, base) in bases.iter().cycle().take(3).enumerate() {
        let body = json!({"title": format!("Shared deal {i}"), "pipeline_id": pipeline["id"], "value": 0});
        let (st, d) = api.call(reqwest::Method::POST, &format!("{base}/api/v1/deals"), Some(body)).await;
        assert_eq!(st, StatusCode::CREATED, "{d}");
        deals.push(d["id"].as_str().expect("id").to_string());
    }

    // Writers on both servers move the deals and edit their values.
    let (ok, conflicts, moves) =
        (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let (api, bases, deals, stages) = (api.clone(), bases.clone(), deals.clone(), stages.clone());
        let (ok, conflicts, moves) = (ok.clone(), conflicts.clone(), moves.clone());
        tasks.push(tokio::spawn(async move {
            for r in 0..ROUNDS {
                let base = &bases[(w + r) % 2];
                let url = format!("{base}/api/v1/deals/{}", deals[(w + r) % deals.len()]);
                let (st, cur) = api.call(reqwest::Method::GET, &url, None).await;
                assert_eq!(st, StatusCode::OK, "{cur}");
                let mut patch = json!({"version": cur["version"]});
                let moving = (w + r) % 2 == 0;
                if moving {
                    patch["stage_id"] = json!(stages[(w * 7 + r) % stages.len()]);
                } else {
                    patch["value"] = json!(w * 1000 + r);
                }
                let (st, d) = api.call(reqwest::Method::PATCH, &url, Some(patch)).await;
                match st {
                    StatusCode::OK if d["version"] == cur["version"] => 0,
                    StatusCode::OK if moving => {
                        moves.fetch_add(1, Ordering::Relaxed);
                        ok.fetch_add(1, Ordering::Relaxed)
                    }
                    StatusCode::OK => ok.fetch_add(1, Ordering::Relaxed),
                    StatusCode::CONFLICT => conflicts.fetch_add(1, Ordering::Relaxed),
                    other => panic!("writer {w} got {other}: {d}"),
                };
            }
        }));
    }
    for t in tasks {
        t.await.expect("a writer");
    }
    let (ok, conflicts, moves) =
        (ok.load(Ordering::Relaxed), conflicts.load(Ordering::Relaxed), moves.load(Ordering::Relaxed));
    assert!(ok > 0 && conflicts > 0, "{WRITERS} writers on 3 deals must both succeed and collide: {ok} / {conflicts}");
    let mut versions = 0;
    for id in &deals {
        let (_, d) = api.call(reqwest::Method::GET, &format!("{base_b}/api/v1/deals/{id}"), None).await;
        versions += d["version"].as_i64().expect("a version") - 1;
    }
    assert_eq!(versions as usize, ok, "every accepted change bumped exactly one version");
    let report = store.check_consistency().await.expect("consistency check");
    assert!(report.problems.is_empty(), "{:?}", report.problems);

    // Each message once: three creations and every move, by either job loop.
    let mut want = vec!["deal.created"; 3];
    want.extend(std::iter::repeat_n("deal.stage_changed", moves));
    let got = rx.wait_for_types(&want, 30).await;
    assert_eq!(got.len(), want.len(), "every message arrives: {got:?}");
    // Two more polls of both job loops: nothing arrives twice.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let got = rx.received();
    let ids: HashSet<&str> = got.iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!((ids.len(), got.len()), (want.len(), want.len()), "no message is delivered twice: {got:?}");
    assert!(rx.rejected().is_empty(), "every delivery verifies");

    // A token revoked through one server: refused there at once, by the
    // other within the cache's lifetime.
    let (st, _) = api.call(reqwest::Method::GET, &format!("{base_b}/api/v1/deals?limit=1"), None).await;
    assert_eq!(st, StatusCode::OK, "the second server has the token cached");
    let revoke = format!("{base_a}/api/v1/tokens/{}/revoke", issued.token.id);
    let (st, body) = api.call(reqwest::Method::POST, &revoke, Some(json!({}))).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let (st, _) = api.call(reqwest::Method::GET, &format!("{base_a}/api/v1/deals?limit=1"), None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "the server that revoked it refuses it at once");
    let started = Instant::now();
    loop {
        let (st, _) = api.call(reqwest::Method::GET, &format!("{base_b}/api/v1/deals?limit=1"), None).await;
        if st == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(st, StatusCode::OK);
        assert!(started.elapsed() < TOKEN_CACHE_TTL + Duration::from_secs(1), "the other server still accepts it");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    kill(first);
    kill(second);
}

//! `dealflow bench ingest`: how fast SendGrid event batches are taken in.
//! On a fresh SQLite file with N people and a SendGrid connection, it
//! signs batches of 128 events (sends, deliveries, opens, clicks, for
//! random people) with a P-256 key it makes, posts them through the real
//! router in-process (no network), and reports events per second and the
//! time per batch, then the same for the batches sent again (all
//! duplicates). A figure, never a pass or fail.

use anyhow::Context;
use axum::body::Body;
use axum::http::Request;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use clap::Args;
use dealflow_core::model::NewPerson;
use dealflow_store::{Actor, NewConnection, PoolSettings, Provider, Store};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use std::time::Instant;
use tower::ServiceExt;

#[derive(Debug, Args)]
pub struct IngestBench {
    /// Batches of 128 events to post.
    #[arg(long, default_value_t = 200)]
    pub batches: usize,
    /// People the events are spread over.
    #[arg(long, default_value_t = 2_000)]
    pub people: usize,
}

impl IngestBench {
    pub async fn run(self) -> anyhow::Result<()> {
        super::bench::on_temp_sqlite(|url| async move { self.measure(&url).await }).await
    }

    async fn measure(&self, url: &str) -> anyhow::Result<()> {
        let store = Store::open(url, &PoolSettings::default()).await.context("open the bench database")?;
        let actor = Actor::system();
        for i in 0..self.people {
            let n = NewPerson {
                name: format!("Person {i}"),
                emails: vec![format!("p{i}@bench.test")],
                ..Default::default()
            };
            store.create_person(&actor, n).await?;
        }
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(|_| anyhow::anyhow!("cannot make a P-256 key"))?;
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .map_err(|_| anyhow::anyhow!("cannot read the P-256 key"))?;
        let mut der = dealflow_store::P256_SPKI_PREFIX.to_vec();
        der.extend_from_slice(key.public_key().as_ref());
        let conn = NewConnection {
            provider: Provider::Sendgrid,
            name: Some("bench".into()),
            public_key: Some(BASE64.encode(der)),
            signing_key: None,
            username: None,
            password: None,
            secret: None,
            campaign_id: None,
        };
        let conn = store.create_connection(&actor, conn).await?.connection.id;
        let app = dealflow_server::app(dealflow_server::AppState::new(store.clone(), Default::default()));
        let bodies: Vec<String> = (0..self.batches).map(|b| batch(b, self.people)).collect();

        let post = |body: &String| {
            let ts = chrono::Utc::now().timestamp().to_string();
            let signed = [ts.as_bytes(), body.as_bytes()].concat();
            let sig = key.sign(&rng, &signed).map(|s| BASE64.encode(s.as_ref()));
            let req = sig.map_err(|_| anyhow::anyhow!("cannot sign")).and_then(|sig| {
                Request::post(format!("/ingest/{conn}"))
                    .header("content-type", "application/json")
                    .header("x-twilio-email-event-webhook-signature", sig)
                    .header("x-twilio-email-event-webhook-timestamp", ts)
                    .body(Body::from(body.clone()))
                    .context("build request")
            });
            let app = app.clone();
            async move {
                let t = Instant::now();
                let resp = app.oneshot(req?).await.context("ingest request")?;
                anyhow::ensure!(resp.status().is_success(), "ingest answered {}", resp.status());
                Ok::<f64, anyhow::Error>(t.elapsed().as_secs_f64() * 1000.0)
            }
        };
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        println!(
            "ingest of {} SendGrid batches of {BATCH} events over {} people, SQLite, in-process, {cores} cores",
            self.batches, self.people
        );
        for round in ["new events", "the same again (duplicates)"] {
            let mut times = Vec::with_capacity(bodies.len());
            let started = Instant::now();
            for b in &bodies {
                times.push(post(b).await?);
            }
            let total = started.elapsed().as_secs_f64();
            times.sort_by(f64::total_cmp);
            let pct = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize];
            println!(
                "{round}: {:.0} events per second; per batch p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                (bodies.len() * BATCH) as f64 / total,
                pct(0.5),
                pct(0.99),
                pct(1.0)
            );
        }
        let stored = store.email_events(&Default::default(), dealflow_store::Page { limit: 1, before: None }).await?;
        anyhow::ensure!(!stored.items.is_empty(), "no event was stored");
        store.close().await;
        Ok(())
    }
}

/// Events per batch (SendGrid's largest).
const BATCH: usize = 128;

/// Batch `b`: for 32 messages, a send, a delivery, an open and a click.
fn batch(b: usize, people: usize) -> String {
    let now = chrono::Utc::now().timestamp() - 3_600;
    let mut events = Vec::with_capacity(BATCH);
    for m in 0..BATCH / 4 {
        let msg = b * BATCH + m;
        let email = format!("p{}@bench.test", (msg * 7919) % people.max(1));
        for (k, kind) in ["processed", "delivered", "open", "click"].iter().enumerate() {
            events.push(serde_json::json!({
                "email": email, "timestamp": now + k as i64, "event": kind,
                "sg_event_id": format!("ev-{msg}-{k}"), "sg_message_id": format!("msg-{msg}.filter"),
                "smtp-id": format!("<msg-{msg}@bench.test>"), "category": "Bench campaign",
                "url": "https://example.com/offer",
            }));
        }
    }
    serde_json::Value::Array(events).to_string()
}

//! E-mail providers in, over real HTTP with real signatures: a SendGrid
//! batch signed with a P-256 key the test makes, a Mailgun event with its
//! HMAC, a Postmark event behind basic auth, a Brevo event with its token,
//! a generic batch signed the Standard Webhooks way, and inbound replies.
//! Each lands on the right person and moves the right metrics; each sent
//! twice stores once; a forged one is refused and stores nothing.

use crate::helpers::{TestApp, spawn_app};
use crate::mail::s;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::StatusCode;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A P-256 key pair, and its public key as SendGrid shows one.
fn sendgrid_key() -> (EcdsaKeyPair, String) {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).expect("generate a key");
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng).expect("read the key");
    let mut der = dealflow_store::P256_SPKI_PREFIX.to_vec();
    der.extend_from_slice(pair.public_key().as_ref());
    (pair, BASE64.encode(der))
}

/// Posts a SendGrid batch signed with `key` at `ts`.
async fn sendgrid_post(app: &TestApp, id: &str, key: &EcdsaKeyPair, ts: i64, body: &str) -> (StatusCode, Value) {
    let signed = format!("{ts}{body}");
    let sig = key.sign(&SystemRandom::new(), signed.as_bytes()).expect("sign");
    let r = app
        .client
        .post(format!("{}/ingest/{id}", app.base))
        .header("content-type", "application/json")
        .header("X-Twilio-Email-Event-Webhook-Signature", BASE64.encode(sig.as_ref()))
        .header("X-Twilio-Email-Event-Webhook-Timestamp", ts.to_string())
        .body(body.to_string())
        .send()
        .await
        .expect("post");
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn person(app: &TestApp, name: &str, email: &str) -> Value {
    let (st, p) = app.post("/api/v1/people", json!({"name": name, "emails": [email]})).await;
    assert_eq!(st, StatusCode::CREATED, "{p}");
    p
}

/// The person's page as a signed-in admin sees it.
async fn person_page(app: &TestApp, id: &str) -> String {
    signed_in_page(app, &format!("/people/{id}")).await
}

/// A page as a signed-in admin sees it.
async fn signed_in_page(app: &TestApp, path: &str) -> String {
    let c = reqwest::Client::builder().cookie_store(true).build().expect("client");
    let r = c
        .post(format!("{}/login", app.base))
        .form(&[("email", "admin@example.com"), ("password", "correct horse battery"), ("next", "/board")])
        .send()
        .await
        .expect("sign in");
    assert!(r.status().is_success(), "{}", r.status());
    let r = c.get(format!("{}{path}", app.base)).send().await.expect("the page");
    assert_eq!(r.status(), StatusCode::OK);
    r.text().await.expect("html")
}

async fn items(app: &TestApp, path: &str) -> Vec<Value> {
    let (st, v) = app.get(path).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["items"].as_array().expect("items").clone()
}

fn types(events: &[Value]) -> Vec<String> {
    let mut t: Vec<String> = events.iter().map(|e| s(&e["type"])).collect();
    t.sort();
    t
}

async fn metrics(app: &TestApp) -> Value {
    let (st, m) = app.get("/api/v1/metrics").await;
    assert_eq!(st, StatusCode::OK, "{m}");
    m
}

#[tokio::test]
async fn a_signed_sendgrid_batch_lands_once_and_a_forged_one_is_refused() {
    let app = spawn_app().await;
    let ann = person(&app, "Ann Lee", "ann@example.com").await;
    let bob = person(&app, "Bob Roe", "bob@example.com").await;
    let (key, public) = sendgrid_key();
    let (st, c) = app.post("/api/v1/connections", json!({"provider": "sendgrid", "public_key": public})).await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    let id = s(&c["id"]);
    assert!(s(&c["ingest_url"]).ends_with(&format!("/ingest/{id}")), "{c}");

    let t = now() - 60;
    let batch = json!([
        {"email": "ANN@example.com", "timestamp": t, "event": "processed", "sg_event_id": "e1",
         "sg_message_id": "m1.filter", "smtp-id": "<m1@sendgrid.example>", "category": ["Spring outreach"]},
        {"email": "ann@example.com", "timestamp": t + 1, "event": "delivered", "sg_event_id": "e2",
         "sg_message_id": "m1.filter", "smtp-id": "<m1@sendgrid.example>"},
        {"email": "ann@example.com", "timestamp": t + 2, "event": "open", "sg_event_id": "e3",
         "sg_message_id": "m1.filter", "sg_machine_open": true},
        {"email": "ann@example.com", "timestamp": t + 3, "event": "open", "sg_event_id": "e4",
         "sg_message_id": "m1.filter", "sg_machine_open": false},
        {"email": "ann@example.com", "timestamp": t + 4, "event": "click", "sg_event_id": "e5",
         "sg_message_id": "m1.filter", "url": "https://example.com/pricing"},
        {"email": "bob@example.com", "timestamp": t + 5, "event": "bounce", "type": "bounce", "sg_event_id": "e6",
         "sg_message_id": "m2.filter"},
        {"email": "nobody@example.com", "timestamp": t + 6, "event": "delivered", "sg_event_id": "e7",
         "sg_message_id": "m3.filter"},
        {"email": "ann@example.com", "timestamp": t + 7, "event": "dropped", "sg_event_id": "e8"},
        {"email": "ann@example.com", "event": "delivered", "sg_event_id": "e9"}
    ])
    .to_string();
    let before = metrics(&app).await;
    let (st, r) = sendgrid_post(&app, &id, &key, now(), &batch).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!((r["stored"].as_u64(), r["unmatched"].as_u64(), r["ignored"].as_u64()), (Some(7), Some(1), Some(1)));
    assert_eq!(r["errors"][0]["index"], 8, "the event without a time is reported by index: {r}");

    let ann_events = items(&app, &format!("/api/v1/email-events?person_id={}", s(&ann["id"]))).await;
    assert_eq!(types(&ann_events), ["clicked", "delivered", "opened", "opened", "sent"]);
    let machine: Vec<bool> =
        ann_events.iter().filter(|e| e["type"] == "opened").map(|e| e["machine_open"] == true).collect();
    assert!(machine.contains(&true) && machine.contains(&false), "{ann_events:?}");
    let click = ann_events.iter().find(|e| e["type"] == "clicked").expect("the click");
    assert_eq!(click["url"], "https://example.com/pricing");
    let outreach = items(&app, &format!("/api/v1/outreach?person_id={}", s(&ann["id"]))).await;
    assert_eq!(outreach.len(), 1, "the processed event is one outreach message: {outreach:?}");
    let (_, camp) = app.get(&format!("/api/v1/campaigns/{}", s(&outreach[0]["campaign_id"]))).await;
    assert_eq!(camp["name"], "Spring outreach", "named after SendGrid's category");
    let after = metrics(&app).await;
    assert_eq!(after["outreach_sent"].as_u64(), before["outreach_sent"].as_u64().map(|n| n + 1), "{after}");

    // The person's page: the two opens of one message are one entry.
    let page = person_page(&app, &s(&ann["id"])).await;
    assert!(page.contains("E-mail opened 2 times, last"), "{page}");
    assert!(page.contains("Link clicked: https://example.com/pricing"), "{page}");

    let (_, b) = app.get(&format!("/api/v1/people/{}", s(&bob["id"]))).await;
    assert_eq!((b["do_not_email"].as_bool(), b["do_not_email_reason"].as_str()), (Some(true), Some("hard bounce")));

    // The same batch again (signed anew): nothing changes.
    let (st, r) = sendgrid_post(&app, &id, &key, now(), &batch).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!((r["stored"].as_u64(), r["duplicates"].as_u64()), (Some(0), Some(7)), "{r}");
    assert_eq!(items(&app, &format!("/api/v1/outreach?person_id={}", s(&ann["id"]))).await.len(), 1);
    assert_eq!(items(&app, "/api/v1/email-events?limit=100").await.len(), 7);

    // Forged: another key, a changed body, an old timestamp.
    let (other, _) = sendgrid_key();
    let forged =
        json!([{"email": "ann@example.com", "timestamp": t, "event": "unsubscribe", "sg_event_id": "f1"}]).to_string();
    let (st, _) = sendgrid_post(&app, &id, &other, now(), &forged).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _) = sendgrid_post(&app, &id, &key, now() - 600, &forged).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "older than five minutes");
    let (st, _) = app
        .client
        .post(format!("{}/ingest/{id}", app.base))
        .body(forged.clone())
        .send()
        .await
        .map(|r| (r.status(), ()))
        .unwrap();
    assert_eq!(st, StatusCode::UNAUTHORIZED, "unsigned");
    assert_eq!(items(&app, "/api/v1/email-events?limit=100").await.len(), 7, "nothing stored");
    let (_, a) = app.get(&format!("/api/v1/people/{}", s(&ann["id"]))).await;
    assert_eq!(a["do_not_email"], false);
    let (_, c) = app.get(&format!("/api/v1/connections/{id}")).await;
    assert_eq!((c["failures"].as_i64(), c["events_received"].as_i64()), (Some(3), Some(7)), "{c}");

    // The unmatched event waits, and is matched when its person appears.
    let waiting = items(&app, "/api/v1/email-events/unmatched").await;
    assert_eq!(waiting.len(), 1);
    // The integrations page shows the connection's URL, its status and the
    // waiting event with a way to assign it.
    let page = signed_in_page(&app, "/settings/integrations").await;
    assert!(page.contains(&format!("/ingest/{id}/inbound")), "{page}");
    assert!(page.contains(&format!("data-path=\"/api/v1/email-events/{}/assign\"", s(&waiting[0]["id"]))), "{page}");
    assert!(page.contains("nobody@example.com"), "{page}");
    let nobody = person(&app, "No Body", "Nobody@Example.com").await;
    assert!(items(&app, "/api/v1/email-events/unmatched").await.is_empty());
    let theirs = items(&app, &format!("/api/v1/email-events?person_id={}", s(&nobody["id"]))).await;
    assert_eq!(types(&theirs), ["delivered"]);
}

fn mailgun_body(key: &str, token: &str, ts: i64, event: Value) -> String {
    let tag = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.as_bytes()),
        format!("{ts}{token}").as_bytes(),
    );
    let sig: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    json!({"signature": {"timestamp": ts.to_string(), "token": token, "signature": sig}, "event-data": event})
        .to_string()
}

async fn post_raw(app: &TestApp, path: &str, body: String, headers: &[(&str, String)]) -> (StatusCode, Value) {
    let mut req = app.client.post(format!("{}{path}", app.base)).header("content-type", "application/json").body(body);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let r = req.send().await.expect("post");
    let st = r.status();
    (st, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn mailgun_postmark_brevo_and_generic_events_each_store_once() {
    let app = spawn_app().await;
    let ann = person(&app, "Ann Lee", "ann@example.com").await;
    let ann_id = s(&ann["id"]);

    // Mailgun: HMAC of timestamp + token; a token is good once.
    let (_, mg) = app.post("/api/v1/connections", json!({"provider": "mailgun", "name": "Mailgun EU"})).await;
    let (mg_id, mg_key) = (s(&mg["id"]), s(&mg["signing_key"]));
    let ev = json!({"id": "mg-1", "event": "delivered", "timestamp": now() as f64 + 0.5, "recipient": "ann@example.com",
        "message": {"headers": {"message-id": "mg1@mail.example"}}});
    let body = mailgun_body(&mg_key, "tok-1", now(), ev.clone());
    let (st, r) = post_raw(&app, &format!("/ingest/{mg_id}"), body.clone(), &[]).await;
    assert_eq!((st, r["stored"].as_u64()), (StatusCode::OK, Some(1)), "{r}");
    let (st, r) = post_raw(&app, &format!("/ingest/{mg_id}"), body, &[]).await;
    assert_eq!((st, r["duplicates"].as_u64()), (StatusCode::OK, Some(1)), "a redelivery changes nothing: {r}");
    let replay = mailgun_body(
        &mg_key,
        "tok-1",
        now(),
        json!({"id": "mg-2", "event": "complained",
        "timestamp": now(), "recipient": "ann@example.com"}),
    );
    let (st, _) = post_raw(&app, &format!("/ingest/{mg_id}"), replay, &[]).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "a used token with a new event is a replay");
    let forged = mailgun_body("not-the-key", "tok-3", now(), ev);
    let (st, _) = post_raw(&app, &format!("/ingest/{mg_id}"), forged, &[]).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);

    // Postmark: basic auth chosen in the connection.
    let (_, pm) = app.post("/api/v1/connections", json!({"provider": "postmark", "username": "pm-hook"})).await;
    let (pm_id, pm_pass) = (s(&pm["id"]), s(&pm["password"]));
    let auth = format!("Basic {}", BASE64.encode(format!("pm-hook:{pm_pass}")));
    let open = json!({"RecordType": "Open", "MessageID": "pm-msg-1", "Recipient": "ann@example.com",
        "ReceivedAt": chrono::Utc::now().to_rfc3339(), "Tag": "Welcome"})
    .to_string();
    let (st, r) = post_raw(&app, &format!("/ingest/{pm_id}"), open.clone(), &[("authorization", auth.clone())]).await;
    assert_eq!((st, r["stored"].as_u64()), (StatusCode::OK, Some(1)), "{r}");
    let (st, r) = post_raw(&app, &format!("/ingest/{pm_id}"), open.clone(), &[("authorization", auth)]).await;
    assert_eq!((st, r["duplicates"].as_u64()), (StatusCode::OK, Some(1)), "{r}");
    let wrong = format!("Basic {}", BASE64.encode("pm-hook:guess"));
    let (st, _) = post_raw(&app, &format!("/ingest/{pm_id}"), open, &[("authorization", wrong)]).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);

    // Brevo: the secret as a token in the URL; `request` is a send.
    let (_, bv) = app.post("/api/v1/connections", json!({"provider": "brevo"})).await;
    let (bv_id, bv_secret) = (s(&bv["id"]), s(&bv["secret"]));
    assert!(s(&bv["ingest_url"]).ends_with(&format!("?token={bv_secret}")), "{bv}");
    let sent = json!({"event": "request", "email": "ann@example.com", "message-id": "<bv1@smtp-relay.example>",
        "ts_event": now(), "tag": "Brevo nurture"})
    .to_string();
    let (st, r) = post_raw(&app, &format!("/ingest/{bv_id}?token={bv_secret}"), sent.clone(), &[]).await;
    assert_eq!((st, r["stored"].as_u64()), (StatusCode::OK, Some(1)), "{r}");
    let (st, r) = post_raw(&app, &format!("/ingest/{bv_id}?token={bv_secret}"), sent.clone(), &[]).await;
    assert_eq!((st, r["duplicates"].as_u64()), (StatusCode::OK, Some(1)), "{r}");
    let (st, _) = post_raw(&app, &format!("/ingest/{bv_id}?token=wrong"), sent, &[]).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);

    // Generic: signed like our outgoing webhooks.
    let (_, gn) = app.post("/api/v1/connections", json!({"provider": "generic", "name": "Lemlist"})).await;
    let (gn_id, gn_secret) = (s(&gn["id"]), s(&gn["secret"]));
    assert!(gn_secret.starts_with("whsec_"), "{gn}");
    let batch = json!({"events": [
        {"id": "g1", "type": "opened", "email": "ann@example.com", "at": now(), "message_id": "g-msg"},
        {"id": "g2", "type": "bogus", "email": "ann@example.com", "at": now()}
    ]})
    .to_string();
    let ts = now();
    let sig = dealflow_server::webhooks::sign::signature(std::slice::from_ref(&gn_secret), "msg_1", ts, &batch)
        .expect("sign");
    let headers =
        [("webhook-id", "msg_1".to_string()), ("webhook-timestamp", ts.to_string()), ("webhook-signature", sig)];
    let (st, r) = post_raw(&app, &format!("/ingest/{gn_id}"), batch.clone(), &headers).await;
    assert_eq!((st, r["stored"].as_u64(), r["errors"][0]["index"].as_u64()), (StatusCode::OK, Some(1), Some(1)), "{r}");
    let (st, r) = post_raw(&app, &format!("/ingest/{gn_id}"), batch.clone(), &headers).await;
    assert_eq!((st, r["duplicates"].as_u64()), (StatusCode::OK, Some(1)), "{r}");
    let bad = [headers[0].clone(), headers[1].clone(), ("webhook-signature", "v1,AAAA".to_string())];
    let (st, _) = post_raw(&app, &format!("/ingest/{gn_id}"), batch, &bad).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);

    let events = items(&app, &format!("/api/v1/email-events?person_id={ann_id}")).await;
    assert_eq!(types(&events), ["delivered", "opened", "opened", "sent"], "{events:?}");
    let outreach = items(&app, &format!("/api/v1/outreach?person_id={ann_id}")).await;
    assert_eq!(outreach.len(), 1, "Brevo's request is the one message sent");
    let opened = items(&app, &format!("/api/v1/email-events?person_id={ann_id}&type=opened")).await;
    assert_eq!(opened.len(), 2);
}

#[tokio::test]
async fn an_inbound_reply_counts_once_and_shows_on_the_timeline() {
    let app = spawn_app().await;
    let ann = person(&app, "Ann Lee", "ann@example.com").await;
    let (_, pm) = app.post("/api/v1/connections", json!({"provider": "postmark"})).await;
    let (pm_id, user, pass) = (s(&pm["id"]), s(&pm["username"]), s(&pm["password"]));
    let (_, bv) = app.post("/api/v1/connections", json!({"provider": "brevo"})).await;
    let (bv_id, token) = (s(&bv["id"]), s(&bv["secret"]));
    // The message goes out (Brevo reports it sent)…
    let sent = json!({"event": "request", "email": "ann@example.com", "message-id": "<Out-1@relay.example>",
        "ts_event": now() - 120})
    .to_string();
    let (st, _) = post_raw(&app, &format!("/ingest/{bv_id}?token={token}"), sent, &[]).await;
    assert_eq!(st, StatusCode::OK);
    let before = metrics(&app).await;

    // …and the answer comes in through Postmark's inbound.
    let reply = json!({"FromFull": {"Email": "Ann@Example.com", "Name": "Ann"}, "Subject": "Re: hello",
        "TextBody": "Yes, Tuesday works.\n\nOn Mon, Bob wrote:\n> hello", "MessageID": "in-1",
        "Headers": [{"Name": "Message-ID", "Value": "<reply-1@mail.example>"},
                    {"Name": "In-Reply-To", "Value": "<out-1@relay.example>"}]})
    .to_string();
    let auth = format!("Basic {}", BASE64.encode(format!("{user}:{pass}")));
    let path = format!("/ingest/{pm_id}/inbound");
    let (st, r) = post_raw(&app, &path, reply.clone(), &[("authorization", auth.clone())]).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!((r[0]["stored"].as_bool(), r[0]["person_id"].clone()), (Some(true), ann["id"].clone()), "{r}");
    assert!(r[0]["outreach_id"].is_string(), "matched to the message it answers: {r}");
    let after = metrics(&app).await;
    assert_eq!(after["replies"].as_u64(), before["replies"].as_u64().map(|n| n + 1), "{after}");
    let (st, r) = post_raw(&app, &path, reply.clone(), &[("authorization", auth)]).await;
    assert_eq!((st, r[0]["stored"].as_bool()), (StatusCode::OK, Some(false)), "{r}");
    assert_eq!(metrics(&app).await["replies"], after["replies"]);
    let (st, _) = post_raw(&app, &path, reply, &[("authorization", "Basic Zm9vOmJhcg==".into())]).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);

    let replies = items(&app, &format!("/api/v1/replies?person_id={}", s(&ann["id"]))).await;
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0]["preview"], "Yes, Tuesday works.", "quoted history kept out");
    let (st, r) =
        app.patch(&format!("/api/v1/replies/{}", s(&replies[0]["id"])), json!({"sentiment": "positive"})).await;
    assert_eq!((st, r["sentiment"].as_str()), (StatusCode::OK, Some("positive")), "{r}");
    let outreach = items(&app, &format!("/api/v1/outreach?person_id={}", s(&ann["id"]))).await;
    assert_eq!(outreach[0]["sentiment"], "positive");
    // On the person's timeline: the preview, and the sentiment as pressed.
    let page = person_page(&app, &s(&ann["id"])).await;
    let at = page.find(&format!("data-reply=\"{}\"", s(&replies[0]["id"]))).expect("the reply's sentiment buttons");
    let buttons = &page[at..page[at..].find("</span>").map_or(page.len(), |e| at + e)];
    assert!(buttons.contains("data-sentiment=\"positive\" aria-pressed=\"true\""), "{buttons}");
    assert!(buttons.contains("data-sentiment=\"negative\" aria-pressed=\"false\""), "{buttons}");
    assert!(page.contains("Yes, Tuesday works."), "{page}");

    // A SendGrid Inbound Parse post (multipart) with the token in the URL;
    // no message to match: the sender's address finds the person.
    let (_, public) = sendgrid_key();
    let (_, sg) = app.post("/api/v1/connections", json!({"provider": "sendgrid", "public_key": public})).await;
    let url = s(&sg["inbound_url"]);
    assert!(url.contains("?token="), "{sg}");
    let form = reqwest::multipart::Form::new()
        .text("from", "Ann Lee <ann@example.com>")
        .text("subject", "Another thought")
        .text("text", "Could you send the price list?\n-- \nAnn")
        .text("headers", "Message-ID: <reply-2@mail.example>\r\nSubject: Another thought\r\n");
    let r = app.client.post(url.clone()).multipart(form).send().await.expect("post");
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v[0]["person_id"], ann["id"], "{v}");
    let bad = url.split("?token=").next().unwrap_or_default().to_string() + "?token=nope";
    let r = app.client.post(bad).multipart(reqwest::multipart::Form::new().text("from", "x@y.z")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(items(&app, &format!("/api/v1/replies?person_id={}", s(&ann["id"]))).await.len(), 2);
}

#[tokio::test]
async fn mailgun_and_generic_inbound_replies_are_verified_and_stored_once() {
    let app = spawn_app().await;
    let ann = person(&app, "Ann Lee", "ann@example.com").await;
    let (_, mg) = app.post("/api/v1/connections", json!({"provider": "mailgun", "signing_key": "key-abc123"})).await;
    let mg_id = s(&mg["id"]);
    let sign = |ts: i64, token: &str| {
        let tag = ring::hmac::sign(
            &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"key-abc123"),
            format!("{ts}{token}").as_bytes(),
        );
        tag.as_ref().iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let ts = now();
    let form = |token: &str, sig: String| {
        vec![
            ("sender", "ann@example.com".to_string()),
            ("subject", "Re: pricing".to_string()),
            ("body-plain", "Send it over.\n\n> earlier text".to_string()),
            ("Message-Id", format!("<{token}@mail.example>")),
            ("timestamp", ts.to_string()),
            ("token", token.to_string()),
            ("signature", sig),
        ]
    };
    let url = format!("{}/ingest/{mg_id}/inbound", app.base);
    let r = app.client.post(&url).form(&form("t-1", sign(ts, "t-1"))).send().await.expect("post");
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.expect("json");
    assert_eq!((v[0]["stored"].as_bool(), v[0]["person_id"].clone()), (Some(true), ann["id"].clone()), "{v}");
    let r = app.client.post(&url).form(&form("t-1", sign(ts, "t-1"))).send().await.expect("post");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "a token is good once");
    let r = app.client.post(&url).form(&form("t-2", sign(ts, "t-other"))).send().await.expect("post");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "a signature over another token");

    // Generic: one signed JSON reply.
    let (_, gn) = app.post("/api/v1/connections", json!({"provider": "generic"})).await;
    let (gn_id, secret) = (s(&gn["id"]), s(&gn["secret"]));
    let body = json!({"from": "Ann <ann@example.com>", "subject": "Re: demo", "text": "Thursday is fine.",
        "message_id": "<g-reply@tool.example>", "in_reply_to": "<nothing-we-sent@x>"})
    .to_string();
    let ts = now();
    let sig =
        dealflow_server::webhooks::sign::signature(std::slice::from_ref(&secret), "msg_9", ts, &body).expect("sign");
    let headers =
        [("webhook-id", "msg_9".to_string()), ("webhook-timestamp", ts.to_string()), ("webhook-signature", sig)];
    let path = format!("/ingest/{gn_id}/inbound");
    let (st, v) = post_raw(&app, &path, body.clone(), &headers).await;
    assert_eq!((st, v[0]["stored"].as_bool()), (StatusCode::OK, Some(true)), "{v}");
    let (st, v) = post_raw(&app, &path, body, &headers).await;
    assert_eq!((st, v[0]["stored"].as_bool()), (StatusCode::OK, Some(false)), "stored once: {v}");
    let replies = items(&app, &format!("/api/v1/replies?person_id={}", s(&ann["id"]))).await;
    let previews: Vec<String> = replies.iter().map(|r| s(&r["preview"])).collect();
    assert_eq!(previews, ["Thursday is fine.", "Send it over."]);
    let (_, c) = app.get(&format!("/api/v1/connections/{mg_id}")).await;
    assert_eq!(c["failures"], 2, "{c}");
}

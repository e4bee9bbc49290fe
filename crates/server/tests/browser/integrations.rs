//! E-mail replies and the integrations page in real Chromium: a rep rates
//! a reply from the person's timeline, and an admin assigns an unmatched
//! event to a person from the integrations page.

use crate::harness::{Screen, enabled, start};
use dealflow_core::model::NewPerson;
use dealflow_core::time::Timestamp;
use dealflow_store::{Actor, EmailEventType, InboundMail, IncomingEvent, NewConnection, Provider};
use fantoccini::Locator;

#[tokio::test]
async fn a_reply_is_rated_from_the_timeline_and_an_unmatched_event_is_assigned() {
    if !enabled() {
        return;
    }
    let s = start(false, Screen::Desktop, "en").await;
    let actor = Actor::system();
    let grace = NewPerson { name: "Grace Hopper".into(), emails: vec!["grace@navy.test".into()], ..Default::default() };
    let grace = s.store.create_person(&actor, grace).await.expect("person");
    let conn = NewConnection {
        provider: Provider::Generic,
        name: Some("Mail tool".into()),
        public_key: None,
        signing_key: None,
        username: None,
        password: None,
        secret: None,
        campaign_id: None,
    };
    let conn = s.store.create_connection(&actor, conn).await.expect("connection").connection.id;
    let now = Timestamp::now();
    let mail = InboundMail {
        from: "grace@navy.test".into(),
        subject: "Re: compilers".into(),
        text: "Happy to talk.".into(),
        message_id: Some("<r1@navy.test>".into()),
        references: Vec::new(),
        received_at: now,
    };
    let reply = s.store.receive_reply(conn, mail).await.expect("reply").expect("stored");
    let stray = IncomingEvent {
        index: 0,
        event_id: Some("stray-1".into()),
        kind: EmailEventType::Opened,
        at: now,
        email: Some("g.hopper@navy.test".into()),
        person_hint: None,
        message_id: None,
        campaign: None,
        url: None,
        machine_open: false,
        raw: serde_json::json!({}),
    };
    s.store.ingest_events(conn, now, vec![stray], Default::default()).await.expect("ingest");

    s.login().await;
    s.goto(&format!("/people/{}", grace.id)).await;
    let group = format!(".sentiment[data-reply='{}']", reply.id);
    s.wait_for(&group).await;
    s.client
        .find(Locator::Css(&format!("{group} button[data-sentiment=positive]")))
        .await
        .expect("the positive button")
        .click()
        .await
        .expect("click");
    s.until(&format!(
        "return document.querySelector(\"{group} button[data-sentiment=positive]\").getAttribute('aria-pressed') === 'true'"
    ))
    .await;
    s.until(&format!(
        "return fetch('/api/v1/replies?person_id={}').then(r => r.json()).then(p => p.items[0].sentiment === 'positive')",
        grace.id
    ))
    .await;

    // The stray open waits; the page suggests Grace (same domain).
    s.goto("/settings/integrations").await;
    // Connecting Brevo from the page shows its token once, in its URLs.
    s.js("document.querySelector('#new-connection select[name=provider]').value = 'brevo'").await;
    s.client
        .find(Locator::Css("#new-connection button[type=submit]"))
        .await
        .expect("connect")
        .click()
        .await
        .expect("c");
    s.until("return !document.getElementById('token-secret').hidden").await;
    let shown = s.js("return document.querySelector('#token-secret code').textContent").await;
    let shown = shown.as_str().unwrap_or_default().to_string();
    assert!(shown.contains("secret: ") && shown.contains("?token="), "{shown}");
    let all = s.store.connections(Default::default()).await.expect("connections").items;
    assert!(all.iter().any(|c| c.provider == Provider::Brevo), "{all:?}");
    let form = s.wait_for("#s-unmatched form.api-form").await;
    let option = s.js("return document.querySelector('#s-unmatched select[name=person_id]').value").await;
    assert_eq!(option.as_str(), Some(grace.id.to_string().as_str()));
    form.find(Locator::Css("button[type=submit]")).await.expect("assign").click().await.expect("click");
    s.until("return fetch('/api/v1/email-events/unmatched').then(r => r.json()).then(p => p.items.length === 0)").await;
    let events = s.store.email_events(&Default::default(), Default::default()).await.expect("events");
    assert_eq!(events.items[0].person_id, Some(grace.id));
    s.close().await;
}

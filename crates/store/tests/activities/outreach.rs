//! Campaigns and outreach messages: channel defaults, reply rules,
//! filters, trash and restore.

use super::*;
use dealflow_core::model::{CampaignPatch, Channel, NewCampaign, NewOutreachMessage, OutreachPatch, Sentiment};
use dealflow_store::{CampaignFilter, OutreachFilter};

#[tokio::test]
async fn outreach_follows_reply_rules() {
    let (store, _dir) = fresh().await;
    let actor = Actor::system();
    let p = person(&store, false).await;
    let now = actor.now;
    let sent = Timestamp(now.0 - 2 * HOUR);

    let c = store
        .create_campaign(
            &actor,
            NewCampaign { name: "Spring".into(), channel: Some(Channel::Linkedin), ..Default::default() },
        )
        .await
        .unwrap();
    assert!(invalid_field(&store.create_campaign(&actor, NewCampaign::default()).await, "name"));
    let c2 = store
        .update_campaign(
            &actor,
            c.id,
            CampaignPatch { version: c.version, name: Some("Spring '25".into()), ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!((c2.name.as_str(), c2.channel), ("Spring '25", Some(Channel::Linkedin)));
    let stale = store.update_campaign(&actor, c.id, CampaignPatch { version: c.version, ..Default::default() }).await;
    assert!(matches!(stale, Err(StoreError::Conflict { .. })));

    let m = store
        .create_outreach(
            &actor,
            NewOutreachMessage { person_id: p, campaign_id: Some(c.id), sent_at: Some(sent), ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(m.channel, Channel::Linkedin, "the campaign's channel is the default");
    let plain = store.create_outreach(&actor, NewOutreachMessage { person_id: p, ..Default::default() }).await.unwrap();
    assert_eq!(plain.channel, Channel::Email);
    assert_eq!(plain.sent_at, now, "sent now by default");

    let base = NewOutreachMessage { person_id: p, sent_at: Some(sent), ..Default::default() };
    let cases = [
        (NewOutreachMessage { sent_at: Some(Timestamp(now.0 + 24 * HOUR)), ..base.clone() }, "sent_at"),
        (NewOutreachMessage { replied_at: Some(Timestamp(sent.0 - 1)), ..base.clone() }, "replied_at"),
        (NewOutreachMessage { replied_at: Some(Timestamp(now.0 + 24 * HOUR)), ..base.clone() }, "replied_at"),
        (NewOutreachMessage { sentiment: Some(Sentiment::Positive), ..base.clone() }, "sentiment"),
        (NewOutreachMessage { person_id: PersonId::new(), ..base.clone() }, "person_id"),
        (NewOutreachMessage { person_id: person(&store, true).await, ..base.clone() }, "person_id"),
        (NewOutreachMessage { campaign_id: Some(dealflow_core::CampaignId::new()), ..base.clone() }, "campaign_id"),
    ];
    for (n, field) in cases {
        let r = store.create_outreach(&actor, n).await;
        assert!(invalid_field(&r, field), "{field}: {r:?}");
    }

    // A reply arrives: it must come after the message, with a sentiment.
    let early = store
        .update_outreach(
            &actor,
            m.id,
            OutreachPatch {
                version: m.version,
                replied_at: Some(Some(Timestamp(sent.0 - HOUR))),
                ..Default::default()
            },
        )
        .await;
    assert!(invalid_field(&early, "replied_at"));
    let mood = store
        .update_outreach(
            &actor,
            m.id,
            OutreachPatch { version: m.version, sentiment: Some(Some(Sentiment::Neutral)), ..Default::default() },
        )
        .await;
    assert!(invalid_field(&mood, "sentiment"));
    let replied_at = Timestamp(sent.0 + HOUR);
    let r = store
        .update_outreach(
            &actor,
            m.id,
            OutreachPatch {
                version: m.version,
                replied_at: Some(Some(replied_at)),
                sentiment: Some(Some(Sentiment::Positive)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((r.replied_at, r.sentiment, r.version), (Some(replied_at), Some(Sentiment::Positive), m.version + 1));
    let stale = store.update_outreach(&actor, m.id, OutreachPatch { version: m.version, ..Default::default() }).await;
    assert!(matches!(stale, Err(StoreError::Conflict { current }) if current == r.version));
    // Clearing the reply while keeping its sentiment is refused.
    let half = store
        .update_outreach(
            &actor,
            m.id,
            OutreachPatch { version: r.version, replied_at: Some(None), ..Default::default() },
        )
        .await;
    assert!(invalid_field(&half, "sentiment"));
    assert_eq!(store.outreach(m.id).await.unwrap(), r, "refused writes change nothing");

    // Filters.
    let ids = |f: OutreachFilter| {
        let store = store.clone();
        async move {
            store.list_outreach(&f, Page::default()).await.unwrap().items.into_iter().map(|m| m.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(ids(OutreachFilter::default()).await, [plain.id, m.id]);
    assert_eq!(ids(OutreachFilter { replied: Some(true), ..Default::default() }).await, [m.id]);
    assert_eq!(
        ids(OutreachFilter { replied: Some(false), person_id: Some(p), ..Default::default() }).await,
        [plain.id]
    );
    assert_eq!(ids(OutreachFilter { campaign_id: Some(c.id), ..Default::default() }).await, [m.id]);
    assert_eq!(ids(OutreachFilter { channel: Some(Channel::Email), ..Default::default() }).await, [plain.id]);
    assert_eq!(ids(OutreachFilter { sent_before: Some(Timestamp(now.0 - HOUR)), ..Default::default() }).await, [m.id]);
    assert_eq!(
        ids(OutreachFilter { sent_after: Some(Timestamp(now.0 - HOUR)), ..Default::default() }).await,
        [plain.id]
    );

    // A campaign with messages cannot be deleted, not even when they are in the trash.
    store.delete_outreach(&actor, m.id).await.unwrap();
    assert!(matches!(store.outreach(m.id).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(store.delete_outreach(&actor, m.id).await, Err(StoreError::NotFound { .. })));
    assert_eq!(ids(OutreachFilter { deleted: true, ..Default::default() }).await, [m.id]);
    let gone =
        store.update_outreach(&actor, m.id, OutreachPatch { version: r.version + 1, ..Default::default() }).await;
    assert!(matches!(gone, Err(StoreError::NotFound { .. })), "deleted messages cannot be edited");
    assert!(matches!(store.delete_campaign(&actor, c.id).await, Err(StoreError::InUse(_))));

    let restored = store.restore_outreach(&actor, m.id).await.unwrap();
    assert_eq!((restored.deleted_at, restored.version), (None, r.version + 2));
    assert!(matches!(store.restore_outreach(&actor, m.id).await, Err(StoreError::NotFound { .. })));

    let unused =
        store.create_campaign(&actor, NewCampaign { name: "Autumn".into(), ..Default::default() }).await.unwrap();
    let found = store
        .list_campaigns(&CampaignFilter { q: Some("autu".into()), ..Default::default() }, Page::default())
        .await
        .unwrap();
    assert_eq!(found.items, std::slice::from_ref(&unused));
    let linked = store
        .list_campaigns(&CampaignFilter { channel: Some(Channel::Linkedin), ..Default::default() }, Page::default())
        .await
        .unwrap();
    assert_eq!(linked.items.len(), 1);
    store.delete_campaign(&actor, unused.id).await.unwrap();
    assert!(matches!(store.campaign(unused.id).await, Err(StoreError::NotFound { .. })));
}

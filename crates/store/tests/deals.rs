//! Story-style tests of the deal store on a fresh SQLite database.

use dealflow_core::model::{DealPatch, DealStatus, EventKind, NewDeal};
use dealflow_store::{Actor, Store, StoreError};

async fn fresh() -> (Store, dealflow_store::testing::TestDb) {
    let db = dealflow_store::testing::test_database().await.expect("create a test database");
    let store = db.open().await.expect("open store");
    (store, db)
}

#[tokio::test]
async fn deal_moves_are_logged_and_versions_guarded() {
    let (store, _dir) = fresh().await;
    let actor = Actor::system();
    let pipelines = store.pipelines().await.unwrap();
    assert_eq!(pipelines.len(), 1);
    let stages = &pipelines[0].stages;
    assert_eq!(stages.len(), 4);

    let deal =
        store.create_deal(&actor, NewDeal { title: "Acme".into(), value: 10_000, ..Default::default() }).await.unwrap();
    assert_eq!(deal.stage_id, stages[0].id);
    assert_eq!(deal.currency.as_str(), "USD");

    let moved = store
        .update_deal(
            &actor,
            deal.id,
            DealPatch {
                version: deal.version,
                stage_id: Some(stages[2].id),
                value: Some(20_000),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(moved.stage_id, stages[2].id);
    assert_eq!(moved.version, deal.version + 1);

    let stale = store
        .update_deal(
            &actor,
            deal.id,
            DealPatch { version: deal.version, title: Some("x".into()), ..Default::default() },
        )
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict { current }) if current == moved.version));

    let lost = store
        .update_deal(
            &actor,
            deal.id,
            DealPatch { version: moved.version, status: Some(DealStatus::Lost), ..Default::default() },
        )
        .await;
    assert!(matches!(lost, Err(StoreError::Invalid(_))), "losing needs a reason");
    let lost = store
        .update_deal(
            &actor,
            deal.id,
            DealPatch {
                version: moved.version,
                status: Some(DealStatus::Lost),
                lost_reason: Some("timing".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(lost.lost_reason.as_deref(), Some("Timing"));
    assert!(lost.closed_at.is_some());

    let events = store.deal_events(deal.id).await.unwrap();
    let kinds: Vec<_> = events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EventKind::Enter, EventKind::Enter, EventKind::Lost]);
    let history = store.deal_history(deal.id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].field, "value");

    store.delete_deal(&actor, deal.id).await.unwrap();
    assert!(matches!(store.deal(deal.id).await, Err(StoreError::NotFound { .. })));
    let restored = store.restore_deal(&actor, deal.id).await.unwrap();
    assert_eq!(restored.id, deal.id);
}

#[tokio::test]
async fn the_last_active_stage_of_a_pipeline_cannot_be_deleted() {
    let (store, _dir) = fresh().await;
    let stages = store.pipelines().await.unwrap().remove(0).stages;
    let (last, others) = stages.split_last().expect("the default pipeline has stages");
    for s in others {
        store.delete_stage(&Actor::system(), s.id).await.expect("an unused stage goes");
    }
    let refused = store.delete_stage(&Actor::system(), last.id).await;
    assert!(matches!(&refused, Err(StoreError::Invalid(_))), "{refused:?}");
    assert_eq!(store.pipelines().await.unwrap()[0].stages.len(), 1, "nothing was deleted");
}

//! The audit log in the store: entries are written in the transaction of
//! their change (a change that fails leaves none), carry the actor's origin,
//! and the retention pruning is the only delete.

use dealflow_core::model::{DealPatch, NewDeal, SettingsPatch};
use dealflow_core::time::Timestamp;
use dealflow_store::{Actor, AuditFilter, Credential, Origin, Page, Store, StoreError};

async fn fresh() -> (Store, dealflow_store::testing::TestDb) {
    let db = dealflow_store::testing::test_database().await.expect("test database");
    let store = db.open().await.expect("open");
    (store, db)
}

fn rename(version: i64, name: &str) -> SettingsPatch {
    SettingsPatch {
        version,
        name: Some(name.into()),
        time_zone: None,
        base_currency: None,
        exchange_rates: None,
        working_days: None,
        require_lost_reason: None,
        override_roles: None,
    }
}

async fn all(store: &Store) -> Vec<dealflow_store::AuditEntry> {
    store.audit_log(&AuditFilter::default(), Page { limit: 500, before: None }).await.expect("read the log").items
}

#[tokio::test]
async fn a_change_that_fails_leaves_no_entry() {
    let (store, _db) = fresh().await;
    let actor = Actor::cli();
    let deal =
        store.create_deal(&actor, NewDeal { title: "Acme".into(), value: 5, ..Default::default() }).await.unwrap();
    let before = all(&store).await.len();
    assert_eq!(before, 1, "the create");

    let stale = DealPatch { version: deal.version + 7, value: Some(9), ..Default::default() };
    assert!(matches!(store.update_deal(&actor, deal.id, stale).await, Err(StoreError::Conflict { .. })));
    let mut bad = rename(1, "x");
    bad.time_zone = Some("Mars/Olympus".into());
    assert!(matches!(store.update_settings(&actor, bad).await, Err(StoreError::Invalid(_))));
    assert_eq!(all(&store).await.len(), before, "no entry for a change that was not made");

    let ok = DealPatch { version: deal.version, value: Some(9), ..Default::default() };
    store.update_deal(&actor, deal.id, ok).await.expect("update");
    let log = all(&store).await;
    assert_eq!(log.len(), before + 1);
    assert_eq!(log[0].action, "deal.update");
    assert_eq!(log[0].credential, Credential::Cli, "the command line acts as `cli`");
    assert_eq!(log[0].user_id, None);
}

#[tokio::test]
async fn the_origin_of_an_actor_is_stored() {
    let (store, _db) = fresh().await;
    let ip = "192.0.2.7".parse().unwrap();
    let actor = Actor::system().via(Origin { credential: Credential::Token, credential_id: Some(42), ip: Some(ip) });
    store.update_settings(&actor, rename(1, "Globex")).await.expect("rename");
    let e = &all(&store).await[0];
    assert_eq!((e.action.as_str(), e.record_type.as_str()), ("settings.update", "settings"));
    assert_eq!(e.credential, Credential::Token);
    assert_eq!(e.credential_id.map(|c| c.0), Some(42));
    assert_eq!(e.ip.as_deref(), Some("192.0.2.7"));
    assert_eq!(e.changes.len(), 1, "{:?}", e.changes);
    assert_eq!(e.changes[0].field, "name");
    assert_eq!(e.changes[0].after, "Globex");
}

#[tokio::test]
async fn pruning_removes_only_entries_past_the_retention() {
    let (store, _db) = fresh().await;
    let now = Timestamp::now();
    let day = 86_400_000;
    let old = Actor { now: Timestamp(now.0 - 400 * day), ..Actor::cli() };
    let recent = Actor { now: Timestamp(now.0 - 300 * day), ..Actor::cli() };
    store.update_settings(&old, rename(1, "Old")).await.expect("old change");
    store.update_settings(&recent, rename(2, "Recent")).await.expect("recent change");
    assert_eq!(all(&store).await.len(), 2);

    assert_eq!(store.prune_audit_log_older_than(365, now).await.expect("prune"), 1);
    let left = all(&store).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].at, recent.now, "the entry inside the retention stays");
    assert_eq!(store.prune_audit_log_older_than(365, now).await.expect("prune again"), 0);
    assert_eq!(store.prune_audit_log_older_than(30, now).await.expect("shorter retention"), 1);
    assert!(all(&store).await.is_empty());
}

//! Story-style tests of activities, notes, campaigns and outreach messages
//! on a fresh SQLite database. Notes and outreach have their own modules.

#[path = "activities/notes.rs"]
mod notes;
#[path = "activities/outreach.rs"]
mod outreach;

use dealflow_core::model::{ActivityKind, ActivityPatch, NewActivity, NewDeal, Role};
use dealflow_core::time::Timestamp;
use dealflow_core::{DealId, OrganizationId, PersonId};
use dealflow_store::{ActivityFilter, Actor, Page, Store, StoreError};

const HOUR: i64 = 3_600_000;

async fn fresh() -> (Store, dealflow_store::testing::TestDb) {
    let db = dealflow_store::testing::test_database().await.expect("create a test database");
    let store = db.open().await.expect("open store");
    (store, db)
}

/// Inserts a person directly, so these tests do not depend on the people
/// module's rules; `deleted` puts it in the trash.
async fn person(store: &Store, deleted: bool) -> PersonId {
    let id = PersonId::new();
    let now = Timestamp::now().0;
    sqlx::query(
        "INSERT INTO people (id, name, emails, phones, custom, created_at, updated_at, deleted_at, version)
         VALUES ($1, 'Pat', '[]', '[]', '{}', $2, $2, $3, 1)",
    )
    .bind(id.0)
    .bind(now)
    .bind(deleted.then_some(now))
    .execute(store.pool())
    .await
    .unwrap();
    id
}

async fn organization(store: &Store) -> OrganizationId {
    let id = OrganizationId::new();
    let now = Timestamp::now().0;
    sqlx::query(
        "INSERT INTO organizations (id, name, custom, created_at, updated_at, version) VALUES ($1, 'Acme', '{}', $2, $2, 1)",
    )
    .bind(id.0)
    .bind(now)
    .execute(store.pool())
    .await
    .unwrap();
    id
}

async fn deal(store: &Store) -> DealId {
    store.create_deal(&Actor::system(), NewDeal { title: "Acme".into(), ..Default::default() }).await.unwrap().id
}

fn invalid_field(r: &Result<impl std::fmt::Debug, StoreError>, field: &str) -> bool {
    matches!(r, Err(StoreError::Invalid(i)) if i.0.iter().any(|e| e.field == field))
}

#[tokio::test]
async fn activities_are_planned_completed_and_guarded() {
    let (store, _dir) = fresh().await;
    let user = store.create_user(&Actor::system(), "rep@example.com", "Rep", Role::Rep, "x", None).await.unwrap();
    let actor = Actor::user(user.id);
    let deal_id = deal(&store).await;
    let now = Timestamp::now();

    let a = store
        .create_activity(
            &actor,
            NewActivity {
                subject: "  Call Ann ".into(),
                deal_id: Some(deal_id),
                due_at: Some(Timestamp(now.0 + HOUR)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(a.kind, ActivityKind::Task, "kind defaults to task");
    assert_eq!(a.subject, "Call Ann");
    assert_eq!(a.owner_id, Some(user.id), "owner defaults to the actor");
    assert_eq!(a.done_at, None);
    assert_eq!(store.activity(a.id).await.unwrap(), a);

    // Bad input is refused field by field, before anything is written.
    let bad = store
        .create_activity(
            &actor,
            NewActivity {
                subject: " ".into(),
                note: Some("x".repeat(10_001)),
                created_at: Some(Timestamp(now.0 + 24 * HOUR)),
                done_at: Some(Timestamp(now.0 + 24 * HOUR)),
                ..Default::default()
            },
        )
        .await;
    for f in ["subject", "note", "created_at", "done_at"] {
        assert!(invalid_field(&bad, f), "{f}: {bad:?}");
    }
    let missing = store
        .create_activity(
            &actor,
            NewActivity { subject: "x".into(), deal_id: Some(DealId::new()), ..Default::default() },
        )
        .await;
    assert!(invalid_field(&missing, "deal_id"), "{missing:?}");
    let gone = person(&store, true).await;
    let r = store
        .create_activity(&actor, NewActivity { subject: "x".into(), person_id: Some(gone), ..Default::default() })
        .await;
    assert!(invalid_field(&r, "person_id"), "a deleted person cannot be linked: {r:?}");

    // Completing is setting done_at (past allowed, future not).
    let done_at = Timestamp(now.0 - HOUR);
    let done = store
        .update_activity(
            &actor,
            a.id,
            ActivityPatch {
                version: a.version,
                done_at: Some(Some(done_at)),
                kind: Some(ActivityKind::Call),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(done.done_at, Some(done_at));
    assert_eq!(done.kind, ActivityKind::Call);
    assert_eq!(done.version, a.version + 1);
    let stale = store
        .update_activity(
            &actor,
            a.id,
            ActivityPatch { version: a.version, subject: Some("y".into()), ..Default::default() },
        )
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict { current }) if current == done.version), "{stale:?}");
    let future = store
        .update_activity(
            &actor,
            a.id,
            ActivityPatch {
                version: done.version,
                done_at: Some(Some(Timestamp(now.0 + 24 * HOUR))),
                ..Default::default()
            },
        )
        .await;
    assert!(invalid_field(&future, "done_at"));
    assert_eq!(store.activity(a.id).await.unwrap(), done, "refused writes change nothing");

    // Reopening and clearing links uses explicit nulls.
    let reopened = store
        .update_activity(
            &actor,
            a.id,
            ActivityPatch { version: done.version, done_at: Some(None), deal_id: Some(None), ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!((reopened.done_at, reopened.deal_id), (None, None));

    store.delete_activity(&actor, a.id).await.unwrap();
    assert!(matches!(store.activity(a.id).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(store.delete_activity(&actor, a.id).await, Err(StoreError::NotFound { .. })));
}

#[tokio::test]
async fn activity_filters_and_pages() {
    let (store, _dir) = fresh().await;
    let actor = Actor::system();
    let deal_id = deal(&store).await;
    let p = person(&store, false).await;
    let now = Timestamp::now();
    let mut ids = Vec::new();
    for i in 0..5 {
        let a = store
            .create_activity(
                &actor,
                NewActivity {
                    subject: format!("task {i}"),
                    deal_id: (i % 2 == 0).then_some(deal_id),
                    person_id: Some(p),
                    due_at: Some(Timestamp(now.0 + i * HOUR)),
                    done_at: (i < 2).then_some(now),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        ids.push(a.id);
    }
    let list = |f: ActivityFilter| {
        let store = store.clone();
        async move {
            store
                .list_activities(&f, Page::default())
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|a| a.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list(ActivityFilter::default()).await, ids.iter().rev().copied().collect::<Vec<_>>(), "newest first");
    assert_eq!(list(ActivityFilter { deal_id: Some(deal_id), ..Default::default() }).await, [ids[4], ids[2], ids[0]]);
    assert_eq!(list(ActivityFilter { done: Some(true), ..Default::default() }).await, [ids[1], ids[0]]);
    assert_eq!(list(ActivityFilter { done: Some(false), person_id: Some(p), ..Default::default() }).await.len(), 3);
    let window = ActivityFilter {
        due_after: Some(Timestamp(now.0 + HOUR)),
        due_before: Some(Timestamp(now.0 + 3 * HOUR)),
        ..Default::default()
    };
    assert_eq!(list(window).await, [ids[2], ids[1]]);
    assert!(
        list(ActivityFilter { updated_since: Some(Timestamp(now.0 + 24 * HOUR)), ..Default::default() })
            .await
            .is_empty()
    );

    let first = store.list_activities(&ActivityFilter::default(), Page { limit: 2, before: None }).await.unwrap();
    assert_eq!(first.items.len(), 2);
    let cursor: i64 = first.next_cursor.expect("more pages").parse().unwrap();
    let second =
        store.list_activities(&ActivityFilter::default(), Page { limit: 2, before: Some(cursor) }).await.unwrap();
    let third = store
        .list_activities(
            &ActivityFilter::default(),
            Page { limit: 2, before: second.next_cursor.map(|c| c.parse().unwrap()) },
        )
        .await
        .unwrap();
    assert_eq!(second.items[0].id, ids[2]);
    assert_eq!(third.items.len(), 1);
    assert_eq!(third.next_cursor, None, "the last page has no cursor");
}

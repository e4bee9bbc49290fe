//! Notes: a body, a link, an author, a pin.

use super::*;
use dealflow_core::model::{NewNote, NotePatch};
use dealflow_store::NoteFilter;

#[tokio::test]
async fn notes_need_a_link_and_a_body() {
    let (store, _dir) = fresh().await;
    let user = store.create_user(&Actor::system(), "rep@example.com", "Rep", Role::Rep, "x", None).await.unwrap();
    let actor = Actor::user(user.id);
    let org = organization(&store).await;
    let deal_id = deal(&store).await;

    let unlinked = store.create_note(&actor, NewNote { body: "hi".into(), ..Default::default() }).await;
    assert!(invalid_field(&unlinked, "deal_id"), "{unlinked:?}");
    let empty =
        store.create_note(&actor, NewNote { body: "\n ".into(), deal_id: Some(deal_id), ..Default::default() }).await;
    assert!(invalid_field(&empty, "body"));
    let long = store
        .create_note(&actor, NewNote { body: "x".repeat(100_001), deal_id: Some(deal_id), ..Default::default() })
        .await;
    assert!(invalid_field(&long, "body"));
    let unknown = store
        .create_note(
            &actor,
            NewNote { body: "x".into(), organization_id: Some(OrganizationId::new()), ..Default::default() },
        )
        .await;
    assert!(invalid_field(&unknown, "organization_id"));

    let n = store
        .create_note(&actor, NewNote { body: "# Kickoff".into(), organization_id: Some(org), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(n.author_id, Some(user.id), "the author is the actor");
    assert!(!n.pinned);
    let other = store
        .create_note(&actor, NewNote { body: "on the deal".into(), deal_id: Some(deal_id), ..Default::default() })
        .await
        .unwrap();

    let pinned = store
        .update_note(&actor, n.id, NotePatch { version: n.version, pinned: Some(true), ..Default::default() })
        .await
        .unwrap();
    assert!(pinned.pinned);
    assert_eq!(pinned.body, "# Kickoff");
    let stale = store
        .update_note(&actor, n.id, NotePatch { version: n.version, body: Some("x".into()), ..Default::default() })
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict { current }) if current == pinned.version));
    assert_eq!(store.note(n.id).await.unwrap(), pinned);

    let by_org = store
        .list_notes(&NoteFilter { organization_id: Some(org), ..Default::default() }, Page::default())
        .await
        .unwrap();
    assert_eq!(by_org.items, std::slice::from_ref(&pinned));
    assert_eq!(store.list_notes(&NoteFilter::default(), Page::default()).await.unwrap().items.len(), 2);

    store.delete_note(&actor, other.id).await.unwrap();
    assert!(matches!(store.note(other.id).await, Err(StoreError::NotFound { .. })));
}

#[tokio::test]
async fn notes_record_their_editor_and_delete_softly() {
    let (store, _dir) = fresh().await;
    let rep = store.create_user(&Actor::system(), "rep@example.com", "Rep", Role::Rep, "x", None).await.unwrap();
    let admin = store.create_user(&Actor::system(), "adm@example.com", "Adm", Role::Admin, "x", None).await.unwrap();
    let person = person(&store, false).await;
    let n = store
        .create_note(
            &Actor::user(rep.id),
            NewNote { body: "first".into(), person_id: Some(person), ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!((n.edited_at, n.edited_by), (None, None), "a new note is not edited");

    let edited = store
        .update_note(
            &Actor::user(admin.id),
            n.id,
            NotePatch { version: n.version, body: Some("second".into()), ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(edited.author_id, Some(rep.id), "the author stays");
    assert_eq!(edited.edited_by, Some(admin.id));
    assert!(edited.edited_at.is_some());

    store.delete_note(&Actor::user(admin.id), n.id).await.unwrap();
    assert!(matches!(store.note(n.id).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(store.delete_note(&Actor::user(admin.id), n.id).await, Err(StoreError::NotFound { .. })));
    let patch = NotePatch { version: edited.version + 1, body: Some("x".into()), ..Default::default() };
    assert!(matches!(store.update_note(&Actor::user(admin.id), n.id, patch).await, Err(StoreError::NotFound { .. })));
    let filter = NoteFilter { person_id: Some(person), ..Default::default() };
    assert!(store.list_notes(&filter, Page::default()).await.unwrap().items.is_empty());
    let timeline = store.timeline(Some(person), None, 10).await.unwrap();
    assert!(timeline.iter().all(|t| t.kind != "note"), "deleted notes leave the timeline");

    // The row is still there, with who deleted it and when.
    let (deleted_at, deleted_by): (Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT deleted_at, deleted_by FROM notes WHERE id = $1")
            .bind(n.id.0)
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert!(deleted_at.is_some());
    assert_eq!(deleted_by, Some(admin.id.0));
}

//! Story-style tests of the organization and people store on a fresh
//! SQLite database.

use dealflow_core::custom_field::{Entity, FieldKind, NewCustomField};
use dealflow_core::model::{NewOrganization, NewPerson, OrganizationPatch, PersonPatch, Role};
use dealflow_core::time::Timestamp;
use dealflow_store::{Actor, OrganizationFilter, Page, PersonFilter, Store, StoreError};
use serde_json::json;

async fn fresh() -> (Store, dealflow_store::testing::TestDb) {
    let db = dealflow_store::testing::test_database().await.expect("create a test database");
    let store = db.open().await.expect("open store");
    (store, db)
}

fn org(name: &str) -> NewOrganization {
    NewOrganization { name: name.into(), ..Default::default() }
}

fn person(name: &str, emails: &[&str]) -> NewPerson {
    NewPerson { name: name.into(), emails: emails.iter().map(|e| e.to_string()).collect(), ..Default::default() }
}

fn fields(e: StoreError) -> Vec<String> {
    match e {
        StoreError::Invalid(i) => i.0.into_iter().map(|f| f.field).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn organization_lifecycle() {
    let (store, _dir) = fresh().await;
    let user = store.create_user(&Actor::system(), "o@example.com", "Owner", Role::Rep, "x", None).await.unwrap();
    let actor = Actor::user(user.id);

    let o = store
        .create_organization(
            &actor,
            NewOrganization {
                name: "  Acme Inc ".into(),
                domain: Some("https://www.Acme.COM/".into()),
                employees: Some(120),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((o.name.as_str(), o.domain.as_deref(), o.version), ("Acme Inc", Some("acme.com"), 1));
    assert_eq!(o.owner_id, Some(user.id), "the owner defaults to the actor");
    assert_eq!(store.organization(o.id).await.unwrap(), o);

    let bad = store
        .create_organization(&actor, NewOrganization { name: " ".into(), employees: Some(-1), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(fields(bad), ["name", "employees"]);

    let p = OrganizationPatch {
        version: o.version,
        industry: Some(Some("Steel".into())),
        domain: Some(None),
        ..Default::default()
    };
    let up = store.update_organization(&actor, o.id, p).await.unwrap();
    assert_eq!((up.industry.as_deref(), up.domain.as_deref(), up.version), (Some("Steel"), None, 2));
    assert_eq!(up.name, "Acme Inc", "absent fields keep their value");

    let stale = store
        .update_organization(
            &actor,
            o.id,
            OrganizationPatch { version: 1, name: Some("X".into()), ..Default::default() },
        )
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict { current: 2 })), "{stale:?}");
    assert_eq!(store.organization(o.id).await.unwrap().name, "Acme Inc", "a refused write changes nothing");

    store.delete_organization(&actor, o.id).await.unwrap();
    assert!(matches!(store.organization(o.id).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(store.delete_organization(&actor, o.id).await, Err(StoreError::NotFound { .. })));
    let trash = store
        .list_organizations(&OrganizationFilter { deleted: true, ..Default::default() }, Page::default())
        .await
        .unwrap();
    assert_eq!(trash.items.len(), 1);
    assert!(store.list_organizations(&OrganizationFilter::default(), Page::default()).await.unwrap().items.is_empty());
    let back = store.restore_organization(&actor, o.id).await.unwrap();
    assert_eq!((back.deleted_at, back.version), (None, 4));
}

#[tokio::test]
async fn person_lifecycle_and_references() {
    let (store, _dir) = fresh().await;
    let actor = Actor::system();
    let acme = store.create_organization(&actor, org("Acme")).await.unwrap();

    let bad = store.create_person(&actor, person("Ann", &["ann@acme.com", "not-mail"])).await.unwrap_err();
    assert_eq!(fields(bad), ["emails[1]"]);
    let too_many = NewPerson { phones: vec!["1".into(); 21], ..person("Ann", &[]) };
    assert!(fields(store.create_person(&actor, too_many).await.unwrap_err()).contains(&"phones".to_string()));
    let ghost = NewPerson { organization_id: Some(dealflow_core::OrganizationId(42)), ..person("Ann", &[]) };
    assert_eq!(fields(store.create_person(&actor, ghost).await.unwrap_err()), ["organization_id"]);
    let future = NewPerson { created_at: Some(Timestamp(Timestamp::now().0 + 3_600_000)), ..person("Ann", &[]) };
    assert_eq!(fields(store.create_person(&actor, future).await.unwrap_err()), ["created_at"]);

    let ann = store
        .create_person(
            &actor,
            NewPerson {
                organization_id: Some(acme.id),
                phones: vec![" +1 555 0100 ".into()],
                ..person("Ann Lee", &["Ann@Acme.com", "ann@acme.com", "ann@home.org"])
            },
        )
        .await
        .unwrap();
    assert_eq!(ann.emails, ["ann@acme.com", "ann@home.org"], "lower-cased, repeats kept once");
    assert_eq!(ann.phones, ["+1 555 0100"]);
    assert_eq!(ann.owner_id, None, "a system actor owns nothing");

    let p = PersonPatch {
        version: 1,
        emails: Some(vec!["lee@acme.com".into()]),
        job_title: Some(Some("CTO".into())),
        ..Default::default()
    };
    let up = store.update_person(&actor, ann.id, p).await.unwrap();
    assert_eq!((up.emails.len(), up.job_title.as_deref(), up.version), (1, Some("CTO"), 2));
    let found = store
        .list_people(&PersonFilter { q: Some("LEE@acme".into()), ..Default::default() }, Page::default())
        .await
        .unwrap();
    assert_eq!(found.items.len(), 1, "search follows the new primary e-mail");

    // A deleted organization cannot be newly linked, but an existing link stays.
    let other = store.create_organization(&actor, org("Other")).await.unwrap();
    store.delete_organization(&actor, other.id).await.unwrap();
    let link = PersonPatch { version: 2, organization_id: Some(Some(other.id)), ..Default::default() };
    assert_eq!(fields(store.update_person(&actor, ann.id, link).await.unwrap_err()), ["organization_id"]);
    store.delete_organization(&actor, acme.id).await.unwrap();
    let rename = PersonPatch { version: 2, name: Some("Ann Lee-Smith".into()), ..Default::default() };
    assert_eq!(store.update_person(&actor, ann.id, rename).await.unwrap().organization_id, Some(acme.id));

    let stale = store.update_person(&actor, ann.id, PersonPatch { version: 2, ..Default::default() }).await;
    assert!(matches!(stale, Err(StoreError::Conflict { current: 3 })), "{stale:?}");
    store.delete_person(&actor, ann.id).await.unwrap();
    assert!(matches!(store.person(ann.id).await, Err(StoreError::NotFound { .. })));
    assert_eq!(store.restore_person(&actor, ann.id).await.unwrap().name, "Ann Lee-Smith");
}

#[tokio::test]
async fn lists_filter_and_search() {
    let (store, _dir) = fresh().await;
    let user = store.create_user(&Actor::system(), "o@example.com", "Owner", Role::Rep, "x", None).await.unwrap();
    let mine = Actor::user(user.id);
    let sys = Actor::system();
    let acme = store
        .create_organization(&mine, NewOrganization { domain: Some("acme.com".into()), ..org("Acme") })
        .await
        .unwrap();
    store
        .create_organization(&sys, NewOrganization { domain: Some("globex.io".into()), ..org("Globex 100%") })
        .await
        .unwrap();
    let names = |p: dealflow_store::ListPage<dealflow_core::model::Organization>| -> Vec<String> {
        p.items.into_iter().map(|o| o.name).collect()
    };
    let of = |q: &str| OrganizationFilter { q: Some(q.into()), ..Default::default() };
    assert_eq!(names(store.list_organizations(&of("ACME"), Page::default()).await.unwrap()), ["Acme"]);
    assert_eq!(names(store.list_organizations(&of("globex.i"), Page::default()).await.unwrap()), ["Globex 100%"]);
    assert_eq!(names(store.list_organizations(&of("0%"), Page::default()).await.unwrap()), ["Globex 100%"]);
    assert!(store.list_organizations(&of("_"), Page::default()).await.unwrap().items.is_empty(), "`_` is literal");
    let owned = OrganizationFilter { owner_id: Some(user.id), ..Default::default() };
    assert_eq!(names(store.list_organizations(&owned, Page::default()).await.unwrap()), ["Acme"]);
    let later = OrganizationFilter { updated_since: Some(Timestamp(Timestamp::now().0 + 1000)), ..Default::default() };
    assert!(store.list_organizations(&later, Page::default()).await.unwrap().items.is_empty());

    let ann = store
        .create_person(&sys, NewPerson { organization_id: Some(acme.id), ..person("Ann", &["a@x.com"]) })
        .await
        .unwrap();
    store.create_person(&mine, person("Bob", &["bob@acme.com"])).await.unwrap();
    let at_acme = PersonFilter { organization_id: Some(acme.id), ..Default::default() };
    let items = store.list_people(&at_acme, Page::default()).await.unwrap().items;
    assert_eq!(items.iter().map(|p| p.id).collect::<Vec<_>>(), [ann.id]);
    let by_mail = PersonFilter { q: Some("ACME".into()), ..Default::default() };
    assert_eq!(store.list_people(&by_mail, Page::default()).await.unwrap().items[0].name, "Bob");
    let owned = PersonFilter { owner_id: Some(user.id), ..Default::default() };
    assert_eq!(store.list_people(&owned, Page::default()).await.unwrap().items[0].name, "Bob");
}

#[tokio::test]
async fn pages_are_newest_first_and_complete() {
    let (store, _dir) = fresh().await;
    let actor = Actor::system();
    let mut made = Vec::new();
    for i in 0..5 {
        made.push(store.create_person(&actor, person(&format!("P{i}"), &[])).await.unwrap().id);
    }
    let (mut seen, mut before, mut pages) = (Vec::new(), None, 0);
    loop {
        let page = store.list_people(&PersonFilter::default(), Page { limit: 2, before }).await.unwrap();
        pages += 1;
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|p| p.id));
        match page.next_cursor {
            Some(c) => before = Some(c.parse().unwrap()),
            None => break,
        }
    }
    made.reverse();
    assert_eq!(seen, made, "every person once, newest first");
    assert_eq!(pages, 3);
}

#[tokio::test]
async fn custom_fields_are_checked() {
    let (store, _dir) = fresh().await;
    let actor = Actor::system();
    for entity in [Entity::Organization, Entity::Person] {
        let def = NewCustomField {
            entity,
            key: "seats".into(),
            label: "Seats".into(),
            kind: FieldKind::Number,
            options: vec![],
            required: false,
            position: None,
        };
        store.create_custom_field(&actor, def).await.unwrap();
    }
    let custom = |v: serde_json::Value| v.as_object().cloned();
    let bad = NewOrganization { custom: custom(json!({"seats": "many"})), ..org("Acme") };
    assert_eq!(fields(store.create_organization(&actor, bad).await.unwrap_err()), ["custom.seats"]);
    let o = store
        .create_organization(&actor, NewOrganization { custom: custom(json!({"seats": 5})), ..org("Acme") })
        .await
        .unwrap();
    assert_eq!(o.custom["seats"], 5);
    let p = OrganizationPatch { version: 1, custom: custom(json!({"nope": 1})), ..Default::default() };
    assert_eq!(fields(store.update_organization(&actor, o.id, p).await.unwrap_err()), ["custom.nope"]);

    let bad = NewPerson { custom: custom(json!({"seats": true})), ..person("Ann", &[]) };
    assert_eq!(fields(store.create_person(&actor, bad).await.unwrap_err()), ["custom.seats"]);
    let ann = store.create_person(&actor, person("Ann", &[])).await.unwrap();
    let p = PersonPatch { version: 1, custom: custom(json!({"seats": 3})), ..Default::default() };
    assert_eq!(store.update_person(&actor, ann.id, p).await.unwrap().custom["seats"], 3);
}

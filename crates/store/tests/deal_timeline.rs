//! The deal timeline read model on a fresh database: every source merged,
//! newest first, ties in a fixed order, and only this deal's entries.

use dealflow_core::model::{DealPatch, EventKind, NewActivity, NewDeal, NewNote, NewOutreachMessage, NewPerson};
use dealflow_core::time::Timestamp;
use dealflow_store::{Actor, DealTimelineKind};

const HOUR: i64 = 3_600_000;

/// A short name per entry, to compare orders at a glance.
fn label(k: &DealTimelineKind) -> String {
    match k {
        DealTimelineKind::Activity(a) => format!("activity:{}", a.subject),
        DealTimelineKind::Note(n) => format!("note:{}", n.body),
        DealTimelineKind::Stage(e) => format!("stage:{}", if e.kind == EventKind::Enter { "enter" } else { "other" }),
        DealTimelineKind::Field(c) => format!("field:{}", c.field),
        DealTimelineKind::Sent(_) => "sent".into(),
        DealTimelineKind::Replied(_) => "replied".into(),
        DealTimelineKind::Email(_) => "email".into(),
        DealTimelineKind::Score(f) => format!("score:{}", f.kind),
        DealTimelineKind::Review(r) => format!("review:{}", r.kind),
    }
}

#[tokio::test]
async fn deal_timeline_merges_every_source_newest_first() {
    let db = dealflow_store::testing::test_database().await.expect("create a test database");
    let store = db.open().await.expect("open store");
    let actor = Actor::system();
    let t0 = Timestamp(Timestamp::now().0 - 10 * 24 * HOUR);
    let at = |h: i64| Some(Timestamp(t0.0 + h * HOUR));
    let person = store.create_person(&actor, NewPerson { name: "Ada".into(), ..Default::default() }).await.unwrap();
    let stages = store.pipelines().await.unwrap()[0].stages.clone();
    let deal = store
        .create_deal(
            &actor,
            NewDeal {
                title: "Acme".into(),
                value: 10_000,
                person_id: Some(person.id),
                created_at: Some(t0),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let other = store.create_deal(&actor, NewDeal { title: "Other".into(), ..Default::default() }).await.unwrap();
    let note = |body: &str, deal_id, created_at| NewNote {
        body: body.into(),
        deal_id: Some(deal_id),
        created_at,
        ..Default::default()
    };
    store.create_note(&actor, note("first", deal.id, at(1))).await.unwrap();
    store.create_note(&actor, note("elsewhere", other.id, at(1))).await.unwrap();
    let activity = |subject: &str, created_at, done_at| NewActivity {
        subject: subject.into(),
        deal_id: Some(deal.id),
        due_at: at(100),
        created_at,
        done_at,
        ..Default::default()
    };
    store.create_activity(&actor, activity("planned", at(2), None)).await.unwrap();
    store.create_activity(&actor, activity("called", at(1), at(3))).await.unwrap();
    let patch = DealPatch {
        version: deal.version,
        stage_id: Some(stages[1].id),
        value: Some(20_000),
        at: at(4),
        ..Default::default()
    };
    store.update_deal(&actor, deal.id, patch).await.unwrap();
    let msg = NewOutreachMessage { person_id: person.id, sent_at: at(5), replied_at: at(6), ..Default::default() };
    store.create_outreach(&actor, msg).await.unwrap();

    let deal = store.deal(deal.id).await.unwrap();
    let items = store.deal_timeline(&deal, 50).await.unwrap();
    let got: Vec<String> = items.iter().map(|i| label(&i.kind)).collect();
    assert_eq!(
        got,
        [
            "replied",
            "sent",
            "stage:enter",
            "field:value",
            "activity:called",
            "activity:planned",
            "note:first",
            "stage:enter",
        ],
        "newest first; at equal times the stage log comes before the field history"
    );
    assert!(items.windows(2).all(|w| w[0].at >= w[1].at));
    assert_eq!(items[0].at, at(6).unwrap(), "a reply is placed at its own time");
    assert_eq!(items[4].at, at(3).unwrap(), "a done activity at its completion");
    assert_eq!(items[5].at, at(2).unwrap(), "an open one at its creation");

    // A deal without a person has no outreach entries.
    let other = store.deal(other.id).await.unwrap();
    let items = store.deal_timeline(&other, 50).await.unwrap();
    let got: Vec<String> = items.iter().map(|i| label(&i.kind)).collect();
    assert_eq!(got, ["stage:enter", "note:elsewhere"], "created now, after the back-dated note");
}

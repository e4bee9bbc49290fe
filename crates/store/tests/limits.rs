//! The configuration lists answered whole (pipelines, stages, custom
//! fields, lost reasons) are capped, so those answers stay bounded: the
//! record past the cap is refused with a 422-style error naming the list,
//! and nothing is written.

use dealflow_core::custom_field::{Entity, FieldKind, NewCustomField};
use dealflow_core::limits::{MAX_CUSTOM_FIELDS, MAX_LOST_REASONS, MAX_PIPELINES, MAX_STAGES};
use dealflow_core::model::{NewLostReason, NewPipeline, NewStage};
use dealflow_store::{Actor, StoreError};

fn stage(i: i64) -> NewStage {
    NewStage { name: format!("Stage {i}"), position: None, probability: None, rotting_days: None, milestone: None }
}

fn refused(r: Result<impl std::fmt::Debug, StoreError>, field: &str) {
    match r {
        Err(StoreError::Invalid(i)) => assert_eq!(i.0[0].field, field, "{i}"),
        other => panic!("expected {field} to be full, got {other:?}"),
    }
}

#[tokio::test]
async fn configuration_lists_are_capped() {
    let db = dealflow_store::testing::test_database().await.expect("test database");
    let store = db.open().await.expect("open");
    let a = Actor::system();

    let many = NewPipeline { name: "Too long".into(), stages: (0..=MAX_STAGES).map(stage).collect() };
    refused(store.create_pipeline(&a, many).await, "stages");
    let p = store.pipelines().await.unwrap()[0].clone();
    for i in p.stages.len() as i64..MAX_STAGES {
        store.add_stage(&a, p.id, stage(i)).await.expect("room for a stage");
    }
    refused(store.add_stage(&a, p.id, stage(99)).await, "stages");
    assert_eq!(store.pipeline(p.id).await.unwrap().stages.len() as i64, MAX_STAGES);

    let existing = store.pipelines().await.unwrap().len() as i64;
    for i in existing..MAX_PIPELINES {
        let n = NewPipeline { name: format!("P{i}"), stages: vec![stage(0)] };
        store.create_pipeline(&a, n).await.expect("room for a pipeline");
    }
    refused(
        store.create_pipeline(&a, NewPipeline { name: "One more".into(), stages: vec![stage(0)] }).await,
        "pipelines",
    );
    assert_eq!(store.pipelines().await.unwrap().len() as i64, MAX_PIPELINES);

    let existing = store.lost_reasons().await.unwrap().len() as i64;
    for i in existing..MAX_LOST_REASONS {
        store.create_lost_reason(&a, NewLostReason { label: format!("R{i}"), position: None }).await.expect("room");
    }
    refused(
        store.create_lost_reason(&a, NewLostReason { label: "One more".into(), position: None }).await,
        "lost_reasons",
    );

    let field = |i: i64| NewCustomField {
        entity: Entity::Deal,
        key: format!("f{i}"),
        label: format!("Field {i}"),
        kind: FieldKind::Text,
        options: vec![],
        required: false,
        position: None,
    };
    for i in 0..MAX_CUSTOM_FIELDS {
        store.create_custom_field(&a, field(i)).await.expect("room for a field");
    }
    refused(store.create_custom_field(&a, field(MAX_CUSTOM_FIELDS)).await, "custom_fields");
    assert_eq!(store.custom_fields(None).await.unwrap().len() as i64, MAX_CUSTOM_FIELDS);
}

//! `Store::check_consistency` finds nothing in a workspace written through
//! the store, and finds a deal row that disagrees with its stage log, a
//! stage event whose deal is gone, and a projection row that a rebuild
//! would not make.

use dealflow_core::model::{DealPatch, NewDeal};
use dealflow_store::Actor;
use dealflow_store::testing::test_database;

#[tokio::test]
async fn consistency_check_finds_each_kind_of_disagreement() {
    let db = test_database().await.expect("test database");
    let store = db.open().await.expect("open");
    let actor = Actor::system();
    let stages = store.pipelines().await.expect("pipelines")[0].stages.clone();
    let a = store.create_deal(&actor, NewDeal { title: "A".into(), value: 500, ..Default::default() }).await.unwrap();
    let b = store.create_deal(&actor, NewDeal { title: "B".into(), ..Default::default() }).await.unwrap();
    let patch = DealPatch { version: a.version, stage_id: Some(stages[2].id), ..Default::default() };
    store.update_deal(&actor, a.id, patch).await.expect("move");
    let clean = store.check_consistency().await.expect("check");
    assert_eq!((clean.deals, clean.events), (2, 3));
    assert!(clean.projection_rows > 0);
    assert!(clean.problems.is_empty(), "{:#?}", clean.problems);

    // Three kinds of damage, each named by the check.
    let pool = store.pool();
    sqlx::query("UPDATE deals SET stage_id = $1 WHERE id = $2")
        .bind(stages[3].id.0)
        .bind(a.id.0)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM metric_rollup").execute(pool).await.unwrap();
    let damaged = store.check_consistency().await.expect("check");
    let problems = damaged.problems.join("\n");
    assert!(problems.contains(&format!("deal {}: the row says", a.id.0)), "{problems}");
    assert!(problems.contains("metric_rollup: 0 rows kept"), "{problems}");
    // The check rolled its rebuild back: the damage is still there.
    let n: i64 =
        sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM metric_rollup").fetch_one(pool).await.unwrap();
    assert_eq!(n, 0);

    sqlx::query("DELETE FROM stage_events WHERE deal_id = $1").bind(b.id.0).execute(pool).await.unwrap();
    let problems = store.check_consistency().await.expect("check").problems.join("\n");
    assert!(problems.contains(&format!("deal {} has no stage events", b.id.0)), "{problems}");
    store.close().await;
}

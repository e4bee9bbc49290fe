//! Property test: after any sequence of stage moves, wins, losses and
//! reopens (refused ones included), each deal row equals a fresh replay of
//! its stage log.

use dealflow_core::model::{DealPatch, DealStatus, NewDeal};
use dealflow_core::stage_move::replay;
use dealflow_store::{Actor, StoreError};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Move(usize),
    Win,
    Lose,
    Reopen,
    Value(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0usize..4).prop_map(Op::Move),
        Just(Op::Win),
        Just(Op::Lose),
        Just(Op::Reopen),
        (0i64..1_000_000).prop_map(Op::Value),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn deal_row_equals_replay(ops in prop::collection::vec(op(), 1..25)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let db = dealflow_store::testing::test_database().await.unwrap();
            let store = db.open().await.unwrap();
            let actor = Actor::system();
            let stages = store.pipelines().await.unwrap()[0].stages.clone();
            let mut deal = store.create_deal(&actor, NewDeal { title: "P".into(), ..Default::default() }).await.unwrap();
            for op in ops {
                let mut p = DealPatch { version: deal.version, ..Default::default() };
                match op {
                    Op::Move(i) => p.stage_id = Some(stages[i].id),
                    Op::Win => p.status = Some(DealStatus::Won),
                    Op::Lose => { p.status = Some(DealStatus::Lost); p.lost_reason = Some("Timing".into()); }
                    Op::Reopen => p.status = Some(DealStatus::Open),
                    Op::Value(v) => p.value = Some(v),
                }
                match store.update_deal(&actor, deal.id, p).await {
                    Ok(d) => deal = d,
                    Err(StoreError::Invalid(_)) => {} // e.g. moving a closed deal: refused, nothing written
                    Err(e) => panic!("unexpected error: {e}"),
                }
            }
            let events = store.deal_events(deal.id).await.unwrap();
            let pos = replay(&events).unwrap();
            let stored = store.deal(deal.id).await.unwrap();
            assert_eq!(stored, deal);
            assert_eq!(pos.stage_id, stored.stage_id);
            assert_eq!(pos.pipeline_id, stored.pipeline_id);
            assert_eq!(pos.status, stored.status);
            assert_eq!(pos.closed_at, stored.closed_at);
            assert_eq!(pos.lost_reason, stored.lost_reason);
            assert_eq!(pos.stage_entered_at, stored.stage_entered_at);
            store.close().await;
        });
    }
}

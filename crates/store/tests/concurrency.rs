//! Sixteen concurrent writers move and edit the same deals. No update is
//! lost: every stale write gets a conflict (and conflicts must happen), and
//! afterwards each deal row equals the replay of its stage log and the end
//! of an unbroken chain of field-history entries.

use dealflow_core::model::{DealPatch, NewDeal};
use dealflow_core::stage_move::replay;
use dealflow_store::{Actor, StoreError};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const WRITERS: usize = 16;
const ROUNDS: usize = 12;
const DEALS: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_writers_lose_no_update() {
    let db = dealflow_store::testing::test_database().await.expect("test database");
    let store = db.open().await.expect("open store");
    let actor = Actor::system();
    let stages = store.pipelines().await.expect("pipelines")[0].stages.clone();
    let mut ids = Vec::new();
    for i in 0..DEALS {
        let d = store
            .create_deal(&actor, NewDeal { title: format!("Hot deal {i}"), ..Default::default() })
            .await
            .expect("create");
        ids.push(d.id);
    }
    let ok = Arc::new(AtomicUsize::new(0));
    let conflicts = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let (store, ids, stages, ok, conflicts) =
            (store.clone(), ids.clone(), stages.clone(), ok.clone(), conflicts.clone());
        tasks.push(tokio::spawn(async move {
            for r in 0..ROUNDS {
                let id = ids[(w + r) % ids.len()];
                let cur = store.deal(id).await.expect("read deal");
                let mut p = DealPatch { version: cur.version, ..Default::default() };
                // Writers alternate between moving the deal and editing its value.
                if (w + r) % 2 == 0 {
                    p.stage_id = Some(stages[(w * 7 + r) % stages.len()].id);
                } else {
                    p.value = Some((w * 1000 + r) as i64);
                }
                tokio::task::yield_now().await;
                match store.update_deal(&Actor::system(), id, p).await {
                    // A patch that changes nothing (the stage or value the deal
                    // already has) is a no-op: no version bump, not counted.
                    Ok(d) if d.version == cur.version => 0,
                    Ok(_) => ok.fetch_add(1, Ordering::Relaxed),
                    Err(StoreError::Conflict { .. }) => conflicts.fetch_add(1, Ordering::Relaxed),
                    Err(e) => panic!("writer {w} failed: {e}"),
                };
            }
        }));
    }
    for t in tasks {
        t.await.expect("writer task");
    }
    let (ok, conflicts) = (ok.load(Ordering::Relaxed), conflicts.load(Ordering::Relaxed));
    assert!(ok + conflicts <= WRITERS * ROUNDS);
    assert!(conflicts > 0, "16 writers on 3 deals must collide at least once");
    assert!(ok > 0);

    let mut versions = 0;
    for id in ids {
        let deal = store.deal(id).await.expect("deal");
        versions += deal.version - 1;
        let events = store.deal_events(id).await.expect("events");
        let pos = replay(&events).expect("events exist");
        assert_eq!((pos.pipeline_id, pos.stage_id, pos.status), (deal.pipeline_id, deal.stage_id, deal.status));
        assert_eq!(pos.stage_entered_at, deal.stage_entered_at);
        // Consecutive enter events never repeat a stage: a lost update would.
        for pair in events.windows(2) {
            assert_eq!(pair[1].from_stage_id, Some(pair[0].stage_id), "the log is one unbroken path");
        }
        let values: Vec<_> =
            store.deal_history(id).await.expect("history").into_iter().filter(|h| h.field == "value").collect();
        let mut current = serde_json::json!(0);
        for h in &values {
            assert_eq!(h.old_value, current, "each change starts where the previous one ended");
            current = h.new_value.clone();
        }
        assert_eq!(current, serde_json::json!(deal.value));
    }
    // Every write that changed something bumped exactly one version.
    assert_eq!(versions as usize, ok);
    store.close().await;
}

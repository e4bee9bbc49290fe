//! The forecast at now from the projections (`Store::forecast_inputs`) on a
//! workspace whose expected close dates come from the stage rule: two wins
//! give each stage a median time from entry to win, and open deals that
//! entered recently land after now by exactly that median. The replay
//! answers the same; a moment before the latest fact is left to it.

use dealflow_core::metrics::{
    DAY_MS, ForecastOptions, Period, ProbabilitySource, Slice, forecast_from_inputs, forecast_with_fields, stages_from,
};
use dealflow_core::model::{DealPatch, DealStatus, NewDeal};
use dealflow_core::time::Timestamp;
use dealflow_core::{DealId, StageId};
use dealflow_store::{Actor, Store};

async fn deal(store: &Store, a: &Actor, stage: StageId, at: i64, value: i64) -> DealId {
    let n = NewDeal {
        title: "D".into(),
        value,
        stage_id: Some(stage),
        created_at: Some(Timestamp(at)),
        ..Default::default()
    };
    store.create_deal(a, n).await.unwrap().id
}

async fn patch(store: &Store, a: &Actor, id: DealId, at: i64, f: impl FnOnce(&mut DealPatch)) {
    let version = store.deal(id).await.unwrap().version;
    let mut p = DealPatch { version, at: Some(Timestamp(at)), ..Default::default() };
    f(&mut p);
    store.update_deal(a, id, p).await.unwrap();
}

#[tokio::test]
async fn expected_close_dates_follow_the_median_time_from_entry_to_win() {
    let db = dealflow_store::testing::test_database().await.unwrap();
    let store = db.open().await.unwrap();
    let a = Actor::system();
    let now = a.now.0;
    let day = |n: i64| now - n * DAY_MS;
    let s = store.pipelines().await.unwrap()[0].stages.clone();
    let (s0, s1) = (s[0].id, s[1].id);

    // Won after 20 and 40 days in s0, 10 and 30 days in s1: medians 30 and 20.
    for (created, moved, won) in [(100, 90, 80), (60, 50, 20)] {
        let id = deal(&store, &a, s0, day(created), 1_000).await;
        patch(&store, &a, id, day(moved), |p| p.stage_id = Some(s1)).await;
        patch(&store, &a, id, day(won), |p| p.status = Some(DealStatus::Won)).await;
    }
    let in_s1 = deal(&store, &a, s1, day(1), 5_000).await;
    let in_s0 = deal(&store, &a, s0, day(2), 7_000).await;

    let inputs = store.forecast_inputs(now).await.unwrap().expect("nothing is dated after now");
    let history = store.stage_inputs(&Slice::default(), Period::year_before(now)).await.unwrap();
    let history = stages_from(&history, &inputs.pipelines, &Slice::default());
    let opts = ForecastOptions {
        period: Some(Period::new(now, now + 90 * DAY_MS)),
        runs: 10_000,
        seed: 1,
        ..Default::default()
    };
    let fast = forecast_from_inputs(&inputs, &history, now, &opts);
    let (facts, fields) = (store.metric_facts().await.unwrap(), store.deal_field_history_all().await.unwrap());
    let replayed = forecast_with_fields(&facts, now, &|d, t| fields.fields_at(d, t), &opts);
    assert_eq!(fast, replayed);

    let close = |id: DealId| fast.deal_probability[&id].expected_close_at;
    assert_eq!(close(in_s1), Some(day(1) + 20 * DAY_MS));
    assert_eq!(close(in_s0), Some(day(2) + 30 * DAY_MS));
    // Both wins reached both stages: the stages' history says 100%, unless
    // the stage has a probability of its own.
    let p = &fast.deal_probability[&in_s1];
    match s[1].probability {
        Some(x) => assert_eq!((p.p, p.source), (x as f64, ProbabilitySource::Stage)),
        None => assert_eq!((p.p, p.source), (100.0, ProbabilitySource::History)),
    }

    // A moment before the latest stage event is not answered from the projections.
    assert!(store.forecast_inputs(day(2) - 1).await.unwrap().is_none());
    store.close().await;
}

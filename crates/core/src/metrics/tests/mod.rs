//! Tests of the metrics engine: hand-made cases for every formula, property
//! tests, and the shared test vectors. Helpers here build small worlds.

mod forecast;
mod hand;
mod planner;
mod props;

mod vectors;

use crate::metrics::*;
use crate::model::{DealStatus, Milestone};

/// 2026-01-01T00:00:00Z.
pub(super) const BASE: Ms = 1_767_225_600_000;

/// Midnight UTC `n` days after [`BASE`].
pub(super) fn day(n: i64) -> Ms {
    BASE + n * DAY_MS
}

/// The default pipeline `p1`: s1 (no milestone), s2 conversation, s3
/// meeting, s4 proposal.
pub(super) fn pipeline() -> PipelineInfo {
    let ms = [None, Some(Milestone::Conversation), Some(Milestone::Meeting), Some(Milestone::Proposal)];
    PipelineInfo {
        id: "p1".into(),
        stages: ms
            .iter()
            .enumerate()
            .map(|(i, m)| StageInfo { id: format!("s{}", i + 1), order: i as i64, milestone: *m, probability: None })
            .collect(),
    }
}

/// A USD deal of `p1` whose status and close time are what `events` leave.
pub(super) fn deal(id: &str, value: i64, events: Vec<DealEvent>) -> DealFact {
    let created_at = events.first().map_or(BASE, |e| e.at);
    let mut status = (DealStatus::Open, None);
    for e in &events {
        status = match e.kind {
            DealEventKind::Won => (DealStatus::Won, Some(e.at)),
            DealEventKind::Lost => (DealStatus::Lost, Some(e.at)),
            _ => (DealStatus::Open, None),
        };
    }
    DealFact {
        id: id.into(),
        pipeline: "p1".into(),
        value,
        currency: "USD".into(),
        contract_months: None,
        probability: None,
        expected_close_at: None,
        owner: "u1".into(),
        source: "outbound".into(),
        created_at,
        status: status.0,
        closed_at: status.1,
        events,
    }
}

pub(super) fn enter(stage: &str, d: i64) -> DealEvent {
    DealEvent::enter(stage, day(d))
}

/// A world of one pipeline with these deals and no outreach, in USD.
pub(super) fn world(deals: Vec<DealFact>) -> Facts {
    Facts { pipelines: vec![pipeline()], deals, outreach: vec![], rates: ExchangeRates::base_only("USD") }
}

pub(super) fn msg(person: &str, sent: i64, replied: Option<i64>, positive: bool) -> OutreachFact {
    use crate::model::Sentiment;
    OutreachFact {
        person: person.into(),
        campaign: "c1".into(),
        channel: "email".into(),
        sent_at: day(sent),
        replied_at: replied.map(day),
        sentiment: replied.map(|_| if positive { Sentiment::Positive } else { Sentiment::Negative }),
    }
}

/// Whole-workspace activity metrics of days `[from, to)`.
pub(super) fn metrics(f: &Facts, from: i64, to: i64) -> ActivityMetrics {
    activity_metrics(f, &Slice::default(), Period::new(day(from), day(to)))
}

/// Whole-workspace figures of stage `s` for days `[from, to)`.
pub(super) fn stage(f: &Facts, s: &str, from: i64, to: i64) -> StageFigures {
    stage_metrics(f, &Slice::default(), Period::new(day(from), day(to))).stages[s].clone()
}

pub(super) fn approx(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() <= 1e-9 * b.abs().max(1.0))
}

//! Tests of the metrics engine: hand-made cases for every formula, property
//! tests, and the shared test vectors. Helpers here build small worlds.

mod forecast;
mod hand;
mod planner;
mod props;

mod vectors;

use crate::ids::{CampaignId, DealId, PersonId, PipelineId, StageId, UserId};
use crate::metrics::*;
use crate::model::{Channel, DealStatus, Milestone};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock};

/// Test worlds name their ids (`"s2"`, `"p1"`, `"hw"`) for readability; the
/// engine keys by typed integer ids. Each distinct name gets its own number,
/// the same for the whole test run, and [`name_of`] maps a number back.
pub(super) fn num(name: &str) -> i64 {
    let mut names = names();
    if let Some(&n) = names.by_name.get(name) {
        return n;
    }
    names.by_number.push(name.to_string());
    let n = names.by_number.len() as i64;
    names.by_name.insert(name.to_string(), n);
    n
}

/// The name [`num`] gave this number (the number itself if none did).
pub(super) fn name_of(n: i64) -> String {
    let names = names();
    usize::try_from(n - 1).ok().and_then(|i| names.by_number.get(i).cloned()).unwrap_or_else(|| n.to_string())
}

/// The names given so far: number `n` is `by_number[n - 1]`.
#[derive(Default)]
struct Names {
    by_name: HashMap<String, i64>,
    by_number: Vec<String>,
}

fn names() -> MutexGuard<'static, Names> {
    static NAMES: OnceLock<Mutex<Names>> = OnceLock::new();
    // Each change leaves the table whole before the next, so a lock
    // poisoned by a panicking test still guards a consistent table.
    NAMES.get_or_init(Mutex::default).lock().unwrap_or_else(|e| e.into_inner())
}

pub(super) fn did(name: &str) -> DealId {
    DealId(num(name))
}

pub(super) fn sid(name: &str) -> StageId {
    StageId(num(name))
}

pub(super) fn plid(name: &str) -> PipelineId {
    PipelineId(num(name))
}

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
        id: plid("p1"),
        stages: ms
            .iter()
            .enumerate()
            .map(|(i, m)| StageInfo {
                id: sid(&format!("s{}", i + 1)),
                order: i as i64,
                milestone: *m,
                probability: None,
            })
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
        id: did(id),
        pipeline: plid("p1"),
        value,
        currency: "USD".into(),
        contract_months: None,
        probability: None,
        expected_close_at: None,
        owner: Some(UserId(num("u1"))),
        source: "outbound".into(),
        created_at,
        status: status.0,
        closed_at: status.1,
        events,
    }
}

pub(super) fn enter(stage: &str, d: i64) -> DealEvent {
    DealEvent::enter(sid(stage), day(d))
}

/// A world of one pipeline with these deals and no outreach, in USD.
pub(super) fn world(deals: Vec<DealFact>) -> Facts {
    Facts { pipelines: vec![pipeline()], deals, outreach: vec![], rates: ExchangeRates::base_only("USD") }
}

pub(super) fn msg(person: &str, sent: i64, replied: Option<i64>, positive: bool) -> OutreachFact {
    use crate::model::Sentiment;
    OutreachFact {
        person: PersonId(num(person)),
        campaign: Some(CampaignId(num("c1"))),
        channel: Channel::Email,
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
    stage_metrics(f, &Slice::default(), Period::new(day(from), day(to))).stages[&sid(s)].clone()
}

pub(super) fn approx(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() <= 1e-9 * b.abs().max(1.0))
}

//! One generated deal: its walk through the pipeline and its rows (the
//! deal, its stage events, its metric projections).

use super::{DEFAULT_LOST_REASONS, EVENT_ID0, GenReport, Rng, SOURCES, Tables};
use crate::StoreError;
use crate::projections::{DealKey, opt};
use dealflow_core::ids::{DealId, PipelineId, StageId, UserId};
use dealflow_core::metrics::{DealEvent, DealFact, StageInfo, project_deal};
use dealflow_core::model::DealStatus;
use std::fmt::Write as _;

/// One generated stage event.
pub(super) struct Ev {
    kind: &'static str,
    stage: i64,
    from: Option<i64>,
    reason: Option<usize>,
    at: i64,
}

/// Walks a deal created at `created_at` through the pipeline's `stages`
/// (in order) until it closes for good or its next step would come after
/// `now` (it stays open); the events land in `evs`.
pub(super) fn walk(rng: &mut Rng, stages: &[i64], created_at: i64, now: i64, evs: &mut Vec<Ev>) {
    let n_stages = stages.len();
    evs.clear();
    evs.push(Ev { kind: "enter", stage: stages[0], from: None, reason: None, at: created_at });
    let mut pos = 0usize;
    let mut t = created_at;
    let mut reopens = 0;
    loop {
        t += rng.exp_ms(9.0);
        if t >= now || evs.len() >= 14 {
            break;
        }
        let r = rng.0.next_f64();
        let last = pos + 1 == n_stages;
        let (p_adv, p_win, p_back) = if last { (0.0, 0.40, 0.12) } else { (0.64, 0.03, 0.09) };
        if r < p_adv {
            let to = if pos + 2 < n_stages && rng.chance(0.12) { pos + 2 } else { pos + 1 };
            evs.push(Ev { kind: "enter", stage: stages[to], from: Some(stages[pos]), reason: None, at: t });
            pos = to;
            continue;
        }
        if r < p_adv + p_back && pos > 0 {
            evs.push(Ev { kind: "enter", stage: stages[pos - 1], from: Some(stages[pos]), reason: None, at: t });
            pos -= 1;
            continue;
        }
        let won = r < p_adv + p_back + p_win || (!last && rng.chance(0.08));
        let reason = (!won).then(|| rng.below(DEFAULT_LOST_REASONS.len() as u64) as usize);
        evs.push(Ev { kind: if won { "won" } else { "lost" }, stage: stages[pos], from: None, reason, at: t });
        // Some closed deals are reopened and carry on where they were.
        if reopens < 1 && rng.chance(0.15) {
            t += rng.exp_ms(20.0);
            if t >= now {
                break;
            }
            evs.push(Ev { kind: "reopen", stage: stages[pos], from: None, reason: None, at: t });
            reopens += 1;
            continue;
        }
        break;
    }
}

/// Who and where a generated deal is.
pub(super) struct DealSeed {
    pub i: usize,
    pub deal: i64,
    pub person: i64,
    pub owner: i64,
    pub pipeline: i64,
    pub created_at: i64,
}

/// Buffers the rows of one deal whose events are `evs`: the events, the
/// deal row (the replay of its events) and its metric projections.
pub(super) fn push_deal(
    rng: &mut Rng,
    s: &DealSeed,
    evs: &[Ev],
    stage_infos: &[StageInfo],
    t: &mut Tables,
    report: &mut GenReport,
) -> Result<(), StoreError> {
    let DealSeed { i, deal, person, owner, pipeline: pid, created_at } = *s;
    let mut status = "open";
    let mut closed_at = None;
    let mut lost_reason = None;
    let mut stage = evs[0].stage;
    let mut entered = created_at;
    for e in evs {
        match e.kind {
            "enter" => {
                stage = e.stage;
                entered = e.at;
            }
            "won" | "lost" => {
                status = e.kind;
                closed_at = Some(e.at);
                lost_reason = e.reason;
            }
            _ => {
                status = "open";
                closed_at = None;
                lost_reason = None;
            }
        }
        let id = EVENT_ID0 + report.events as i64;
        let reason = e.reason.map_or_else(|| "NULL".to_string(), |r| format!("'{}'", DEFAULT_LOST_REASONS[r]));
        t.events.push_row(format!(
            "({id}, {deal}, '{}', {pid}, {}, {}, {reason}, {}, {owner})",
            e.kind,
            e.stage,
            opt(e.from),
            e.at
        ));
        report.events += 1;
    }
    let updated = evs.last().map_or(created_at, |e| e.at);
    // Values from $1,000 to about $200,000, skewed to the small end.
    let value = (100_000.0 * (200.0f64).powf(rng.0.next_f64())) as i64;
    let months = match rng.below(10) {
        0..4 => "NULL",
        4..7 => "12",
        7..9 => "24",
        _ => "36",
    };
    let source = SOURCES[rng.below(SOURCES.len() as u64) as usize];
    let reason = lost_reason.map_or_else(|| "NULL".to_string(), |r| format!("'{}'", DEFAULT_LOST_REASONS[r]));
    let fact = DealFact {
        id: DealId(deal),
        pipeline: PipelineId(pid),
        value,
        currency: "USD".into(),
        contract_months: months.parse().ok(),
        probability: None,
        expected_close_at: None,
        owner: Some(UserId(owner)),
        source: source.to_string(),
        created_at,
        status: DealStatus::parse(status).map_err(StoreError::Config)?,
        closed_at,
        events: evs
            .iter()
            .map(|e| match e.kind {
                "enter" => DealEvent::enter(StageId(e.stage), e.at),
                "won" => DealEvent::won(e.at),
                "lost" => DealEvent::lost(e.at),
                _ => DealEvent::reopen(e.at),
            })
            .collect(),
    };
    let key = DealKey { id: deal, pipeline: pid, owner: Some(owner), source };
    t.projected.push(&key, &fact, &project_deal(&fact, stage_infos));
    let mut row = String::with_capacity(200);
    let _ = write!(
        row,
        "({deal}, 'Deal {i}', {value}, 'USD', {months}, {pid}, {stage}, '{status}', {reason}, NULL, NULL, {owner}, {person}, NULL, '{source}', '{{}}', {created_at}, {updated}, {}, {entered}, NULL, 1)",
        opt(closed_at)
    );
    t.deals.push_row(row);
    report.deals += 1;
    Ok(())
}

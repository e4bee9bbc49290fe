//! The forecast of open deals at a moment T (docs/metrics.md "Forecast"): each
//! deal's win probability and its source, its expected close date, the
//! weighted pipeline (total and per month), the P10/P50/P90 range of a
//! period, and the backtest "as of" an earlier T.
//!
//! The forecast always works on the facts as they stood at T: stage and
//! status are replayed from events dated at or before T, so a forecast at T
//! and a backtest at T agree. Field values (value, currency, probability,
//! expected close date, owner…) come from a `fields_at` closure: the store
//! supplies them from its field history; [`current_fields`] uses today's
//! values, which is exact for a forecast at "now" but leaks later edits into
//! a backtest. Stage configuration and exchange rates are today's.

use super::facts::{DAY_MS, DealFact, ExchangeRates, Facts, Ms, OutreachFact, Period, PipelineInfo, Slice, StageInfo};
use super::history::{StageIndex, Timeline, status_as_of};
use super::montecarlo::{OutcomeRange, won_value_range};
use super::stages::{StageFigures, StageMetrics, stage_metrics};
use super::{days, percentile_inc};
use crate::ids::{DealId, StageId, UserId};
use crate::model::DealStatus;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Where a deal's win probability came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProbabilitySource {
    /// The deal's own override.
    Deal,
    /// The stage's configured probability.
    Stage,
    /// The stage's `stage_conversion` over the 365 days before T.
    History,
    /// The learned win probability, in a pipeline whose forecast source is
    /// `model` (docs/scoring.md "Learned win probability").
    Model,
}

/// One open deal in the forecast.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DealForecast {
    /// Win probability, 0–100.
    pub p: f64,
    pub source: ProbabilitySource,
    /// Value in base minor units; `None` when its currency has no rate.
    pub value: Option<i64>,
    /// `None` when neither rule has data (no wins in the window).
    #[serde(serialize_with = "crate::time::opt_ms_as_rfc3339")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expected_close_at: Option<Ms>,
}

/// The forecast at `as_of`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Forecast {
    #[serde(serialize_with = "crate::time::ms_as_rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub as_of: Ms,
    /// `Σ value × p / 100` over forecastable, converted open deals.
    pub weighted_pipeline: f64,
    /// The same sum per month (`YYYY-MM`, UTC) of expected close; deals
    /// without an expected close date fall under `unknown`.
    pub weighted_by_month: BTreeMap<String, f64>,
    pub deal_probability: BTreeMap<DealId, DealForecast>,
    /// Open deals with no probability at all (no override, no configured
    /// probability, no closed history for their stage): not guessed.
    pub unforecastable: u64,
    pub unforecastable_deals: Vec<DealId>,
    /// Open deals whose currency has no rate: left out of money figures.
    pub unconverted: u64,
    /// P10/P50/P90 of the won value for `ForecastOptions::period`.
    pub range: Option<OutcomeRange>,
}

/// Options of a forecast.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ForecastOptions {
    /// Which open deals to forecast. Probabilities still learn from the
    /// whole workspace's history of the stage.
    pub slice: Slice,
    /// The period of the P10/P50/P90 range; none skips the range.
    pub period: Option<Period>,
    /// Simulation runs (at least 10,000 are used).
    pub runs: u64,
    pub seed: u64,
    /// Learned win probabilities (0–100) at the forecast's moment, for the
    /// open deals of pipelines whose forecast source is `model`; they come
    /// before the stage's but after the deal's own.
    pub model: HashMap<DealId, f64>,
}

/// A deal's field values at a moment.
#[derive(Debug, Clone, PartialEq)]
pub struct DealFields {
    pub value: i64,
    pub currency: String,
    pub contract_months: Option<i64>,
    pub probability: Option<f64>,
    pub expected_close_at: Option<Ms>,
    pub owner: Option<UserId>,
    pub source: String,
}

/// Today's field values, whatever the moment asked for.
pub fn current_fields(d: &DealFact, _at: Ms) -> DealFields {
    DealFields {
        value: d.value,
        currency: d.currency.clone(),
        contract_months: d.contract_months,
        probability: d.probability,
        expected_close_at: d.expected_close_at,
        owner: d.owner,
        source: d.source.clone(),
    }
}

/// The facts as known at `t`: deals created at or before `t` with only
/// their events dated at or before `t` (status and close time replayed from
/// them), fields from `fields_at(deal, t)`, outreach sent by `t` with
/// replies that came after `t` removed.
pub fn facts_as_of(facts: &Facts, t: Ms, fields_at: &dyn Fn(&DealFact, Ms) -> DealFields) -> Facts {
    let deals = facts
        .deals
        .iter()
        .filter(|d| d.created_at <= t)
        .map(|d| {
            let f = fields_at(d, t);
            let (status, closed_at) = status_as_of(d, t);
            DealFact {
                id: d.id,
                pipeline: d.pipeline,
                value: f.value,
                currency: f.currency,
                contract_months: f.contract_months,
                probability: f.probability,
                expected_close_at: f.expected_close_at,
                owner: f.owner,
                source: f.source,
                created_at: d.created_at,
                status,
                closed_at,
                events: d.events.iter().filter(|e| e.at <= t).cloned().collect(),
            }
        })
        .collect();
    let outreach = facts
        .outreach
        .iter()
        .filter(|o| o.sent_at <= t)
        .map(|o| {
            let replied = o.replied_at.filter(|r| *r <= t);
            OutreachFact { replied_at: replied, sentiment: replied.and(o.sentiment), ..o.clone() }
        })
        .collect();
    Facts { pipelines: facts.pipelines.clone(), deals, outreach, rates: facts.rates.clone() }
}

/// The forecast at `as_of` with today's field values (see [`current_fields`]).
pub fn forecast(facts: &Facts, as_of: Ms, opts: &ForecastOptions) -> Forecast {
    forecast_with_fields(facts, as_of, &current_fields, opts)
}

/// The forecast at `as_of`, reading nothing dated after it except what
/// `fields_at` returns for that moment: the facts as they stood at
/// `as_of` are rebuilt and every deal's event log replayed.
pub fn forecast_with_fields(
    facts: &Facts,
    as_of: Ms,
    fields_at: &dyn Fn(&DealFact, Ms) -> DealFields,
    opts: &ForecastOptions,
) -> Forecast {
    let known = facts_as_of(facts, as_of, fields_at);
    let window = Period::year_before(as_of);
    // Per-stage history of the window, over the whole workspace.
    let history = stage_metrics(&known, &Slice::default(), window).stages;
    let index = StageIndex::new(&known);
    let tls: Vec<Timeline<'_>> = known.deals.iter().map(|d| Timeline::build(d, &index)).collect();
    let close = CloseRule::learn(&tls, window);
    let open = tls
        .iter()
        .filter(|t| t.deal.status == DealStatus::Open)
        // `current` holds a position found in `t.stages`, so it is in bounds.
        .map(|t| OpenDeal { deal: t.deal, current: t.current.map(|(i, entered)| (t.stages[i], entered)) });
    forecast_open(open, &history, &close, &known.rates, as_of, opts)
}

/// What a forecast at a moment after every recorded fact reads, as the
/// store's projections keep it (`Store::forecast_inputs`), so that nothing
/// is replayed: the open deals with their current field values and the
/// stage they sit in, and the won deals of the year before.
#[derive(Debug, Clone, Default)]
pub struct ForecastInputs {
    pub pipelines: Vec<PipelineInfo>,
    /// Open deals in id order, each with the stage of its pipeline it sits
    /// in and when it last entered it.
    pub open: Vec<(DealFact, Option<(StageId, Ms)>)>,
    /// Deals won in the year before the moment, in any order:
    /// `(created_at, closed_at)`.
    pub wins: Vec<(Ms, Ms)>,
    /// For the same deals, each stage they had entered before the standing
    /// win: `(stage, last entered, won)`.
    pub win_entries: Vec<(StageId, Ms, Ms)>,
    pub rates: ExchangeRates,
}

/// The forecast at `as_of` from [`ForecastInputs`] and the stage figures of
/// the year before `as_of` (whole workspace). It equals
/// [`forecast_with_fields`] at a moment after every recorded fact; a
/// property test in the store proves it on both engines.
pub fn forecast_from_inputs(
    inputs: &ForecastInputs,
    history: &StageMetrics,
    as_of: Ms,
    opts: &ForecastOptions,
) -> Forecast {
    let stages: HashMap<StageId, &StageInfo> =
        inputs.pipelines.iter().flat_map(|p| p.stages.iter()).map(|s| (s.id, s)).collect();
    let close = CloseRule::from_wins(inputs.wins.iter().copied(), inputs.win_entries.iter().copied());
    let open = inputs.open.iter().map(|(deal, current)| OpenDeal {
        deal,
        current: current.and_then(|(s, entered)| Some((*stages.get(&s)?, entered))),
    });
    forecast_open(open, &history.stages, &close, &inputs.rates, as_of, opts)
}

/// An open deal at the forecast's moment, with the stage it sits in.
struct OpenDeal<'a> {
    deal: &'a DealFact,
    current: Option<(&'a StageInfo, Ms)>,
}

/// The forecast of `open` (in deal order: the sums and the simulation's
/// draws follow it) from the year's stage figures and close rule.
fn forecast_open<'a>(
    open: impl Iterator<Item = OpenDeal<'a>>,
    history: &BTreeMap<StageId, StageFigures>,
    close: &CloseRule,
    rates: &ExchangeRates,
    as_of: Ms,
    opts: &ForecastOptions,
) -> Forecast {
    let mut out = Forecast {
        as_of,
        weighted_pipeline: 0.0,
        weighted_by_month: BTreeMap::new(),
        deal_probability: BTreeMap::new(),
        unforecastable: 0,
        unforecastable_deals: Vec::new(),
        unconverted: 0,
        range: None,
    };
    let mut in_period = Vec::new();
    for o in open.filter(|o| opts.slice.keeps_deal(o.deal)) {
        let d = o.deal;
        // The deal's own, else the learned one, else the stage's.
        let learned = || opts.model.get(&d.id).map(|p| (*p, ProbabilitySource::Model));
        let staged = || {
            let (s, _) = o.current?;
            match s.probability {
                Some(p) => Some((p, ProbabilitySource::Stage)),
                None => history.get(&s.id).and_then(|f| f.stage_conversion).map(|p| (p, ProbabilitySource::History)),
            }
        };
        let p = d.probability.map(|p| (p, ProbabilitySource::Deal)).or_else(learned).or_else(staged);
        let Some((p, source)) = p else {
            out.unforecastable += 1;
            out.unforecastable_deals.push(d.id);
            continue;
        };
        let value = rates.to_base(d.value, &d.currency);
        let expected_close_at = close.expected_close(d, o.current.map(|(s, at)| (s.id, at)), as_of);
        match value {
            Some(v) => {
                let w = v as f64 * p / 100.0;
                out.weighted_pipeline += w;
                *out.weighted_by_month.entry(month_key(expected_close_at)).or_insert(0.0) += w;
                if let (Some(period), Some(c)) = (opts.period, expected_close_at)
                    && period.contains(c)
                {
                    in_period.push((v, p / 100.0));
                }
            }
            None => out.unconverted += 1,
        }
        out.deal_probability.insert(d.id, DealForecast { p, source, value, expected_close_at });
    }
    out.range = opts.period.map(|_| won_value_range(&in_period, opts.runs, opts.seed));
    out
}

/// `YYYY-MM` of an instant in UTC, or `unknown`.
fn month_key(t: Option<Ms>) -> String {
    t.and_then(chrono::DateTime::from_timestamp_millis)
        .map_or_else(|| "unknown".to_string(), |dt| dt.format("%Y-%m").to_string())
}

/// `total / n` milliseconds as fractional days, rounded once.
fn days_exact(total: i128, n: i128) -> f64 {
    // Whole milliseconds of the mean fit an i64 (each cycle does); the
    // remainder adds its fraction.
    let (q, r) = (total.div_euclid(n), total.rem_euclid(n));
    (q as f64 + r as f64 / n as f64) / DAY_MS as f64
}

/// What the window's won deals say about closing dates.
struct CloseRule {
    /// The median days from (last) entering a stage to the win, per stage.
    entry_to_win: HashMap<StageId, f64>,
    /// The window's `sales_cycle_days`.
    cycle_days: Option<f64>,
}

impl CloseRule {
    /// From the window's won deals replayed.
    fn learn(tls: &[Timeline<'_>], window: Period) -> Self {
        let won = || {
            tls.iter().filter_map(move |t| {
                let d = t.deal;
                d.closed_at.filter(|c| d.status == DealStatus::Won && window.contains(*c)).map(|c| (t, c))
            })
        };
        let cycles = won().map(|(t, c)| (t.deal.created_at, c));
        // Only the win that stands (a deal won twice counts once); positions
        // come from `t.stages`, so they are in bounds.
        let entries = won().flat_map(|(t, closed)| {
            t.entry_to_win
                .iter()
                .filter(move |e| e.2 == closed)
                .map(|&(i, entered, won)| (t.stages[i].id, entered, won))
        });
        Self::from_wins(cycles, entries)
    }

    /// From the window's won deals: `(created_at, closed_at)` of each and
    /// the entries of their wins, in any order.
    fn from_wins(wins: impl Iterator<Item = (Ms, Ms)>, entries: impl Iterator<Item = (StageId, Ms, Ms)>) -> Self {
        // The mean cycle from the exact sum of milliseconds, so the order the
        // wins come in (deal order in the replay, index order from the
        // store) cannot change the last bits.
        let (mut total, mut n) = (0i128, 0i128);
        for (created, closed) in wins {
            total += i128::from(closed - created);
            n += 1;
        }
        let cycle_days = (n > 0).then(|| days_exact(total, n));
        let mut per_stage: HashMap<StageId, Vec<f64>> = HashMap::new();
        for (stage, entered, won) in entries {
            per_stage.entry(stage).or_default().push(days(won - entered));
        }
        let entry_to_win = per_stage.into_iter().filter_map(|(s, v)| Some((s, percentile_inc(&v, 0.5)?))).collect();
        CloseRule { entry_to_win, cycle_days }
    }

    /// The expected close of an open deal sitting in `current` (the stage
    /// and when it last entered it), moved to `as_of` when past.
    fn expected_close(&self, d: &DealFact, current: Option<(StageId, Ms)>, as_of: Ms) -> Option<Ms> {
        let from_stage = current.and_then(|(stage, entered)| {
            let median = self.entry_to_win.get(&stage)?;
            Some(entered + (median * DAY_MS as f64).round() as i64)
        });
        let from_cycle = || self.cycle_days.map(|c| d.created_at + (c * DAY_MS as f64).round() as i64);
        let at = d.expected_close_at.or(from_stage).or_else(from_cycle)?;
        Some(at.max(as_of))
    }
}

/// A forecast as of an earlier moment, beside what was really won.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Backtest {
    pub forecast: Forecast,
    /// Of the deals forecast, those now won with `closed_at` in the period:
    /// their count and current value in base minor units.
    pub actual_won_deals: u64,
    pub actual_won_value: i64,
}

/// The forecast as of `as_of` (which reads only facts dated at or before it,
/// plus `fields_at(deal, as_of)`) compared with what the deals it covered
/// really won in `period`.
pub fn backtest(
    facts: &Facts,
    as_of: Ms,
    period: Period,
    fields_at: &dyn Fn(&DealFact, Ms) -> DealFields,
    opts: &ForecastOptions,
) -> Backtest {
    let opts = ForecastOptions { period: Some(period), ..opts.clone() };
    let forecast = forecast_with_fields(facts, as_of, fields_at, &opts);
    let mut actual_won_deals = 0;
    let mut actual_won_value = 0;
    let covered =
        |d: &&DealFact| forecast.deal_probability.contains_key(&d.id) || forecast.unforecastable_deals.contains(&d.id);
    for d in facts.deals.iter().filter(covered) {
        if d.status == DealStatus::Won && d.closed_at.is_some_and(|c| period.contains(c)) {
            actual_won_deals += 1;
            actual_won_value += facts.rates.to_base(d.value, &d.currency).unwrap_or(0);
        }
    }
    Backtest { forecast, actual_won_deals, actual_won_value }
}

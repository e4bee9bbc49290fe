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

use super::facts::{DAY_MS, DealFact, Facts, Ms, OutreachFact, Period, Slice};
use super::history::{StageIndex, Timeline, status_as_of};
use super::montecarlo::{OutcomeRange, won_value_range};
use super::stages::stage_metrics;
use super::{days, mean, percentile_inc};
use crate::ids::{DealId, PipelineId, UserId};
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
/// `fields_at` returns for that moment.
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
    for t in tls.iter().filter(|t| t.deal.status == DealStatus::Open && opts.slice.keeps_deal(t.deal)) {
        let d = t.deal;
        // `current` holds a position found in `t.stages`, so it is in bounds.
        let stage = t.current.map(|(i, _)| t.stages[i]);
        // The deal's own, else the learned one, else the stage's.
        let learned = || opts.model.get(&d.id).map(|p| (*p, ProbabilitySource::Model));
        let staged = || {
            let s = stage?;
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
        let value = known.rates.to_base(d.value, &d.currency);
        let expected_close_at = close.expected_close(t, as_of);
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

/// What the window's won deals say about closing dates.
struct CloseRule {
    /// Days from (last) entering a stage to the win, per (pipeline, position).
    entry_to_win: HashMap<(PipelineId, usize), Vec<f64>>,
    /// The window's `sales_cycle_days`.
    cycle_days: Option<f64>,
}

impl CloseRule {
    fn learn(tls: &[Timeline<'_>], window: Period) -> Self {
        let mut entry_to_win: HashMap<(PipelineId, usize), Vec<f64>> = HashMap::new();
        let mut cycles = Vec::new();
        for t in tls {
            let d = t.deal;
            let Some(closed) = d.closed_at.filter(|c| d.status == DealStatus::Won && window.contains(*c)) else {
                continue;
            };
            cycles.push(days(closed - d.created_at));
            // Only the win that stands (a deal won twice counts once).
            for &(stage, entered, won) in t.entry_to_win.iter().filter(|e| e.2 == closed) {
                entry_to_win.entry((d.pipeline, stage)).or_default().push(days(won - entered));
            }
        }
        CloseRule { entry_to_win, cycle_days: mean(&cycles) }
    }

    /// The expected close of an open deal, moved to `as_of` when past.
    fn expected_close(&self, t: &Timeline<'_>, as_of: Ms) -> Option<Ms> {
        let d = t.deal;
        let from_stage = t.current.and_then(|(i, entered)| {
            let median = percentile_inc(self.entry_to_win.get(&(d.pipeline, i))?, 0.5)?;
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

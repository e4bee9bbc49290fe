//! The facts the metrics engine reads: deals with their stage-event log,
//! outreach messages, pipelines with their stages, and exchange rates.
//!
//! These are plain values on purpose: the store loads them (already without
//! soft-deleted rows) and hands them over, so every formula can be tested
//! without a database. Times are Unix milliseconds (UTC instants).

use crate::ids::{CampaignId, DealId, PersonId, PipelineId, StageId, UserId};
use crate::model::{Channel, DealStatus, EventKind, Milestone, Sentiment};
use std::collections::HashMap;

/// A Unix time in milliseconds.
pub type Ms = i64;

/// Milliseconds in a day; durations are reported in fractional days.
pub const DAY_MS: i64 = 86_400_000;

/// A half-open time range `[from, to)` in Unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: Ms,
    pub to: Ms,
}

impl Period {
    pub fn new(from: Ms, to: Ms) -> Self {
        Period { from, to }
    }

    /// Whether `t` lies in `[from, to)`.
    pub fn contains(&self, t: Ms) -> bool {
        self.from <= t && t < self.to
    }

    /// The 365 days before `t`: the window forecasts learn from.
    pub fn year_before(t: Ms) -> Self {
        Period { from: t - 365 * DAY_MS, to: t }
    }
}

/// What one stage event records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DealEventKind {
    /// The deal entered this stage (by id).
    Enter(StageId),
    Won,
    Lost,
    /// A won or lost deal became open again, in the stage it was in.
    Reopen,
}

impl DealEventKind {
    /// The model's event kind, for callers converting from stored events.
    pub fn kind(&self) -> EventKind {
        match self {
            DealEventKind::Enter(_) => EventKind::Enter,
            DealEventKind::Won => EventKind::Won,
            DealEventKind::Lost => EventKind::Lost,
            DealEventKind::Reopen => EventKind::Reopen,
        }
    }
}

/// One entry of a deal's stage-event log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DealEvent {
    pub at: Ms,
    pub kind: DealEventKind,
}

impl DealEvent {
    pub fn enter(stage: StageId, at: Ms) -> Self {
        DealEvent { at, kind: DealEventKind::Enter(stage) }
    }
    pub fn won(at: Ms) -> Self {
        DealEvent { at, kind: DealEventKind::Won }
    }
    pub fn lost(at: Ms) -> Self {
        DealEvent { at, kind: DealEventKind::Lost }
    }
    pub fn reopen(at: Ms) -> Self {
        DealEvent { at, kind: DealEventKind::Reopen }
    }
}

/// A deal with its current field values and its whole event log.
#[derive(Debug, Clone, PartialEq)]
pub struct DealFact {
    pub id: DealId,
    pub pipeline: PipelineId,
    /// Value in minor units of `currency`.
    pub value: i64,
    pub currency: String,
    pub contract_months: Option<i64>,
    /// The deal's own win probability override, 0–100.
    pub probability: Option<f64>,
    pub expected_close_at: Option<Ms>,
    /// The current owner, `None` when unassigned (slices use the current
    /// owner, docs/metrics.md "Slices").
    pub owner: Option<UserId>,
    pub source: String,
    pub created_at: Ms,
    /// The current status, as the event log leaves it.
    pub status: DealStatus,
    /// The current close time (won or lost); `None` while open.
    pub closed_at: Option<Ms>,
    /// Events in time order (ties keep their stored order).
    pub events: Vec<DealEvent>,
}

/// An outreach message and, when it came, its reply.
#[derive(Debug, Clone, PartialEq)]
pub struct OutreachFact {
    pub person: PersonId,
    /// `None` for a message outside any campaign.
    pub campaign: Option<CampaignId>,
    pub channel: Channel,
    pub sent_at: Ms,
    pub replied_at: Option<Ms>,
    pub sentiment: Option<Sentiment>,
}

/// A stage of a pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct StageInfo {
    pub id: StageId,
    /// Position in the pipeline; stages are compared by it.
    pub order: i64,
    pub milestone: Option<Milestone>,
    /// The configured win probability of the stage, 0–100.
    pub probability: Option<f64>,
}

/// A pipeline and its stages (in any order; `order` decides).
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineInfo {
    pub id: PipelineId,
    pub stages: Vec<StageInfo>,
}

impl PipelineInfo {
    /// The stages sorted by `order`, so an index means "position".
    pub fn ordered_stages(&self) -> Vec<&StageInfo> {
        let mut v: Vec<&StageInfo> = self.stages.iter().collect();
        v.sort_by_key(|s| s.order);
        v
    }
}

/// Exchange rates into the workspace's base currency.
///
/// `rates[c]` is how many minor units of the base currency one minor unit
/// of `c` is worth (callers fold any difference in minor digits into the
/// rate). The base currency itself needs no entry.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExchangeRates {
    pub base: String,
    pub rates: HashMap<String, f64>,
}

impl ExchangeRates {
    /// Rates with only a base currency: other currencies are unconverted.
    pub fn base_only(base: &str) -> Self {
        ExchangeRates { base: base.to_string(), rates: HashMap::new() }
    }

    /// `value` in base minor units, rounded to the nearest unit (money
    /// totals are integers); `None` when the currency has no rate, so the
    /// caller leaves the deal out of money figures instead of summing raw.
    pub fn to_base(&self, value: i64, currency: &str) -> Option<i64> {
        if currency == self.base {
            return Some(value);
        }
        Some((value as f64 * self.rate(currency)?).round() as i64)
    }

    /// Base minor units per minor unit of `currency` (1 for the base
    /// itself); `None` when there is no usable rate.
    pub fn rate(&self, currency: &str) -> Option<f64> {
        if currency == self.base {
            return Some(1.0);
        }
        let rate = *self.rates.get(currency)?;
        (rate.is_finite() && rate >= 0.0).then_some(rate)
    }
}

/// Everything the engine reads about one workspace.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Facts {
    pub pipelines: Vec<PipelineInfo>,
    pub deals: Vec<DealFact>,
    pub outreach: Vec<OutreachFact>,
    pub rates: ExchangeRates,
}

/// Optional filters. Deal facts carry pipeline, owner and source; outreach
/// carries campaign and channel. A slice on a dimension a fact does not
/// carry leaves that fact's figures workspace-wide (the result says so).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Slice {
    pub pipeline: Option<PipelineId>,
    /// Deals of this owner (unassigned deals never match an owner slice).
    pub owner: Option<UserId>,
    pub source: Option<String>,
    /// Messages of this campaign (messages outside campaigns never match).
    pub campaign: Option<CampaignId>,
    pub channel: Option<Channel>,
}

impl Slice {
    pub fn keeps_deal(&self, d: &DealFact) -> bool {
        self.pipeline.is_none_or(|p| p == d.pipeline)
            && self.owner.is_none_or(|o| d.owner == Some(o))
            && self.source.as_ref().is_none_or(|s| *s == d.source)
    }

    pub fn keeps_outreach(&self, o: &OutreachFact) -> bool {
        self.campaign.is_none_or(|c| o.campaign == Some(c)) && self.channel.is_none_or(|c| c == o.channel)
    }

    /// Whether a deal-only dimension is set, so outreach stays workspace-wide.
    pub fn outreach_ignores_slice(&self) -> bool {
        self.pipeline.is_some() || self.owner.is_some() || self.source.is_some()
    }

    /// Whether an outreach-only dimension is set, so deals stay workspace-wide.
    pub fn deals_ignore_slice(&self) -> bool {
        self.campaign.is_some() || self.channel.is_some()
    }
}

//! Activity metrics: what happened during a period (docs/metrics.md "Activity
//! metrics"), under optional slices.

use super::facts::{ExchangeRates, Facts, Period, Slice};
use super::inputs::{ActivityInputs, ClosedKey, ClosedSums, activity_inputs};
use super::{days, pct};
use serde::Serialize;
use std::collections::BTreeMap;

/// The activity figures of one period, with docs/metrics.md's JSON key names.
/// Rates are percentages; `None` (JSON `null`) when the denominator is 0.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ActivityMetrics {
    pub outreach_sent: u64,
    pub replies: u64,
    pub response_rate: Option<f64>,
    pub positive_reply_rate: Option<f64>,
    pub prospects_contacted: u64,
    pub meetings_booked: u64,
    pub meeting_booking_rate: Option<f64>,
    pub proposals_sent: u64,
    pub deals_won: u64,
    pub deals_lost: u64,
    /// Base-currency minor units, converted deals only.
    pub won_value: i64,
    pub win_rate: Option<f64>,
    pub pipeline_deals: u64,
    pub close_rate: Option<f64>,
    pub close_rate_vs_contacted: Option<f64>,
    pub close_rate_vs_meetings: Option<f64>,
    pub close_rate_vs_proposals: Option<f64>,
    /// Unrounded, base minor units.
    pub avg_deal_value: Option<f64>,
    pub acv: Option<f64>,
    pub sales_cycle_days: Option<f64>,
    /// Deals open at the instant `to`.
    pub open_deals: u64,
    /// Expected revenue per day, base minor units.
    pub sales_velocity: Option<f64>,
    /// Deals won in the period whose currency has no exchange rate: left out
    /// of `won_value`, `avg_deal_value`, `acv` and `sales_velocity`.
    pub unconverted: u64,
    /// True when a pipeline, owner or source slice is set: outreach carries
    /// none of these, so outreach figures are workspace-wide.
    pub outreach_workspace_wide: bool,
    /// True when a campaign or channel slice is set: deals carry neither, so
    /// deal figures are workspace-wide.
    pub deals_workspace_wide: bool,
}

/// The activity metrics of `facts` for period `p` under `slice`.
pub fn activity_metrics(facts: &Facts, slice: &Slice, p: Period) -> ActivityMetrics {
    activity_from(&activity_inputs(facts, slice, p), &facts.rates, slice)
}

/// Won deals converted to the base currency.
pub(crate) struct WonMoney {
    /// Deals whose currency has a rate.
    pub converted: u64,
    /// Σ value in base minor units: each currency's total converted once
    /// and rounded to a whole minor unit, so the sum does not depend on how
    /// the deals were grouped.
    pub value: i64,
    /// The same sum unrounded (averages are unrounded).
    pub value_exact: f64,
    /// Σ value per contract year, unrounded.
    pub per_year: f64,
    /// Won deals whose currency has no rate.
    pub unconverted: u64,
}

pub(crate) fn won_money(closed: &BTreeMap<ClosedKey, ClosedSums>, rates: &ExchangeRates) -> WonMoney {
    let mut per_currency: BTreeMap<&str, (u64, i64, f64)> = BTreeMap::new();
    for ((_, currency, months), g) in closed.iter().filter(|(k, _)| k.0) {
        let years = months.map_or(1.0, |m| m.max(12) as f64 / 12.0);
        let e = per_currency.entry(currency).or_default();
        e.0 += g.deals;
        e.1 += g.value;
        e.2 += g.value as f64 / years;
    }
    let mut out = WonMoney { converted: 0, value: 0, value_exact: 0.0, per_year: 0.0, unconverted: 0 };
    for (currency, (deals, sum, per_year)) in per_currency {
        match rates.rate(currency) {
            Some(rate) => {
                out.converted += deals;
                out.value += (sum as f64 * rate).round() as i64;
                out.value_exact += sum as f64 * rate;
                out.per_year += per_year * rate;
            }
            None => out.unconverted += deals,
        }
    }
    out
}

/// The activity figures from their inputs (docs/metrics.md "Activity metrics").
pub fn activity_from(i: &ActivityInputs, rates: &ExchangeRates, slice: &Slice) -> ActivityMetrics {
    let oc = i.outreach;
    let sum = |won: bool| i.closed.iter().filter(|(k, _)| k.0 == won).fold(0, |n, (_, g)| n + g.deals);
    let (deals_won, deals_lost) = (sum(true), sum(false));
    let money = won_money(&i.closed, rates);
    let converted = money.converted;
    let cycle_ms: i64 = i.closed.iter().filter(|(k, _)| k.0).map(|(_, g)| g.cycle_ms).sum();

    let win_rate = pct(deals_won, deals_won + deals_lost);
    let avg_deal_value = (converted > 0).then(|| money.value_exact / converted as f64);
    let sales_cycle_days = (deals_won > 0).then(|| days(cycle_ms) / deals_won as f64);
    let sales_velocity = match (avg_deal_value, win_rate, sales_cycle_days) {
        (Some(avg), Some(wr), Some(cycle)) if cycle != 0.0 => Some(i.open_deals as f64 * avg * (wr / 100.0) / cycle),
        _ => None,
    };

    ActivityMetrics {
        outreach_sent: oc.sent,
        replies: oc.replies,
        response_rate: pct(oc.replies, oc.sent),
        positive_reply_rate: pct(oc.positive, oc.replies),
        prospects_contacted: oc.prospects,
        meetings_booked: i.meetings_booked,
        meeting_booking_rate: pct(i.meetings_booked, oc.prospects),
        proposals_sent: i.proposals_sent,
        deals_won,
        deals_lost,
        won_value: money.value,
        win_rate,
        pipeline_deals: i.pipeline_deals,
        close_rate: pct(deals_won, i.pipeline_deals),
        close_rate_vs_contacted: pct(deals_won, oc.prospects),
        close_rate_vs_meetings: pct(deals_won, i.meetings_booked),
        close_rate_vs_proposals: pct(deals_won, i.proposals_sent),
        avg_deal_value,
        acv: (converted > 0).then(|| money.per_year / converted as f64),
        sales_cycle_days,
        open_deals: i.open_deals,
        sales_velocity,
        unconverted: money.unconverted,
        outreach_workspace_wide: slice.outreach_ignores_slice(),
        deals_workspace_wide: slice.deals_ignore_slice(),
    }
}

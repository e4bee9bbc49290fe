//! Activity metrics: what happened during a period (METRICS.md "Activity
//! metrics"), under optional slices.

use super::facts::{DealFact, Facts, Period, Slice};
use super::history::{StageIndex, Timeline, open_before};
use super::{days, mean, pct};
use crate::model::{DealStatus, Milestone, Sentiment};
use serde::Serialize;
use std::collections::HashSet;

/// The activity figures of one period, with METRICS.md's JSON key names.
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

/// The deals a slice keeps (all of them under an outreach-only slice).
pub(crate) fn sliced_deals<'a>(facts: &'a Facts, slice: &'a Slice) -> impl Iterator<Item = &'a DealFact> {
    facts.deals.iter().filter(move |d| slice.keeps_deal(d))
}

/// The outreach figures' counts for a period.
pub(crate) struct OutreachCounts {
    pub sent: u64,
    pub replies: u64,
    pub positive: u64,
    pub prospects: u64,
}

pub(crate) fn outreach_counts(facts: &Facts, slice: &Slice, p: Period) -> OutreachCounts {
    let mut c = OutreachCounts { sent: 0, replies: 0, positive: 0, prospects: 0 };
    let mut people = HashSet::new();
    for o in facts.outreach.iter().filter(|o| slice.keeps_outreach(o) && p.contains(o.sent_at)) {
        c.sent += 1;
        people.insert(o.person.as_str());
        // A reply counts whenever it came, even after the period.
        if o.replied_at.is_some() {
            c.replies += 1;
            if o.sentiment == Some(Sentiment::Positive) {
                c.positive += 1;
            }
        }
    }
    c.prospects = people.len() as u64;
    c
}

/// Deals that first reached a stage with milestone `m` during `p`.
pub(crate) fn first_reached_in(tls: &[Timeline<'_>], m: Milestone, p: Period) -> u64 {
    tls.iter().filter(|t| t.milestone_reach(m).is_some_and(|at| p.contains(at))).count() as u64
}

/// Deals closed (current outcome and `closed_at`) during `p` with `status`.
pub(crate) fn closed_in<'a>(
    deals: impl Iterator<Item = &'a DealFact>,
    p: Period,
    status: DealStatus,
) -> impl Iterator<Item = &'a DealFact> {
    deals.filter(move |d| d.status == status && d.closed_at.is_some_and(|c| p.contains(c)))
}

/// The activity metrics of `facts` for period `p` under `slice`.
pub fn activity_metrics(facts: &Facts, slice: &Slice, p: Period) -> ActivityMetrics {
    let index = StageIndex::new(facts);
    let deals: Vec<&DealFact> = sliced_deals(facts, slice).collect();
    let tls: Vec<Timeline<'_>> = deals.iter().map(|d| Timeline::build(d, &index)).collect();
    let oc = outreach_counts(facts, slice, p);

    let meetings_booked = first_reached_in(&tls, Milestone::Meeting, p);
    let proposals_sent = first_reached_in(&tls, Milestone::Proposal, p);

    let won: Vec<&DealFact> = closed_in(deals.iter().copied(), p, DealStatus::Won).collect();
    let deals_won = won.len() as u64;
    let deals_lost = closed_in(deals.iter().copied(), p, DealStatus::Lost).count() as u64;

    // Money figures read only deals with a rate into the base currency.
    let mut won_value: i64 = 0;
    let mut values = Vec::new();
    let mut acvs = Vec::new();
    let mut unconverted = 0;
    for d in &won {
        match facts.rates.to_base(d.value, &d.currency) {
            Some(v) => {
                won_value += v;
                values.push(v as f64);
                let years = d.contract_months.map_or(1.0, |m| m.max(12) as f64 / 12.0);
                acvs.push(v as f64 / years);
            }
            None => unconverted += 1,
        }
    }
    let cycles: Vec<f64> = won.iter().filter_map(|d| d.closed_at.map(|c| days(c - d.created_at))).collect();

    // Open at any moment of P, judged on current values (METRICS.md).
    let pipeline_deals = deals
        .iter()
        .filter(|d| d.created_at < p.to && (d.status == DealStatus::Open || d.closed_at.is_some_and(|c| c >= p.from)))
        .count() as u64;
    let open_deals = deals.iter().filter(|d| open_before(d, p.to)).count() as u64;

    let win_rate = pct(deals_won, deals_won + deals_lost);
    let avg_deal_value = mean(&values);
    let sales_cycle_days = mean(&cycles);
    let sales_velocity = match (avg_deal_value, win_rate, sales_cycle_days) {
        (Some(avg), Some(wr), Some(cycle)) if cycle != 0.0 => Some(open_deals as f64 * avg * (wr / 100.0) / cycle),
        _ => None,
    };

    ActivityMetrics {
        outreach_sent: oc.sent,
        replies: oc.replies,
        response_rate: pct(oc.replies, oc.sent),
        positive_reply_rate: pct(oc.positive, oc.replies),
        prospects_contacted: oc.prospects,
        meetings_booked,
        meeting_booking_rate: pct(meetings_booked, oc.prospects),
        proposals_sent,
        deals_won,
        deals_lost,
        won_value,
        win_rate,
        pipeline_deals,
        close_rate: pct(deals_won, pipeline_deals),
        close_rate_vs_contacted: pct(deals_won, oc.prospects),
        close_rate_vs_meetings: pct(deals_won, meetings_booked),
        close_rate_vs_proposals: pct(deals_won, proposals_sent),
        avg_deal_value,
        acv: mean(&acvs),
        sales_cycle_days,
        open_deals,
        sales_velocity,
        unconverted,
        outreach_workspace_wide: slice.outreach_ignores_slice(),
        deals_workspace_wide: slice.deals_ignore_slice(),
    }
}

//! The facts of one audit item from what the store read about the deal:
//! the three answers, the flags, and the changes since the previous audit.
//! Definitions: docs/metrics.md "Audit facts".

use super::{Change, DEFAULT_NO_CONTACT_DAYS, Flag, Item, NextAction, PreviousAction};
use crate::agenda::{is_overdue, is_rotting};
use crate::ids::{DealId, StageId, UserId};
use crate::time::{Date, Timestamp};
use serde_json::json;

const DAY_MS: i64 = 86_400_000;

/// The deal's score and the pipeline's published thresholds.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreInput {
    pub total: f64,
    pub disqualify_below: Option<f64>,
    /// Marked disqualified (by a threshold or by hand).
    pub disqualified: bool,
}

/// What the store read about one open deal.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemInput {
    pub deal_id: DealId,
    pub stage_id: StageId,
    pub title: String,
    pub value: i64,
    pub currency: String,
    pub owner_id: Option<UserId>,
    pub expected_close_date: Option<Date>,
    pub stage_entered_at: Timestamp,
    /// The latest contact of any counted kind, `None` if never contacted.
    pub contact_at: Option<Timestamp>,
    pub next_action: Option<NextAction>,
    pub rotting_days: Option<i64>,
    /// The stage's 90th percentile of time in stage over the last 365 days.
    pub stage_p90_days: Option<f64>,
    /// How often the expected close date was moved later.
    pub close_date_pushes: u32,
    /// Open playbook steps of the current stage past their due time.
    pub open_steps_overdue: u32,
    /// Moves past open required steps since the previous audit.
    pub overrides_since: u32,
    /// `None` without a published scoring model for the pipeline.
    pub score: Option<ScoreInput>,
    /// The deal's item in the previous audit of the pipeline.
    pub previous: Option<Item>,
    pub previous_action: Option<PreviousAction>,
}

/// When the audit is taken and the pipeline's threshold of days without
/// contact.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clock {
    pub now: Timestamp,
    /// Today in the workspace's time zone.
    pub today: Date,
    pub no_contact_days: i64,
}

impl Clock {
    pub fn new(now: Timestamp, today: Date) -> Self {
        Clock { now, today, no_contact_days: DEFAULT_NO_CONTACT_DAYS }
    }
}

/// The item of one deal.
pub fn item(i: ItemInput, c: Clock) -> Item {
    let last_contact_at = i.contact_at.unwrap_or(i.stage_entered_at);
    let since = c.now.0.saturating_sub(last_contact_at.0);
    let mut flags = Vec::new();
    let mut flag = |on: bool, f: Flag| {
        if on {
            flags.push(f);
        }
    };
    flag(i.next_action.is_none(), Flag::NoNextAction);
    flag(i.next_action.as_ref().is_some_and(|n| is_overdue(n.due_at, false, c.now)), Flag::NextActionOverdue);
    flag(is_rotting(i.rotting_days, i.stage_entered_at, i.contact_at, c.now), Flag::Rotting);
    let in_stage_days = c.now.0.saturating_sub(i.stage_entered_at.0) as f64 / DAY_MS as f64;
    flag(i.stage_p90_days.is_some_and(|p| in_stage_days > p), Flag::Stuck);
    flag(since > c.no_contact_days.saturating_mul(DAY_MS), Flag::NoContact14d);
    flag(i.expected_close_date.is_some_and(|d| d < c.today), Flag::CloseDatePast);
    flag(i.close_date_pushes >= 2, Flag::CloseDatePushed);
    flag(i.open_steps_overdue > 0, Flag::OpenStepsOverdue);
    flag(i.overrides_since > 0, Flag::OverrideSinceLastAudit);
    let below = i.score.as_ref().is_some_and(|s| s.disqualify_below.is_some_and(|t| s.total < t));
    flag(below, Flag::BelowThreshold);
    let (qualified, qualified_reason) = qualified(i.score.as_ref());
    let score = i.score.as_ref().map(|s| s.total);
    let changes = i.previous.as_ref().map(|p| changes(p, &i, score)).unwrap_or_default();
    let carried_over = match &i.previous {
        Some(p) if changes.is_empty() => p.carried_over + 1,
        _ => 0,
    };
    Item {
        deal_id: i.deal_id,
        stage_id: i.stage_id,
        title: i.title,
        value: i.value,
        currency: i.currency,
        owner_id: i.owner_id,
        expected_close_date: i.expected_close_date,
        score,
        last_contact_at,
        days_since_contact: since / DAY_MS,
        qualified,
        qualified_reason,
        next_action: i.next_action,
        flags,
        changes,
        in_previous: i.previous.is_some(),
        carried_over,
        previous_action: i.previous_action,
    }
}

/// Qualified: the score at or above `disqualify_below` and not marked
/// disqualified; unknown without a published model.
fn qualified(s: Option<&ScoreInput>) -> (Option<bool>, String) {
    let Some(s) = s else { return (None, "no published scoring model for the pipeline".into()) };
    let total = fmt(s.total);
    if s.disqualified {
        return (Some(false), format!("marked disqualified (score {total})"));
    }
    match s.disqualify_below {
        Some(t) if s.total < t => (Some(false), format!("score {total} is below the threshold {}", fmt(t))),
        Some(t) => (Some(true), format!("score {total} is at or above the threshold {}", fmt(t))),
        None => (Some(true), format!("score {total}; the model sets no disqualify threshold")),
    }
}

fn fmt(x: f64) -> String {
    let r = (x * 100.0).round() / 100.0;
    if r.fract() == 0.0 { format!("{r:.0}") } else { format!("{r}") }
}

fn changes(p: &Item, i: &ItemInput, score: Option<f64>) -> Vec<Change> {
    let mut out = Vec::new();
    let mut diff = |field: &str, before: serde_json::Value, after: serde_json::Value| {
        if before != after {
            out.push(Change { field: field.into(), before, after });
        }
    };
    diff("stage", json!(p.stage_id), json!(i.stage_id));
    diff("value", json!([p.value, p.currency]), json!([i.value, i.currency]));
    diff("expected_close_date", json!(p.expected_close_date), json!(i.expected_close_date));
    let round = |s: Option<f64>| s.map(|x| (x * 100.0).round() / 100.0);
    diff("score", json!(round(p.score)), json!(round(score)));
    diff("owner", json!(p.owner_id), json!(i.owner_id));
    out
}

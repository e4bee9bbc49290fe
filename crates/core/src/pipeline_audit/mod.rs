//! The weekly pipeline audit: a snapshot of every open deal of a pipeline
//! with the three answers the meeting asks for (last contact, still
//! qualified, next action), the flags that say what needs a look, what
//! changed since the previous audit, and the decisions taken.
//!
//! Pure: the store gathers an [`ItemInput`] per deal in one consistent read
//! and calls [`facts::item`]; deciding is checked here ([`Decision::check`])
//! and carried out by the store through the deal's normal write path.

pub mod decision;
pub mod facts;
pub mod schedule;
pub mod summary;
#[cfg(test)]
mod tests;

pub use decision::{Decision, DecisionKind, NextActionInput};
pub use facts::{ItemInput, item};
pub use summary::{Hygiene, Summary, hygiene, summarize};

use crate::ids::{ActivityId, DealId, StageId, UserId};
use crate::time::{Date, Timestamp};
use serde::{Deserialize, Serialize};

/// Days without contact that raise `no_contact_14d` unless the pipeline
/// says otherwise.
pub const DEFAULT_NO_CONTACT_DAYS: i64 = 14;

crate::text_enum!(
    /// Why a deal needs a look (docs/metrics.md "Audit facts").
    Flag {
        NoNextAction = "no_next_action",
        NextActionOverdue = "next_action_overdue",
        Rotting = "rotting",
        Stuck = "stuck",
        #[serde(rename = "no_contact_14d")]
        NoContact14d = "no_contact_14d",
        CloseDatePast = "close_date_past",
        CloseDatePushed = "close_date_pushed",
        OpenStepsOverdue = "open_steps_overdue",
        OverrideSinceLastAudit = "override_since_last_audit",
        BelowThreshold = "below_threshold",
    }
);

crate::text_enum!(
    /// An audit is open until a manager signs it off.
    AuditStatus { Open = "open", SignedOff = "signed_off" }
);

/// The deal's earliest open activity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NextAction {
    pub activity_id: ActivityId,
    pub subject: String,
    pub due_at: Option<Timestamp>,
}

/// A field that changed since the previous audit of the pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Change {
    /// `stage`, `value`, `expected_close_date`, `score` or `owner`.
    pub field: String,
    #[schema(value_type = Object)]
    pub before: serde_json::Value,
    #[schema(value_type = Object)]
    pub after: serde_json::Value,
}

/// What became of an activity a `keep` decision of the previous audit
/// created: checked when the next audit is taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PreviousAction {
    pub activity_id: ActivityId,
    pub subject: String,
    pub done: bool,
}

/// One open deal of an audit, as it stood when the audit was taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Item {
    pub deal_id: DealId,
    pub stage_id: StageId,
    pub title: String,
    /// In the deal's currency's minor units.
    pub value: i64,
    pub currency: String,
    pub owner_id: Option<UserId>,
    pub expected_close_date: Option<Date>,
    /// The score total when the pipeline has a published model.
    pub score: Option<f64>,
    /// The latest contact, or the entry into the current stage when the
    /// deal was never contacted.
    pub last_contact_at: Timestamp,
    pub days_since_contact: i64,
    /// `null` without a published scoring model (unknown).
    pub qualified: Option<bool>,
    pub qualified_reason: String,
    pub next_action: Option<NextAction>,
    pub flags: Vec<Flag>,
    /// Changes since the previous audit of the pipeline; empty for a deal
    /// that was not in it.
    pub changes: Vec<Change>,
    /// Whether the deal was in the previous audit.
    pub in_previous: bool,
    /// Audits in a row (before this one) the deal was in without a change.
    pub carried_over: u32,
    pub previous_action: Option<PreviousAction>,
}

//! A decision on an audit item and the deal change it makes. The change is
//! an ordinary [`DealPatch`] (or a new activity for `keep` with a next
//! action), so it goes through the deal-change decision and its gates like
//! any other edit.

use crate::ids::{StageId, UserId};
use crate::model::{ActivityKind, DealPatch, DealStatus, NewActivity};
use crate::time::{Date, Timestamp};
use crate::validate::required_text;
use crate::{DealId, Invalid};
use serde::{Deserialize, Serialize};

crate::text_enum!(
    /// What the meeting decided for a deal.
    DecisionKind {
        Keep = "keep",
        Disqualify = "disqualify",
        Move = "move",
        Reassign = "reassign",
        UpdateCloseDate = "update_close_date",
    }
);

/// The activity a `keep` decision creates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NextActionInput {
    pub subject: String,
    pub due_at: Option<Timestamp>,
}

/// Body of `POST /api/v1/audits/{id}/items/{deal_id}/decision`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub kind: DecisionKind,
    pub note: Option<String>,
    /// `disqualify`: the lost reason (default "Disqualified (audit)").
    pub lost_reason: Option<String>,
    /// `move`: the stage to move to.
    pub stage_id: Option<StageId>,
    /// `move`: the reason for passing open required steps (roles that may
    /// override only).
    pub override_reason: Option<String>,
    /// `reassign`: the new owner.
    pub owner_id: Option<UserId>,
    /// `update_close_date`: the new expected close date.
    pub expected_close_date: Option<Date>,
    /// `keep`: a corrected next action, created as a task on the deal.
    pub next_action: Option<NextActionInput>,
}

/// The lost reason of a `disqualify` that names none.
pub const DISQUALIFIED_REASON: &str = "Disqualified (audit)";

/// What a checked decision does to the deal.
#[derive(Debug, Clone)]
pub enum Action {
    /// Nothing but the record (a `keep` without a next action).
    None,
    /// Changes the deal (at the version the caller read).
    Patch(Box<DealPatch>),
    /// Creates an activity.
    Activity(Box<NewActivity>),
}

impl Decision {
    /// Checks the fields its kind needs (each named when missing or out of
    /// place) and turns it into the change it makes on `deal` at `version`.
    pub fn check(&self, deal: DealId, version: i64) -> Result<Action, Invalid> {
        let mut errs = Invalid::new();
        if let Some(n) = &self.note {
            errs.take(required_text("note", n, 2000));
        }
        let kind = self.kind.as_str();
        let stray = |errs: &mut Invalid, name: &str, set: bool, wants: &str| {
            if set {
                errs.add(name, format!("does not belong to a `{kind}` decision; it goes with `{wants}`"));
            }
        };
        use DecisionKind::*;
        stray(&mut errs, "lost_reason", self.lost_reason.is_some() && self.kind != Disqualify, "disqualify");
        stray(&mut errs, "stage_id", self.stage_id.is_some() && self.kind != Move, "move");
        stray(&mut errs, "override_reason", self.override_reason.is_some() && self.kind != Move, "move");
        stray(&mut errs, "owner_id", self.owner_id.is_some() && self.kind != Reassign, "reassign");
        let date = self.expected_close_date.is_some() && self.kind != UpdateCloseDate;
        stray(&mut errs, "expected_close_date", date, "update_close_date");
        stray(&mut errs, "next_action", self.next_action.is_some() && self.kind != Keep, "keep");
        let need = |errs: &mut Invalid, name: &str, set: bool| {
            if !set {
                errs.add(name, format!("is required for a `{kind}` decision"));
            }
        };
        let patch = DealPatch { version, ..DealPatch::default() };
        let action = match self.kind {
            Keep => match &self.next_action {
                None => Action::None,
                Some(n) => {
                    let subject = errs.take(required_text("next_action.subject", &n.subject, 200));
                    Action::Activity(Box::new(NewActivity {
                        kind: Some(ActivityKind::Task),
                        subject: subject.unwrap_or_default(),
                        due_at: n.due_at,
                        deal_id: Some(deal),
                        ..NewActivity::default()
                    }))
                }
            },
            Disqualify => {
                let reason = self.lost_reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
                Action::Patch(Box::new(DealPatch {
                    status: Some(DealStatus::Lost),
                    lost_reason: Some(reason.unwrap_or(DISQUALIFIED_REASON).to_string()),
                    ..patch
                }))
            }
            Move => {
                need(&mut errs, "stage_id", self.stage_id.is_some());
                Action::Patch(Box::new(DealPatch {
                    stage_id: self.stage_id,
                    override_reason: self.override_reason.clone(),
                    ..patch
                }))
            }
            Reassign => {
                need(&mut errs, "owner_id", self.owner_id.is_some());
                Action::Patch(Box::new(DealPatch { owner_id: Some(self.owner_id), ..patch }))
            }
            UpdateCloseDate => {
                need(&mut errs, "expected_close_date", self.expected_close_date.is_some());
                Action::Patch(Box::new(DealPatch { expected_close_date: Some(self.expected_close_date), ..patch }))
            }
        };
        errs.into_result()?;
        Ok(action)
    }
}

//! What the API shows of a deal's checklist: its items, the moves it may
//! make now, and the overrides recorded.

use super::{OpenStep, StepKind, StepStatus};
use crate::text_enum;
use crate::time::Timestamp;
use crate::{ActivityId, DealId, EventId, StageId, StepId, UserId};
use serde::Serialize;

text_enum!(
    /// Where an automatic e-mail step's send is: a job will send it
    /// (`scheduled`), it went out (`sent`), or it could not (`failed`).
    EmailState { Scheduled = "scheduled", Sent = "sent", Failed = "failed" }
);

/// One step of the deal's current stage, as `GET /api/v1/deals/{id}/steps`
/// lists it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ChecklistItem {
    pub step_id: StepId,
    pub title: String,
    pub kind: StepKind,
    pub required: bool,
    pub status: StepStatus,
    pub due_at: Option<Timestamp>,
    pub done_at: Option<Timestamp>,
    pub done_by: Option<UserId>,
    /// The task the step made, if any.
    pub activity_id: Option<ActivityId>,
    /// Why the step is skipped, failed or waiting.
    pub reason: Option<String>,
    /// Automatic e-mail steps: where the send is (absent while the e-mail
    /// waits for a due time, or for "send now").
    pub email_state: Option<EmailState>,
    /// Automatic e-mail steps: what the mail server (or its absence) said
    /// at the last failed attempt, while the send is retried or failed.
    pub last_error: Option<String>,
    /// Automatic e-mail steps: the background job that sends it (see
    /// `GET /api/v1/jobs`; a failed one can be retried).
    pub job_id: Option<String>,
}

/// Where a deal may go now, as `GET /api/v1/deals/{id}/moves` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Move {
    /// The target stage, or `None` for won.
    pub stage_id: Option<StageId>,
    /// `stage` or `won`.
    pub target: &'static str,
    pub allowed: bool,
    /// The required steps of the current stage still open, when they block
    /// this move.
    pub open_steps: Vec<OpenStep>,
    /// The stages this move would skip, when the pipeline allows no
    /// skipping stages: the deal must go through them first (empty
    /// otherwise).
    pub stages_first: Vec<StageRef>,
}

/// A stage named in a refusal.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StageRef {
    pub id: StageId,
    pub name: String,
}

/// A move made past open required steps, as `GET /api/v1/overrides` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OverrideRecord {
    pub event_id: EventId,
    pub deal_id: DealId,
    pub stage_id: StageId,
    pub from_stage_id: Option<StageId>,
    pub at: Timestamp,
    pub by: Option<UserId>,
    pub reason: String,
    pub open_steps: Vec<OpenStep>,
}

/// How far a deal is through its current stage's checklist, as a board
/// card shows it ("3/5"), and whether an open required step blocks a
/// forward move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// Steps done or skipped, required and optional alike.
    pub done: usize,
    pub total: usize,
    pub blocked: bool,
}

impl Progress {
    /// The progress of the deal `rec` over the stage's steps in `facts`.
    pub fn of(facts: &super::gate::Facts, rec: &super::gate::Records) -> Self {
        let mut p = Progress { total: facts.steps.len(), ..Default::default() };
        for s in facts.steps {
            if super::gate::is_done(s, facts, rec) {
                p.done += 1;
            } else if s.spec.required {
                p.blocked = true;
            }
        }
        p
    }
}

//! What the API shows of a deal's checklist: its items, the moves it may
//! make now, and the overrides recorded.

use super::{OpenStep, StepKind, StepStatus};
use crate::time::Timestamp;
use crate::{ActivityId, DealId, EventId, StageId, StepId, UserId};
use serde::Serialize;

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
    /// Why the step is skipped or failed.
    pub reason: Option<String>,
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

//! The one place where a deal's stage and outcome change. Board drags, API
//! PATCHes, imports and (later) automations all call [`plan_move`], which
//! checks the move and returns the stage events to append and the deal's new
//! position; the store writes both in one transaction. Gates (SOP checklist,
//! required fields, qualification) belong here too.

use crate::model::{DealStatus, EventKind, Stage, StageEvent};
use crate::time::Timestamp;
use crate::{Invalid, PipelineId, StageId};

/// What the deal looks like before the change.
#[derive(Debug, Clone)]
pub struct Position {
    pub pipeline_id: PipelineId,
    pub stage_id: StageId,
    pub status: DealStatus,
    pub lost_reason: Option<String>,
    pub closed_at: Option<Timestamp>,
    pub stage_entered_at: Timestamp,
}

/// What the caller asks for; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct MoveRequest {
    pub pipeline_id: Option<PipelineId>,
    pub stage_id: Option<StageId>,
    pub status: Option<DealStatus>,
    pub lost_reason: Option<String>,
}

/// Everything the rules need to know about the workspace.
pub struct Context<'a> {
    /// Stages of the target pipeline, in order (archived ones included).
    pub target_stages: &'a [Stage],
    /// Whether the target pipeline is archived.
    pub target_archived: bool,
    /// Whether losing a deal needs a reason.
    pub require_lost_reason: bool,
    /// Labels of the workspace's lost reasons, for canonical spelling.
    pub lost_reasons: &'a [String],
    /// When the change happens.
    pub at: Timestamp,
    /// The time of the deal's latest stage event; the log stays in order.
    pub last_event_at: Option<Timestamp>,
}

/// An event to append.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedEvent {
    pub kind: EventKind,
    pub pipeline_id: PipelineId,
    pub stage_id: StageId,
    pub from_stage_id: Option<StageId>,
    pub lost_reason: Option<String>,
    pub at: Timestamp,
}

impl PlannedEvent {
    /// The event as the log stores it, with its id, deal and author.
    pub fn stored(&self, id: crate::EventId, deal: crate::DealId, user: Option<crate::UserId>) -> StageEvent {
        StageEvent {
            id,
            deal_id: deal,
            kind: self.kind,
            pipeline_id: self.pipeline_id,
            stage_id: self.stage_id,
            from_stage_id: self.from_stage_id,
            lost_reason: self.lost_reason.clone(),
            at: self.at,
            user_id: user,
            override_reason: None,
            override_by: None,
            override_steps: Vec::new(),
            origin: crate::model::EventOrigin::Live,
        }
    }
}

/// The result: the new position and the events that lead to it (empty when
/// nothing changes).
#[derive(Debug, Clone)]
pub struct Plan {
    pub position: Position,
    pub events: Vec<PlannedEvent>,
}

/// Checks a stage/outcome change and plans its events.
pub fn plan_move(cur: &Position, req: &MoveRequest, ctx: &Context) -> Result<Plan, Invalid> {
    let mut errs = Invalid::new();
    let pipeline_id = req.pipeline_id.unwrap_or(cur.pipeline_id);
    let changing_pipeline = pipeline_id != cur.pipeline_id;
    if changing_pipeline && ctx.target_archived {
        errs.add("pipeline_id", "this pipeline is archived; unarchive it or choose another");
    }
    let stage_id = match req.stage_id {
        Some(s) => s,
        None if changing_pipeline => match ctx.target_stages.iter().find(|s| !s.archived) {
            Some(s) => s.id,
            None => {
                errs.add("pipeline_id", "this pipeline has no active stage to move the deal into");
                cur.stage_id
            }
        },
        None => cur.stage_id,
    };
    let changing_stage = stage_id != cur.stage_id || changing_pipeline;
    if changing_stage {
        match ctx.target_stages.iter().find(|s| s.id == stage_id) {
            None => errs.add(
                "stage_id",
                format!(
                    "stage {stage_id} is not a stage of pipeline {pipeline_id}; pick one of that pipeline's stages"
                ),
            ),
            Some(s) if s.archived => errs.add("stage_id", "this stage is archived; pick an active stage"),
            Some(_) => {}
        }
    }
    let status = req.status.unwrap_or(cur.status);
    let reason = req.lost_reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    if reason.is_some() && status != DealStatus::Lost {
        errs.add("lost_reason", "is only accepted when the deal is marked lost (status: lost)");
    }
    if let Some(r) = reason
        && r.chars().count() > 200
    {
        errs.add("lost_reason", "is too long: at most 200 characters");
    }
    let newly_lost = status == DealStatus::Lost && cur.status != DealStatus::Lost;
    if newly_lost && reason.is_none() && ctx.require_lost_reason {
        errs.add("lost_reason", "is required to mark a deal lost; choose one of the workspace's lost reasons");
    }
    if changing_stage && cur.status != DealStatus::Open && req.status != Some(DealStatus::Open) {
        errs.add("stage_id", format!("the deal is {}; reopen it (status: open) before moving it", cur.status));
    }
    if let Some(last) = ctx.last_event_at
        && ctx.at < last
        && (changing_stage || status != cur.status)
    {
        errs.add(
            "at",
            format!("lies before the deal's latest stage event ({}); stage history stays in order", last.to_rfc3339()),
        );
    }
    errs.into_result()?;

    let canonical =
        |r: &str| ctx.lost_reasons.iter().find(|l| l.eq_ignore_ascii_case(r)).cloned().unwrap_or_else(|| r.to_string());
    let at = ctx.at;
    let mut events = Vec::new();
    let mut pos = cur.clone();
    // Leaving a closed state comes first, so the deal is open when it moves.
    if cur.status != DealStatus::Open && status != cur.status {
        events.push(PlannedEvent {
            kind: EventKind::Reopen,
            pipeline_id: cur.pipeline_id,
            stage_id: cur.stage_id,
            from_stage_id: None,
            lost_reason: None,
            at,
        });
        pos.status = DealStatus::Open;
        pos.closed_at = None;
        pos.lost_reason = None;
    }
    if changing_stage {
        events.push(PlannedEvent {
            kind: EventKind::Enter,
            pipeline_id,
            stage_id,
            from_stage_id: Some(cur.stage_id),
            lost_reason: None,
            at,
        });
        pos.pipeline_id = pipeline_id;
        pos.stage_id = stage_id;
        pos.stage_entered_at = at;
    }
    if status != DealStatus::Open && status != cur.status {
        let lost_reason = if status == DealStatus::Lost { reason.map(canonical) } else { None };
        events.push(PlannedEvent {
            kind: if status == DealStatus::Won { EventKind::Won } else { EventKind::Lost },
            pipeline_id,
            stage_id,
            from_stage_id: None,
            lost_reason: lost_reason.clone(),
            at,
        });
        pos.status = status;
        pos.closed_at = Some(at);
        pos.lost_reason = lost_reason;
    } else if status == DealStatus::Lost
        && let Some(r) = reason
    {
        // Correcting the reason of an already lost deal is not a stage event.
        pos.lost_reason = Some(canonical(r));
    }
    Ok(Plan { position: pos, events })
}

/// Plans the events of a new deal: it enters `stage_id` at `created_at`,
/// and, when loaded as won or lost, closes at `closed_at`.
#[allow(clippy::too_many_arguments)]
pub fn plan_create(
    pipeline_id: PipelineId,
    stage_id: StageId,
    stages: &[Stage],
    status: DealStatus,
    lost_reason: Option<String>,
    created_at: Timestamp,
    closed_at: Option<Timestamp>,
    require_lost_reason: bool,
    lost_reasons: &[String],
) -> Result<Plan, Invalid> {
    let mut errs = Invalid::new();
    match stages.iter().find(|s| s.id == stage_id) {
        None => errs.add(
            "stage_id",
            format!("stage {stage_id} is not a stage of pipeline {pipeline_id}; pick one of that pipeline's stages"),
        ),
        Some(s) if s.archived => errs.add("stage_id", "this stage is archived; pick an active stage"),
        Some(_) => {}
    }
    if status == DealStatus::Open && closed_at.is_some() {
        errs.add("closed_at", "is only accepted for a deal created as won or lost");
    }
    if let Some(c) = closed_at
        && c < created_at
    {
        errs.add("closed_at", "lies before created_at");
    }
    errs.into_result()?;
    let start = Position {
        pipeline_id,
        stage_id,
        status: DealStatus::Open,
        lost_reason: None,
        closed_at: None,
        stage_entered_at: created_at,
    };
    let enter = PlannedEvent {
        kind: EventKind::Enter,
        pipeline_id,
        stage_id,
        from_stage_id: None,
        lost_reason: None,
        at: created_at,
    };
    if status == DealStatus::Open {
        if lost_reason.is_some() {
            return Err(Invalid::one("lost_reason", "is only accepted when the deal is marked lost (status: lost)"));
        }
        return Ok(Plan { position: start, events: vec![enter] });
    }
    let ctx = Context {
        target_stages: stages,
        target_archived: false,
        require_lost_reason,
        lost_reasons,
        at: closed_at.unwrap_or(created_at),
        last_event_at: Some(created_at),
    };
    let req = MoveRequest { status: Some(status), lost_reason, ..Default::default() };
    let mut plan = plan_move(&start, &req, &ctx)?;
    plan.events.insert(0, enter);
    Ok(plan)
}

/// Rebuilds a deal's position from its stage log (oldest first). The deal
/// row caches exactly this; tests prove the two agree.
pub fn replay(events: &[crate::model::StageEvent]) -> Option<Position> {
    let mut pos: Option<Position> = None;
    for e in events {
        match e.kind {
            EventKind::Enter => {
                let p = pos.get_or_insert(Position {
                    pipeline_id: e.pipeline_id,
                    stage_id: e.stage_id,
                    status: DealStatus::Open,
                    lost_reason: None,
                    closed_at: None,
                    stage_entered_at: e.at,
                });
                p.pipeline_id = e.pipeline_id;
                p.stage_id = e.stage_id;
                p.stage_entered_at = e.at;
            }
            EventKind::Won | EventKind::Lost => {
                if let Some(p) = pos.as_mut() {
                    p.status = if e.kind == EventKind::Won { DealStatus::Won } else { DealStatus::Lost };
                    p.closed_at = Some(e.at);
                    p.lost_reason = e.lost_reason.clone();
                }
            }
            EventKind::Reopen => {
                if let Some(p) = pos.as_mut() {
                    p.status = DealStatus::Open;
                    p.closed_at = None;
                    p.lost_reason = None;
                }
            }
        }
    }
    pos
}

#[cfg(test)]
pub(crate) mod tests;

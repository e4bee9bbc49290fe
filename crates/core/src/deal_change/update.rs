//! [`decide_update`]: a patch applied to a deal.

use super::{Context, Decision, check_found, tracked_changes};
use crate::currency::check_amount;
use crate::model::{Deal, DealPatch, DealStatus};
use crate::playbook::gate;
use crate::stage_move::{self, MoveRequest, Position};
use crate::time::Timestamp;
use crate::validate::{int_range, optional_text, percent, required_text};
use crate::{Invalid, custom_field};

/// Whether the patch asks for a stage or outcome change.
pub(super) fn wants_move(p: &DealPatch) -> bool {
    p.pipeline_id.is_some() || p.stage_id.is_some() || p.status.is_some() || p.lost_reason.is_some()
}

/// Decides a patch of `cur`: every field error at once, or what to write.
/// The version check is the store's (a stale version is a conflict, not a
/// field error); this function assumes the caller saw `cur`.
pub fn decide_update(cur: &Deal, p: &DealPatch, ctx: &Context) -> Result<Decision, Invalid> {
    let mut errs = Invalid::new();
    let mut next = merge_fields(cur, p, ctx, &mut errs);
    check_links(cur, &next, ctx, &mut errs);
    let at = change_time(cur, p, ctx, &mut errs);
    let mut events = Vec::new();
    let mut overridden = None;
    if wants_move(p)
        && let Some(plan) = plan(cur, p, ctx, at, &mut errs)
    {
        overridden = gate(cur, &next, &plan.position, p, ctx, &mut errs);
        let np = plan.position;
        next.pipeline_id = np.pipeline_id;
        next.stage_id = np.stage_id;
        next.status = np.status;
        next.lost_reason = np.lost_reason;
        next.closed_at = np.closed_at;
        next.stage_entered_at = np.stage_entered_at;
        events = plan.events;
    }
    errs.into_result()?;
    let changed = next != *cur || !events.is_empty();
    if changed {
        next.version = cur.version + 1;
        next.updated_at = Timestamp(ctx.now.0.max(at.0));
    }
    let changes = tracked_changes(cur, &next);
    let origin = super::origin_of(&[p.at], ctx.now);
    Ok(Decision { deal: next, events, changes, at, changed, overridden, origin })
}

/// Whether moving from `cur` to `to` is forward: a later stage of the
/// same pipeline, or won, from an open deal. Backwards, lost, reopening
/// and other-pipeline moves are not.
pub fn is_forward(cur: &Deal, to: &Position, stages: &[crate::model::Stage]) -> bool {
    if cur.status != DealStatus::Open || to.pipeline_id != cur.pipeline_id {
        return false;
    }
    match to.status {
        DealStatus::Won => true,
        DealStatus::Lost => false,
        DealStatus::Open => {
            let pos = |id| stages.iter().find(|s| s.id == id).map(|s| s.position);
            matches!((pos(cur.stage_id), pos(to.stage_id)), (Some(a), Some(b)) if b > a)
        }
    }
}

/// The gates of a forward move: every required step of the current stage
/// done, and, in a pipeline that allows no skipping stages, no stage
/// skipped ([`super::order`]). Field steps look at the deal as the patch
/// leaves it (so one PATCH may fill a field and move on). Each open step
/// is an error (`steps`, naming the step) and so are skipped stages,
/// unless the patch carries an `override_reason`: then the move goes ahead
/// and the override is returned for the stage event.
fn gate(
    cur: &Deal,
    next: &Deal,
    to: &Position,
    p: &DealPatch,
    ctx: &Context,
    errs: &mut Invalid,
) -> Option<super::Override> {
    let view = ctx.pipeline?;
    if !is_forward(cur, to, view.stages) {
        return None;
    }
    let open = match ctx.playbook.filter(|f| !f.steps.is_empty()) {
        Some(facts) => {
            let rec = gate::Records { deal: next, person: live(ctx.person), organization: live(ctx.organization) };
            gate::open_required(&facts, &rec)
        }
        None => Vec::new(),
    };
    let skipped =
        if view.no_skipping_stages { super::order::stages_first(cur.stage_id, to, view.stages) } else { Vec::new() };
    let low_score = low_score(to, ctx);
    if open.is_empty() && skipped.is_empty() && low_score.is_none() {
        return None;
    }
    if let Some(reason) = p.override_reason.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        let reason = errs.take(required_text("override_reason", reason, 500))?;
        return Some(super::Override { reason, steps: open });
    }
    for s in open {
        let message = format!(
            "required step \"{}\" (id {}) of the current stage is open; do it first, or give `override_reason`",
            s.title, s.id
        );
        errs.add_about("steps", message, s.id.to_string(), s.title);
    }
    if !skipped.is_empty() {
        super::order::refuse(errs, to, &skipped);
    }
    if let Some((total, min)) = low_score {
        errs.add(
            "score",
            format!(
                "the deal's score is {total}, below {min}, the minimum for stage {}; raise the score (answer its \
                 questions, fill its fields) first, or give `override_reason`",
                to.stage_id
            ),
        );
    }
    None
}

/// The score and the minimum when the deal's score is below the minimum
/// of the stage a forward move enters (winning enters no stage).
fn low_score(to: &Position, ctx: &Context) -> Option<(f64, f64)> {
    let gate = ctx.score?;
    if to.status != DealStatus::Open {
        return None;
    }
    let min = *gate.min_score.get(&to.stage_id)?;
    (gate.total < min).then_some((gate.total, min))
}

/// The deal with the patch's plain fields applied, each validated.
fn merge_fields(cur: &Deal, p: &DealPatch, ctx: &Context, errs: &mut Invalid) -> Deal {
    let mut next = cur.clone();
    if let Some(t) = p.title.as_deref().and_then(|t| errs.take(required_text("title", t, 200))) {
        next.title = t;
    }
    if let Some(v) = p.value.and_then(|v| errs.take(check_amount("value", v))) {
        next.value = v;
    }
    if let Some(c) = &p.currency {
        next.currency = c.clone();
    }
    if let Some(m) = p.contract_months {
        if let Some(m) = m {
            errs.take(int_range("contract_months", m, 1, 1200));
        }
        next.contract_months = m;
    }
    if let Some(pr) = p.probability {
        if let Some(pr) = pr {
            errs.take(percent("probability", pr));
        }
        next.probability = pr;
    }
    if let Some(d) = p.expected_close_date {
        next.expected_close_date = d;
    }
    if let Some(o) = p.owner_id {
        next.owner_id = o;
    }
    if let Some(x) = p.person_id {
        next.person_id = x;
    }
    if let Some(x) = p.organization_id {
        next.organization_id = x;
    }
    if let Some(s) = &p.source
        && let Some(s) = errs.take(optional_text("source", s.as_deref(), 100))
    {
        next.source = s;
    }
    if let Some(c) = &p.custom
        && let Some(m) = errs.take(custom_field::apply(ctx.custom_fields, &cur.custom, c, false))
    {
        next.custom = m;
    }
    next
}

/// Newly linked owner, person and organization must exist and be active.
fn check_links(cur: &Deal, next: &Deal, ctx: &Context, errs: &mut Invalid) {
    if let Some(o) = next.owner_id.filter(|o| Some(*o) != cur.owner_id) {
        check_found(errs, "owner_id", "user", o, &ctx.owner);
    }
    if let Some(x) = next.person_id.filter(|x| Some(*x) != cur.person_id) {
        check_found(errs, "person_id", "person", x, &ctx.person);
    }
    if let Some(x) = next.organization_id.filter(|x| Some(*x) != cur.organization_id) {
        check_found(errs, "organization_id", "organization", x, &ctx.organization);
    }
}

/// When the change happens: the explicit `at` (history loading), which may
/// lie neither in the future nor before the deal was created; else now, but
/// never before the deal's latest stage event, so a writer that waited for
/// the lock does not stamp its events before those it waited for.
fn change_time(cur: &Deal, p: &DealPatch, ctx: &Context, errs: &mut Invalid) -> Timestamp {
    let last = ctx.history.last().map_or(0, |e| e.at.0);
    match p.at {
        Some(t) => {
            errs.take(t.check_not_future("at", ctx.now));
            if t < cur.created_at {
                errs.add(
                    "at",
                    format!(
                        "lies before the deal was created ({}); a change cannot precede it",
                        cur.created_at.to_rfc3339()
                    ),
                );
            }
            t
        }
        None => Timestamp(ctx.now.0.max(last)),
    }
}

/// The stage rules of a move, against the target pipeline in the context.
fn plan(cur: &Deal, p: &DealPatch, ctx: &Context, at: Timestamp, errs: &mut Invalid) -> Option<stage_move::Plan> {
    let target = p.pipeline_id.unwrap_or(cur.pipeline_id);
    let Some(view) = ctx.pipeline.filter(|v| v.id == target) else {
        errs.add("pipeline_id", format!("pipeline {target} does not exist"));
        return None;
    };
    let position = Position {
        pipeline_id: cur.pipeline_id,
        stage_id: cur.stage_id,
        status: cur.status,
        lost_reason: cur.lost_reason.clone(),
        closed_at: cur.closed_at,
        stage_entered_at: cur.stage_entered_at,
    };
    let req = MoveRequest {
        pipeline_id: p.pipeline_id,
        stage_id: p.stage_id,
        status: p.status,
        lost_reason: p.lost_reason.clone(),
    };
    let move_ctx = stage_move::Context {
        target_stages: view.stages,
        target_archived: view.archived,
        require_lost_reason: ctx.settings.require_lost_reason,
        lost_reasons: ctx.lost_reasons,
        at,
        last_event_at: ctx.history.last().map(|e| e.at),
    };
    errs.take(stage_move::plan_move(&position, &req, &move_ctx))
}

/// The record when it was found live.
fn live<T>(f: Option<super::Found<&T>>) -> Option<&T> {
    match f {
        Some(super::Found::Live(x)) => Some(x),
        _ => None,
    }
}

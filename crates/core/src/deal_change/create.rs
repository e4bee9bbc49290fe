//! [`decide_create`]: a new deal.

use super::{Context, Decision, check_found};
use crate::currency::check_amount;
use crate::model::{Deal, DealStatus, NewDeal};
use crate::stage_move::plan_create;
use crate::validate::{int_range, optional_text, percent, required_text};
use crate::{DealId, Invalid, custom_field};

/// Decides a new deal with id `id`: every field error at once, or the deal
/// and its first stage events.
pub fn decide_create(n: &NewDeal, id: DealId, ctx: &Context) -> Result<Decision, Invalid> {
    let mut errs = Invalid::new();
    let title = errs.take(required_text("title", &n.title, 200)).unwrap_or_default();
    errs.take(check_amount("value", n.value));
    if let Some(m) = n.contract_months {
        errs.take(int_range("contract_months", m, 1, 1200));
    }
    if let Some(p) = n.probability {
        errs.take(percent("probability", p));
    }
    let source = errs.take(optional_text("source", n.source.as_deref(), 100)).flatten();
    let created_at = match n.created_at {
        Some(t) => errs.take(t.check_not_future("created_at", ctx.now)).unwrap_or(t),
        None => ctx.now,
    };
    if let Some(c) = n.closed_at {
        errs.take(c.check_not_future("closed_at", ctx.now));
    }
    if let Some(o) = n.owner_id {
        check_found(&mut errs, "owner_id", "user", o, &ctx.owner);
    }
    if let Some(x) = n.person_id {
        check_found(&mut errs, "person_id", "person", x, &ctx.person);
    }
    if let Some(x) = n.organization_id {
        check_found(&mut errs, "organization_id", "organization", x, &ctx.organization);
    }
    let empty = serde_json::Map::new();
    let custom = errs.take(custom_field::apply(ctx.custom_fields, &empty, n.custom.as_ref().unwrap_or(&empty), true));

    let pipeline = match (ctx.pipeline, n.pipeline_id) {
        (None, Some(p)) => {
            errs.add("pipeline_id", format!("pipeline {p} does not exist"));
            None
        }
        (None, None) => {
            errs.add("pipeline_id", "the workspace has no active pipeline; create one first");
            None
        }
        (Some(v), _) if v.archived => {
            errs.add("pipeline_id", "this pipeline is archived; choose another");
            None
        }
        (Some(v), _) => Some(v),
    };
    let stage_id = pipeline.and_then(|v| match n.stage_id {
        Some(s) => Some(s),
        None => {
            let first = v.stages.iter().find(|s| !s.archived).map(|s| s.id);
            if first.is_none() {
                errs.add("pipeline_id", "this pipeline has no active stage");
            }
            first
        }
    });
    let status = n.status.unwrap_or(DealStatus::Open);
    let mut overridden = None;
    if let (Some(v), Some(s)) = (pipeline, stage_id) {
        overridden = no_skipping(v, s, status, n.override_reason.as_deref(), &mut errs);
    }
    let closed_at = match status {
        DealStatus::Open => n.closed_at,
        _ => Some(n.closed_at.unwrap_or(ctx.now)),
    };
    let plan = match (pipeline, stage_id) {
        (Some(v), Some(stage_id)) => errs.take(plan_create(
            v.id,
            stage_id,
            v.stages,
            status,
            n.lost_reason.clone(),
            created_at,
            closed_at,
            ctx.settings.require_lost_reason,
            ctx.lost_reasons,
        )),
        _ => None,
    };
    errs.into_result()?;
    // Both are `Some` here: every `None` above added an error, and
    // `into_result` returned it.
    let (Some(plan), Some(custom)) = (plan, custom) else {
        return Err(Invalid::one("pipeline_id", "the deal could not be placed in a pipeline"));
    };
    let pos = plan.position;
    let deal = Deal {
        id,
        title,
        value: n.value,
        currency: n.currency.clone().unwrap_or_else(|| ctx.settings.base_currency.clone()),
        contract_months: n.contract_months,
        pipeline_id: pos.pipeline_id,
        stage_id: pos.stage_id,
        status: pos.status,
        lost_reason: pos.lost_reason,
        probability: n.probability,
        expected_close_date: n.expected_close_date,
        owner_id: n.owner_id.or(ctx.actor),
        person_id: n.person_id,
        organization_id: n.organization_id,
        source,
        form_id: None,
        custom,
        created_at,
        updated_at: ctx.now,
        closed_at: pos.closed_at,
        stage_entered_at: pos.stage_entered_at,
        deleted_at: None,
        version: 1,
    };
    let origin = super::origin_of(&[n.created_at, n.closed_at], ctx.now);
    Ok(Decision { deal, events: plan.events, changes: Vec::new(), at: created_at, changed: true, overridden, origin })
}

/// A pipeline that allows no skipping stages takes new deals in its first
/// stage only, and won ones only when that stage is also its last; an
/// `override_reason` excepts, and is returned for the stage events.
fn no_skipping(
    v: super::PipelineView,
    stage_id: crate::StageId,
    status: DealStatus,
    reason: Option<&str>,
    errs: &mut Invalid,
) -> Option<super::Override> {
    let first = super::order::first_stage(v.stages).filter(|_| v.no_skipping_stages)?;
    let to = crate::stage_move::Position {
        pipeline_id: v.id,
        stage_id,
        status,
        lost_reason: None,
        closed_at: None,
        stage_entered_at: crate::time::Timestamp(0),
    };
    let past_first = stage_id != first.id;
    let skipped = if past_first || status != DealStatus::Won {
        Vec::new()
    } else {
        super::order::stages_first(stage_id, &to, v.stages)
    };
    if !past_first && skipped.is_empty() {
        return None;
    }
    if let Some(reason) = reason.map(str::trim).filter(|r| !r.is_empty()) {
        let reason = errs.take(required_text("override_reason", reason, 500))?;
        return Some(super::Override { reason, steps: Vec::new() });
    }
    if past_first {
        errs.add(
            "stage_id",
            format!(
                "this pipeline allows no skipping stages: deals start in its first stage, \"{}\" (id {}); \
                 create the deal there and move it on",
                first.name, first.id
            ),
        );
    } else {
        super::order::refuse(errs, &to, &skipped);
    }
    None
}

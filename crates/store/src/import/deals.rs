//! One deal row: created with the stage history its dates give, or, when
//! an earlier import made it, updated field by field; a stage or outcome
//! change becomes new stage events (history is never rewritten). This is
//! the one-row-at-a-time path; most new deals go through [`super::batch`].

use super::refs::Refs;
use super::setup::{Context, PipelineInfo};
use super::{Outcome, RowFail, keys};
use crate::deals::{Gate, create_deal_gated, from_row as deal_from_row, update_deal_gated};
use crate::{Actor, StoreError, Tx};
use dealflow_core::import::{RefKind, RowValues, Target, plan_history};
use dealflow_core::model::{Deal, DealPatch, DealStatus, NewDeal};
use dealflow_core::time::Timestamp;
use dealflow_core::{OrganizationId, PersonId, StageId, UserId};

/// The references of a row, resolved.
pub(crate) struct Links {
    pub owner: Option<UserId>,
    pub person: Option<PersonId>,
    pub organization: Option<OrganizationId>,
}

pub(crate) async fn apply(
    tx: &mut Tx,
    actor: &Actor,
    ctx: &Context,
    refs: &mut Refs<'_>,
    row: &RowValues,
    touched: &mut Vec<i64>,
    past_open: &mut bool,
) -> Result<Outcome, RowFail> {
    let pipeline = pipeline_of(ctx, row)?;
    let links = Links {
        owner: refs.resolve(tx, actor, row, "owner", RefKind::User).await?.map(UserId),
        person: refs.resolve(tx, actor, row, "person", RefKind::Person).await?.map(PersonId),
        organization: refs.resolve(tx, actor, row, "organization", RefKind::Organization).await?.map(OrganizationId),
    };
    let ext = row.external_id.as_deref();
    let existing = match ext {
        Some(e) => keys::get(tx, Target::Deals, &refs_source(refs), e).await?,
        None => None,
    };
    let outcome = match existing {
        Some(id) => {
            let deal =
                crate::records::live(&mut **tx, "deals", "deal", id, deal_from_row).await.map_err(|e| match e {
                    StoreError::NotFound { .. } => RowFail::Row(row.error(
                        "record",
                        format!("deal {id} made by an earlier import is deleted; restore it to update it"),
                    )),
                    other => RowFail::Store(other),
                })?;
            touched.push(id);
            update(tx, actor, pipeline, row, &links, deal, past_open).await?
        }
        None => {
            let deal = create(tx, actor, plan(pipeline, row, &links, actor.now)?).await?;
            *past_open = crate::playbooks::checklist::open_steps_passed(tx, &deal).await? > 0;
            touched.push(deal.id.0);
            if let Some(e) = ext {
                keys::put(tx, Target::Deals, &refs_source(refs), e, deal.id.0, actor.now).await?;
            }
            Outcome::Created
        }
    };
    Ok(outcome)
}

/// The pipeline a row's deal goes to.
pub(crate) fn pipeline_of<'c>(ctx: &'c Context, row: &RowValues) -> Result<&'c PipelineInfo, RowFail> {
    let name = row.text("pipeline");
    ctx.pipeline(name.as_deref()).ok_or_else(|| {
        row.error("pipeline", format!("there is no active pipeline named \"{}\"", name.as_deref().unwrap_or(""))).into()
    })
}

fn refs_source(refs: &Refs<'_>) -> String {
    refs.source().to_string()
}

pub(crate) fn stage_id(p: &PipelineInfo, row: &RowValues, name: &str) -> Result<StageId, RowFail> {
    p.stages
        .iter()
        .find(|s| s.name.eq_ignore_ascii_case(name))
        .map(|s| s.id)
        .ok_or_else(|| row.error("stage", format!("\"{name}\" is not a stage of pipeline {}", p.name)).into())
}

/// The lost reason applies to lost deals only, so a constant reason in the
/// mapping does not break won and open rows.
fn lost_reason(row: &RowValues, status: DealStatus) -> Option<String> {
    (status == DealStatus::Lost).then(|| row.text("lost_reason")).flatten()
}

/// A new deal as its row describes it: what to create, then the patches
/// its dates give (each move, then the close), applied in turn.
pub(crate) struct Plan {
    pub new: NewDeal,
    pub patches: Vec<DealPatch>,
}

/// The [`Plan`] of a row that makes a new deal; nothing is read or written.
pub(crate) fn plan(p: &PipelineInfo, row: &RowValues, links: &Links, now: Timestamp) -> Result<Plan, RowFail> {
    let names: Vec<String> = p.stages.iter().map(|s| s.name.clone()).collect();
    let status = row.status("status").unwrap_or(DealStatus::Open);
    let current = match row.text("stage") {
        Some(s) => names.iter().find(|n| n.eq_ignore_ascii_case(&s)).cloned().unwrap_or(s),
        None => names.first().cloned().unwrap_or_default(),
    };
    let plan =
        plan_history(&names, &current, status, &row.stage_dates, row.time("created_at"), row.closed_at(status), now)
            .map_err(|(f, m)| row.error(&f, m))?;
    let close_now = if plan.moves.is_empty() { plan.close } else { None };
    let new = NewDeal {
        title: row.text("title").unwrap_or_default(),
        value: row.money("value").unwrap_or(0),
        currency: Some(row.currency.clone()),
        contract_months: row.int("contract_months"),
        pipeline_id: Some(p.id),
        stage_id: Some(stage_id(p, row, &plan.first_stage)?),
        status: close_now.map(|c| c.0),
        lost_reason: close_now.and_then(|c| lost_reason(row, c.0)),
        probability: row.int("probability"),
        expected_close_date: row.expected_close_date(status),
        owner_id: links.owner,
        person_id: links.person,
        organization_id: links.organization,
        source: row.text("source"),
        custom: Some(row.custom()),
        created_at: Some(plan.created_at),
        closed_at: close_now.map(|c| c.1),
        override_reason: None,
    };
    // The versions are set as each patch is applied.
    let mut patches = Vec::with_capacity(plan.moves.len() + 1);
    for (stage, at) in &plan.moves {
        patches.push(DealPatch { stage_id: Some(stage_id(p, row, stage)?), at: Some(*at), ..Default::default() });
    }
    if let (Some((status, at)), false) = (plan.close, plan.moves.is_empty()) {
        patches.push(DealPatch {
            status: Some(status),
            lost_reason: lost_reason(row, status),
            at: Some(at),
            ..Default::default()
        });
    }
    Ok(Plan { new, patches })
}

/// Creates the deal of `plan` on its own: created, then patched step by step.
async fn create(tx: &mut Tx, actor: &Actor, plan: Plan) -> Result<Deal, RowFail> {
    let mut deal = create_deal_gated(tx, actor, plan.new, Gate::Bypass).await?.deal;
    for mut patch in plan.patches {
        patch.version = deal.version;
        deal = update_deal_gated(tx, actor, deal.id, patch, Gate::Bypass).await?.deal;
    }
    // Placed without the gate; the deal gets the checklist of the stage
    // it ends in, and none of the stages it passed on the way.
    crate::playbooks::checklist::after_placing(tx, actor, None, &deal).await?;
    Ok(deal)
}

/// Whether stage `to` comes after `from` in the pipeline.
fn is_later(p: &PipelineInfo, from: StageId, to: StageId) -> bool {
    let at = |id| p.stages.iter().position(|s| s.id == id);
    matches!((at(from), at(to)), (Some(a), Some(b)) if b > a)
}

/// `Some(new)` when it differs from `cur`.
fn changed<T: PartialEq + Clone>(cur: &T, new: Option<T>) -> Option<T> {
    new.filter(|n| n != cur)
}

async fn update(
    tx: &mut Tx,
    actor: &Actor,
    p: &PipelineInfo,
    row: &RowValues,
    links: &Links,
    cur: Deal,
    past_open: &mut bool,
) -> Result<Outcome, RowFail> {
    let custom: serde_json::Map<_, _> =
        row.custom().into_iter().filter(|(k, v)| cur.custom.get(k) != Some(v)).collect();
    let mut patch = DealPatch {
        version: cur.version,
        title: changed(&cur.title, row.text("title")),
        value: changed(&cur.value, row.money("value")),
        currency: changed(&cur.currency, Some(row.currency.clone())),
        contract_months: changed(&cur.contract_months, row.int("contract_months").map(Some)),
        probability: changed(&cur.probability, row.int("probability").map(Some)),
        expected_close_date: changed(
            &cur.expected_close_date,
            row.expected_close_date(row.status("status").unwrap_or(cur.status)).map(Some),
        ),
        owner_id: changed(&cur.owner_id, links.owner.map(Some)),
        person_id: changed(&cur.person_id, links.person.map(Some)),
        organization_id: changed(&cur.organization_id, links.organization.map(Some)),
        source: changed(&cur.source, row.text("source").map(Some)),
        custom: (!custom.is_empty()).then_some(custom),
        ..Default::default()
    };
    let fields_changed = patch.title.is_some()
        || patch.value.is_some()
        || patch.currency.is_some()
        || patch.contract_months.is_some()
        || patch.probability.is_some()
        || patch.expected_close_date.is_some()
        || patch.owner_id.is_some()
        || patch.person_id.is_some()
        || patch.organization_id.is_some()
        || patch.source.is_some()
        || patch.custom.is_some();
    let mut deal = cur.clone();
    if fields_changed {
        patch.version = deal.version;
        deal = update_deal_gated(tx, actor, deal.id, patch, Gate::Bypass).await?.deal;
    }
    // Stage and outcome: only a change makes events, dated by the file when
    // it can be and not before the deal's latest event.
    let status = row.status("status").unwrap_or(cur.status);
    let target_stage = match row.text("stage") {
        Some(s) if cur.pipeline_id == p.id => Some(stage_id(p, row, &s)?),
        _ => None,
    };
    let stage_moves = target_stage.is_some_and(|s| s != cur.stage_id);
    if !stage_moves && status == cur.status {
        return Ok(if fields_changed { Outcome::Updated } else { Outcome::Unchanged });
    }
    let last: Option<i64> = sqlx::query_scalar("SELECT MAX(at) FROM stage_events WHERE deal_id = $1")
        .bind(cur.id.0)
        .fetch_one(&mut **tx)
        .await
        .map_err(StoreError::from)?;
    let dated = if status != cur.status && status != DealStatus::Open {
        row.closed_at(status)
    } else {
        let name = row.text("stage").unwrap_or_default();
        row.stage_dates.iter().find(|(s, _)| s.eq_ignore_ascii_case(&name)).map(|d| d.1)
    };
    let at = dated.filter(|t| last.is_none_or(|l| t.0 >= l)).map(|t| Timestamp(t.0.min(actor.now.0)));
    let patch = DealPatch {
        version: deal.version,
        stage_id: target_stage.filter(|_| stage_moves),
        status: (status != cur.status).then_some(status),
        lost_reason: if status != cur.status { lost_reason(row, status) } else { None },
        at,
        ..Default::default()
    };
    let placed = update_deal_gated(tx, actor, deal.id, patch, Gate::Bypass).await?.deal;
    // A placed move closes the stage it left and opens the one it is in,
    // as a created deal's placement does.
    crate::playbooks::checklist::after_placing(tx, actor, Some(&deal), &placed).await?;
    let forward = status == DealStatus::Won || (stage_moves && is_later(p, cur.stage_id, placed.stage_id));
    *past_open = forward && crate::playbooks::checklist::open_steps_passed(tx, &placed).await? > 0;
    Ok(Outcome::Updated)
}

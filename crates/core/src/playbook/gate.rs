//! Which steps of a deal's current stage are done: the checklist the API
//! shows and the gate [`crate::deal_change`] applies. Field steps are
//! evaluated against the deal, its person and its organization as they
//! are at that moment; evidence steps against the kinds of activity done
//! since the deal entered the stage; task, e-mail and campaign steps by
//! their stored state (a task is also done when its activity is).

use super::{FieldOp, OpenStep, Step, StepKind, StepStatus};
use crate::StepId;
use crate::model::{ActivityKind, Deal, Organization, Person};
use serde_json::Value;

/// A deal's stored state of one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredState {
    pub step_id: StepId,
    pub status: StepStatus,
    /// Whether the task the step made is done.
    pub activity_done: bool,
}

/// What the checklist of a deal in its current stage is evaluated from.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// The stage's live steps, in order.
    pub steps: &'a [Step],
    pub states: &'a [StoredState],
    /// Kinds of the deal's activities done since it entered the stage.
    pub evidence: &'a [ActivityKind],
}

/// The records a field step may look at.
#[derive(Debug, Clone, Copy)]
pub struct Records<'a> {
    pub deal: &'a Deal,
    pub person: Option<&'a Person>,
    pub organization: Option<&'a Organization>,
}

/// Whether `step` counts as done (done or skipped).
pub fn is_done(step: &Step, facts: &Facts, rec: &Records) -> bool {
    status_of(step, facts, rec).is_some_and(|s| matches!(s, StepStatus::Done | StepStatus::Skipped))
}

/// The status of `step`: computed for field and evidence steps, stored for
/// the others (`None` when the deal has no state for it yet: open).
pub fn status_of(step: &Step, facts: &Facts, rec: &Records) -> Option<StepStatus> {
    let stored = facts.states.iter().find(|s| s.step_id == step.id);
    if stored.is_some_and(|s| s.status == StepStatus::Skipped) {
        return Some(StepStatus::Skipped);
    }
    let yes = |b: bool| Some(if b { StepStatus::Done } else { StepStatus::Open });
    match step.spec.kind {
        StepKind::Field => yes(step.spec.field.as_deref().is_some_and(|f| field_met(f, &step.spec, rec))),
        StepKind::Evidence => yes(step.spec.activity_kind.is_some_and(|k| facts.evidence.contains(&k))),
        StepKind::Task => stored.map(|s| if s.activity_done { StepStatus::Done } else { s.status }),
        StepKind::Email | StepKind::Campaign => stored.map(|s| s.status),
    }
}

/// The required steps still open, in order: what blocks a forward move.
pub fn open_required(facts: &Facts, rec: &Records) -> Vec<OpenStep> {
    facts
        .steps
        .iter()
        .filter(|s| s.spec.required && !is_done(s, facts, rec))
        .map(|s| OpenStep { id: s.id, title: s.spec.title.clone() })
        .collect()
}

/// Whether the named field is filled and meets the step's condition.
fn field_met(field: &str, spec: &super::StepSpec, rec: &Records) -> bool {
    let Some(v) = field_value(field, rec).filter(filled) else { return false };
    match (spec.op, spec.value.as_ref()) {
        (None, _) | (_, None) => true,
        (Some(FieldOp::Equals), Some(want)) => same(&v, want),
        (Some(FieldOp::OneOf), Some(want)) => want.as_array().is_some_and(|a| a.iter().any(|w| same(&v, w))),
        (Some(FieldOp::AtLeast), Some(want)) => compare(&v, want).is_some_and(|o| o.is_ge()),
        (Some(FieldOp::AtMost), Some(want)) => compare(&v, want).is_some_and(|o| o.is_le()),
    }
}

/// The value of a field named as steps and scoring rules name them
/// (`value`, `custom.budget`, `person.job_title`, `organization.industry`),
/// as the API shows it; `None` when the record is absent or lacks it.
pub fn field_value(field: &str, rec: &Records) -> Option<Value> {
    let (record, name) = if let Some(n) = field.strip_prefix("person.") {
        (rec.person.and_then(|p| serde_json::to_value(p).ok()), n)
    } else if let Some(n) = field.strip_prefix("organization.") {
        (rec.organization.and_then(|o| serde_json::to_value(o).ok()), n)
    } else {
        (serde_json::to_value(rec.deal).ok(), field)
    };
    let record = record?;
    match name.strip_prefix("custom.") {
        Some(k) => record.get("custom").and_then(|c| c.get(k)).cloned(),
        None => record.get(name).cloned(),
    }
}

/// Not null, not blank text, not an empty list.
pub fn filled(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.trim().is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => true,
    }
}

/// Equal as numbers when both are numbers, else as JSON (text compared
/// without case, so `"Yes"` meets `"yes"`).
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::String(x), Value::String(y)) => x.trim().eq_ignore_ascii_case(y.trim()),
        _ => a == b,
    }
}

/// Numbers as numbers, text (ISO dates) as text; other pairs do not compare.
pub fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.as_str().cmp(y.as_str())),
        _ => None,
    }
}

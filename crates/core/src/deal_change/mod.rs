//! The one decision behind every deal change. Board drags, API calls, bulk
//! actions, imports and (later) automations all reach a deal through
//! [`decide_create`] or [`decide_update`]: a pure function of the current
//! deal, the requested change and a [`Context`] holding everything the rules
//! may look at — the pipeline and its stages, the workspace settings, the
//! custom-field definitions, the lost reasons, the deal's stage log, the
//! person and organization it points at, who acts and when. It returns the
//! next deal, the stage events to append and the tracked-field changes to
//! record, or every field error at once.
//!
//! The store reads what [`needs`] asks for, calls the decision and writes
//! what it returns; it decides nothing itself. A new gate (a checklist that
//! must be done, a required field, a minimum score) is a check in
//! [`update::gates`] that reads the context, so every path obeys it.

mod create;
pub mod order;
mod update;

pub use create::decide_create;
pub use update::decide_update;
pub use update::is_forward as update_is_forward;

use crate::custom_field::CustomField;
use crate::model::{Deal, DealPatch, NewDeal, Organization, Person, Settings, Stage, StageEvent};
use crate::stage_move::PlannedEvent;
use crate::time::Timestamp;
use crate::{OrganizationId, PersonId, PipelineId, UserId};
use serde_json::Value;

/// What the store found for a record the deal points at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Found<T> {
    /// No such record.
    Missing,
    /// The record exists but may not be linked: a deleted person or
    /// organization, a deactivated user.
    Inactive,
    Live(T),
}

impl<T> Found<T> {
    /// Borrows the found record.
    pub fn as_ref(&self) -> Found<&T> {
        match self {
            Found::Missing => Found::Missing,
            Found::Inactive => Found::Inactive,
            Found::Live(x) => Found::Live(x),
        }
    }
}

/// The pipeline a deal is in, or moves to, with its stages in order
/// (archived stages included: old events point at them).
#[derive(Debug, Clone, Copy)]
pub struct PipelineView<'a> {
    pub id: PipelineId,
    pub archived: bool,
    pub stages: &'a [Stage],
    /// The pipeline's "no skipping stages" rule, when it applies (paths that
    /// place deals, such as imports, pass `false`): deals start in the
    /// first stage and move forward one stage at a time.
    pub no_skipping_stages: bool,
}

/// Everything the rules may look at besides the deal and the request.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Who acts (`None` for the system).
    pub actor: Option<UserId>,
    /// The current time, read inside the write transaction.
    pub now: Timestamp,
    pub settings: &'a Settings,
    /// Labels of the workspace's lost reasons, for canonical spelling.
    pub lost_reasons: &'a [String],
    /// The deal custom-field definitions (needed when the request sets
    /// custom values, or creates a deal).
    pub custom_fields: &'a [CustomField],
    /// The pipeline the deal ends up in; `None` when [`needs`] did not ask
    /// for it (an update that changes neither stage nor status).
    pub pipeline: Option<PipelineView<'a>>,
    /// The deal's stage log so far, oldest first (empty for a new deal).
    pub history: &'a [StageEvent],
    /// The owner the deal ends up with, when [`needs`] asked for it.
    pub owner: Option<Found<UserId>>,
    /// The person the deal ends up with, when [`needs`] asked for it.
    pub person: Option<Found<&'a Person>>,
    /// The organization the deal ends up with, when [`needs`] asked for it.
    pub organization: Option<Found<&'a Organization>>,
    /// The checklist of the deal's current stage, when [`needs`] asked for
    /// it (`None` also when the stage has no steps, or for paths that
    /// place deals without the gate, such as imports).
    pub playbook: Option<crate::playbook::gate::Facts<'a>>,
    /// The deal's score now and the published model's minimum score per
    /// stage, when a model sets any (the `min_score` gate).
    pub score: Option<ScoreGate<'a>>,
}

/// What the `min_score` gate reads: the deal's score now and the minimum
/// a forward move into each stage needs.
#[derive(Debug, Clone, Copy)]
pub struct ScoreGate<'a> {
    pub total: f64,
    pub min_score: &'a std::collections::BTreeMap<crate::StageId, f64>,
}

/// What the store must read before calling the decision.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Needs {
    /// The pipeline to load with its stages; `None` with `first_pipeline`
    /// false means none is needed.
    pub pipeline: Option<PipelineId>,
    /// Load the workspace's first active pipeline (a new deal without one).
    pub first_pipeline: bool,
    pub lost_reasons: bool,
    pub custom_fields: bool,
    pub owner: Option<UserId>,
    pub person: Option<PersonId>,
    pub organization: Option<OrganizationId>,
    /// The stage whose checklist the gate reads (the current stage of an
    /// open deal that is asked to move), with the moment the deal entered
    /// it, from when evidence counts.
    pub playbook: Option<(crate::StageId, Timestamp)>,
}

/// What to read for a change of `cur` (or a new deal when `cur` is `None`).
/// Stage and status changes load the target pipeline and the deal's
/// person and organization, so gates can look at them; other edits load
/// only what they touch.
pub fn needs(cur: Option<&Deal>, change: Change<'_>) -> Needs {
    match (cur, change) {
        (_, Change::Create(n)) => Needs {
            pipeline: n.pipeline_id,
            first_pipeline: n.pipeline_id.is_none(),
            lost_reasons: true,
            custom_fields: true,
            owner: n.owner_id,
            person: n.person_id,
            organization: n.organization_id,
            playbook: None,
        },
        (Some(cur), Change::Update(p)) => {
            let moving = update::wants_move(p);
            let person = p.person_id.unwrap_or(cur.person_id);
            let organization = p.organization_id.unwrap_or(cur.organization_id);
            Needs {
                pipeline: Some(p.pipeline_id.unwrap_or(cur.pipeline_id)),
                first_pipeline: false,
                lost_reasons: p.status.is_some() || p.lost_reason.is_some(),
                custom_fields: p.custom.is_some(),
                owner: p.owner_id.flatten().filter(|o| Some(*o) != cur.owner_id),
                person: person.filter(|x| moving || Some(*x) != cur.person_id),
                organization: organization.filter(|x| moving || Some(*x) != cur.organization_id),
                playbook: (moving && cur.status == crate::model::DealStatus::Open)
                    .then_some((cur.stage_id, cur.stage_entered_at)),
            }
        }
        (None, Change::Update(_)) => Needs::default(),
    }
}

/// The requested change, for [`needs`].
#[derive(Debug, Clone, Copy)]
pub enum Change<'a> {
    Create(&'a NewDeal),
    Update(&'a DealPatch),
}

/// A tracked field's change, for the field history.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackedChange {
    /// One of [`crate::model::TRACKED_FIELDS`].
    pub field: &'static str,
    pub old: Value,
    pub new: Value,
}

/// The outcome of a decision: what to write.
#[derive(Debug, Clone)]
pub struct Decision {
    /// The deal as it is after the change (version and `updated_at` as
    /// they will be stored).
    pub deal: Deal,
    /// Stage events to append, in order.
    pub events: Vec<PlannedEvent>,
    /// Tracked fields that changed, for the field history.
    pub changes: Vec<TrackedChange>,
    /// When the change happened (an explicit `at`, else now): the time of
    /// the events and the field-history rows.
    pub at: Timestamp,
    /// False when the request changes nothing: the store writes nothing
    /// and the deal keeps its version.
    pub changed: bool,
    /// Set when the move went past open required steps with an
    /// `override_reason`: recorded on the move's stage events.
    pub overridden: Option<Override>,
    /// `loaded` when the change carries a time more than
    /// [`HISTORY_GRACE_MS`] in the past ([`is_history`]), else `live`.
    pub origin: crate::model::EventOrigin,
}

/// How far in the past a change's time may lie and still count as now
/// (clocks and slow clients): five minutes. Beyond it the change loads
/// history, which only admins may do.
pub const HISTORY_GRACE_MS: i64 = 5 * 60_000;

/// Whether `at` lies more than [`HISTORY_GRACE_MS`] before `now`.
pub fn is_history(at: Timestamp, now: Timestamp) -> bool {
    at.0 < now.0 - HISTORY_GRACE_MS
}

/// The origin of events written at `times` (the explicit times a request
/// gives), when `now`.
fn origin_of(times: &[Option<Timestamp>], now: Timestamp) -> crate::model::EventOrigin {
    if times.iter().flatten().any(|t| is_history(*t, now)) {
        crate::model::EventOrigin::Loaded
    } else {
        crate::model::EventOrigin::Live
    }
}

/// A move past open required playbook steps, or past stages a pipeline
/// without skipping wants gone through.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub reason: String,
    pub steps: Vec<crate::playbook::OpenStep>,
}

/// Checks that a linked record may be linked; the message names the field.
fn check_found<T>(
    errs: &mut crate::Invalid,
    field: &str,
    what: &str,
    id: impl std::fmt::Display,
    f: &Option<Found<T>>,
) {
    match f {
        Some(Found::Missing) => errs.add(field, format!("{what} {id} does not exist")),
        Some(Found::Inactive) if what == "user" => errs.add(field, format!("user {id} is deactivated")),
        Some(Found::Inactive) => errs.add(field, format!("{what} {id} is deleted; restore it first")),
        _ => {}
    }
}

/// The tracked-field differences between two versions of a deal, in
/// [`crate::model::TRACKED_FIELDS`] order.
pub fn tracked_changes(old: &Deal, new: &Deal) -> Vec<TrackedChange> {
    fn id<T: std::fmt::Display>(v: Option<T>) -> Value {
        v.map_or(Value::Null, |x| Value::String(x.to_string()))
    }
    let date = |d: Option<crate::time::Date>| d.map_or(Value::Null, |d| Value::String(d.to_iso()));
    let pairs: [(&'static str, Value, Value); 8] = [
        ("value", old.value.into(), new.value.into()),
        ("currency", old.currency.as_str().into(), new.currency.as_str().into()),
        ("probability", old.probability.into(), new.probability.into()),
        ("expected_close_date", date(old.expected_close_date), date(new.expected_close_date)),
        ("owner_id", id(old.owner_id), id(new.owner_id)),
        ("person_id", id(old.person_id), id(new.person_id)),
        ("organization_id", id(old.organization_id), id(new.organization_id)),
        ("title", old.title.as_str().into(), new.title.as_str().into()),
    ];
    pairs.into_iter().filter(|(_, a, b)| a != b).map(|(field, old, new)| TrackedChange { field, old, new }).collect()
}

#[cfg(test)]
pub(crate) mod gate_tests;
#[cfg(test)]
mod order_tests;
#[cfg(test)]
mod tests;

//! Playbooks: an ordered checklist of steps per stage. This module holds
//! the step model and its validation ([`check_spec`]), the due-time rule
//! ([`due`]), the e-mail template placeholders ([`template`]) and the
//! evaluation of a deal's checklist that the stage gate in
//! [`crate::deal_change`] reads ([`gate`]). Pure: the store loads the
//! steps and the facts, and writes what the API and the decision return.

pub mod defaults;
pub mod due;
pub mod gate;
pub mod template;
#[cfg(test)]
mod tests;
pub mod view;

use crate::custom_field::CustomField;
use crate::model::ActivityKind;
use crate::text_enum;
use crate::time::Timestamp;
use crate::validate::{optional_multiline, required_multiline, required_text};
use crate::{CampaignId, Invalid, StageId, StepId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

text_enum!(
    /// What a step asks for.
    StepKind { Task = "task", Email = "email", Field = "field", Evidence = "evidence", Campaign = "campaign" }
);

text_enum!(
    /// How an e-mail step goes out: by itself at its due time, or as a
    /// draft task the rep sends by hand.
    SendMode { Auto = "auto", Draft = "draft" }
);

text_enum!(
    /// What a due time is counted from.
    DueAnchor { StageEntered = "stage_entered", Meeting = "meeting" }
);

text_enum!(
    /// The condition a field step puts on its field (without one, the field
    /// must only be filled).
    FieldOp { Equals = "equals", OneOf = "one_of", AtLeast = "at_least", AtMost = "at_most" }
);

text_enum!(
    /// The state of one step for one deal.
    StepStatus { Open = "open", Done = "done", Waiting = "waiting", Failed = "failed", Skipped = "skipped" }
);

/// An e-mail step's text, with `{{placeholder}}`s (see [`template`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub subject: String,
    pub body: String,
}

/// When a step falls due: an offset (negative = before) from the moment
/// the deal entered the stage, or from its next meeting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Due {
    pub anchor: DueAnchor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset_minutes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset_working_days: Option<i64>,
}

/// What a step is: the body of `POST /api/v1/stages/{id}/steps`, and the
/// editable part of a stored [`Step`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    pub title: String,
    /// Markdown.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether the step gates the stage (default true).
    #[serde(default = "yes")]
    pub required: bool,
    pub kind: StepKind,
    /// E-mail steps only; `draft` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send: Option<SendMode>,
    /// E-mail steps only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<Template>,
    /// Task, e-mail and evidence steps only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<Due>,
    /// Field steps: `expected_close_date`, `custom.key`, `person.…` or
    /// `organization.…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<FieldOp>,
    /// The operand of `op`: a value for `equals`, an array for `one_of`, a
    /// number or ISO date for `at_least`/`at_most`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub value: Option<Value>,
    /// Evidence steps: the kind of activity that must be done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_kind: Option<ActivityKind>,
    /// Campaign steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_id: Option<CampaignId>,
}

fn yes() -> bool {
    true
}

/// A stored step.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Step {
    pub id: StepId,
    pub stage_id: StageId,
    /// Order within the stage; lower comes first.
    pub position: i64,
    #[serde(flatten)]
    pub spec: StepSpec,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// A step that is open, as the gate, the moves and the override name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OpenStep {
    pub id: StepId,
    pub title: String,
}

/// What a step may refer to, read by the store before [`check_spec`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Refs<'a> {
    pub deal_fields: &'a [CustomField],
    pub person_fields: &'a [CustomField],
    pub organization_fields: &'a [CustomField],
    /// Whether the step's `campaign_id` (if any) names a campaign.
    pub campaign_exists: bool,
}

/// The longest offset a due rule may have: a year.
pub const MAX_OFFSET_MINUTES: i64 = 366 * 24 * 60;
/// The longest offset in working days: a year's worth.
pub const MAX_OFFSET_WORKING_DAYS: i64 = 261;

/// Built-in fields a field step (or a scoring fit rule) may name, per record.
pub const DEAL_FIELDS: &[&str] = &[
    "title",
    "value",
    "currency",
    "contract_months",
    "probability",
    "expected_close_date",
    "owner_id",
    "person_id",
    "organization_id",
    "source",
];
pub const PERSON_FIELDS: &[&str] = &["name", "emails", "phones", "job_title", "organization_id", "owner_id", "source"];
pub const ORGANIZATION_FIELDS: &[&str] = &["name", "domain", "industry", "employees", "country", "owner_id"];

/// Validates a step and trims its texts: every field error at once.
pub fn check_spec(spec: &StepSpec, refs: &Refs) -> Result<StepSpec, Invalid> {
    let mut errs = Invalid::new();
    let mut out = spec.clone();
    if let Some(t) = errs.take(required_text("title", &spec.title, 200)) {
        out.title = t;
    }
    if let Some(d) = errs.take(optional_multiline("description", spec.description.as_deref(), 10_000)) {
        out.description = d;
    }
    check_kind_fields(spec, refs, &mut errs);
    if let Some(d) = &spec.due {
        check_due(spec.kind, d, &mut errs);
    }
    if spec.kind == StepKind::Email {
        out.send = Some(spec.send.unwrap_or(SendMode::Draft));
        match &spec.template {
            None => errs.add("template", "an e-mail step needs a template with `subject` and `body`"),
            Some(t) => {
                errs.take(required_text("template.subject", &t.subject, 300));
                errs.take(required_multiline("template.body", &t.body, 20_000));
                errs.take(template::check("template.subject", &t.subject, refs.deal_fields));
                errs.take(template::check("template.body", &t.body, refs.deal_fields));
            }
        }
    }
    errs.into_result().map(|()| out)
}

/// Each kind's own properties are required, and the others' refused.
fn check_kind_fields(spec: &StepSpec, refs: &Refs, errs: &mut Invalid) {
    let k = spec.kind;
    let only = |errs: &mut Invalid, present: bool, field: &str, kind: StepKind| {
        if present && k != kind {
            errs.add(field, format!("only {kind} steps carry `{field}`; remove it or change `kind`"));
        }
    };
    only(errs, spec.send.is_some(), "send", StepKind::Email);
    only(errs, spec.template.is_some(), "template", StepKind::Email);
    only(errs, spec.field.is_some(), "field", StepKind::Field);
    only(errs, spec.op.is_some(), "op", StepKind::Field);
    only(errs, spec.value.is_some(), "value", StepKind::Field);
    only(errs, spec.activity_kind.is_some(), "activity_kind", StepKind::Evidence);
    only(errs, spec.campaign_id.is_some(), "campaign_id", StepKind::Campaign);
    match k {
        StepKind::Field => match &spec.field {
            None => errs.add("field", "a field step names the field that must be filled, e.g. `expected_close_date`"),
            Some(f) => {
                if let Err(m) = check_field_name(f, refs) {
                    errs.add("field", m);
                }
                check_condition(spec.op, spec.value.as_ref(), errs);
            }
        },
        StepKind::Evidence if spec.activity_kind.is_none() => {
            errs.add("activity_kind", "an evidence step names the kind of activity that must be done, e.g. `meeting`")
        }
        StepKind::Campaign if spec.campaign_id.is_none() => {
            errs.add("campaign_id", "a campaign step names the campaign to enrol the deal's person in")
        }
        StepKind::Campaign if !refs.campaign_exists => {
            let id = spec.campaign_id.map(|c| c.to_string()).unwrap_or_default();
            errs.add("campaign_id", format!("campaign {id} does not exist"));
        }
        _ => {}
    }
}

/// A field step's field: a built-in or defined custom field of the deal,
/// its person or its organization.
pub fn check_field_name(f: &str, refs: &Refs) -> Result<(), String> {
    let (record, rest, builtins, defs) = if let Some(r) = f.strip_prefix("person.") {
        ("person", r, PERSON_FIELDS, refs.person_fields)
    } else if let Some(r) = f.strip_prefix("organization.") {
        ("organization", r, ORGANIZATION_FIELDS, refs.organization_fields)
    } else {
        ("deal", f, DEAL_FIELDS, refs.deal_fields)
    };
    if let Some(key) = rest.strip_prefix("custom.") {
        if defs.iter().any(|d| d.key == key) {
            return Ok(());
        }
        return Err(format!("`{f}` is not a defined custom field of the {record}; define it in settings first"));
    }
    if builtins.contains(&rest) {
        return Ok(());
    }
    Err(format!(
        "`{f}` is not a field of the {record}; use one of {}, `custom.<key>`, or prefix `person.`/`organization.`",
        builtins.join(", ")
    ))
}

/// `op` needs a `value` of the right shape, and `value` needs an `op`.
fn check_condition(op: Option<FieldOp>, value: Option<&Value>, errs: &mut Invalid) {
    match (op, value) {
        (None, None) => {}
        (None, Some(_)) => errs.add("op", "a `value` needs an `op`: equals, one_of, at_least or at_most"),
        (Some(op), None) => errs.add("value", format!("`op: {op}` needs a `value`")),
        (Some(FieldOp::OneOf), Some(v)) if v.as_array().is_none_or(|a| a.is_empty()) => {
            errs.add("value", "`one_of` needs a non-empty array of values")
        }
        (Some(FieldOp::AtLeast | FieldOp::AtMost), Some(v))
            if !(v.is_number() || v.as_str().is_some_and(|s| crate::time::Date::parse(s).is_ok())) =>
        {
            errs.add("value", "`at_least`/`at_most` compare with a number or an ISO date (YYYY-MM-DD)")
        }
        (Some(FieldOp::Equals), Some(v)) if v.is_null() || v.is_object() || v.is_array() => {
            errs.add("value", "`equals` compares with a single text, number or true/false")
        }
        _ => {}
    }
}

/// The due rule: one offset, within a year, on a kind that has a due time.
fn check_due(kind: StepKind, d: &Due, errs: &mut Invalid) {
    if matches!(kind, StepKind::Field | StepKind::Campaign) {
        errs.add("due", format!("a {kind} step has no due time; only task, e-mail and evidence steps do"));
        return;
    }
    match (d.offset_minutes, d.offset_working_days) {
        (Some(_), Some(_)) => errs.add("due", "give `offset_minutes` or `offset_working_days`, not both"),
        (Some(m), None) if m.abs() > MAX_OFFSET_MINUTES => {
            errs.add("due.offset_minutes", format!("must lie within a year ({MAX_OFFSET_MINUTES} minutes) either way"))
        }
        (None, Some(w)) if w.abs() > MAX_OFFSET_WORKING_DAYS => errs.add(
            "due.offset_working_days",
            format!("must lie within a year ({MAX_OFFSET_WORKING_DAYS} working days) either way"),
        ),
        (None, Some(w)) if d.anchor == DueAnchor::StageEntered && w < 0 => {
            errs.add("due.offset_working_days", "cannot fall before the deal entered the stage")
        }
        (Some(m), None) if d.anchor == DueAnchor::StageEntered && m < 0 => {
            errs.add("due.offset_minutes", "cannot fall before the deal entered the stage")
        }
        _ => {}
    }
}

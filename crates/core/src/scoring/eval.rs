//! What a deal's ledger should hold under a model, given its facts: one
//! [`Desired`] contribution per matching fit rule, per answered question,
//! and per counted engagement fact. The ledger appends the difference
//! between this and what it holds ([`super::ledger::diff`]).

use super::{EngagementEvent, FitOp, Group, ModelBody, Rule};
use crate::StageId;
use crate::model::{ActivityKind, Sentiment};
use crate::playbook::gate::{Records, compare, field_value, filled, same};
use crate::time::Timestamp;
use serde_json::Value;

/// One engagement fact of a deal or its person.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    pub event: EngagementEvent,
    /// Unique per fact, e.g. `email_event:123`, `activity:55`.
    pub key: String,
    pub at: Timestamp,
    pub sentiment: Option<Sentiment>,
    pub activity_kind: Option<ActivityKind>,
    pub stage_id: Option<StageId>,
    /// For e-mail opens: made by a privacy proxy (never counted).
    pub machine: bool,
    /// What the fact was, in words (a subject, a URL).
    pub label: String,
}

/// Everything a deal is scored from.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub records: Records<'a>,
    /// The current answer of each answered question: (question id, answer).
    pub answers: &'a [(String, String)],
    pub events: &'a [Fact],
}

/// One contribution the ledger should hold: `points` for `(rule_id,
/// fact_key)`. `at` is when the fact happened (engagement, for decay);
/// `None` means "now" (fit and answers take effect when recorded).
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    pub rule_id: String,
    pub group: Group,
    pub fact_key: String,
    pub fact: String,
    pub points: f64,
    pub at: Option<Timestamp>,
}

/// The contributions `facts` earn under `model`, rule by rule.
pub fn desired(model: &ModelBody, facts: &Facts) -> Vec<Desired> {
    let mut out = Vec::new();
    for r in &model.rules {
        match r.group {
            Group::Fit => {
                let (Some(field), Some(op), Some(points)) = (r.field.as_deref(), r.op, r.points) else { continue };
                if fit_matches(field, op, r.value.as_ref(), &facts.records) {
                    out.push(Desired {
                        rule_id: r.id().to_string(),
                        group: Group::Fit,
                        fact_key: format!("field:{field}"),
                        fact: describe_fit(field, op, r.value.as_ref(), &facts.records),
                        points,
                        at: None,
                    });
                }
            }
            Group::Question => {
                let Some((_, answer)) = facts.answers.iter().find(|(q, _)| q == r.id()) else { continue };
                let points = r.answers.as_ref().and_then(|a| a.get(answer.as_str())).copied();
                if let Some(points) = points {
                    out.push(Desired {
                        rule_id: r.id().to_string(),
                        group: Group::Question,
                        fact_key: "answer".into(),
                        fact: format!("{}: {answer}", r.question.as_deref().unwrap_or("")),
                        points,
                        at: None,
                    });
                }
            }
            Group::Engagement => {
                let Some(points) = r.points else { continue };
                for f in facts.events.iter().filter(|f| counts(r, f)) {
                    out.push(Desired {
                        rule_id: r.id().to_string(),
                        group: Group::Engagement,
                        fact_key: f.key.clone(),
                        fact: if f.label.is_empty() {
                            f.event.to_string()
                        } else {
                            format!("{}: {}", f.event, f.label)
                        },
                        points,
                        at: Some(f.at),
                    });
                }
            }
        }
    }
    out
}

/// Whether an engagement rule counts a fact.
pub fn counts(r: &Rule, f: &Fact) -> bool {
    if r.event != Some(f.event) {
        return false;
    }
    match f.event {
        EngagementEvent::EmailOpened => !f.machine,
        EngagementEvent::OutreachReplied => r.sentiment.is_none() || r.sentiment == f.sentiment,
        EngagementEvent::ActivityDone => r.activity_kind.is_none() || r.activity_kind == f.activity_kind,
        EngagementEvent::StageReached => r.stage_id == f.stage_id,
        _ => true,
    }
}

/// Whether a fit rule's condition holds for the records.
pub fn fit_matches(field: &str, op: FitOp, want: Option<&Value>, rec: &Records) -> bool {
    let v = field_value(field, rec).filter(filled);
    match (op, v, want) {
        (FitOp::IsSet, v, _) => v.is_some(),
        (FitOp::IsEmpty, v, _) => v.is_none(),
        (_, None, _) | (_, _, None) => false,
        (FitOp::Eq, Some(v), Some(w)) => same(&v, w),
        (FitOp::OneOf, Some(v), Some(w)) => w.as_array().is_some_and(|a| a.iter().any(|x| same(&v, x))),
        (FitOp::Contains, Some(v), Some(w)) => {
            let needle = w.as_str().unwrap_or_default().trim().to_lowercase();
            match &v {
                Value::String(s) => s.to_lowercase().contains(&needle),
                Value::Array(a) => a.iter().any(|x| x.as_str().is_some_and(|s| s.to_lowercase().contains(&needle))),
                _ => false,
            }
        }
        (FitOp::Between, Some(v), Some(w)) => match w.as_array().map(Vec::as_slice) {
            Some([lo, hi]) => compare(&v, lo).is_some_and(|o| o.is_ge()) && compare(&v, hi).is_some_and(|o| o.is_le()),
            _ => false,
        },
    }
}

/// The condition as it held, in words: `organization.industry = Retail`.
fn describe_fit(field: &str, op: FitOp, want: Option<&Value>, rec: &Records) -> String {
    let shown = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match (op, field_value(field, rec)) {
        (FitOp::IsEmpty, _) => format!("{field} is empty"),
        (_, Some(v)) => format!("{field} = {}", shown(&v)),
        (_, None) => format!("{field} {op} {}", want.map(shown).unwrap_or_default()),
    }
}

//! The deal page's playbook checklist: the current stage's steps with tick
//! boxes (task, e-mail and campaign steps; field and evidence steps follow
//! the deal's data), each with its status (and the reason of a failed or
//! skipped one), its due time in the workspace's time zone, and the
//! progress "done/all". Properties an item carries beyond the ones known
//! here (an e-mail's send state) are shown as they come, so the page
//! keeps up with the API without knowing each one.

use dealflow_core::playbook::view::ChecklistItem;
use dealflow_core::playbook::{StepKind, StepStatus};
use serde_json::Value;

/// The item properties this page shows in their own places.
const KNOWN: &[&str] =
    &["step_id", "title", "kind", "required", "status", "due_at", "done_at", "done_by", "activity_id", "reason"];

/// One step as the page shows it.
pub struct StepView {
    pub step_id: String,
    pub title: String,
    pub required: bool,
    pub done: bool,
    /// Whether a person ticks it (else it follows the deal's data).
    pub tickable: bool,
    /// `open`, `done`, … for the CSS class.
    pub status: &'static str,
    /// The status in the page's language.
    pub status_label: String,
    pub due: String,
    pub due_iso: String,
    /// Why a failed or skipped step is so; empty otherwise.
    pub reason: String,
    /// When it was done, in the workspace's zone; empty when not done.
    pub done_at: String,
    /// Further state (an e-mail's send state), as `name: value` pairs.
    pub extra: Vec<(String, String)>,
}

/// The properties of `item` beyond [`KNOWN`], readable: times (`…_at`, in
/// milliseconds or RFC 3339) in the workspace's zone, other scalars as
/// they are, nested values as compact JSON; null ones left out.
fn extras(t: super::super::T, tz: chrono_tz::Tz, item: &ChecklistItem) -> Vec<(String, String)> {
    let Ok(Value::Object(map)) = serde_json::to_value(item) else { return Vec::new() };
    let mut out = Vec::new();
    for (k, v) in map.into_iter().filter(|(k, v)| !KNOWN.contains(&k.as_str()) && !v.is_null()) {
        let text = match &v {
            Value::String(s) if k.ends_with("_at") => dealflow_core::time::Timestamp::parse(s)
                .map(|ts| super::when(t, tz, ts.0))
                .unwrap_or_else(|_| s.clone()),
            Value::Number(n) if k.ends_with("_at") => n.as_i64().map(|ms| super::when(t, tz, ms)).unwrap_or_default(),
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            other => other.to_string(),
        };
        out.push((k.replace('_', " "), text));
    }
    out
}

/// The steps in order, and how many of them are done (skipped counts).
pub fn views(t: super::super::T, tz: chrono_tz::Tz, items: &[ChecklistItem]) -> (Vec<StepView>, usize) {
    let views: Vec<StepView> = items
        .iter()
        .map(|i| {
            let done = matches!(i.status, StepStatus::Done | StepStatus::Skipped);
            StepView {
                step_id: i.step_id.to_string(),
                title: i.title.clone(),
                required: i.required,
                done,
                tickable: !matches!(i.kind, StepKind::Field | StepKind::Evidence),
                status: i.status.as_str(),
                status_label: t.t(&format!("deal.step.{}", i.status.as_str())).to_string(),
                due: i.due_at.map(|d| super::when(t, tz, d.0)).unwrap_or_default(),
                due_iso: i.due_at.map(|d| super::iso(d.0)).unwrap_or_default(),
                reason: match i.status {
                    StepStatus::Failed | StepStatus::Skipped => i.reason.clone().unwrap_or_default(),
                    _ => String::new(),
                },
                done_at: match i.status {
                    StepStatus::Done => i.done_at.map(|d| super::when(t, tz, d.0)).unwrap_or_default(),
                    _ => String::new(),
                },
                extra: extras(t, tz, i),
            }
        })
        .collect();
    let done = views.iter().filter(|v| v.done).count();
    (views, done)
}

//! The deal page's playbook checklist: the current stage's steps with tick
//! boxes (task, e-mail and campaign steps; field and evidence steps follow
//! the deal's data) and the progress "done/all".

use dealflow_core::playbook::view::ChecklistItem;
use dealflow_core::playbook::{StepKind, StepStatus};

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
            }
        })
        .collect();
    let done = views.iter().filter(|v| v.done).count();
    (views, done)
}

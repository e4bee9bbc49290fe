//! An audit as a table: one row per deal in the audit's order, with its
//! facts and the decision.

use super::{Cell, ExportFormat, TableWriter, workspace_tz};
use crate::error::ApiError;
use dealflow_core::currency::Currency;
use dealflow_core::model::{Settings, Stage, User};
use dealflow_store::PipelineAudit;

pub const AUDIT_COLUMNS: &[&str] = &[
    "position",
    "stage",
    "deal_id",
    "title",
    "value",
    "currency",
    "owner",
    "last_contact_at",
    "days_since_contact",
    "qualified",
    "qualified_reason",
    "next_action",
    "next_action_due_at",
    "flags",
    "changes",
    "carried_over",
    "decision",
    "decision_note",
    "decided_by",
    "decided_at",
];

/// The audit's items; `stages` and `users` name ids.
pub fn audit(
    a: &PipelineAudit,
    stages: &[Stage],
    users: &[User],
    settings: &Settings,
    format: ExportFormat,
) -> Result<TableWriter, ApiError> {
    let headers: Vec<String> = AUDIT_COLUMNS.iter().map(|s| s.to_string()).collect();
    let mut out = TableWriter::new(format, "audit", workspace_tz(settings), &headers)?;
    let user = |id: Option<dealflow_core::UserId>| {
        Cell::opt_text(id.and_then(|id| users.iter().find(|u| u.id == id)).map(|u| u.name.clone()))
    };
    for i in a.items.iter().flatten() {
        let f = &i.facts;
        let stage = stages.iter().find(|s| s.id == f.stage_id).map(|s| s.name.clone());
        let digits = Currency::parse(&f.currency).map_or(2, |c| c.minor_digits());
        let flags: Vec<&str> = f.flags.iter().map(|x| x.as_str()).collect();
        let changes: Vec<&str> = f.changes.iter().map(|c| c.field.as_str()).collect();
        let d = i.decision.as_ref();
        out.row(&[
            Cell::Int(i.position + 1),
            Cell::opt_text(stage),
            Cell::text(f.deal_id.to_string()),
            Cell::text(f.title.clone()),
            Cell::Money { minor: f.value, digits },
            Cell::text(f.currency.clone()),
            user(f.owner_id),
            Cell::Time(f.last_contact_at),
            Cell::Int(f.days_since_contact),
            Cell::opt_text(f.qualified.map(|q| if q { "yes" } else { "no" })),
            Cell::text(f.qualified_reason.clone()),
            Cell::opt_text(f.next_action.as_ref().map(|n| n.subject.clone())),
            Cell::opt_time(f.next_action.as_ref().and_then(|n| n.due_at)),
            Cell::text(flags.join(" ")),
            Cell::text(changes.join(" ")),
            Cell::Int(i64::from(f.carried_over)),
            Cell::opt_text(d.map(|d| d.kind.as_str())),
            Cell::opt_text(d.and_then(|d| d.body.note.clone())),
            user(d.and_then(|d| d.by)),
            Cell::opt_time(d.map(|d| d.at)),
        ])?;
    }
    Ok(out)
}

//! `dealflow audit start --pipeline P [--owner EMAIL]` takes a weekly
//! pipeline audit now; `dealflow audit show ID [--json]` prints one, stage
//! by stage, with the three answers, the flags and the decisions — the same
//! audit as `GET /api/v1/audits/{id}`.

use super::metrics::emit;
use anyhow::Context;
use clap::{Args, Subcommand};
use dealflow_core::PipelineAuditId;
use dealflow_store::{Actor, PipelineAudit, Store};

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Take an audit of a pipeline's open deals now.
    Start(Start),
    /// Print an audit with its items, flags and decisions.
    Show(Show),
}

#[derive(Debug, Args)]
pub struct Start {
    /// The pipeline's name or id.
    #[arg(long)]
    pub pipeline: String,
    /// Only this owner's deals (their e-mail address).
    #[arg(long)]
    pub owner: Option<String>,
    /// Print the API's JSON instead of the summary.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct Show {
    /// The audit's id.
    pub id: i64,
    /// Print the API's JSON instead of the text.
    #[arg(long)]
    pub json: bool,
}

impl AuditCmd {
    pub async fn run(self, store: &Store) -> anyhow::Result<()> {
        match self {
            AuditCmd::Start(s) => s.run(store).await,
            AuditCmd::Show(s) => s.run(store).await,
        }
    }
}

impl Start {
    async fn run(self, store: &Store) -> anyhow::Result<()> {
        let pipelines = store.pipelines().await?;
        let wanted = self.pipeline.trim();
        let p = pipelines
            .iter()
            .find(|p| p.id.to_string() == wanted || p.name.eq_ignore_ascii_case(wanted))
            .with_context(|| format!("--pipeline: no pipeline named or numbered `{wanted}`"))?;
        let owner = match &self.owner {
            None => None,
            Some(email) => {
                let users = store.users().await?;
                let u = users.iter().find(|u| u.email.eq_ignore_ascii_case(email.trim()));
                Some(u.with_context(|| format!("--owner: no user with the address `{email}`"))?.id)
            }
        };
        let a = store.create_audit(&Actor::cli(), p.id, owner).await?;
        if self.json {
            return emit(&format!("{}\n", serde_json::to_string_pretty(&a)?));
        }
        let flagged = a.items.iter().flatten().filter(|i| !i.facts.flags.is_empty()).count();
        emit(&format!(
            "audit {} of pipeline {}: {} open deals, {} flagged; show it with `dealflow audit show {}`\n",
            a.id, p.name, a.progress.total, flagged, a.id
        ))
    }
}

impl Show {
    async fn run(self, store: &Store) -> anyhow::Result<()> {
        let a = store.audit(PipelineAuditId(self.id)).await?;
        if self.json {
            return emit(&format!("{}\n", serde_json::to_string_pretty(&a)?));
        }
        let p = store.pipeline(a.pipeline_id).await?;
        let users = store.users().await?;
        emit(&text(&a, &p.stages, &users))
    }
}

/// The audit in words: a heading, then per stage one block per deal.
pub fn text(a: &PipelineAudit, stages: &[dealflow_core::model::Stage], users: &[dealflow_core::model::User]) -> String {
    let name = |id: Option<dealflow_core::UserId>| {
        id.and_then(|id| users.iter().find(|u| u.id == id)).map_or("nobody".to_string(), |u| u.name.clone())
    };
    let mut out = format!(
        "audit {} ({}), taken {}; {} of {} decided\n",
        a.id,
        a.status.as_str(),
        a.created_at.to_rfc3339(),
        a.progress.decided,
        a.progress.total
    );
    let mut stage = None;
    for i in a.items.iter().flatten() {
        let f = &i.facts;
        if stage != Some(f.stage_id) {
            stage = Some(f.stage_id);
            let s =
                stages.iter().find(|s| s.id == f.stage_id).map_or_else(|| f.stage_id.to_string(), |s| s.name.clone());
            out.push_str(&format!("\n== {s}\n"));
        }
        let qualified = match f.qualified {
            Some(true) => "yes",
            Some(false) => "no",
            None => "unknown",
        };
        let next = f.next_action.as_ref().map_or("none".to_string(), |n| {
            format!("{} (due {})", n.subject, n.due_at.map_or("—".to_string(), |d| d.to_rfc3339()))
        });
        out.push_str(&format!("{} {} — owner {}\n", f.deal_id, f.title, name(f.owner_id)));
        out.push_str(&format!(
            "  last contact: {} days ago ({})\n",
            f.days_since_contact,
            f.last_contact_at.to_rfc3339()
        ));
        out.push_str(&format!("  qualified: {qualified} — {}\n", f.qualified_reason));
        out.push_str(&format!("  next action: {next}\n"));
        if !f.flags.is_empty() {
            let flags: Vec<&str> = f.flags.iter().map(|x| x.as_str()).collect();
            out.push_str(&format!("  flags: {}\n", flags.join(", ")));
        }
        if let Some(d) = &i.decision {
            let note = d.body.note.as_deref().map(|n| format!(": {n}")).unwrap_or_default();
            out.push_str(&format!("  decided: {} by {}{note}\n", d.kind.as_str(), name(d.by)));
        }
    }
    if let Some(s) = &a.summary {
        out.push_str(&format!(
            "\nsigned off: {} decided, {} undecided; flags raised {}, resolved {}\n",
            s.decided, s.undecided, s.flags_raised, s.flags_resolved
        ));
    }
    out
}

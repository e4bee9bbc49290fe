//! The weekly audit in the browser: `/audits` lists the audits with their
//! progress and summaries (managers and admins start one there), and
//! `/audits/{id}` is the meeting mode — one deal at a time, stage by stage,
//! with the three questions answered from the snapshot, its flags, and keys
//! to decide (`static/review.js`). `?mine=1` shows only the caller's deals:
//! the pre-review before the meeting, also on a phone.

use super::clock::{local_time, zone};
use super::deal::timeline::fill;
use super::{PageUser, T, html, page_error};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use dealflow_core::currency::Currency;
use dealflow_core::model::{Role, User};
use dealflow_core::pipeline_audit::AuditStatus;
use dealflow_core::{PipelineAuditId, UserId};
use dealflow_store::{AuditItem, PipelineAudit};
use serde::Deserialize;
use std::collections::BTreeMap;

pub fn router() -> Router<AppState> {
    Router::new().route("/audits", get(list_page)).route("/audits/{id}", get(meeting_page))
}

/// One row of the audits list.
pub struct AuditRow {
    pub id: String,
    pub pipeline: String,
    pub taken: String,
    pub signed_off: bool,
    pub progress: String,
    pub summary: String,
}

#[derive(Template)]
#[template(path = "pages/audits.html")]
struct ListPage<'a> {
    t: T,
    nav: &'static str,
    user: &'a User,
    csrf: &'a str,
    asset_v: &'static str,
    staff: bool,
    audits: Vec<AuditRow>,
    pipelines: Vec<(String, String)>,
    owners: Vec<(String, String)>,
}

async fn list_page(State(st): State<AppState>, u: PageUser) -> Response {
    render_list(&st, &u).await.unwrap_or_else(page_error)
}

async fn render_list(st: &AppState, u: &PageUser) -> Result<Response, ApiError> {
    let t = u.t;
    let (pipelines, users, settings) = tokio::try_join!(st.store.pipelines(), st.store.users(), st.store.settings())?;
    let tz = zone(&settings);
    let money = |minor: i64| t.money(minor, settings.base_currency.as_str(), settings.base_currency.minor_digits());
    let audits = st.store.audits(None, 100).await?;
    let rows = audits
        .iter()
        .map(|a| AuditRow {
            id: a.id.to_string(),
            pipeline: pipelines.iter().find(|p| p.id == a.pipeline_id).map(|p| p.name.clone()).unwrap_or_default(),
            taken: local_time(t, tz, a.created_at.0, false),
            signed_off: a.status == AuditStatus::SignedOff,
            progress: fill(
                t.t("review.progress"),
                &[("decided", &a.progress.decided.to_string()), ("total", &a.progress.total.to_string())],
            ),
            summary: a.summary.as_ref().map_or_else(String::new, |s| {
                fill(
                    t.t("review.summary"),
                    &[
                        ("undecided", &s.undecided.to_string()),
                        ("removed", &money(s.value_disqualified)),
                        ("moved", &money(s.value_moved)),
                        ("raised", &s.flags_raised.to_string()),
                        ("resolved", &s.flags_resolved.to_string()),
                        ("stale", &s.carried_over_3.len().to_string()),
                    ],
                )
            }),
        })
        .collect();
    Ok(html(&ListPage {
        t,
        nav: "audits",
        user: &u.user,
        csrf: &u.csrf,
        asset_v: super::assets::version(),
        staff: u.user.role != Role::Rep,
        audits: rows,
        pipelines: pipelines.iter().filter(|p| !p.archived).map(|p| (p.id.to_string(), p.name.clone())).collect(),
        owners: users.iter().filter(|u| u.active).map(|u| (u.id.to_string(), u.name.clone())).collect(),
    }))
}

#[derive(Debug, Deserialize)]
pub struct MeetingParams {
    mine: Option<String>,
}

/// One deal of the meeting, worded.
pub struct Card {
    pub deal_id: String,
    pub title: String,
    pub stage: String,
    pub owner: String,
    pub mine: bool,
    pub value: String,
    pub last_contact: String,
    /// `yes`, `no` or `unknown`, with the words.
    pub qualified: &'static str,
    pub qualified_text: String,
    pub next_action: String,
    pub next_overdue: bool,
    pub flags: Vec<String>,
    pub changes: Vec<String>,
    pub carried: String,
    pub previous_action: String,
    pub decision: String,
}

#[derive(Template)]
#[template(path = "pages/audit.html")]
struct MeetingPage<'a> {
    t: T,
    nav: &'static str,
    user: &'a User,
    csrf: &'a str,
    asset_v: &'static str,
    staff: bool,
    id: String,
    pipeline: String,
    taken: String,
    open: bool,
    mine_only: bool,
    cards: Vec<Card>,
    decided: usize,
    stages: Vec<(String, String)>,
    owners: Vec<(String, String)>,
    /// Flagged deals per owner (for the manager before the meeting).
    per_owner: Vec<(String, usize, usize)>,
    summary: String,
}

async fn meeting_page(
    State(st): State<AppState>,
    u: PageUser,
    Path(id): Path<PipelineAuditId>,
    Query(q): Query<MeetingParams>,
) -> Response {
    render_meeting(&st, &u, id, q.mine.is_some()).await.unwrap_or_else(page_error)
}

async fn render_meeting(
    st: &AppState,
    u: &PageUser,
    id: PipelineAuditId,
    mine_only: bool,
) -> Result<Response, ApiError> {
    let t = u.t;
    let a: PipelineAudit = st.store.audit(id).await?;
    let (pipeline, users, settings) =
        tokio::try_join!(st.store.pipeline(a.pipeline_id), st.store.users(), st.store.settings())?;
    let tz = zone(&settings);
    let name = |id: Option<UserId>| {
        id.and_then(|id| users.iter().find(|x| x.id == id))
            .map_or_else(|| t.t("review.nobody").to_string(), |x| x.name.clone())
    };
    let stage_name = |id: dealflow_core::StageId| {
        pipeline.stages.iter().find(|s| s.id == id).map_or_else(|| id.to_string(), |s| s.name.clone())
    };
    let items: Vec<&AuditItem> =
        a.items.iter().flatten().filter(|i| !mine_only || i.facts.owner_id == Some(u.user.id)).collect();
    let mut per_owner: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for i in a.items.iter().flatten() {
        let e = per_owner.entry(name(i.facts.owner_id)).or_default();
        e.0 += 1;
        e.1 += usize::from(!i.facts.flags.is_empty());
    }
    let cards = items
        .iter()
        .map(|i| {
            let f = &i.facts;
            let digits = Currency::parse(&f.currency).map_or(2, |c| c.minor_digits());
            let days = f.days_since_contact.to_string();
            let (qualified, q_key) = match f.qualified {
                Some(true) => ("yes", "review.q.yes"),
                Some(false) => ("no", "review.q.no"),
                None => ("unknown", "review.q.unknown"),
            };
            let next_action = f.next_action.as_ref().map_or_else(
                || t.t("review.none").to_string(),
                |n| match n.due_at {
                    Some(d) => format!("{} — {}", n.subject, local_time(t, tz, d.0, false)),
                    None => n.subject.clone(),
                },
            );
            let change = |c: &dealflow_core::pipeline_audit::Change| {
                let show = |v: &serde_json::Value| match (c.field.as_str(), v) {
                    ("stage", serde_json::Value::String(s)) => {
                        s.parse().map(|id| stage_name(dealflow_core::StageId(id))).unwrap_or_default()
                    }
                    ("owner", serde_json::Value::String(s)) => {
                        s.parse().ok().map(|id| name(Some(UserId(id)))).unwrap_or_default()
                    }
                    ("value", serde_json::Value::Array(v)) => {
                        t.money(v[0].as_i64().unwrap_or(0), v.get(1).and_then(|c| c.as_str()).unwrap_or(""), digits)
                    }
                    (_, serde_json::Value::Null) => "—".to_string(),
                    (_, serde_json::Value::String(s)) => s.clone(),
                    (_, other) => other.to_string(),
                };
                format!("{}: {} → {}", t.t(&format!("review.field.{}", c.field)), show(&c.before), show(&c.after))
            };
            let decision = i.decision.as_ref().map_or_else(String::new, |d| {
                let kind = t.t(&format!("review.kind.{}", d.kind.as_str())).to_string();
                let note = d.body.note.as_deref().map(|n| format!(" — {n}")).unwrap_or_default();
                format!("{kind} · {} · {}{note}", name(d.by), local_time(t, tz, d.at.0, false))
            });
            Card {
                deal_id: f.deal_id.to_string(),
                title: f.title.clone(),
                stage: stage_name(f.stage_id),
                owner: name(f.owner_id),
                mine: f.owner_id == Some(u.user.id),
                value: t.money(f.value, &f.currency, digits),
                last_contact: fill(
                    t.t("review.contact_ago"),
                    &[("days", &days), ("date", &local_time(t, tz, f.last_contact_at.0, false))],
                ),
                qualified,
                qualified_text: format!("{} — {}", t.t(q_key), f.qualified_reason),
                next_action,
                next_overdue: f.flags.contains(&dealflow_core::pipeline_audit::Flag::NextActionOverdue),
                flags: f.flags.iter().map(|x| t.t(&format!("review.flag.{}", x.as_str())).to_string()).collect(),
                changes: f.changes.iter().map(change).collect(),
                carried: if f.carried_over > 0 {
                    fill(t.t("review.carried"), &[("n", &f.carried_over.to_string())])
                } else {
                    String::new()
                },
                previous_action: f.previous_action.as_ref().map_or_else(String::new, |p| {
                    let key = if p.done { "review.prev_done" } else { "review.prev_not_done" };
                    fill(t.t(key), &[("subject", &p.subject)])
                }),
                decision,
            }
        })
        .collect::<Vec<_>>();
    let decided = items.iter().filter(|i| i.decision.is_some()).count();
    let summary = a.summary.as_ref().map_or_else(String::new, |s| {
        fill(
            t.t("review.signed_summary"),
            &[("decided", &s.decided.to_string()), ("undecided", &s.undecided.to_string())],
        )
    });
    Ok(html(&MeetingPage {
        t,
        nav: "audits",
        user: &u.user,
        csrf: &u.csrf,
        asset_v: super::assets::version(),
        staff: u.user.role != Role::Rep,
        id: a.id.to_string(),
        pipeline: pipeline.name.clone(),
        taken: local_time(t, tz, a.created_at.0, false),
        open: a.status == AuditStatus::Open,
        mine_only,
        cards,
        decided,
        stages: pipeline.stages.iter().filter(|s| !s.archived).map(|s| (s.id.to_string(), s.name.clone())).collect(),
        owners: users.iter().filter(|x| x.active).map(|x| (x.id.to_string(), x.name.clone())).collect(),
        per_owner: per_owner.into_iter().map(|(k, (n, f))| (k, n, f)).collect(),
        summary,
    }))
}

//! The activities page: the open activities of the signed-in user (or of
//! everyone), grouped into overdue (past its due time), later today and
//! upcoming in the workspace's time zone; each completes in one click
//! through the API.

use super::clock::{local_time, start_of_tomorrow, zone};
use super::{PageUser, T, html};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use dealflow_core::agenda::{DueState, due_state};
use dealflow_core::model::{Activity, ActivityKind, User};
use dealflow_core::time::Timestamp;
use dealflow_store::{ActivityFilter, Page};
use serde::Deserialize;
use std::collections::HashMap;

/// At most this many open activities are shown (pages of 500 are read).
const MAX_SHOWN: usize = 2000;

pub fn router() -> Router<AppState> {
    Router::new().route("/activities", get(page))
}

#[derive(Debug, Deserialize)]
pub struct ActivitiesQuery {
    scope: Option<String>,
}

/// One activity as the page shows it.
pub struct ActivityView {
    pub id: String,
    pub version: i64,
    pub subject: String,
    pub kind: &'static str,
    pub kind_label: &'static str,
    pub due: String,
    /// Machine-readable due time for `<time datetime>`.
    pub due_iso: String,
    pub deal: Option<(String, String)>,
    pub person: Option<(String, String)>,
    pub owner: String,
    /// The title of the playbook step that made this task; empty otherwise.
    pub step: String,
}

pub struct Group {
    pub key: &'static str,
    pub title: &'static str,
    pub items: Vec<ActivityView>,
}

#[derive(Template)]
#[template(path = "pages/activities.html")]
struct ActivitiesPage<'a> {
    t: T,
    nav: &'static str,
    user: &'a User,
    csrf: &'a str,
    asset_v: &'static str,
    scope: &'static str,
    groups: Vec<Group>,
    total: usize,
}

pub fn kind_label(t: T, k: ActivityKind) -> &'static str {
    match k {
        ActivityKind::Call => t.t("act.kind.call"),
        ActivityKind::Meeting => t.t("act.kind.meeting"),
        ActivityKind::Email => t.t("act.kind.email"),
        ActivityKind::Task => t.t("act.kind.task"),
        ActivityKind::Linkedin => t.t("act.kind.linkedin"),
    }
}

pub async fn page(State(st): State<AppState>, u: PageUser, Query(q): Query<ActivitiesQuery>) -> Response {
    render(&st, &u, q).await.unwrap_or_else(|e| u.error(e))
}

/// Every open activity matching `f`, up to [`MAX_SHOWN`].
async fn open_activities(st: &AppState, f: &ActivityFilter) -> Result<Vec<Activity>, ApiError> {
    let mut out = Vec::new();
    let mut before = None;
    loop {
        let page = st.store.list_activities(f, Page { limit: Page::MAX, before }).await?;
        out.extend(page.items);
        match page.next_cursor.and_then(|c| c.parse::<i64>().ok()) {
            Some(c) if out.len() < MAX_SHOWN => before = Some(c),
            _ => break,
        }
    }
    out.truncate(MAX_SHOWN);
    Ok(out)
}

async fn render(st: &AppState, u: &PageUser, q: ActivitiesQuery) -> Result<Response, ApiError> {
    let scope = if q.scope.as_deref() == Some("all") { "all" } else { "mine" };
    let settings = st.store.settings().await?;
    let tz = zone(&settings);
    let now = Timestamp::now();
    let tomorrow = start_of_tomorrow(&settings, now);
    let filter =
        ActivityFilter { done: Some(false), owner_id: (scope == "mine").then_some(u.user.id), ..Default::default() };
    let mut items = open_activities(st, &filter).await?;
    // Earliest due first; activities without a due time last.
    items.sort_by_key(|a| (a.due_at.is_none(), a.due_at.map(|d| d.0), a.id.0));
    let users: HashMap<i64, String> = st.store.users().await?.into_iter().map(|x| (x.id.0, x.name)).collect();
    let mut deals: HashMap<i64, Option<String>> = HashMap::new();
    let mut people: HashMap<i64, Option<String>> = HashMap::new();
    let mut groups = vec![
        Group { key: "overdue", title: u.t.t("act.overdue"), items: Vec::new() },
        Group { key: "today", title: u.t.t("act.today"), items: Vec::new() },
        Group { key: "upcoming", title: u.t.t("act.upcoming"), items: Vec::new() },
    ];
    let total = items.len();
    // One read says which of them playbook steps made.
    let steps = st.store.playbook_tasks(&items.iter().map(|a| a.id).collect::<Vec<_>>()).await?;
    for a in items {
        let deal = match a.deal_id {
            Some(id) => {
                if let std::collections::hash_map::Entry::Vacant(e) = deals.entry(id.0) {
                    e.insert(st.store.deal(id).await.ok().filter(|d| d.deleted_at.is_none()).map(|d| d.title));
                }
                deals[&id.0].clone().map(|title| (id.to_string(), title))
            }
            None => None,
        };
        let person = match a.person_id {
            Some(id) => {
                if let std::collections::hash_map::Entry::Vacant(e) = people.entry(id.0) {
                    e.insert(st.store.person(id).await.ok().filter(|p| p.deleted_at.is_none()).map(|p| p.name));
                }
                people[&id.0].clone().map(|name| (id.to_string(), name))
            }
            None => None,
        };
        // The one overdue rule (`core::agenda`): past its due time, even earlier today.
        let g = match due_state(a.due_at, now, tomorrow) {
            DueState::Overdue => 0,
            DueState::Today => 1,
            DueState::Later | DueState::None => 2,
        };
        let due = match a.due_at {
            Some(d) => local_time(u.t, tz, d.0, g == 1),
            None => u.t.t("act.no_due").to_string(),
        };
        groups[g].items.push(ActivityView {
            id: a.id.to_string(),
            version: a.version,
            subject: a.subject,
            kind: a.kind.as_str(),
            kind_label: kind_label(u.t, a.kind),
            due,
            due_iso: a.due_at.map(|d| d.to_rfc3339()).unwrap_or_default(),
            deal,
            person,
            owner: a.owner_id.and_then(|o| users.get(&o.0).cloned()).unwrap_or_default(),
            step: steps.get(&a.id).cloned().unwrap_or_default(),
        });
    }
    Ok(html(&ActivitiesPage {
        t: u.t,
        nav: "activities",
        user: &u.user,
        csrf: &u.csrf,
        asset_v: super::assets::version(),
        scope,
        groups,
        total,
    }))
}

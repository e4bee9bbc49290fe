//! The integrations page under settings: e-mail connections (the URLs to
//! paste into the provider, their status, the latest events), the queue of
//! events no person matched (admins assign them), outgoing webhooks with
//! their delivery log and redelivery, and intake forms with their snippet
//! and recent submissions, each with a form to add one. Admins and managers
//! see it; the forms and buttons call the JSON API (admin.js), which lets
//! only admins act.

use super::{PageUser, T, html, page_error};
use crate::AppState;
use crate::error::ApiError;
use crate::export::local_time;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use dealflow_core::model::{Role, User};
use dealflow_store::{EmailEvent, Page, PersonFilter, Provider};

pub fn router() -> Router<AppState> {
    Router::new().route("/settings/integrations", get(page))
}

/// How many rows each list shows.
const SHOWN: i64 = 20;

pub struct ConnRow {
    pub id: String,
    pub name: String,
    pub provider: &'static str,
    pub ingest_url: String,
    pub inbound_url: String,
    pub received: i64,
    pub last_event: String,
    pub failures: i64,
    pub last_failure: String,
}

pub struct EventRow {
    pub id: String,
    pub at: String,
    pub kind: &'static str,
    pub email: String,
    pub person: Option<String>,
    /// Suggested people for an unmatched event (same domain).
    pub suggestions: Vec<(String, String)>,
}

pub struct AttemptRow {
    pub id: String,
    pub at: String,
    pub event: String,
    pub status: String,
    pub ok: bool,
    pub latency_ms: i64,
    pub response: String,
}

pub struct HookRow {
    pub id: String,
    pub url: String,
    pub events: String,
    pub active: bool,
    pub attempts: Vec<AttemptRow>,
}

pub struct FormRow {
    pub name: String,
    pub endpoint: String,
    pub snippet: String,
    pub submissions: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "pages/integrations.html")]
struct IntegrationsPage<'a> {
    t: T,
    nav: &'static str,
    user: &'a User,
    csrf: &'a str,
    asset_v: &'static str,
    admin: bool,
    connections: Vec<ConnRow>,
    events: Vec<EventRow>,
    unmatched: Vec<EventRow>,
    hooks: Vec<HookRow>,
    forms: Vec<FormRow>,
    providers: Vec<&'static str>,
    webhook_events: &'static [&'static str],
    /// Active pipelines, (id, name), for a new form.
    pipelines: Vec<(String, String)>,
}

pub async fn page(State(st): State<AppState>, u: PageUser, headers: HeaderMap) -> Response {
    if u.user.role == Role::Rep {
        return page_error(ApiError::Forbidden(u.t.t("set.forbidden").to_string()));
    }
    render(&st, &u, &headers).await.unwrap_or_else(page_error)
}

fn event_row(e: &EmailEvent, tz: chrono_tz::Tz) -> EventRow {
    EventRow {
        id: e.id.to_string(),
        at: local_time(e.at, tz),
        kind: e.kind.as_str(),
        email: e.email.clone().unwrap_or_default(),
        person: e.person_id.map(|p| p.to_string()),
        suggestions: Vec::new(),
    }
}

async fn render(st: &AppState, u: &PageUser, headers: &HeaderMap) -> Result<Response, ApiError> {
    let tz = st.store.settings().await?.time_zone.tz();
    let page = Page { limit: SHOWN, before: None };
    let base = crate::api::forms::base_url(st, headers);
    let connections = st
        .store
        .connections(Page { limit: 50, before: None })
        .await?
        .items
        .into_iter()
        .map(|c| ConnRow {
            id: c.id.to_string(),
            ingest_url: format!("{base}/ingest/{}", c.id),
            inbound_url: format!("{base}/ingest/{}/inbound", c.id),
            name: c.name,
            provider: c.provider.as_str(),
            received: c.events_received,
            last_event: c.last_event_at.map(|t| local_time(t, tz)).unwrap_or_default(),
            failures: c.failures,
            last_failure: match (c.last_failure_at, c.last_failure) {
                (Some(at), Some(why)) => format!("{} — {why}", local_time(at, tz)),
                _ => String::new(),
            },
        })
        .collect();
    let events =
        st.store.email_events(&Default::default(), page).await?.items.iter().map(|e| event_row(e, tz)).collect();
    let mut unmatched = Vec::new();
    for e in st.store.unmatched_events(page).await?.items {
        let mut row = event_row(&e, tz);
        if let Some(domain) = e.email.as_deref().and_then(|m| m.rsplit_once('@')).map(|(_, d)| d.to_string()) {
            let f = PersonFilter { q: Some(domain), ..Default::default() };
            let people = st.store.list_people(&f, Page { limit: 10, before: None }).await?.items;
            row.suggestions = people
                .into_iter()
                .map(|p| (p.id.to_string(), format!("{} <{}>", p.name, p.emails.first().cloned().unwrap_or_default())))
                .collect();
        }
        unmatched.push(row);
    }
    let mut hooks = Vec::new();
    for h in st.store.webhooks(Page { limit: 50, before: None }).await?.items {
        let attempts = st
            .store
            .webhook_attempts(h.id, Page { limit: 10, before: None })
            .await?
            .items
            .into_iter()
            .map(|a| AttemptRow {
                id: a.id.to_string(),
                at: local_time(a.at, tz),
                event: a.event_type,
                status: a.status.map(|s| s.to_string()).unwrap_or_else(|| "—".into()),
                ok: a.ok,
                latency_ms: a.latency_ms,
                response: a.response.unwrap_or_default().chars().take(200).collect(),
            })
            .collect();
        hooks.push(HookRow {
            id: h.id.to_string(),
            url: h.url,
            events: h.events.join(", "),
            active: h.active,
            attempts,
        });
    }
    let mut forms = Vec::new();
    for f in st.store.forms(Page { limit: 50, before: None }).await?.items {
        let endpoint = format!("{base}/f/{}", f.key);
        let submissions = st
            .store
            .form_submissions(f.id, Page { limit: 10, before: None })
            .await?
            .items
            .into_iter()
            .map(|s| (local_time(s.at, tz), s.email, s.outcome.as_str().to_string()))
            .collect();
        forms.push(FormRow { snippet: crate::api::forms::snippet(&f, &endpoint), endpoint, name: f.name, submissions });
    }
    Ok(html(&IntegrationsPage {
        t: u.t,
        nav: "settings",
        user: &u.user,
        csrf: &u.csrf,
        asset_v: super::assets::version(),
        admin: u.user.role == Role::Admin,
        connections,
        events,
        unmatched,
        hooks,
        forms,
        providers: Provider::ALL.iter().map(|p| p.as_str()).collect(),
        webhook_events: dealflow_store::WEBHOOK_EVENTS,
        pipelines: st
            .store
            .pipelines()
            .await?
            .into_iter()
            .filter(|p| !p.archived)
            .map(|p| (p.id.to_string(), p.name))
            .collect(),
    }))
}

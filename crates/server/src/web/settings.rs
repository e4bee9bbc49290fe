//! Workspace settings (admins only): the workspace, pipelines and stages,
//! lost reasons, custom fields, users and API tokens. The page reads through
//! the store; every form saves through the JSON API with the record's
//! version, and the server's messages are shown.

use super::{PageUser, T, html};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use dealflow_core::custom_field::CustomField;
use dealflow_core::model::{ApiToken, LostReason, Pipeline, Role, Settings, User};

pub fn router() -> Router<AppState> {
    Router::new().route("/settings", get(page)).route("/settings/stages/{id}/steps", get(super::steps_editor::page))
}

pub struct Weekday {
    pub n: u8,
    /// The same day as the weekly audit's `audit_weekday` stores it.
    pub iso: i64,
    pub label: &'static str,
    pub on: bool,
}

pub struct TokenView {
    pub token: ApiToken,
    pub owner: String,
    pub created: String,
    pub last_used: String,
}

#[derive(Template)]
#[template(path = "pages/settings.html")]
struct SettingsPage<'a> {
    t: T,
    nav: &'static str,
    user: &'a User,
    csrf: &'a str,
    asset_v: &'static str,
    settings: Settings,
    rates: String,
    weekdays: Vec<Weekday>,
    pipelines: Vec<Pipeline>,
    lost_reasons: Vec<LostReason>,
    fields: Vec<CustomField>,
    users: Vec<User>,
    tokens: Vec<TokenView>,
    roles: [(&'static str, &'static str); 3],
    milestones: [(&'static str, &'static str); 3],
    entities: [(&'static str, &'static str); 3],
    kinds: [(&'static str, &'static str); 6],
}

fn role_label(t: T, r: &str) -> &'static str {
    match r {
        "admin" => t.t("set.role.admin"),
        "manager" => t.t("set.role.manager"),
        _ => t.t("set.role.rep"),
    }
}

pub async fn page(State(st): State<AppState>, u: PageUser) -> Response {
    if u.user.role != Role::Admin {
        return u.error(ApiError::Forbidden(u.t.t("set.forbidden").to_string()));
    }
    render(&st, &u).await.unwrap_or_else(|e| u.error(e))
}

async fn render(st: &AppState, u: &PageUser) -> Result<Response, ApiError> {
    let t = u.t;
    let settings = st.store.settings().await?;
    let rates = settings.exchange_rates.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("\n");
    let day_names = [
        t.t("set.day.1"),
        t.t("set.day.2"),
        t.t("set.day.3"),
        t.t("set.day.4"),
        t.t("set.day.5"),
        t.t("set.day.6"),
        t.t("set.day.7"),
    ];
    let weekdays = (1..=7u8)
        .map(|n| Weekday {
            n,
            iso: i64::from(n),
            label: day_names[n as usize - 1],
            on: settings.working_days.contains(&n),
        })
        .collect();
    let users = st.store.users().await?;
    let tokens = st
        .store
        .tokens(None)
        .await?
        .into_iter()
        .map(|tk| TokenView {
            owner: users.iter().find(|x| x.id == tk.user_id).map(|x| x.name.clone()).unwrap_or_default(),
            created: t.short_date(tk.created_at.0),
            last_used: tk.last_used_at.map(|l| t.short_date(l.0)).unwrap_or_else(|| t.t("set.never").to_string()),
            token: tk,
        })
        .collect();
    Ok(html(&SettingsPage {
        t,
        nav: "settings",
        user: &u.user,
        csrf: &u.csrf,
        asset_v: super::assets::version(),
        rates,
        weekdays,
        pipelines: st.store.pipelines().await?,
        lost_reasons: st.store.lost_reasons().await?,
        fields: st.store.custom_fields(None).await?,
        tokens,
        roles: [
            ("admin", role_label(t, "admin")),
            ("manager", role_label(t, "manager")),
            ("rep", role_label(t, "rep")),
        ],
        milestones: [
            ("conversation", t.t("set.milestone.conversation")),
            ("meeting", t.t("set.milestone.meeting")),
            ("proposal", t.t("set.milestone.proposal")),
        ],
        entities: [
            ("deal", t.t("set.entity.deal")),
            ("person", t.t("set.entity.person")),
            ("organization", t.t("set.entity.organization")),
        ],
        kinds: [
            ("text", t.t("set.kind.text")),
            ("number", t.t("set.kind.number")),
            ("money", t.t("set.kind.money")),
            ("date", t.t("set.kind.date")),
            ("boolean", t.t("set.kind.boolean")),
            ("single_select", t.t("set.kind.single_select")),
        ],
        users,
        settings,
    }))
}

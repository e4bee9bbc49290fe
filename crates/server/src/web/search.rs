//! Global search (`/search?q=…`): deals, people and organizations whose
//! name matches, each linked to its page; groups without results are left
//! out, and a search that finds nothing says so once.

use super::{PageUser, T, html};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use dealflow_core::model::User;
use dealflow_store::{DealFilter, OrganizationFilter, Page, PersonFilter};
use serde::Deserialize;

/// Results per kind of record.
const LIMIT: i64 = 25;

pub fn router() -> Router<AppState> {
    Router::new().route("/search", get(page))
}

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

/// One result: link target, main text, secondary text.
pub struct Hit {
    pub href: String,
    pub title: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "pages/search.html")]
struct SearchPage<'a> {
    t: T,
    nav: &'static str,
    user: &'a User,
    csrf: &'a str,
    asset_v: &'static str,
    q: String,
    deals: Vec<Hit>,
    people: Vec<Hit>,
    organizations: Vec<Hit>,
    /// "Nothing found for …", shown instead of the groups when all are empty.
    nothing: String,
}

pub async fn page(State(st): State<AppState>, u: PageUser, Query(q): Query<SearchQuery>) -> Response {
    render(&st, &u, q).await.unwrap_or_else(|e| u.error(e))
}

async fn render(st: &AppState, u: &PageUser, q: SearchQuery) -> Result<Response, ApiError> {
    let q = q.q.unwrap_or_default().trim().chars().take(200).collect::<String>();
    let (mut deals, mut people, mut organizations) = (Vec::new(), Vec::new(), Vec::new());
    if !q.is_empty() {
        let page = Page { limit: LIMIT, before: None };
        let f = DealFilter { q: Some(q.clone()), ..Default::default() };
        for d in st.store.list_deals(&f, page).await?.items {
            let digits = d.currency.minor_digits();
            let status = match d.status.as_str() {
                "won" => u.t.t("search.won"),
                "lost" => u.t.t("search.lost"),
                _ => u.t.t("search.open"),
            };
            deals.push(Hit {
                href: format!("/deals/{}", d.id),
                title: d.title,
                detail: format!("{} · {status}", u.t.money(d.value, d.currency.as_str(), digits)),
            });
        }
        let f = PersonFilter { q: Some(q.clone()), ..Default::default() };
        for p in st.store.list_people(&f, page).await?.items {
            let detail = [p.job_title.clone().unwrap_or_default(), p.emails.first().cloned().unwrap_or_default()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" · ");
            people.push(Hit { href: format!("/people/{}", p.id), title: p.name, detail });
        }
        let f = OrganizationFilter { q: Some(q.clone()), ..Default::default() };
        for o in st.store.list_organizations(&f, page).await?.items {
            organizations.push(Hit {
                href: format!("/organizations/{}", o.id),
                title: o.name,
                detail: o.domain.unwrap_or_default(),
            });
        }
    }
    let nothing = super::fill(u.t.t("search.nothing_for"), &[("q", &q)]);
    Ok(html(&SearchPage {
        t: u.t,
        nav: "search",
        user: &u.user,
        csrf: &u.csrf,
        asset_v: super::assets::version(),
        q,
        deals,
        people,
        organizations,
        nothing,
    }))
}

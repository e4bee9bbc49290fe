//! The list pages `/deals`, `/people` and `/organizations`: sortable,
//! filterable tables with keyset pagination (next / previous links) and
//! bulk actions on selected rows, which the page script performs through
//! the JSON API record by record.

use super::{PageUser, T, html, urlencode};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use dealflow_core::currency::Currency;
use dealflow_core::model::{DealStatus, Pipeline, User};
use dealflow_core::{PipelineId, StageId, UserId};
use dealflow_store::{DealFilter, ListQuery, OrganizationFilter, PersonFilter, Slice, SortKey};
use serde::Deserialize;

/// Rows per page.
pub const PAGE: i64 = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/deals", get(deals))
        .route("/people", get(people))
        .route("/organizations", get(organizations))
        .merge(super::party_pages::router())
}

/// Query of a list page: filters, order and position.
#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    sort: Option<String>,
    dir: Option<String>,
    owner: Option<String>,
    q: Option<String>,
    pipeline: Option<String>,
    stage: Option<String>,
    status: Option<String>,
    after: Option<String>,
    before: Option<String>,
    /// Deals: only this lead-score band.
    band: Option<String>,
}

pub fn parse_id(s: Option<&str>) -> Option<i64> {
    s.and_then(|v| v.trim().parse().ok())
}

/// Translated label of a deal status.
pub fn status_label(t: T, s: &str) -> &'static str {
    match s {
        "won" => t.t("lists.status_won"),
        "lost" => t.t("lists.status_lost"),
        _ => t.t("lists.status_open"),
    }
}

/// Money of a row in its own currency.
pub fn money(t: T, minor: i64, currency: &str) -> String {
    let digits = Currency::parse(currency).map(|c| c.minor_digits()).unwrap_or(2);
    t.money(minor, currency, digits)
}

/// One row of any of the three tables, ready to show.
pub struct RowView {
    pub id: String,
    pub version: i64,
    pub name: String,
    pub href: String,
    /// Deals: value; people: e-mail; organizations: domain.
    pub second: String,
    /// Deals: stage; people: job title; organizations: country.
    pub third: String,
    /// Deals: status; people and organizations: empty.
    pub status: String,
    /// Deals: organization or person; people: organization; organizations: people count.
    pub related: String,
    pub related_href: String,
    pub owner: String,
    pub created: String,
    pub updated: String,
    /// Deals: the lead score with its band ("B 35"), or empty.
    pub score: String,
}

#[derive(Template)]
#[template(path = "pages/lists.html")]
struct ListPage<'a> {
    t: T,
    nav: &'static str,
    user: &'a User,
    csrf: &'a str,
    asset_v: &'static str,
    /// `deals`, `people` or `organizations` (also the API path).
    kind: &'static str,
    title: &'static str,
    rows: Vec<RowView>,
    users: Vec<User>,
    pipelines: Vec<Pipeline>,
    owner: String,
    q: String,
    pipeline: String,
    stage: String,
    status: String,
    sort: SortKey,
    desc: bool,
    /// The filters as a query string, without order or position.
    filters: String,
    /// Deals: the band filter, and the bands the scoring models name.
    band: String,
    bands: Vec<String>,
    prev: String,
    next: String,
}

impl ListPage<'_> {
    /// Whether the role matrix lets the viewer export this list (reps may not).
    fn can_export(&self) -> bool {
        crate::auth::roles::allows(self.user.role, "GET", &format!("/api/v1/{}/export", self.kind))
    }

    /// Link of a column header: sorts by `key`, flipping the direction when
    /// it is the current key; names sort A–Z first, the rest newest/largest first.
    fn sort_href(&self, key: &str) -> String {
        let current = self.sort.as_str() == key;
        let desc = if current { !self.desc } else { key != "name" };
        let dir = if desc { "desc" } else { "asc" };
        format!("/{}?{}sort={key}&dir={dir}", self.kind, self.filters)
    }

    fn aria_sort(&self, key: &str) -> &'static str {
        match (self.sort.as_str() == key, self.desc) {
            (false, _) => "none",
            (true, true) => "descending",
            (true, false) => "ascending",
        }
    }

    fn arrow(&self, key: &str) -> &'static str {
        match self.aria_sort(key) {
            "descending" => "▼",
            "ascending" => "▲",
            _ => "",
        }
    }
}

struct Parsed {
    owner: Option<UserId>,
    q: Option<String>,
    query: ListQuery,
    filters: String,
}

fn parse(p: &ListParams, extra: &[(&str, Option<String>)]) -> Parsed {
    let owner = parse_id(p.owner.as_deref()).map(UserId);
    let q = p.q.clone().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let sort = p.sort.as_deref().and_then(SortKey::parse).unwrap_or_default();
    let desc = p.dir.as_deref() != Some("asc");
    let query = ListQuery {
        sort,
        desc,
        after: parse_id(p.after.as_deref()),
        before: parse_id(p.before.as_deref()),
        limit: PAGE,
    };
    let mut filters = String::new();
    let mut add = |k: &str, v: &str| filters.push_str(&format!("{k}={}&", urlencode(v)));
    if let Some(o) = owner {
        add("owner", &o.to_string());
    }
    if let Some(s) = &q {
        add("q", s);
    }
    for (k, v) in extra {
        if let Some(v) = v {
            add(k, v);
        }
    }
    Parsed { owner, q, query, filters }
}

/// The previous and next page links of a list page showing `slice`.
fn pager<R>(kind: &str, p: &Parsed, slice: &Slice<R>, id: impl Fn(&R) -> String) -> (String, String) {
    let (first, last) = (slice.items.first().map(&id), slice.items.last().map(&id));
    let (prev, next) = (slice.has_prev, slice.has_next);
    let dir = if p.query.desc { "desc" } else { "asc" };
    let base = format!("/{kind}?{}sort={}&dir={dir}", p.filters, p.query.sort.as_str());
    let prev = match first {
        Some(id) if prev => format!("{base}&before={id}"),
        _ => String::new(),
    };
    let next = match last {
        Some(id) if next => format!("{base}&after={id}"),
        _ => String::new(),
    };
    (prev, next)
}

async fn active_users(st: &AppState) -> Result<Vec<User>, ApiError> {
    Ok(st.store.users().await?.into_iter().filter(|u| u.active).collect())
}

#[allow(clippy::too_many_arguments)]
fn page(
    u: &PageUser,
    kind: &'static str,
    title: &'static str,
    rows: Vec<RowView>,
    users: Vec<User>,
    pipelines: Vec<Pipeline>,
    p: &Parsed,
    extra: [String; 3],
    (prev, next): (String, String),
    (band, bands): (String, Vec<String>),
) -> Response {
    let [pipeline, stage, status] = extra;
    html(&ListPage {
        t: u.t,
        nav: kind,
        user: &u.user,
        csrf: &u.csrf,
        asset_v: super::assets::version(),
        kind,
        title,
        rows,
        users,
        pipelines,
        owner: p.owner.map(|o| o.to_string()).unwrap_or_default(),
        q: p.q.clone().unwrap_or_default(),
        pipeline,
        stage,
        status,
        sort: p.query.sort,
        desc: p.query.desc,
        filters: p.filters.clone(),
        band,
        bands,
        prev,
        next,
    })
}

pub async fn deals(State(st): State<AppState>, u: PageUser, Query(q): Query<ListParams>) -> Response {
    let result = async {
        let pipeline = parse_id(q.pipeline.as_deref()).map(PipelineId);
        let stage = parse_id(q.stage.as_deref()).map(StageId);
        let status = q.status.as_deref().and_then(|s| DealStatus::parse(s).ok());
        let extra = [
            ("pipeline", pipeline.map(|v| v.to_string())),
            ("stage", stage.map(|v| v.to_string())),
            ("status", status.map(|v| v.as_str().to_string())),
        ];
        let band = q.band.as_deref().map(str::trim).filter(|b| !b.is_empty()).map(str::to_string);
        let mut p = parse(&q, &extra);
        if let Some(b) = &band {
            p.filters.push_str(&format!("band={}&", urlencode(b)));
        }
        let f = DealFilter {
            pipeline_id: pipeline,
            stage_id: stage,
            status,
            owner_id: p.owner,
            q: p.q.clone(),
            band: band.clone(),
            ..Default::default()
        };
        let slice = st.store.deal_rows(&f, &p.query).await?;
        let t = u.t;
        let links = pager("deals", &p, &slice, |r| r.id.to_string());
        let rows = slice
            .items
            .into_iter()
            .map(|r| {
                let (related, related_href) = match (&r.organization, r.organization_id, &r.person, r.person_id) {
                    (Some(o), Some(id), _, _) => (o.clone(), format!("/organizations/{id}")),
                    (_, _, Some(pn), Some(id)) => (pn.clone(), format!("/people/{id}")),
                    _ => (String::new(), String::new()),
                };
                RowView {
                    id: r.id.to_string(),
                    version: r.version,
                    href: format!("/deals/{}", r.id),
                    second: money(t, r.value, &r.currency),
                    third: r.stage.clone(),
                    status: status_label(t, &r.status).to_string(),
                    related,
                    related_href,
                    owner: r.owner.clone().unwrap_or_default(),
                    created: t.short_date(r.created_at.0),
                    updated: t.short_date(r.updated_at.0),
                    score: match (r.score, &r.band) {
                        (Some(x), Some(b)) => format!("{b} {}", x as f64 / 100.0),
                        (Some(x), None) => (x as f64 / 100.0).to_string(),
                        _ => String::new(),
                    },
                    name: r.title,
                }
            })
            .collect();
        let pipelines = st.store.pipelines().await?.into_iter().filter(|p| !p.archived).collect();
        let [a, b, c] = extra.map(|(_, v)| v.unwrap_or_default());
        let mut bands: Vec<String> = Vec::new();
        for m in st.store.scoring_models(dealflow_store::Page { limit: 50, before: None }).await?.items {
            for b in m.published.iter().flat_map(|b| b.bands.iter()) {
                if !bands.contains(&b.name) {
                    bands.push(b.name.clone());
                }
            }
        }
        Ok::<_, ApiError>(page(
            &u,
            "deals",
            t.t("lists.deals_title"),
            rows,
            active_users(&st).await?,
            pipelines,
            &p,
            [a, b, c],
            links,
            (band.clone().unwrap_or_default(), bands),
        ))
    }
    .await;
    result.unwrap_or_else(|e| u.error(e))
}

pub async fn people(State(st): State<AppState>, u: PageUser, Query(q): Query<ListParams>) -> Response {
    let result = async {
        let p = parse(&q, &[]);
        let f = PersonFilter { owner_id: p.owner, q: p.q.clone(), ..Default::default() };
        let slice = st.store.person_rows(&f, &p.query).await?;
        let t = u.t;
        let links = pager("people", &p, &slice, |r| r.id.to_string());
        let rows = slice
            .items
            .into_iter()
            .map(|r| RowView {
                score: String::new(),
                id: r.id.to_string(),
                version: r.version,
                href: format!("/people/{}", r.id),
                second: r.email.clone().unwrap_or_default(),
                third: r.job_title.clone().unwrap_or_default(),
                status: String::new(),
                related: r.organization.clone().unwrap_or_default(),
                related_href: r.organization_id.map(|o| format!("/organizations/{o}")).unwrap_or_default(),
                owner: r.owner.clone().unwrap_or_default(),
                created: t.short_date(r.created_at.0),
                updated: t.short_date(r.updated_at.0),
                name: r.name,
            })
            .collect();
        let users = active_users(&st).await?;
        Ok::<_, ApiError>(page(
            &u,
            "people",
            t.t("lists.people_title"),
            rows,
            users,
            Vec::new(),
            &p,
            Default::default(),
            links,
            (String::new(), Vec::new()),
        ))
    }
    .await;
    result.unwrap_or_else(|e| u.error(e))
}

pub async fn organizations(State(st): State<AppState>, u: PageUser, Query(q): Query<ListParams>) -> Response {
    let result = async {
        let p = parse(&q, &[]);
        let f = OrganizationFilter { owner_id: p.owner, q: p.q.clone(), ..Default::default() };
        let slice = st.store.organization_rows(&f, &p.query).await?;
        let t = u.t;
        let links = pager("organizations", &p, &slice, |r| r.id.to_string());
        let rows = slice
            .items
            .into_iter()
            .map(|r| RowView {
                score: String::new(),
                id: r.id.to_string(),
                version: r.version,
                href: format!("/organizations/{}", r.id),
                second: r.domain.clone().unwrap_or_default(),
                third: r.country.clone().unwrap_or_default(),
                status: String::new(),
                related: r.people.to_string(),
                related_href: String::new(),
                owner: r.owner.clone().unwrap_or_default(),
                created: t.short_date(r.created_at.0),
                updated: t.short_date(r.updated_at.0),
                name: r.name,
            })
            .collect();
        let users = active_users(&st).await?;
        Ok::<_, ApiError>(page(
            &u,
            "organizations",
            t.t("lists.organizations_title"),
            rows,
            users,
            Vec::new(),
            &p,
            Default::default(),
            links,
            (String::new(), Vec::new()),
        ))
    }
    .await;
    result.unwrap_or_else(|e| u.error(e))
}

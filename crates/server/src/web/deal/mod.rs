//! The deal page: header with outcome buttons, the stage path, fields
//! editable in place (custom fields included), activities, notes and one
//! timeline of everything that happened. The page reads through the store
//! (the timeline is the store's `deal_timeline` read model); its script
//! changes the deal through the JSON API.

mod checklist;
mod markdown;
mod score;
pub(super) mod timeline;
mod views;

use super::{PageUser, html};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use dealflow_core::DealId;
use dealflow_core::currency::format_major;
use dealflow_core::custom_field::Entity;
use dealflow_core::model::{Deal, DealStatus, Organization, Person, User};
use dealflow_core::time::Timestamp;
use dealflow_store::{OrganizationFilter, Page, PersonFilter, StoreError};
use std::collections::HashMap;
use timeline::{Entry, Wording};
use views::{ActivityView, CurrencyOpt, CustomView, NoteView, Opt, StageStep};

/// Up to this many people / organizations are offered in the pickers; any
/// other one can still be chosen by its id.
const PICK: i64 = 500;
/// Up to this many activities, notes and outreach messages are shown.
const SHOWN: i64 = 500;

pub fn router() -> Router<AppState> {
    Router::new().route("/deals/{id}", get(page))
}

#[derive(Template)]
#[template(path = "pages/deal.html")]
struct DealPage<'a> {
    t: super::T,
    nav: &'static str,
    user: &'a User,
    csrf: &'a str,
    asset_v: &'static str,
    id: String,
    version: i64,
    /// The deal as the API returns it (JSON, `<` escaped), for merging
    /// in-place edits with changes made elsewhere.
    record: String,
    title: String,
    value: String,
    value_major: String,
    digits: u8,
    status: &'static str,
    /// "Won", or "Lost: reason" for a closed deal.
    outcome: String,
    org: Option<(String, String)>,
    person: Option<(String, String)>,
    owner: String,
    stages: Vec<StageStep>,
    currencies: Vec<CurrencyOpt>,
    owners: Vec<Opt>,
    people: Vec<Opt>,
    orgs: Vec<Opt>,
    expected_close: String,
    probability: String,
    stage_probability: String,
    source: String,
    contract_months: String,
    custom: Vec<CustomView>,
    lost_reasons: Vec<String>,
    kinds: Vec<Opt>,
    open_acts: Vec<ActivityView>,
    done_acts: Vec<ActivityView>,
    notes: Vec<NoteView>,
    timeline: Vec<Entry>,
    steps: Vec<checklist::StepView>,
    steps_done: usize,
    score: Option<score::ScoreView>,
}

pub async fn page(State(st): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    let Ok(id) = id.trim().parse::<i64>() else { return not_found(&u) };
    match render(&st, &u, DealId(id)).await {
        Ok(r) => r,
        Err(ApiError::Store(StoreError::NotFound { .. })) | Err(ApiError::NotFound(_)) => not_found(&u),
        Err(e) => u.error(e),
    }
}

fn not_found(u: &PageUser) -> Response {
    u.error(ApiError::NotFound(u.t.t("deal.not_found").to_string()))
}

/// A time in the workspace's zone, in the page's language (long form).
fn when(t: super::T, tz: chrono_tz::Tz, ms: i64) -> String {
    super::clock::long_time(t, tz, ms)
}

fn iso(ms: i64) -> String {
    Timestamp(ms).to_rfc3339()
}

/// The deal's person and organization, and the pickers' choices: the first
/// [`PICK`] of each by name, plus the deal's own.
struct Parties {
    person: Option<Person>,
    org: Option<Organization>,
    people: Vec<(i64, String)>,
    orgs: Vec<(i64, String)>,
}

impl Parties {
    async fn load(st: &AppState, deal: &Deal) -> Result<Self, ApiError> {
        let person = match deal.person_id {
            Some(p) => st.store.person(p).await.ok(),
            None => None,
        };
        let org = match deal.organization_id {
            Some(o) => st.store.organization(o).await.ok(),
            None => None,
        };
        let page = Page { limit: PICK, before: None };
        let mut people: Vec<(i64, String)> = st
            .store
            .list_people(&PersonFilter::default(), page)
            .await?
            .items
            .into_iter()
            .map(|p| (p.id.0, p.name))
            .collect();
        if let Some(p) = &person
            && !people.iter().any(|x| x.0 == p.id.0)
        {
            people.push((p.id.0, p.name.clone()));
        }
        people.sort_by_key(|p| p.1.to_lowercase());
        let mut orgs: Vec<(i64, String)> = st
            .store
            .list_organizations(&OrganizationFilter::default(), page)
            .await?
            .items
            .into_iter()
            .map(|o| (o.id.0, o.name))
            .collect();
        if let Some(o) = &org
            && !orgs.iter().any(|x| x.0 == o.id.0)
        {
            orgs.push((o.id.0, o.name.clone()));
        }
        orgs.sort_by_key(|o| o.1.to_lowercase());
        Ok(Self { person, org, people, orgs })
    }
}

fn names(list: &[(i64, String)]) -> HashMap<String, String> {
    list.iter().map(|(id, name)| (id.to_string(), name.clone())).collect()
}

async fn render(st: &AppState, u: &PageUser, id: DealId) -> Result<Response, ApiError> {
    let t = u.t;
    let now = Timestamp::now();
    let deal = st.store.deal(id).await?;
    let settings = st.store.settings().await?;
    let tz = super::clock::zone(&settings);
    let pipelines = st.store.pipelines().await?;
    let stage_names: HashMap<String, String> =
        pipelines.iter().flat_map(|p| p.stages.iter()).map(|s| (s.id.to_string(), s.name.clone())).collect();
    let (stages, stage_probability) = views::stage_path(&pipelines, &deal);
    let users = st.store.users().await?;
    let user_names: HashMap<String, String> = users.iter().map(|x| (x.id.to_string(), x.name.clone())).collect();
    let parties = Parties::load(st, &deal).await?;

    let currency = deal.currency.as_str().to_string();
    let digits = deal.currency.minor_digits();
    let fields = st.store.custom_fields(Some(Entity::Deal)).await?;
    let lost_reasons = st.store.lost_reasons().await?.into_iter().filter(|r| !r.archived).map(|r| r.label).collect();

    let items = st.store.deal_timeline(&deal, SHOWN).await?;
    let (open_acts, done_acts, notes) = views::lists(t, tz, &user_names, &items, now);
    let person_name = parties.person.as_ref().map(|p| p.name.clone()).unwrap_or_default();
    let wording = Wording {
        t,
        tz,
        users: &user_names,
        people: &names(&parties.people),
        orgs: &names(&parties.orgs),
        stages: &stage_names,
        currency: &currency,
        digits,
        person: &person_name,
    };
    let timeline = wording.entries(&items);
    let (steps, steps_done) = checklist::views(t, tz, &st.store.deal_checklist(id).await?);
    let score = score::view(st, t, &deal, &pipelines).await?;

    let status = match deal.status {
        DealStatus::Open => "open",
        DealStatus::Won => "won",
        DealStatus::Lost => "lost",
    };
    Ok(html(&DealPage {
        t,
        nav: "deals",
        user: &u.user,
        csrf: &u.csrf,
        asset_v: super::assets::version(),
        id: deal.id.to_string(),
        version: deal.version,
        record: serde_json::to_string(&deal).unwrap_or_default().replace('<', "\\u003c"),
        title: deal.title.clone(),
        value: t.money(deal.value, &currency, digits),
        value_major: format_major(deal.value, digits),
        digits,
        status,
        outcome: views::outcome(t, &deal),
        org: parties.org.as_ref().map(|o| (o.id.to_string(), o.name.clone())),
        person: parties.person.as_ref().map(|p| (p.id.to_string(), p.name.clone())),
        owner: deal.owner_id.and_then(|o| user_names.get(&o.to_string()).cloned()).unwrap_or_default(),
        stages,
        currencies: views::deal_currencies(&settings, &deal),
        owners: views::owner_opts(t, &users, &deal),
        people: views::party_opts(t, &parties.people, deal.person_id.map(|p| p.0)),
        orgs: views::party_opts(t, &parties.orgs, deal.organization_id.map(|o| o.0)),
        expected_close: deal.expected_close_date.map(|d| d.to_iso()).unwrap_or_default(),
        probability: deal.probability.map(|p| p.to_string()).unwrap_or_default(),
        stage_probability,
        source: deal.source.clone().unwrap_or_default(),
        contract_months: deal.contract_months.map(|m| m.to_string()).unwrap_or_default(),
        custom: views::custom_views(t, &fields, &deal),
        lost_reasons,
        kinds: views::kind_opts(t),
        open_acts,
        done_acts,
        notes,
        timeline,
        steps,
        steps_done,
        score,
    }))
}

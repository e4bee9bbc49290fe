//! Detail pages of a person (`/people/{id}`) and an organization
//! (`/organizations/{id}`): fields editable in place (the script PATCHes
//! one field at a time with the record's version), their deals, the
//! person's organization or the organization's people, and a timeline.

use super::clock::long_time;
use super::lists::{money, status_label};
use super::{PageUser, T, fill, html};
use crate::AppState;
use crate::error::ApiError;
use crate::web::email_words::event_text;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use dealflow_core::model::EventKind;
use dealflow_core::model::{Organization, Person, User};
use dealflow_core::{OrganizationId, PersonId};
use dealflow_store::EmailEventType;
use dealflow_store::{DealFilter, ListQuery, OrganizationFilter, PartyDealEvent, PersonFilter, SortKey, TimelineItem};

pub fn router() -> Router<AppState> {
    Router::new().route("/people/{id}", get(person)).route("/organizations/{id}", get(organization))
}

/// A deal in a detail page's list.
pub struct DealLine {
    pub id: i64,
    pub title: String,
    pub value: String,
    pub stage: String,
    pub status: String,
}

/// A link to a related record.
pub struct Link {
    pub id: i64,
    pub name: String,
    pub extra: String,
}

pub struct Entry {
    pub kind: &'static str,
    pub label: &'static str,
    pub date: String,
    /// The same moment for `<time datetime>`.
    pub iso: String,
    pub text: String,
    pub detail: String,
    /// Where `detail` links to (a deal entry's deal), else empty.
    pub href: String,
    /// For a reply: its id and sentiment (`""` when not rated), so the
    /// rep can rate it from the timeline.
    pub reply: Option<(String, &'static str)>,
}

#[derive(Template)]
#[template(path = "pages/person.html")]
struct PersonPage<'a> {
    t: T,
    nav: &'static str,
    user: &'a User,
    csrf: &'a str,
    asset_v: &'static str,
    person: Person,
    org_id: String,
    owner_id: String,
    emails: String,
    phones: String,
    organization: Option<Link>,
    organizations: Vec<Link>,
    users: Vec<User>,
    deals: Vec<DealLine>,
    timeline: Vec<Entry>,
}

#[derive(Template)]
#[template(path = "pages/organization.html")]
struct OrganizationPage<'a> {
    t: T,
    nav: &'static str,
    user: &'a User,
    csrf: &'a str,
    asset_v: &'static str,
    org: Organization,
    owner_id: String,
    users: Vec<User>,
    people: Vec<Link>,
    deals: Vec<DealLine>,
    timeline: Vec<Entry>,
}

fn not_found(what: &str, id: &str) -> ApiError {
    ApiError::NotFound(format!("{what} {id} does not exist"))
}

fn kind_label(t: T, kind: &str) -> &'static str {
    match kind {
        "call" => t.t("lists.kind_call"),
        "meeting" => t.t("lists.kind_meeting"),
        "email" => t.t("lists.kind_email"),
        "task" => t.t("lists.kind_task"),
        "linkedin" => t.t("lists.kind_linkedin"),
        _ => t.t("lists.kind_other"),
    }
}

/// A deal's stage event in the deal page's words ("Moved from A to B"),
/// its creation as "Created in A".
fn deal_event_text(t: T, d: &PartyDealEvent) -> String {
    let stage = d.stage.as_str();
    match (d.kind, d.from_stage.as_deref()) {
        (EventKind::Enter, Some(from)) => fill(t.t("deal.tl.moved"), &[("from", from), ("stage", stage)]),
        (EventKind::Enter, None) => fill(t.t("lists.tl_deal_created"), &[("stage", stage)]),
        (EventKind::Won, _) => fill(t.t("deal.tl.won"), &[("stage", stage)]),
        (EventKind::Lost, _) => {
            let reason = d.lost_reason.as_deref().unwrap_or(t.t("deal.no_reason"));
            fill(t.t("deal.tl.lost"), &[("stage", stage), ("reason", reason)])
        }
        (EventKind::Reopen, _) => fill(t.t("deal.tl.reopened"), &[("stage", stage)]),
    }
}

/// The timeline's entries, each dated in the long form with the time (in
/// the workspace's zone `tz`), as the deal page's timeline is.
fn entries(t: T, tz: chrono_tz::Tz, items: Vec<TimelineItem>) -> Vec<Entry> {
    items
        .into_iter()
        .map(|i| {
            // A reply's detail is its sentiment, shown as pressed buttons.
            let sentiment = match i.detail.as_deref() {
                Some("positive") => "positive",
                Some("neutral") => "neutral",
                Some("negative") => "negative",
                _ => "",
            };
            let reply = i.reply_id.map(|r| (r.to_string(), sentiment));
            let href = i.deal.as_ref().map(|d| format!("/deals/{}", d.deal_id)).unwrap_or_default();
            let (label, text, detail) = match i.kind {
                "deal" => match &i.deal {
                    Some(d) => (t.t("lists.tl_deal"), deal_event_text(t, d), i.text),
                    None => (t.t("lists.tl_deal"), String::new(), i.text),
                },
                "note" => (t.t("lists.tl_note"), i.text, String::new()),
                "activity" => {
                    let state = if i.done { t.t("lists.tl_done") } else { t.t("lists.tl_planned") };
                    let kind = kind_label(t, i.detail.as_deref().unwrap_or(""));
                    (t.t("lists.tl_activity"), i.text, format!("{kind} · {state}"))
                }
                "campaign_joined" => {
                    let how = match i.detail {
                        Some(step) => format!("{} {step}", t.t("lists.tl_by_step")),
                        None => t.t("lists.tl_added").to_string(),
                    };
                    (t.t("lists.tl_campaign_joined"), i.text, how)
                }
                "campaign_left" => (t.t("lists.tl_campaign_left"), i.text, String::new()),
                "email_event" => {
                    let kind = dealflow_store::EmailEventType::parse(&i.text).unwrap_or(EmailEventType::Delivered);
                    let last = long_time(t, tz, i.at.0);
                    let text = event_text(t, kind, i.count, &last, i.detail.as_deref());
                    (t.t("connect.tl_email"), text, String::new())
                }
                "reply" => (t.t("connect.tl_reply"), i.text, String::new()),
                _ => {
                    let mut d = i.detail.unwrap_or_default();
                    if i.done {
                        if !d.is_empty() {
                            d.push_str(" · ");
                        }
                        d.push_str(t.t("lists.tl_replied"));
                    }
                    (t.t("lists.tl_outreach"), kind_label(t, &i.text).to_string(), d)
                }
            };
            let text =
                if text.chars().count() > 400 { text.chars().take(400).collect::<String>() + "…" } else { text };
            let (date, iso) = (long_time(t, tz, i.at.0), i.at.to_rfc3339());
            Entry { kind: i.kind, label, date, iso, text, detail, href, reply }
        })
        .collect()
}

async fn deals_of(st: &AppState, t: T, f: DealFilter) -> Result<Vec<DealLine>, ApiError> {
    let q = ListQuery { sort: SortKey::Updated, desc: true, after: None, before: None, limit: 100 };
    Ok(st
        .store
        .deal_rows(&f, &q)
        .await?
        .items
        .into_iter()
        .map(|d| DealLine {
            id: d.id,
            value: money(t, d.value, &d.currency),
            stage: d.stage,
            status: status_label(t, &d.status).to_string(),
            title: d.title,
        })
        .collect())
}

pub async fn person(State(st): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    let result = async {
        let pid: i64 = id.parse().map_err(|_| not_found("person", &id))?;
        let person = st.store.person(PersonId(pid)).await?;
        let t = u.t;
        let organization = match person.organization_id {
            Some(o) => {
                st.store.organization(o).await.ok().map(|o| Link { id: o.id.0, name: o.name, extra: String::new() })
            }
            None => None,
        };
        let all = ListQuery { sort: SortKey::Name, desc: false, after: None, before: None, limit: 500 };
        let organizations = st
            .store
            .organization_rows(&OrganizationFilter::default(), &all)
            .await?
            .items
            .into_iter()
            .map(|o| Link { id: o.id, name: o.name, extra: String::new() })
            .collect();
        let deals = deals_of(&st, t, DealFilter { person_id: Some(person.id), ..Default::default() }).await?;
        let tz = super::clock::zone(&st.store.settings().await?);
        let timeline = entries(t, tz, st.store.timeline(Some(person.id), None, 50).await?);
        let users = st.store.users().await?.into_iter().filter(|x| x.active || Some(x.id) == person.owner_id).collect();
        Ok::<_, ApiError>(html(&PersonPage {
            t,
            nav: "people",
            user: &u.user,
            csrf: &u.csrf,
            asset_v: super::assets::version(),
            emails: person.emails.join(", "),
            org_id: person.organization_id.map(|o| o.to_string()).unwrap_or_default(),
            owner_id: person.owner_id.map(|o| o.to_string()).unwrap_or_default(),
            phones: person.phones.join(", "),
            person,
            organization,
            organizations,
            users,
            deals,
            timeline,
        }))
    }
    .await;
    result.unwrap_or_else(|e| u.error(e))
}

pub async fn organization(State(st): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    let result = async {
        let oid: i64 = id.parse().map_err(|_| not_found("organization", &id))?;
        let org = st.store.organization(OrganizationId(oid)).await?;
        let t = u.t;
        let all = ListQuery { sort: SortKey::Name, desc: false, after: None, before: None, limit: 200 };
        let people = st
            .store
            .person_rows(&PersonFilter { organization_id: Some(org.id), ..Default::default() }, &all)
            .await?
            .items
            .into_iter()
            .map(|p| Link { id: p.id, name: p.name, extra: p.job_title.unwrap_or_default() })
            .collect();
        let deals = deals_of(&st, t, DealFilter { organization_id: Some(org.id), ..Default::default() }).await?;
        let tz = super::clock::zone(&st.store.settings().await?);
        let timeline = entries(t, tz, st.store.timeline(None, Some(org.id), 50).await?);
        let users = st.store.users().await?.into_iter().filter(|x| x.active || Some(x.id) == org.owner_id).collect();
        Ok::<_, ApiError>(html(&OrganizationPage {
            t,
            nav: "organizations",
            user: &u.user,
            csrf: &u.csrf,
            asset_v: super::assets::version(),
            owner_id: org.owner_id.map(|o| o.to_string()).unwrap_or_default(),
            org,
            users,
            people,
            deals,
            timeline,
        }))
    }
    .await;
    result.unwrap_or_else(|e| u.error(e))
}

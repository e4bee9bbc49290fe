//! The deal page: header with outcome buttons, the stage path, fields
//! editable in place (custom fields included), activities, notes and one
//! timeline of everything that happened. The page reads through the store;
//! its script changes the deal through the JSON API.

use super::{PageUser, html, page_error};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::TimeZone;
use dealflow_core::DealId;
use dealflow_core::currency::Currency;
use dealflow_core::custom_field::{Entity, FieldKind};
use dealflow_core::model::{ActivityKind, Channel, DealStatus, EventKind, Sentiment, User};
use dealflow_store::{ActivityFilter, NoteFilter, OrganizationFilter, OutreachFilter, Page, PersonFilter, StoreError};
use serde_json::Value;
use std::collections::HashMap;

/// Up to this many people / organizations are offered in the pickers; any
/// other one can still be chosen by its id.
const PICK: i64 = 500;
/// Up to this many activities, notes and outreach messages are shown.
const SHOWN: i64 = 500;

/// Currencies offered besides the deal's, the base one and those with rates.
const COMMON: &[&str] = &[
    "USD", "EUR", "GBP", "CNY", "JPY", "CHF", "CAD", "AUD", "HKD", "SGD", "INR", "KRW", "SEK", "NOK", "DKK", "PLN",
    "BRL", "MXN", "ZAR", "NZD", "AED", "TWD",
];

pub fn router() -> Router<AppState> {
    Router::new().route("/deals/{id}", get(page))
}

/// One stage of the path bar.
pub struct StageStep {
    pub id: String,
    pub name: String,
    /// `done`, `current` or `todo`.
    pub state: &'static str,
}

/// An option of a select.
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct CurrencyOpt {
    pub code: String,
    pub digits: u8,
    pub selected: bool,
}

/// A custom field as its input shows it.
pub struct CustomView {
    pub key: String,
    pub label: String,
    /// The field kind's wire name (`text`, `number`, `money`, …).
    pub kind: &'static str,
    /// The input's value (money: major units).
    pub value: String,
    pub checked: bool,
    pub options: Vec<Opt>,
    /// Money: the amount's currency, with its options.
    pub currencies: Vec<CurrencyOpt>,
}

pub struct ActivityView {
    pub id: String,
    pub version: i64,
    pub kind: &'static str,
    pub subject: String,
    pub due: String,
    pub due_iso: String,
    pub done: String,
    pub overdue: bool,
    pub owner: String,
}

pub struct NoteView {
    pub html: String,
    pub author: String,
    pub when: String,
    pub iso: String,
    pub pinned: bool,
}

/// One entry of the merged timeline.
pub struct Entry {
    pub at: i64,
    pub iso: String,
    pub when: String,
    /// CSS class: `note`, `activity`, `done`, `stage`, `won`, `lost`, `reopen`, `field`, `outreach`.
    pub kind: &'static str,
    pub text: String,
    /// Rendered (safe) Markdown of a note.
    pub html: String,
    pub who: String,
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
    title: String,
    value: String,
    value_major: String,
    digits: u8,
    status: &'static str,
    lost_reason: String,
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
}

pub async fn page(State(st): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    let Ok(id) = id.trim().parse::<i64>() else { return not_found(&u) };
    match render(&st, &u, DealId(id)).await {
        Ok(r) => r,
        Err(ApiError::Store(StoreError::NotFound { .. })) | Err(ApiError::NotFound(_)) => not_found(&u),
        Err(e) => page_error(e),
    }
}

fn not_found(u: &PageUser) -> Response {
    (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], u.t.t("deal.not_found").to_string())
        .into_response()
}

/// Minor units as a plain decimal in major units: `1250050` → `12500.50`,
/// `1250000` → `12500` (what the value input shows and accepts).
pub fn major(minor: i64, digits: u8) -> String {
    if digits == 0 {
        return minor.to_string();
    }
    let scale = 10i64.pow(digits as u32);
    let sign = if minor < 0 { "-" } else { "" };
    let (whole, frac) = (minor.unsigned_abs() / scale as u64, minor.unsigned_abs() % scale as u64);
    if frac == 0 { format!("{sign}{whole}") } else { format!("{sign}{whole}.{frac:0w$}", w = digits as usize) }
}

fn digits_of(code: &str) -> u8 {
    Currency::parse(code).map(|c| c.minor_digits()).unwrap_or(2)
}

fn currency_opts(extra: &[&str], selected: &str) -> Vec<CurrencyOpt> {
    let mut codes: Vec<String> = Vec::new();
    for c in extra.iter().copied().chain(COMMON.iter().copied()) {
        if !c.is_empty() && Currency::parse(c).is_ok() && !codes.iter().any(|x| x == c) {
            codes.push(c.to_string());
        }
    }
    codes.into_iter().map(|c| CurrencyOpt { digits: digits_of(&c), selected: c == selected, code: c }).collect()
}

/// A time in the workspace's zone, in the page's language.
fn when(t: super::T, tz: chrono_tz::Tz, ms: i64) -> String {
    let Some(d) = tz.timestamp_millis_opt(ms).single() else { return String::new() };
    match t.lang {
        super::i18n::Lang::En => d.format("%b %-d, %Y %H:%M").to_string(),
        super::i18n::Lang::ZhCn => d.format("%Y年%-m月%-d日 %H:%M").to_string(),
    }
}

fn iso(ms: i64) -> String {
    dealflow_core::time::Timestamp(ms).to_rfc3339()
}

fn kind_label(t: super::T, k: ActivityKind) -> &'static str {
    match k {
        ActivityKind::Call => t.t("deal.kind.call"),
        ActivityKind::Meeting => t.t("deal.kind.meeting"),
        ActivityKind::Email => t.t("deal.kind.email"),
        ActivityKind::Task => t.t("deal.kind.task"),
        ActivityKind::Linkedin => t.t("deal.kind.linkedin"),
    }
}

fn channel_label(t: super::T, c: Channel) -> &'static str {
    match c {
        Channel::Email => t.t("deal.kind.email"),
        Channel::Linkedin => t.t("deal.kind.linkedin"),
        Channel::Call => t.t("deal.kind.call"),
        Channel::Other => t.t("deal.channel.other"),
    }
}

fn sentiment_label(t: super::T, s: Option<Sentiment>) -> &'static str {
    match s {
        Some(Sentiment::Positive) => t.t("deal.sentiment.positive"),
        Some(Sentiment::Neutral) => t.t("deal.sentiment.neutral"),
        Some(Sentiment::Negative) => t.t("deal.sentiment.negative"),
        None => t.t("deal.sentiment.unknown"),
    }
}

fn field_label(t: super::T, field: &str) -> String {
    match field {
        "value" => t.t("deal.f.value"),
        "currency" => t.t("deal.f.currency"),
        "probability" => t.t("deal.f.probability"),
        "expected_close_date" => t.t("deal.f.expected_close"),
        "owner_id" => t.t("deal.f.owner"),
        "person_id" => t.t("deal.f.person"),
        "organization_id" => t.t("deal.f.organization"),
        other => other,
    }
    .to_string()
}

/// Replaces `{name}` placeholders of a catalog message.
fn fill(msg: &str, pairs: &[(&str, &str)]) -> String {
    let mut out = msg.to_string();
    for (k, v) in pairs {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

async fn render(st: &AppState, u: &PageUser, id: DealId) -> Result<Response, ApiError> {
    let t = u.t;
    let deal = st.store.deal(id).await?;
    let settings = st.store.settings().await?;
    let tz = settings.time_zone.tz();
    let pipelines = st.store.pipelines().await?;
    let stage_names: HashMap<String, String> =
        pipelines.iter().flat_map(|p| p.stages.iter()).map(|s| (s.id.to_string(), s.name.clone())).collect();
    let pipeline = pipelines.iter().find(|p| p.id == deal.pipeline_id);
    let mut stages = Vec::new();
    let mut stage_probability = String::new();
    if let Some(p) = pipeline {
        let cur_pos = p.stages.iter().find(|s| s.id == deal.stage_id).map(|s| s.position).unwrap_or(i64::MIN);
        for s in p.stages.iter().filter(|s| !s.archived || s.id == deal.stage_id) {
            let state = if s.id == deal.stage_id {
                stage_probability = s.probability.map(|p| p.to_string()).unwrap_or_default();
                "current"
            } else if s.position < cur_pos {
                "done"
            } else {
                "todo"
            };
            stages.push(StageStep { id: s.id.to_string(), name: s.name.clone(), state });
        }
    }
    let users = st.store.users().await?;
    let user_names: HashMap<String, String> = users.iter().map(|x| (x.id.to_string(), x.name.clone())).collect();
    let name_of = |uid: Option<dealflow_core::UserId>| uid.and_then(|x| user_names.get(&x.to_string()).cloned());
    let mut owners =
        vec![Opt { value: String::new(), label: t.t("deal.nobody").into(), selected: deal.owner_id.is_none() }];
    owners.extend(users.iter().filter(|x| x.active || Some(x.id) == deal.owner_id).map(|x| Opt {
        value: x.id.to_string(),
        label: x.name.clone(),
        selected: Some(x.id) == deal.owner_id,
    }));

    let person = match deal.person_id {
        Some(p) => st.store.person(p).await.ok(),
        None => None,
    };
    let org = match deal.organization_id {
        Some(o) => st.store.organization(o).await.ok(),
        None => None,
    };
    let page_of = |limit| Page { limit, before: None };
    let mut people_list = st.store.list_people(&PersonFilter::default(), page_of(PICK)).await?.items;
    if let Some(p) = &person
        && !people_list.iter().any(|x| x.id == p.id)
    {
        people_list.push(p.clone());
    }
    people_list.sort_by_key(|p| p.name.to_lowercase());
    let mut org_list = st.store.list_organizations(&OrganizationFilter::default(), page_of(PICK)).await?.items;
    if let Some(o) = &org
        && !org_list.iter().any(|x| x.id == o.id)
    {
        org_list.push(o.clone());
    }
    org_list.sort_by_key(|o| o.name.to_lowercase());
    let person_names: HashMap<String, String> =
        people_list.iter().map(|p| (p.id.to_string(), p.name.clone())).collect();
    let org_names: HashMap<String, String> = org_list.iter().map(|o| (o.id.to_string(), o.name.clone())).collect();
    let none_opt = |selected: bool| Opt { value: String::new(), label: t.t("deal.none").into(), selected };
    let mut people = vec![none_opt(deal.person_id.is_none())];
    people.extend(people_list.iter().map(|p| Opt {
        value: p.id.to_string(),
        label: p.name.clone(),
        selected: Some(p.id) == deal.person_id,
    }));
    let mut orgs = vec![none_opt(deal.organization_id.is_none())];
    orgs.extend(org_list.iter().map(|o| Opt {
        value: o.id.to_string(),
        label: o.name.clone(),
        selected: Some(o.id) == deal.organization_id,
    }));

    let currency = deal.currency.as_str().to_string();
    let digits = deal.currency.minor_digits();
    let mut extra: Vec<&str> = vec![currency.as_str(), settings.base_currency.as_str()];
    extra.extend(settings.exchange_rates.keys().map(|k| k.as_str()));
    let currencies = currency_opts(&extra, &currency);

    let fields = st.store.custom_fields(Some(Entity::Deal)).await?;
    let mut custom = Vec::new();
    for f in fields.iter().filter(|f| !f.archived) {
        let v = deal.custom.get(&f.key).cloned().unwrap_or(Value::Null);
        let mut view = CustomView {
            key: f.key.clone(),
            label: f.label.clone(),
            kind: f.kind.as_str(),
            value: String::new(),
            checked: false,
            options: Vec::new(),
            currencies: Vec::new(),
        };
        match f.kind {
            FieldKind::Text | FieldKind::Date => view.value = v.as_str().unwrap_or_default().to_string(),
            FieldKind::Number => view.value = v.as_number().map(|n| n.to_string()).unwrap_or_default(),
            FieldKind::Boolean => view.checked = v.as_bool().unwrap_or(false),
            FieldKind::SingleSelect => {
                let cur = v.as_str().unwrap_or_default();
                view.options.push(Opt {
                    value: String::new(),
                    label: t.t("deal.none").into(),
                    selected: cur.is_empty(),
                });
                view.options.extend(f.options.iter().map(|o| Opt {
                    value: o.clone(),
                    label: o.clone(),
                    selected: o == cur,
                }));
            }
            FieldKind::Money => {
                let cur = v.get("currency").and_then(|c| c.as_str()).unwrap_or(currency.as_str()).to_string();
                if let Some(minor) = v.get("value").and_then(|x| x.as_i64()) {
                    view.value = major(minor, digits_of(&cur));
                }
                view.currencies = currency_opts(&[cur.as_str(), currency.as_str()], &cur);
            }
        }
        custom.push(view);
    }

    let lost_reasons = st.store.lost_reasons().await?.into_iter().filter(|r| !r.archived).map(|r| r.label).collect();
    let kinds = ActivityKind::ALL
        .iter()
        .map(|k| Opt { value: k.as_str().into(), label: kind_label(t, *k).into(), selected: *k == ActivityKind::Task })
        .collect();

    let now = dealflow_core::time::Timestamp::now().0;
    let f = ActivityFilter { deal_id: Some(deal.id), ..Default::default() };
    let activities = st.store.list_activities(&f, page_of(SHOWN)).await?.items;
    let mut open_acts = Vec::new();
    let mut done_acts = Vec::new();
    let mut timeline = Vec::new();
    for a in &activities {
        let view = ActivityView {
            id: a.id.to_string(),
            version: a.version,
            kind: kind_label(t, a.kind),
            subject: a.subject.clone(),
            due: a.due_at.map(|d| when(t, tz, d.0)).unwrap_or_default(),
            due_iso: a.due_at.map(|d| iso(d.0)).unwrap_or_default(),
            done: a.done_at.map(|d| when(t, tz, d.0)).unwrap_or_default(),
            overdue: a.done_at.is_none() && a.due_at.is_some_and(|d| d.0 < now),
            owner: name_of(a.owner_id).unwrap_or_default(),
        };
        let who = view.owner.clone();
        let label = format!("{}: {}", view.kind, a.subject);
        match a.done_at {
            Some(d) => {
                timeline.push(Entry {
                    at: d.0,
                    iso: iso(d.0),
                    when: when(t, tz, d.0),
                    kind: "done",
                    text: fill(t.t("deal.tl.done"), &[("what", &label)]),
                    html: String::new(),
                    who,
                });
                done_acts.push(view);
            }
            None => {
                let due = if view.due.is_empty() { t.t("deal.no_due").to_string() } else { view.due.clone() };
                timeline.push(Entry {
                    at: a.created_at.0,
                    iso: iso(a.created_at.0),
                    when: when(t, tz, a.created_at.0),
                    kind: "activity",
                    text: fill(t.t("deal.tl.planned"), &[("what", &label), ("due", &due)]),
                    html: String::new(),
                    who,
                });
                open_acts.push(view);
            }
        }
    }
    // Open activities soonest first (undated last); done ones newest first.
    open_acts.sort_by(|a, b| (a.due_iso.is_empty(), &a.due_iso).cmp(&(b.due_iso.is_empty(), &b.due_iso)));

    let note_list =
        st.store.list_notes(&NoteFilter { deal_id: Some(deal.id), ..Default::default() }, page_of(SHOWN)).await?;
    let mut notes = Vec::new();
    for n in &note_list.items {
        let rendered = render_markdown(&n.body);
        let author = name_of(n.author_id).unwrap_or_default();
        timeline.push(Entry {
            at: n.created_at.0,
            iso: iso(n.created_at.0),
            when: when(t, tz, n.created_at.0),
            kind: "note",
            text: t.t("deal.tl.note").into(),
            html: rendered.clone(),
            who: author.clone(),
        });
        notes.push(NoteView {
            html: rendered,
            author,
            when: when(t, tz, n.created_at.0),
            iso: iso(n.created_at.0),
            pinned: n.pinned,
        });
    }
    notes.sort_by_key(|n| !n.pinned);

    for e in st.store.deal_events(deal.id).await? {
        let stage = stage_names.get(&e.stage_id.to_string()).cloned().unwrap_or_else(|| e.stage_id.to_string());
        let (kind, text) = match e.kind {
            EventKind::Enter => match e.from_stage_id {
                Some(from) => {
                    let from = stage_names.get(&from.to_string()).cloned().unwrap_or_else(|| from.to_string());
                    ("stage", fill(t.t("deal.tl.moved"), &[("from", &from), ("stage", &stage)]))
                }
                None => ("stage", fill(t.t("deal.tl.entered"), &[("stage", &stage)])),
            },
            EventKind::Won => ("won", fill(t.t("deal.tl.won"), &[("stage", &stage)])),
            EventKind::Lost => {
                let reason = e.lost_reason.clone().unwrap_or_else(|| t.t("deal.no_reason").into());
                ("lost", fill(t.t("deal.tl.lost"), &[("stage", &stage), ("reason", &reason)]))
            }
            EventKind::Reopen => ("reopen", fill(t.t("deal.tl.reopened"), &[("stage", &stage)])),
        };
        timeline.push(Entry {
            at: e.at.0,
            iso: iso(e.at.0),
            when: when(t, tz, e.at.0),
            kind,
            text,
            html: String::new(),
            who: name_of(e.user_id).unwrap_or_default(),
        });
    }

    let show = |field: &str, v: &Value| -> String {
        let s = match v {
            Value::Null => return "—".into(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match field {
            "value" => v.as_i64().map(|m| t.money(m, &currency, digits)).unwrap_or(s),
            "probability" => format!("{s}%"),
            "owner_id" => user_names.get(&s).cloned().unwrap_or(s),
            "person_id" => person_names.get(&s).cloned().unwrap_or(s),
            "organization_id" => org_names.get(&s).cloned().unwrap_or(s),
            _ => s,
        }
    };
    for c in st.store.deal_history(deal.id).await? {
        let text = fill(
            t.t("deal.tl.changed"),
            &[
                ("field", &field_label(t, &c.field)),
                ("old", &show(&c.field, &c.old_value)),
                ("new", &show(&c.field, &c.new_value)),
            ],
        );
        timeline.push(Entry {
            at: c.at.0,
            iso: iso(c.at.0),
            when: when(t, tz, c.at.0),
            kind: "field",
            text,
            html: String::new(),
            who: name_of(c.user_id).unwrap_or_default(),
        });
    }

    if let Some(p) = &person {
        let f = OutreachFilter { person_id: Some(p.id), ..Default::default() };
        for m in st.store.list_outreach(&f, page_of(SHOWN)).await?.items {
            let channel = channel_label(t, m.channel);
            timeline.push(Entry {
                at: m.sent_at.0,
                iso: iso(m.sent_at.0),
                when: when(t, tz, m.sent_at.0),
                kind: "outreach",
                text: fill(t.t("deal.tl.sent"), &[("channel", channel), ("person", &p.name)]),
                html: String::new(),
                who: String::new(),
            });
            if let Some(r) = m.replied_at {
                timeline.push(Entry {
                    at: r.0,
                    iso: iso(r.0),
                    when: when(t, tz, r.0),
                    kind: "outreach",
                    text: fill(
                        t.t("deal.tl.replied"),
                        &[("person", &p.name), ("sentiment", sentiment_label(t, m.sentiment))],
                    ),
                    html: String::new(),
                    who: String::new(),
                });
            }
        }
    }
    // Newest first; equal times keep a stable order.
    timeline.sort_by_key(|e| std::cmp::Reverse(e.at));

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
        title: deal.title.clone(),
        value: t.money(deal.value, &currency, digits),
        value_major: major(deal.value, digits),
        digits,
        status,
        lost_reason: deal.lost_reason.clone().unwrap_or_default(),
        org: org.as_ref().map(|o| (o.id.to_string(), o.name.clone())),
        person: person.as_ref().map(|p| (p.id.to_string(), p.name.clone())),
        owner: name_of(deal.owner_id).unwrap_or_default(),
        stages,
        currencies,
        owners,
        people,
        orgs,
        expected_close: deal.expected_close_date.map(|d| d.to_iso()).unwrap_or_default(),
        probability: deal.probability.map(|p| p.to_string()).unwrap_or_default(),
        stage_probability,
        source: deal.source.clone().unwrap_or_default(),
        contract_months: deal.contract_months.map(|m| m.to_string()).unwrap_or_default(),
        custom,
        lost_reasons,
        kinds,
        open_acts,
        done_acts,
        notes,
        timeline,
    }))
}

/// Renders a note's Markdown to HTML that is safe to embed: raw HTML in the
/// source shows as text, and links whose URL scheme is not http, https or
/// mailto point nowhere (`#`). Images become plain links to the image (with
/// the alt text, else the URL, as their text): an image loads when the note
/// is read, so an external one would tell its host who read the note and
/// when (the content security policy blocks them anyway).
pub fn render_markdown(src: &str) -> String {
    use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd};
    let opts = Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS;
    let parsed: Vec<Event<'_>> = Parser::new_ext(src, opts).collect();
    let mut events = Vec::with_capacity(parsed.len());
    for (i, ev) in parsed.iter().cloned().enumerate() {
        match ev {
            Event::Html(s) | Event::InlineHtml(s) => events.push(Event::Text(s)),
            Event::Start(Tag::HtmlBlock) => events.push(Event::Start(Tag::Paragraph)),
            Event::End(TagEnd::HtmlBlock) => events.push(Event::End(TagEnd::Paragraph)),
            Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
                events.push(Event::Start(Tag::Link { link_type, dest_url: safe_url(dest_url), title, id }));
            }
            Event::Start(Tag::Image { dest_url, title, id, .. }) => {
                let text = dest_url.clone();
                events.push(Event::Start(Tag::Link {
                    link_type: LinkType::Inline,
                    dest_url: safe_url(dest_url),
                    title,
                    id,
                }));
                if matches!(parsed.get(i + 1), Some(Event::End(TagEnd::Image))) {
                    events.push(Event::Text(text));
                }
            }
            Event::End(TagEnd::Image) => events.push(Event::End(TagEnd::Link)),
            other => events.push(other),
        }
    }
    let mut out = String::with_capacity(src.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut out, events.into_iter());
    out
}

/// The URL if it is relative or its scheme is http, https or mailto; `#`
/// otherwise. Browsers ignore whitespace and control characters inside a
/// scheme (`java\tscript:`), so those are dropped before the check.
fn safe_url(url: pulldown_cmark::CowStr<'_>) -> pulldown_cmark::CowStr<'_> {
    let cleaned: String = url.chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect();
    let lower = cleaned.to_ascii_lowercase();
    let scheme_end = lower.find(':');
    let path_start = lower.find(['/', '?', '#']);
    let has_scheme = match (scheme_end, path_start) {
        (Some(c), Some(p)) => c < p,
        (Some(_), None) => true,
        _ => false,
    };
    if !has_scheme {
        return url;
    }
    if ["http:", "https:", "mailto:"].iter().any(|s| lower.starts_with(s)) {
        url
    } else {
        pulldown_cmark::CowStr::Borrowed("#")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders_formatting() {
        let h = render_markdown("**bold** and _em_\n\n- a\n- b");
        assert!(h.contains("<strong>bold</strong>"), "{h}");
        assert!(h.contains("<em>em</em>") && h.contains("<li>a</li>"), "{h}");
    }

    #[test]
    fn markdown_drops_raw_html() {
        for src in [
            "<script>alert(1)</script>",
            "hi <script>alert(1)</script> there",
            "<div>\n<script>alert(1)</script>\n</div>",
            "<img src=x onerror=alert(1)>",
            "a <b onclick=\"x()\">b</b>",
        ] {
            let h = render_markdown(src);
            assert!(!h.contains("<script"), "{src} → {h}");
            assert!(!h.contains("<img"), "{src} → {h}");
            assert!(!h.contains("<b "), "{src} → {h}");
            assert!(!h.contains("<div"), "{src} → {h}");
        }
        assert!(render_markdown("<script>alert(1)</script>").contains("&lt;script&gt;"));
    }

    #[test]
    fn markdown_neutralises_unsafe_links() {
        for src in [
            "[x](javascript:alert(1))",
            "[x](JavaScript:alert(1))",
            "[x](java&#9;script:alert(1))",
            "[x](<java script:alert(1)>)",
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "[x](vbscript:msgbox)",
            "![i](javascript:alert(1))",
            "<javascript:alert(1)>",
            "[x][r]\n\n[r]: javascript:alert(1)",
        ] {
            let h = render_markdown(src);
            // Every URL attribute points nowhere; the text may show the URL.
            for attr in ["href=\"", "src=\""] {
                for (i, _) in h.match_indices(attr) {
                    let url = h[i + attr.len()..].split('"').next().unwrap_or_default();
                    assert_eq!(url, "#", "{src} → {h}");
                }
            }
            assert!(h.contains("href=\"#\"") || h.contains("src=\"#\""), "{src} → {h}");
        }
        let ok = render_markdown("[a](https://example.com/x?y=1) [m](mailto:a@example.com) [r](/deals/1)");
        assert!(ok.contains(r#"href="https://example.com/x?y=1""#), "{ok}");
        assert!(ok.contains(r#"href="mailto:a@example.com""#), "{ok}");
        assert!(ok.contains(r#"href="/deals/1""#), "{ok}");
    }

    #[test]
    fn markdown_images_become_links() {
        let h = render_markdown("![logo](https://tracker.example/p.gif) and ![](https://tracker.example/q.gif)");
        assert!(!h.contains("<img"), "{h}");
        assert!(h.contains(r#"<a href="https://tracker.example/p.gif">logo</a>"#), "{h}");
        assert!(h.contains(r#"<a href="https://tracker.example/q.gif">https://tracker.example/q.gif</a>"#), "{h}");
    }

    #[test]
    fn major_units() {
        assert_eq!(major(1_250_000, 2), "12500");
        assert_eq!(major(1_250_050, 2), "12500.50");
        assert_eq!(major(5, 2), "0.05");
        assert_eq!(major(5_000, 0), "5000");
        assert_eq!(major(1_234, 3), "1.234");
    }

    #[test]
    fn fills_placeholders() {
        assert_eq!(fill("from {a} to {b}", &[("a", "1"), ("b", "2")]), "from 1 to 2");
    }
}

//! The deal page's form parts: the stage path, the pickers (owner, person,
//! organization, currency), the custom-field inputs and the activity and
//! note lists, each built from what the store read.

use super::{iso, when};
use crate::web::T;
use dealflow_core::agenda::is_overdue;
use dealflow_core::currency::{Currency, format_major};
use dealflow_core::custom_field::{CustomField, FieldKind};
use dealflow_core::model::{Activity, ActivityKind, Deal, DealStatus, Note, Pipeline, Settings, User};
use dealflow_core::time::Timestamp;
use dealflow_store::{DealTimelineItem, DealTimelineKind};
use serde_json::Value;
use std::collections::HashMap;

/// Currencies offered besides the deal's, the base one and those with rates.
const COMMON: &[&str] = &[
    "USD", "EUR", "GBP", "CNY", "JPY", "CHF", "CAD", "AUD", "HKD", "SGD", "INR", "KRW", "SEK", "NOK", "DKK", "PLN",
    "BRL", "MXN", "ZAR", "NZD", "AED", "TWD",
];

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
}

pub struct NoteView {
    pub html: String,
    pub author: String,
    pub when: String,
    pub iso: String,
    pub pinned: bool,
}

pub fn kind_label(t: T, k: ActivityKind) -> &'static str {
    match k {
        ActivityKind::Call => t.t("deal.kind.call"),
        ActivityKind::Meeting => t.t("deal.kind.meeting"),
        ActivityKind::Email => t.t("deal.kind.email"),
        ActivityKind::Task => t.t("deal.kind.task"),
        ActivityKind::Linkedin => t.t("deal.kind.linkedin"),
    }
}

/// The kinds a new activity may have, `task` preselected.
pub fn kind_opts(t: T) -> Vec<Opt> {
    ActivityKind::ALL
        .iter()
        .map(|k| Opt { value: k.as_str().into(), label: kind_label(t, *k).into(), selected: *k == ActivityKind::Task })
        .collect()
}

pub fn digits_of(code: &str) -> u8 {
    Currency::parse(code).map(|c| c.minor_digits()).unwrap_or(2)
}

/// The currencies `extra` (valid ones, in order) followed by the common
/// ones, each once.
pub fn currency_opts(extra: &[&str], selected: &str) -> Vec<CurrencyOpt> {
    let mut codes: Vec<String> = Vec::new();
    for c in extra.iter().copied().chain(COMMON.iter().copied()) {
        if !c.is_empty() && Currency::parse(c).is_ok() && !codes.iter().any(|x| x == c) {
            codes.push(c.to_string());
        }
    }
    codes.into_iter().map(|c| CurrencyOpt { digits: digits_of(&c), selected: c == selected, code: c }).collect()
}

/// The deal's currency, the base one, those with exchange rates, then the
/// common ones.
pub fn deal_currencies(settings: &Settings, deal: &Deal) -> Vec<CurrencyOpt> {
    let currency = deal.currency.as_str();
    let mut extra: Vec<&str> = vec![currency, settings.base_currency.as_str()];
    extra.extend(settings.exchange_rates.keys().map(|k| k.as_str()));
    currency_opts(&extra, currency)
}

/// The open activities (soonest first, undated last), the done ones
/// (newest first: the timeline's order) and the notes (pinned first, then
/// newest first), picked from the deal's timeline.
pub fn lists(
    t: T,
    tz: chrono_tz::Tz,
    users: &HashMap<String, String>,
    items: &[DealTimelineItem],
    now: Timestamp,
) -> (Vec<ActivityView>, Vec<ActivityView>, Vec<NoteView>) {
    let (mut open, mut done, mut notes) = (Vec::new(), Vec::new(), Vec::new());
    for item in items {
        match &item.kind {
            DealTimelineKind::Activity(a) if a.done_at.is_some() => done.push(activity_view(t, tz, a, now)),
            DealTimelineKind::Activity(a) => open.push(activity_view(t, tz, a, now)),
            DealTimelineKind::Note(n) => notes.push(note_view(t, tz, users, n)),
            _ => {}
        }
    }
    open.sort_by(|a, b| (a.due_iso.is_empty(), &a.due_iso).cmp(&(b.due_iso.is_empty(), &b.due_iso)));
    notes.sort_by_key(|n| !n.pinned);
    (open, done, notes)
}

/// The path bar of the deal's pipeline (archived stages hidden unless the
/// deal sits in one) and the current stage's probability.
pub fn stage_path(pipelines: &[Pipeline], deal: &Deal) -> (Vec<StageStep>, String) {
    let mut stages = Vec::new();
    let mut probability = String::new();
    let Some(p) = pipelines.iter().find(|p| p.id == deal.pipeline_id) else { return (stages, probability) };
    let cur_pos = p.stages.iter().find(|s| s.id == deal.stage_id).map(|s| s.position).unwrap_or(i64::MIN);
    for s in p.stages.iter().filter(|s| !s.archived || s.id == deal.stage_id) {
        let state = if s.id == deal.stage_id {
            probability = s.probability.map(|p| p.to_string()).unwrap_or_default();
            "current"
        } else if s.position < cur_pos {
            "done"
        } else {
            "todo"
        };
        stages.push(StageStep { id: s.id.to_string(), name: s.name.clone(), state });
    }
    (stages, probability)
}

/// A closed deal's outcome in words: "Won", "Lost" or "Lost: reason".
pub fn outcome(t: T, deal: &Deal) -> String {
    match (deal.status, deal.lost_reason.as_deref()) {
        (DealStatus::Won, _) => t.t("deal.status.won").into(),
        (_, Some(r)) if !r.is_empty() => super::timeline::fill(t.t("deal.outcome_lost"), &[("reason", r)]),
        _ => t.t("deal.status.lost").into(),
    }
}

/// Nobody, then the active users and the deal's owner even if inactive.
pub fn owner_opts(t: T, users: &[User], deal: &Deal) -> Vec<Opt> {
    let mut owners =
        vec![Opt { value: String::new(), label: t.t("deal.nobody").into(), selected: deal.owner_id.is_none() }];
    owners.extend(users.iter().filter(|x| x.active || Some(x.id) == deal.owner_id).map(|x| Opt {
        value: x.id.to_string(),
        label: x.name.clone(),
        selected: Some(x.id) == deal.owner_id,
    }));
    owners
}

/// "None", then each `(id, name)` with `current` selected.
pub fn party_opts(t: T, list: &[(i64, String)], current: Option<i64>) -> Vec<Opt> {
    let mut out = vec![Opt { value: String::new(), label: t.t("deal.none").into(), selected: current.is_none() }];
    out.extend(list.iter().map(|(id, name)| Opt {
        value: id.to_string(),
        label: name.clone(),
        selected: Some(*id) == current,
    }));
    out
}

/// The inputs of the deal's live custom fields with their current values.
pub fn custom_views(t: T, fields: &[CustomField], deal: &Deal) -> Vec<CustomView> {
    let currency = deal.currency.as_str();
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
                let cur = v.get("currency").and_then(|c| c.as_str()).unwrap_or(currency).to_string();
                if let Some(minor) = v.get("value").and_then(|x| x.as_i64()) {
                    view.value = format_major(minor, digits_of(&cur));
                }
                view.currencies = currency_opts(&[cur.as_str(), currency], &cur);
            }
        }
        custom.push(view);
    }
    custom
}

/// An activity as the open or done list shows it.
pub fn activity_view(t: T, tz: chrono_tz::Tz, a: &Activity, now: Timestamp) -> ActivityView {
    ActivityView {
        id: a.id.to_string(),
        version: a.version,
        kind: kind_label(t, a.kind),
        subject: a.subject.clone(),
        due: a.due_at.map(|d| when(t, tz, d.0)).unwrap_or_default(),
        due_iso: a.due_at.map(|d| iso(d.0)).unwrap_or_default(),
        done: a.done_at.map(|d| when(t, tz, d.0)).unwrap_or_default(),
        overdue: is_overdue(a.due_at, a.done_at.is_some(), now),
    }
}

/// A note with its Markdown rendered.
pub fn note_view(t: T, tz: chrono_tz::Tz, users: &HashMap<String, String>, n: &Note) -> NoteView {
    NoteView {
        html: super::markdown::render_markdown(&n.body),
        author: n.author_id.and_then(|a| users.get(&a.to_string()).cloned()).unwrap_or_default(),
        when: when(t, tz, n.created_at.0),
        iso: iso(n.created_at.0),
        pinned: n.pinned,
    }
}

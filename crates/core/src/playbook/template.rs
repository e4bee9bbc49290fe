//! E-mail templates: `{{placeholder}}`s checked when a step is saved and
//! filled in when a deal enters the stage. Known placeholders:
//! `person.name`, `person.first_name`, `owner.name`, `organization.name`,
//! `meeting.date`, `meeting.time` (the deal's next meeting, in the
//! workspace time zone), `deal.<field>` for the deal's built-in fields and
//! `custom.<key>` for its custom fields.

use crate::Invalid;
use crate::custom_field::CustomField;
use crate::model::{Deal, Settings};
use crate::time::Timestamp;
use serde_json::Value;

const FIXED: &[&str] = &[
    "person.name",
    "person.first_name",
    "owner.name",
    "organization.name",
    "meeting.date",
    "meeting.time",
    "deal.title",
    "deal.value",
    "deal.currency",
    "deal.expected_close_date",
    "deal.source",
];

/// The placeholders of `text`, trimmed, in order; an unclosed `{{` is an
/// error.
fn placeholders(text: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("{{") {
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else {
            return Err("has a `{{` without its closing `}}`".into());
        };
        out.push(after[..j].trim());
        rest = &after[j + 2..];
    }
    Ok(out)
}

/// Checks every placeholder of `text` is known; the error names each
/// unknown one under `field`.
pub fn check(field: &str, text: &str, deal_fields: &[CustomField]) -> Result<(), Invalid> {
    let mut errs = Invalid::new();
    match placeholders(text) {
        Err(m) => errs.add(field, m),
        Ok(names) => {
            for n in names {
                let known = FIXED.contains(&n)
                    || n.strip_prefix("custom.").is_some_and(|k| deal_fields.iter().any(|d| d.key == k));
                if !known {
                    errs.add(
                        field,
                        format!(
                            "`{{{{{n}}}}}` is not a known placeholder; use one of {}, or custom.<key>",
                            FIXED.join(", ")
                        ),
                    );
                }
            }
        }
    }
    errs.into_result()
}

/// What the placeholders are filled from.
#[derive(Debug, Clone, Copy)]
pub struct Values<'a> {
    pub deal: &'a Deal,
    pub person_name: Option<&'a str>,
    pub owner_name: Option<&'a str>,
    pub organization_name: Option<&'a str>,
    pub meeting: Option<Timestamp>,
    pub settings: &'a Settings,
}

/// Fills in `text`; a placeholder without a value becomes empty text.
pub fn render(text: &str, v: &Values) -> String {
    fill(text, |name| value_of(name, v))
}

/// Fills in `text` with sample values that show what each placeholder
/// stands for, for a preview without a deal: a custom field shows its
/// label in brackets, since no sample could guess its meaning.
pub fn sample(text: &str, deal_fields: &[CustomField]) -> String {
    fill(text, |name| match name {
        "person.name" => "Ada Lovelace".into(),
        "person.first_name" => "Ada".into(),
        "owner.name" => "Sam Carter".into(),
        "organization.name" => "Analytical Engines Ltd".into(),
        "meeting.date" => "2026-03-05".into(),
        "meeting.time" => "10:00".into(),
        "deal.title" => "Analytical Engines: 20 seats".into(),
        "deal.value" => "12500.00".into(),
        "deal.currency" => "EUR".into(),
        "deal.expected_close_date" => "2026-04-30".into(),
        "deal.source" => "referral".into(),
        other => {
            let key = other.strip_prefix("custom.").unwrap_or(other);
            match deal_fields.iter().find(|d| d.key == key) {
                Some(d) => format!("[{}]", d.label),
                None => format!("[{other}]"),
            }
        }
    })
}

/// Replaces each `{{name}}` of `text` with `value(name)`; an unclosed `{{`
/// and what follows it stay as they are.
fn fill(text: &str, value: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else {
            out.push_str(&rest[i..]);
            return out;
        };
        out.push_str(&value(after[..j].trim()));
        rest = &after[j + 2..];
    }
    out.push_str(rest);
    out
}

fn value_of(name: &str, v: &Values) -> String {
    let local = |fmt: &str| {
        v.meeting
            .and_then(|t| chrono::DateTime::from_timestamp_millis(t.0))
            .map(|t| t.with_timezone(&v.settings.time_zone.tz()).format(fmt).to_string())
            .unwrap_or_default()
    };
    match name {
        "person.name" => v.person_name.unwrap_or_default().to_string(),
        "person.first_name" => v.person_name.and_then(|n| n.split_whitespace().next()).unwrap_or_default().to_string(),
        "owner.name" => v.owner_name.unwrap_or_default().to_string(),
        "organization.name" => v.organization_name.unwrap_or_default().to_string(),
        "meeting.date" => local("%Y-%m-%d"),
        "meeting.time" => local("%H:%M"),
        "deal.title" => v.deal.title.clone(),
        "deal.value" => money(v.deal.value),
        "deal.currency" => v.deal.currency.as_str().to_string(),
        "deal.expected_close_date" => v.deal.expected_close_date.map(|d| d.to_iso()).unwrap_or_default(),
        "deal.source" => v.deal.source.clone().unwrap_or_default(),
        other => match other.strip_prefix("custom.").and_then(|k| v.deal.custom.get(k)) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(x) => x.to_string(),
        },
    }
}

/// Minor units as a decimal amount with two places.
fn money(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    format!("{sign}{}.{:02}", m / 100, m % 100)
}

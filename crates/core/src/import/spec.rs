//! One field's source in a mapping: a column, a constant or a template,
//! with an optional value map, default, fallback, format and lookup; and the
//! table of fields each target accepts with their types.

use super::mapping::Target;
use crate::model::Role;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;

/// How a reference column finds its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lookup {
    /// A user's or organization's name, a person's name (case-insensitive).
    Name,
    /// A user's or person's e-mail.
    Email,
    /// An organization's web domain.
    Domain,
    /// The id the same `source` gave the record in an earlier import.
    ExternalId,
}

/// What a reference points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefKind {
    User,
    Organization,
    Person,
    Deal,
}

impl RefKind {
    fn lookups(self) -> &'static [Lookup] {
        match self {
            RefKind::User => &[Lookup::Name, Lookup::Email],
            RefKind::Organization => &[Lookup::Name, Lookup::Domain, Lookup::ExternalId],
            RefKind::Person => &[Lookup::Email, Lookup::Name, Lookup::ExternalId],
            RefKind::Deal => &[Lookup::ExternalId],
        }
    }
}

/// The type a target field's text is converted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Text,
    /// A decimal amount, stored in minor units of the row's currency.
    Money,
    Int,
    /// A date or date-time, as an instant.
    Time,
    /// A calendar date.
    Date,
    /// The one close date other CRMs export: when a won or lost deal
    /// closed, and when an open one is expected to.
    CloseDate,
    DealStatus,
    ActivityKind,
    Ref(RefKind),
    /// Several values in one cell (e-mails, phones), split by `split`.
    List,
    /// A custom field; its kind comes from the workspace's definition.
    Custom,
}

/// The fields each target accepts.
pub fn field_type(t: Target, name: &str) -> Option<FieldType> {
    use FieldType::*;
    if let Some(key) = name.strip_prefix("custom.") {
        return (t != Target::Activities && crate::custom_field::check_key(key).is_ok()).then_some(Custom);
    }
    let ty = match (t, name) {
        (_, "created_at") => Time,
        (Target::Deals, "title" | "currency" | "pipeline" | "stage" | "lost_reason" | "source") => Text,
        (Target::Deals, "value") => Money,
        (Target::Deals, "contract_months" | "probability") => Int,
        (Target::Deals, "status") => DealStatus,
        (Target::Deals, "expected_close_date") => Date,
        (Target::Deals, "closed_at") => Time,
        (Target::Deals, "close_date") => CloseDate,
        (Target::Organizations, "name" | "domain" | "industry" | "country") => Text,
        (Target::Organizations, "employees") => Int,
        (Target::People, "name" | "job_title" | "source") => Text,
        (Target::People, "email" | "phone") => List,
        (Target::Activities, "subject" | "note") => Text,
        (Target::Activities, "kind") => ActivityKind,
        (Target::Activities, "due_at" | "done_at") => Time,
        (Target::Activities, "deal") => Ref(RefKind::Deal),
        (Target::Deals | Target::People | Target::Activities, "organization") => Ref(RefKind::Organization),
        (Target::Deals | Target::Activities, "person") => Ref(RefKind::Person),
        (_, "owner") => Ref(RefKind::User),
        _ => return None,
    };
    Some(ty)
}

/// Creating referenced records that do not exist yet.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateMissing {
    /// Role of created users; `rep` when absent.
    pub role: Option<Role>,
    /// Users found by name get `first.last@<email_domain>` as e-mail.
    pub email_domain: Option<String>,
}

/// Where one field's value comes from. In JSON a plain string is short for
/// `{"column": "..."}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpecBody {
    pub column: Option<String>,
    /// A constant.
    pub value: Option<String>,
    /// Text with `{column}` placeholders.
    pub template: Option<String>,
    /// Replaces whole (trimmed) values; values not in the map pass unchanged.
    #[serde(default)]
    pub map: BTreeMap<String, String>,
    /// Used when the value is empty after mapping.
    pub default: Option<String>,
    /// Another source used when this one gives an empty value.
    pub or: Option<Box<FieldSpec>>,
    /// chrono format of a date/time; the mapping's `date_format` when absent.
    pub format: Option<String>,
    pub lookup: Option<Lookup>,
    pub create_missing: Option<CreateMissing>,
    /// Separator of a list cell (e-mails, phones); `;` when absent.
    pub split: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSpec(pub FieldSpecBody);

impl std::ops::Deref for FieldSpec {
    type Target = FieldSpecBody;
    fn deref(&self) -> &FieldSpecBody {
        &self.0
    }
}

impl<'de> Deserialize<'de> for FieldSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Through a Value so a misspelled key gets serde's precise message
        // instead of an untagged enum's "did not match any variant".
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(c) => Ok(Self(FieldSpecBody { column: Some(c), ..Default::default() })),
            v => serde_json::from_value(v).map(Self).map_err(serde::de::Error::custom),
        }
    }
}

impl FieldSpec {
    pub(super) fn check(&self, at: &str, ty: FieldType, errs: &mut Vec<String>) {
        let sources = [self.column.is_some(), self.value.is_some(), self.template.is_some()];
        if sources.iter().filter(|s| **s).count() != 1 {
            errs.push(format!("{at}: give exactly one of column, value or template"));
        }
        if let Some(f) = &self.format
            && (!matches!(ty, FieldType::Time | FieldType::Date | FieldType::CloseDate | FieldType::Custom)
                || !super::format_ok(f))
        {
            errs.push(format!("{at}.format: only date and time fields take a format, like %Y-%m-%d"));
        }
        match (ty, self.lookup) {
            (FieldType::Ref(k), Some(l)) if !k.lookups().contains(&l) => {
                errs.push(format!("{at}.lookup: {k:?} references cannot be looked up by {l:?}"));
            }
            (FieldType::Ref(_), _) => {}
            (_, Some(_)) => {
                errs.push(format!("{at}.lookup: only references (owner, organization, person, deal) take one"))
            }
            _ => {}
        }
        if let Some(c) = &self.create_missing {
            match ty {
                FieldType::Ref(RefKind::User) => {
                    let by_name = self.lookup.unwrap_or(Lookup::Name) == Lookup::Name;
                    if by_name && c.email_domain.as_deref().is_none_or(|d| !d.contains('.')) {
                        errs.push(format!(
                            "{at}.create_missing.email_domain: needed to give users found by name an e-mail"
                        ));
                    }
                }
                FieldType::Ref(RefKind::Organization | RefKind::Person) if c.role.is_none() => {}
                _ => errs.push(format!("{at}.create_missing: only owners, organizations and people can be created")),
            }
        }
        if self.split.is_some() && ty != FieldType::List {
            errs.push(format!("{at}.split: only email and phone lists are split"));
        }
        if let Some(o) = &self.or {
            o.check(&format!("{at}.or"), ty, errs);
        }
    }

    pub(super) fn columns(&self, at: &str, out: &mut Vec<(String, String)>) {
        if let Some(c) = &self.column {
            out.push((c.clone(), at.to_string()));
        }
        if let Some(t) = &self.template {
            for c in placeholders(t) {
                out.push((c.to_string(), at.to_string()));
            }
        }
        if let Some(o) = &self.or {
            o.columns(&format!("{at}.or"), out);
        }
    }

    /// The text this spec gives for a row, and the name to report problems
    /// under (its column, else `at`). `cell` reads a column by name.
    pub fn resolve<'a>(&'a self, at: &'a str, cell: &dyn Fn(&str) -> &'a str) -> (String, &'a str) {
        let (raw, label) = if let Some(c) = &self.column {
            (cell(c).trim().to_string(), c.as_str())
        } else if let Some(v) = &self.value {
            (v.clone(), at)
        } else if let Some(t) = &self.template {
            let mut s = t.clone();
            for c in placeholders(t) {
                s = s.replace(&format!("{{{c}}}"), cell(c).trim());
            }
            (s.trim().to_string(), at)
        } else {
            (String::new(), at)
        };
        let mapped = self.map.get(&raw).cloned().unwrap_or(raw);
        let v = if mapped.is_empty() { self.default.clone().unwrap_or_default() } else { mapped };
        match &self.or {
            Some(o) if v.is_empty() => o.resolve(at, cell),
            _ => (v, label),
        }
    }
}

/// The `{name}` placeholders of a template.
fn placeholders(t: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                out.push(&after[..close]);
                rest = &after[close + 1..];
            }
            None => break,
        }
    }
    out
}

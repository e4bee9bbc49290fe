//! Turns one CSV row into typed values under a mapping. Problems are named
//! by the column they come from, so a report line reads like
//! `row 17: close_value: "abc" is not a number`.

use super::csv::Record;
use super::mapping::Mapping;
use super::spec::{FieldSpec, FieldType, field_type};
use crate::currency::Currency;
use crate::custom_field::FieldKind;
use crate::model::{ActivityKind, DealStatus};
use crate::time::{Date, Timestamp};
use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};

/// One converted value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// Minor units of the row's currency.
    Money(i64),
    Time(Timestamp),
    Date(Date),
    /// A close date read both ways: the instant (midnight in the file's
    /// zone for a date alone) and the calendar date.
    Close(Timestamp, Date),
    Status(DealStatus),
    Kind(ActivityKind),
    /// The key to look a referenced record up by.
    Ref(String),
    List(Vec<String>),
    Custom(Value),
}

/// A converted row; fields whose source is empty are absent.
#[derive(Debug, Clone, PartialEq)]
pub struct RowValues {
    pub row: usize,
    pub external_id: Option<String>,
    pub cells: BTreeMap<String, Cell>,
    /// (stage name, when the deal entered it), for the stages with a date.
    pub stage_dates: Vec<(String, Timestamp)>,
    pub currency: Currency,
    /// Field → the column it was read from, to name store errors by column.
    pub labels: BTreeMap<String, String>,
}

macro_rules! getter {
    ($name:ident, $variant:ident, $t:ty) => {
        pub fn $name(&self, field: &str) -> Option<$t> {
            match self.cells.get(field) {
                Some(Cell::$variant(v)) => Some(v.clone()),
                _ => None,
            }
        }
    };
}

impl RowValues {
    getter!(text, Text, String);
    getter!(int, Int, i64);
    getter!(money, Money, i64);
    getter!(time, Time, Timestamp);
    getter!(date, Date, Date);
    getter!(status, Status, DealStatus);
    getter!(kind, Kind, ActivityKind);
    getter!(reference, Ref, String);
    getter!(list, List, Vec<String>);

    /// When a deal of `status` closed: `closed_at`, else for a won or lost
    /// deal the `close_date` (an open deal's close date is its expected one).
    pub fn closed_at(&self, status: DealStatus) -> Option<Timestamp> {
        self.time("closed_at").or_else(|| match self.cells.get("close_date") {
            Some(Cell::Close(t, _)) if status != DealStatus::Open => Some(*t),
            _ => None,
        })
    }

    /// The expected close date: `expected_close_date`, else for an open
    /// deal the `close_date`.
    pub fn expected_close_date(&self, status: DealStatus) -> Option<Date> {
        self.date("expected_close_date").or_else(|| match self.cells.get("close_date") {
            Some(Cell::Close(_, d)) if status == DealStatus::Open => Some(*d),
            _ => None,
        })
    }

    /// The custom values of the row, keyed without the `custom.` prefix.
    pub fn custom(&self) -> Map<String, Value> {
        self.cells
            .iter()
            .filter_map(|(k, v)| match (k.strip_prefix("custom."), v) {
                (Some(key), Cell::Custom(v)) => Some((key.to_string(), v.clone())),
                _ => None,
            })
            .collect()
    }

    /// The column a field came from (or the field itself for constants).
    pub fn label<'a>(&'a self, field: &'a str) -> &'a str {
        self.labels.get(field).map(String::as_str).unwrap_or(field)
    }

    /// An error about `field` on this row, named by its column.
    pub fn error(&self, field: &str, message: impl Into<String>) -> RowError {
        RowError { row: self.row, field: self.label(field).to_string(), message: message.into() }
    }
}

/// A rejected row: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub row: usize,
    /// The column (or mapping field) at fault.
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "row {}: {}: {}", self.row, self.field, self.message)
    }
}

/// A mapping bound to a file's header and the workspace's settings.
pub struct Converter<'a> {
    mapping: &'a Mapping,
    index: HashMap<String, usize>,
    tz: Tz,
    base_currency: Currency,
    custom_kinds: BTreeMap<String, FieldKind>,
}

impl<'a> Converter<'a> {
    /// `custom_kinds` holds the workspace's custom fields of the target
    /// entity; every `custom.*` field of the mapping must be among them.
    pub fn new(
        mapping: &'a Mapping,
        header: &[String],
        tz: Tz,
        base_currency: Currency,
        custom_kinds: BTreeMap<String, FieldKind>,
    ) -> Result<Self, Vec<String>> {
        mapping.check_header(header)?;
        let missing: Vec<String> = mapping
            .custom_keys()
            .filter(|k| !custom_kinds.contains_key(*k))
            .map(|k| format!("fields.custom.{k}: there is no such custom field; define it under custom_fields"))
            .collect();
        if !missing.is_empty() {
            return Err(missing);
        }
        let index = header.iter().enumerate().map(|(i, h)| (h.clone(), i)).collect();
        Ok(Self { mapping, index, tz, base_currency, custom_kinds })
    }

    /// Converts one row, collecting every problem in it.
    pub fn convert(&self, rec: &Record) -> Result<RowValues, Vec<RowError>> {
        if let Some(problem) = &rec.problem {
            // A malformed line's cells are not what its writer meant, so no
            // field of it is trusted.
            return Err(vec![RowError { row: rec.row, field: "csv".into(), message: problem.clone() }]);
        }
        let cell = |c: &str| -> &str { self.index.get(c).and_then(|i| rec.cells.get(*i)).map_or("", String::as_str) };
        let m = self.mapping;
        let mut errs = Vec::new();
        let mut err = |field: &str, message: String| errs.push(RowError { row: rec.row, field: field.into(), message });
        let external_id = m.external_id.as_deref().map(|c| cell(c).trim().to_string()).filter(|s| !s.is_empty());
        let mut currency = self.base_currency.clone();
        if let Some(spec) = m.fields.get("currency") {
            let (raw, label) = spec.resolve("currency", &cell);
            if !raw.is_empty() {
                match Currency::parse(&raw) {
                    Ok(c) => currency = c,
                    Err(e) => err(label, e),
                }
            }
        }
        let mut cells = BTreeMap::new();
        let mut labels = BTreeMap::new();
        for (name, spec) in &m.fields {
            let Some(ty) = field_type(m.entity, name) else { continue };
            let (raw, label) = spec.resolve(name, &cell);
            labels.insert(name.clone(), label.to_string());
            if raw.is_empty() {
                continue;
            }
            match self.value(name, spec, ty, &raw, &currency) {
                Ok(v) => {
                    cells.insert(name.clone(), v);
                }
                Err(e) => err(label, e),
            }
        }
        let mut stage_dates = Vec::new();
        for (stage, spec) in &m.stage_dates {
            let (raw, label) = spec.resolve(stage, &cell);
            labels.insert(format!("stage_dates.{stage}"), label.to_string());
            if raw.is_empty() {
                continue;
            }
            match self.time(spec, &raw) {
                Ok(t) => stage_dates.push((stage.clone(), t)),
                Err(e) => err(label, e),
            }
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(RowValues { row: rec.row, external_id, cells, stage_dates, currency, labels })
    }

    fn value(&self, name: &str, spec: &FieldSpec, ty: FieldType, raw: &str, cur: &Currency) -> Result<Cell, String> {
        Ok(match ty {
            FieldType::Text => Cell::Text(raw.to_string()),
            FieldType::Money => Cell::Money(minor_units(raw, cur)?),
            FieldType::Int => Cell::Int(raw.parse().map_err(|_| format!("\"{raw}\" is not a whole number"))?),
            FieldType::Time => Cell::Time(self.time(spec, raw)?),
            FieldType::Date => Cell::Date(self.date(spec, raw)?),
            FieldType::CloseDate => Cell::Close(self.time(spec, raw)?, self.date(spec, raw)?),
            FieldType::DealStatus => Cell::Status(DealStatus::parse(&raw.to_lowercase())?),
            FieldType::ActivityKind => Cell::Kind(ActivityKind::parse(&raw.to_lowercase())?),
            FieldType::Ref(_) => Cell::Ref(raw.to_string()),
            FieldType::List => {
                let sep = spec.split.as_deref().unwrap_or(";");
                Cell::List(raw.split(sep).map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect())
            }
            FieldType::Custom => {
                let key = name.trim_start_matches("custom.");
                let kind = self.custom_kinds.get(key).copied().unwrap_or(FieldKind::Text);
                Cell::Custom(self.custom(spec, kind, raw, cur)?)
            }
        })
    }

    fn custom(&self, spec: &FieldSpec, kind: FieldKind, raw: &str, cur: &Currency) -> Result<Value, String> {
        Ok(match kind {
            FieldKind::Text | FieldKind::SingleSelect => Value::String(raw.to_string()),
            FieldKind::Number => raw
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| format!("\"{raw}\" is not a number"))?,
            FieldKind::Money => json!({"value": minor_units(raw, cur)?, "currency": cur.as_str()}),
            FieldKind::Date => Value::String(self.date(spec, raw)?.to_iso()),
            FieldKind::Boolean => match raw.to_lowercase().as_str() {
                "true" | "yes" | "y" | "1" | "x" => Value::Bool(true),
                "false" | "no" | "n" | "0" => Value::Bool(false),
                _ => return Err(format!("\"{raw}\" is not yes/no, true/false or 1/0")),
            },
        })
    }

    fn format<'s>(&'s self, spec: &'s FieldSpec) -> &'s str {
        spec.format.as_deref().unwrap_or(&self.mapping.date_format)
    }

    fn date(&self, spec: &FieldSpec, raw: &str) -> Result<Date, String> {
        let f = self.format(spec);
        NaiveDate::parse_from_str(raw, f)
            .or_else(|_| NaiveDateTime::parse_from_str(raw, f).map(|d| d.date()))
            .map(Date)
            .map_err(|_| format!("\"{raw}\" is not a date in the format {f}"))
    }

    /// A date alone means midnight in the mapping's (or workspace's) zone.
    fn time(&self, spec: &FieldSpec, raw: &str) -> Result<Timestamp, String> {
        let f = self.format(spec);
        if f == "rfc3339" {
            return Timestamp::parse(raw);
        }
        let local = NaiveDateTime::parse_from_str(raw, f)
            .or_else(|_| NaiveDate::parse_from_str(raw, f).map(|d| d.and_time(chrono::NaiveTime::MIN)))
            .map_err(|_| format!("\"{raw}\" is not a date in the format {f}"))?;
        self.tz
            .from_local_datetime(&local)
            .earliest()
            .map(|t| Timestamp(t.timestamp_millis()))
            .ok_or_else(|| format!("\"{raw}\" does not exist in time zone {}", self.tz))
    }
}

/// A decimal amount in minor units of `cur`: `1054` or `1054.5` USD is
/// 105400 or 105450. Thousands separators are refused rather than guessed,
/// since `1,054` means different things in different countries.
pub fn minor_units(raw: &str, cur: &Currency) -> Result<i64, String> {
    let not_number = || format!("\"{raw}\" is not a number");
    let (neg, s) = raw.strip_prefix('-').map_or((false, raw), |r| (true, r));
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.chars().all(|c| c.is_ascii_digit());
    if int.is_empty() || !digits(int) || !digits(frac) {
        return Err(not_number());
    }
    let d = cur.minor_digits() as usize;
    let frac = frac.trim_end_matches('0');
    if frac.len() > d {
        return Err(format!("\"{raw}\" has more decimals than {cur} has ({d})"));
    }
    let text = format!("{int}{frac:0<d$}");
    let v: i64 = text.parse().map_err(|_| format!("\"{raw}\" is too large"))?;
    Ok(if neg { -v } else { v })
}

#[cfg(test)]
#[path = "convert_tests.rs"]
mod tests;

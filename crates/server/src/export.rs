//! Exports: the tables behind `/api/v1/{deals,people,organizations}/export`
//! and `/api/v1/metrics[/stages]/export`, written as CSV or XLSX. Every
//! endpoint (and any web page that wants a download button) goes through
//! [`TableWriter`], so all exports read the same way:
//!
//! - one header row, then one row per record; ids are text (they exceed
//!   what a spreadsheet number holds exactly);
//! - money in major units (`120.50`) with a currency column beside it;
//! - times as RFC 3339 in the workspace time zone (`2026-11-27T09:30:00+01:00`,
//!   `Z` for a workspace in UTC), dates as `YYYY-MM-DD`;
//! - custom fields as extra columns headed by their labels, after the fixed ones;
//! - CSV text cells starting with `=`, `+`, `-`, `@`, tab or carriage return
//!   get a leading `'`, so a spreadsheet opening the file never runs them as
//!   formulas. XLSX cells are written as typed strings and numbers, which a
//!   spreadsheet never evaluates, so they keep their text unchanged.
//!
//! Lists are read from the store a page (500 records) at a time and written
//! straight into the encoder, so memory holds the encoded file, not every
//! record at once.

use crate::error::ApiError;
use crate::insights::{MetricsReport, StagesReport};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use dealflow_core::custom_field::{CustomField, Entity};
use dealflow_core::model::Settings;
use dealflow_core::time::Timestamp;
use dealflow_store::{DealFilter, OrganizationFilter, Page, PersonFilter, Store, StoreError};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The file format of an export.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    #[default]
    Csv,
    Xlsx,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Xlsx => "xlsx",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// One cell of an export.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Int(i64),
    Float(f64),
    /// An amount in minor units with its currency's minor-unit digits.
    Money {
        minor: i64,
        digits: u8,
    },
    /// An unrounded amount in minor units (averages, expected values).
    MoneyF {
        minor: f64,
        digits: u8,
    },
    Time(Timestamp),
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Self {
        Cell::Text(s.into())
    }

    pub fn opt_text(s: Option<impl Into<String>>) -> Self {
        s.map_or(Cell::Empty, |s| Cell::Text(s.into()))
    }

    pub fn opt_int(v: Option<i64>) -> Self {
        v.map_or(Cell::Empty, Cell::Int)
    }

    pub fn opt_float(v: Option<f64>) -> Self {
        v.filter(|f| f.is_finite()).map_or(Cell::Empty, Cell::Float)
    }

    pub fn opt_time(v: Option<Timestamp>) -> Self {
        v.map_or(Cell::Empty, Cell::Time)
    }

    /// A custom field value: text, number, yes/no, or a list joined by `; `.
    pub fn json(v: Option<&Value>) -> Self {
        match v {
            None | Some(Value::Null) => Cell::Empty,
            Some(Value::String(s)) => Cell::Text(s.clone()),
            Some(Value::Bool(b)) => Cell::text(if *b { "true" } else { "false" }),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(i) => Cell::Int(i),
                None => Cell::opt_float(n.as_f64()),
            },
            Some(Value::Array(a)) => Cell::Text(
                a.iter()
                    .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            Some(other) => Cell::Text(other.to_string()),
        }
    }
}

/// `minor` minor units as an exact decimal in major units: `12050, 2` →
/// `120.50` (the core formatter, every place shown).
pub fn major_units(minor: i64, digits: u8) -> String {
    dealflow_core::currency::format_major_fixed(minor, digits)
}

/// A text cell as CSV writes it: formula starters neutralised with `'`.
pub fn csv_safe(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}").into() } else { s.into() }
}

/// An RFC 3339 time in `tz`, to the second.
pub fn local_time(t: Timestamp, tz: Tz) -> String {
    DateTime::<Utc>::from_timestamp_millis(t.0)
        .map(|d| d.with_timezone(&tz).to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// The workspace time zone (valid since the settings loaded).
pub fn workspace_tz(settings: &Settings) -> Tz {
    settings.time_zone.tz()
}

/// The largest row count of an XLSX sheet, header included.
const XLSX_MAX_ROWS: u32 = 1_048_576;

fn internal(what: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::Store(StoreError::Config(format!("writing the {what} export failed: {e}")))
}

enum Sink {
    Csv(Box<csv::Writer<Vec<u8>>>),
    Xlsx(Box<rust_xlsxwriter::Worksheet>),
}

/// Writes one table as CSV or XLSX, a row at a time.
pub struct TableWriter {
    format: ExportFormat,
    sink: Sink,
    tz: Tz,
    row: u32,
    name: String,
}

impl TableWriter {
    /// A table named `name` (file stem and sheet name) with these headers.
    pub fn new(format: ExportFormat, name: &str, tz: Tz, headers: &[String]) -> Result<Self, ApiError> {
        let sink = match format {
            ExportFormat::Csv => Sink::Csv(Box::new(csv::WriterBuilder::new().flexible(false).from_writer(Vec::new()))),
            ExportFormat::Xlsx => {
                let mut ws = rust_xlsxwriter::Worksheet::new();
                ws.set_name(name).map_err(|e| internal(name, e))?;
                Sink::Xlsx(Box::new(ws))
            }
        };
        let mut w = TableWriter { format, sink, tz, row: 0, name: name.to_string() };
        let header: Vec<Cell> = headers.iter().map(|h| Cell::text(h.clone())).collect();
        w.row(&header)?;
        if let Sink::Xlsx(ws) = &mut w.sink {
            ws.set_freeze_panes(1, 0).map_err(|e| internal(name, e))?;
        }
        Ok(w)
    }

    /// Appends one row.
    pub fn row(&mut self, cells: &[Cell]) -> Result<(), ApiError> {
        let tz = self.tz;
        match &mut self.sink {
            Sink::Csv(w) => {
                let fields: Vec<String> = cells
                    .iter()
                    .map(|c| match c {
                        Cell::Empty => String::new(),
                        Cell::Text(s) => csv_safe(s).into_owned(),
                        Cell::Int(i) => i.to_string(),
                        Cell::Float(f) => f.to_string(),
                        Cell::Money { minor, digits } => major_units(*minor, *digits),
                        Cell::MoneyF { minor, digits } => (minor / 10f64.powi(*digits as i32)).to_string(),
                        Cell::Time(t) => local_time(*t, tz),
                    })
                    .collect();
                w.write_record(&fields).map_err(|e| internal(&self.name, e))?;
            }
            Sink::Xlsx(ws) => {
                if self.row >= XLSX_MAX_ROWS {
                    return Err(dealflow_core::Invalid::one(
                        "format",
                        format!("more than {} rows do not fit in an XLSX sheet; use format=csv", XLSX_MAX_ROWS - 1),
                    )
                    .into());
                }
                for (i, c) in cells.iter().enumerate() {
                    let (r, col) = (self.row, i as u16);
                    let res = match c {
                        Cell::Empty => continue,
                        Cell::Text(s) => ws.write_string(r, col, s.as_str()).map(|_| ()),
                        Cell::Int(v) => ws.write_number(r, col, *v as f64).map(|_| ()),
                        Cell::Float(v) => ws.write_number(r, col, *v).map(|_| ()),
                        Cell::Money { minor, digits } => {
                            let f = money_format(*digits);
                            ws.write_number_with_format(r, col, *minor as f64 / 10f64.powi(*digits as i32), &f)
                                .map(|_| ())
                        }
                        Cell::MoneyF { minor, digits } => {
                            ws.write_number(r, col, minor / 10f64.powi(*digits as i32)).map(|_| ())
                        }
                        Cell::Time(t) => ws.write_string(r, col, local_time(*t, tz)).map(|_| ()),
                    };
                    res.map_err(|e| internal(&self.name, e))?;
                }
            }
        }
        self.row += 1;
        Ok(())
    }

    /// The encoded file.
    pub fn finish(self) -> Result<Vec<u8>, ApiError> {
        match self.sink {
            Sink::Csv(w) => (*w).into_inner().map_err(|e| internal(&self.name, e.error())),
            Sink::Xlsx(ws) => {
                let mut wb = rust_xlsxwriter::Workbook::new();
                wb.push_worksheet(*ws);
                wb.save_to_buffer().map_err(|e| internal(&self.name, e))
            }
        }
    }

    /// The encoded file as a download named `{name}-{today}.{ext}`, today
    /// being the date in the table's time zone.
    pub fn into_response(self) -> Result<Response, ApiError> {
        let (format, name, tz) = (self.format, self.name.clone(), self.tz);
        let body = self.finish()?;
        Ok(download(format, &name, Utc::now().with_timezone(&tz).date_naive(), body))
    }
}

fn money_format(digits: u8) -> rust_xlsxwriter::Format {
    let pattern = if digits == 0 { "#,##0".to_string() } else { format!("#,##0.{}", "0".repeat(digits as usize)) };
    rust_xlsxwriter::Format::new().set_num_format(pattern)
}

/// A file download: content type and `Content-Disposition: attachment`.
pub fn download(format: ExportFormat, name: &str, date: chrono::NaiveDate, body: Vec<u8>) -> Response {
    let filename = format!("{name}-{}.{}", date.format("%Y-%m-%d"), format.extension());
    (
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

/// Page size used when reading lists for an export.
const BATCH: i64 = Page::MAX;

/// The entity's custom fields in display order, and their headers.
async fn custom_columns(store: &Store, entity: Entity) -> Result<Vec<CustomField>, ApiError> {
    let mut fields = store.custom_fields(Some(entity)).await?;
    fields.sort_by_key(|f| (f.position, f.id.0));
    Ok(fields)
}

fn with_custom(fixed: &[&str], custom: &[CustomField]) -> Vec<String> {
    fixed.iter().map(|s| s.to_string()).chain(custom.iter().map(|f| f.label.clone())).collect()
}

fn push_custom(row: &mut Vec<Cell>, custom: &[CustomField], values: &Map<String, Value>) {
    row.extend(custom.iter().map(|f| Cell::json(values.get(&f.key))));
}

/// Names of users by id (for owner columns).
async fn user_names(store: &Store) -> Result<HashMap<i64, String>, ApiError> {
    Ok(store.users().await?.into_iter().map(|u| (u.id.0, u.name)).collect())
}

fn name_of(names: &HashMap<i64, String>, id: Option<i64>) -> Cell {
    id.map_or(Cell::Empty, |i| Cell::Text(names.get(&i).cloned().unwrap_or_else(|| i.to_string())))
}

/// Looks up person and organization names once each, live ones only; a
/// deleted one shows its id.
#[derive(Default)]
struct PartyNames {
    people: HashMap<i64, String>,
    orgs: HashMap<i64, String>,
}

impl PartyNames {
    async fn person(&mut self, store: &Store, id: Option<dealflow_core::PersonId>) -> Result<Cell, ApiError> {
        let Some(id) = id else { return Ok(Cell::Empty) };
        if let Some(n) = self.people.get(&id.0) {
            return Ok(Cell::Text(n.clone()));
        }
        let name = match store.person(id).await {
            Ok(p) => p.name,
            Err(StoreError::NotFound { .. }) => id.to_string(),
            Err(e) => return Err(e.into()),
        };
        self.people.insert(id.0, name.clone());
        Ok(Cell::Text(name))
    }

    async fn org(&mut self, store: &Store, id: Option<dealflow_core::OrganizationId>) -> Result<Cell, ApiError> {
        let Some(id) = id else { return Ok(Cell::Empty) };
        if let Some(n) = self.orgs.get(&id.0) {
            return Ok(Cell::Text(n.clone()));
        }
        let name = match store.organization(id).await {
            Ok(o) => o.name,
            Err(StoreError::NotFound { .. }) => id.to_string(),
            Err(e) => return Err(e.into()),
        };
        self.orgs.insert(id.0, name.clone());
        Ok(Cell::Text(name))
    }
}

/// Every deal matching `f`, newest first.
pub async fn deals(store: &Store, f: &DealFilter, format: ExportFormat) -> Result<TableWriter, ApiError> {
    let settings = store.settings().await?;
    let custom = custom_columns(store, Entity::Deal).await?;
    let headers = with_custom(
        &[
            "id",
            "title",
            "value",
            "currency",
            "contract_months",
            "pipeline",
            "stage",
            "status",
            "lost_reason",
            "probability",
            "expected_close_date",
            "owner",
            "person",
            "organization",
            "source",
            "created_at",
            "updated_at",
            "closed_at",
            "stage_entered_at",
        ],
        &custom,
    );
    let mut out = TableWriter::new(format, "deals", workspace_tz(&settings), &headers)?;
    let mut pipelines = HashMap::new();
    let mut stages = HashMap::new();
    for p in store.pipelines().await? {
        for s in &p.stages {
            stages.insert(s.id.0, s.name.clone());
        }
        pipelines.insert(p.id.0, p.name);
    }
    let users = user_names(store).await?;
    let mut parties = PartyNames::default();
    let mut before = None;
    loop {
        let page = store.list_deals(f, Page { limit: BATCH, before }).await?;
        for d in &page.items {
            let mut row = vec![
                Cell::Text(d.id.to_string()),
                Cell::Text(d.title.clone()),
                Cell::Money { minor: d.value, digits: d.currency.minor_digits() },
                Cell::text(d.currency.as_str()),
                Cell::opt_int(d.contract_months),
                name_of(&pipelines, Some(d.pipeline_id.0)),
                name_of(&stages, Some(d.stage_id.0)),
                Cell::text(d.status.as_str()),
                Cell::opt_text(d.lost_reason.clone()),
                Cell::opt_int(d.probability),
                Cell::opt_text(d.expected_close_date.map(|x| x.to_iso())),
                name_of(&users, d.owner_id.map(|u| u.0)),
                parties.person(store, d.person_id).await?,
                parties.org(store, d.organization_id).await?,
                Cell::opt_text(d.source.clone()),
                Cell::Time(d.created_at),
                Cell::Time(d.updated_at),
                Cell::opt_time(d.closed_at),
                Cell::Time(d.stage_entered_at),
            ];
            push_custom(&mut row, &custom, &d.custom);
            out.row(&row)?;
        }
        match page.next_cursor.and_then(|c| c.parse().ok()) {
            Some(c) => before = Some(c),
            None => break,
        }
    }
    Ok(out)
}

/// Every person matching `f`, newest first.
pub async fn people(store: &Store, f: &PersonFilter, format: ExportFormat) -> Result<TableWriter, ApiError> {
    let settings = store.settings().await?;
    let custom = custom_columns(store, Entity::Person).await?;
    let headers = with_custom(
        &[
            "id",
            "name",
            "email",
            "other_emails",
            "phones",
            "job_title",
            "organization",
            "owner",
            "source",
            "created_at",
            "updated_at",
        ],
        &custom,
    );
    let mut out = TableWriter::new(format, "people", workspace_tz(&settings), &headers)?;
    let users = user_names(store).await?;
    let mut parties = PartyNames::default();
    let mut before = None;
    loop {
        let page = store.list_people(f, Page { limit: BATCH, before }).await?;
        for p in &page.items {
            let mut row = vec![
                Cell::Text(p.id.to_string()),
                Cell::Text(p.name.clone()),
                Cell::opt_text(p.emails.first().cloned()),
                Cell::Text(p.emails.iter().skip(1).cloned().collect::<Vec<_>>().join("; ")),
                Cell::Text(p.phones.join("; ")),
                Cell::opt_text(p.job_title.clone()),
                parties.org(store, p.organization_id).await?,
                name_of(&users, p.owner_id.map(|u| u.0)),
                Cell::opt_text(p.source.clone()),
                Cell::Time(p.created_at),
                Cell::Time(p.updated_at),
            ];
            push_custom(&mut row, &custom, &p.custom);
            out.row(&row)?;
        }
        match page.next_cursor.and_then(|c| c.parse().ok()) {
            Some(c) => before = Some(c),
            None => break,
        }
    }
    Ok(out)
}

/// Every organization matching `f`, newest first.
pub async fn organizations(
    store: &Store,
    f: &OrganizationFilter,
    format: ExportFormat,
) -> Result<TableWriter, ApiError> {
    let settings = store.settings().await?;
    let custom = custom_columns(store, Entity::Organization).await?;
    let headers = with_custom(
        &["id", "name", "domain", "industry", "employees", "country", "owner", "created_at", "updated_at"],
        &custom,
    );
    let mut out = TableWriter::new(format, "organizations", workspace_tz(&settings), &headers)?;
    let users = user_names(store).await?;
    let mut before = None;
    loop {
        let page = store.list_organizations(f, Page { limit: BATCH, before }).await?;
        for o in &page.items {
            let mut row = vec![
                Cell::Text(o.id.to_string()),
                Cell::Text(o.name.clone()),
                Cell::opt_text(o.domain.clone()),
                Cell::opt_text(o.industry.clone()),
                Cell::opt_int(o.employees),
                Cell::opt_text(o.country.clone()),
                name_of(&users, o.owner_id.map(|u| u.0)),
                Cell::Time(o.created_at),
                Cell::Time(o.updated_at),
            ];
            push_custom(&mut row, &custom, &o.custom);
            out.row(&row)?;
        }
        match page.next_cursor.and_then(|c| c.parse().ok()) {
            Some(c) => before = Some(c),
            None => break,
        }
    }
    Ok(out)
}

/// How a metric's value reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    /// Integer minor units of the base currency.
    Money,
    /// Unrounded minor units of the base currency.
    MoneyF,
    /// Unrounded minor units of the base currency per day.
    MoneyPerDay,
    Percent,
    Days,
    Flag,
}

/// The activity metrics of METRICS.md in its order: (JSON key, label, unit).
pub const METRICS: &[(&str, &str, Unit)] = &[
    ("outreach_sent", "Outreach sent", Unit::Count),
    ("replies", "Replies", Unit::Count),
    ("response_rate", "Response rate", Unit::Percent),
    ("positive_reply_rate", "Positive reply rate", Unit::Percent),
    ("prospects_contacted", "Prospects contacted", Unit::Count),
    ("meetings_booked", "Meetings booked", Unit::Count),
    ("meeting_booking_rate", "Meeting booking rate", Unit::Percent),
    ("proposals_sent", "Proposals sent", Unit::Count),
    ("deals_won", "Deals won", Unit::Count),
    ("deals_lost", "Deals lost", Unit::Count),
    ("won_value", "Won value", Unit::Money),
    ("win_rate", "Win rate", Unit::Percent),
    ("pipeline_deals", "Pipeline deals", Unit::Count),
    ("close_rate", "Close rate", Unit::Percent),
    ("close_rate_vs_contacted", "Close rate vs. prospects contacted", Unit::Percent),
    ("close_rate_vs_meetings", "Close rate vs. meetings booked", Unit::Percent),
    ("close_rate_vs_proposals", "Close rate vs. proposals sent", Unit::Percent),
    ("avg_deal_value", "Average deal value", Unit::MoneyF),
    ("acv", "Annual contract value (average)", Unit::MoneyF),
    ("sales_cycle_days", "Sales cycle (days)", Unit::Days),
    ("open_deals", "Open deals at end of period", Unit::Count),
    ("sales_velocity", "Sales velocity (per day)", Unit::MoneyPerDay),
    ("unconverted", "Won deals without an exchange rate (left out of money figures)", Unit::Count),
    ("outreach_workspace_wide", "Outreach figures are workspace-wide", Unit::Flag),
    ("deals_workspace_wide", "Deal figures are workspace-wide", Unit::Flag),
];

/// One row per metric: key, label, value, unit, period from, period to.
/// Money is in major units of the base currency (named in `unit`); rates are
/// percentages; a rate without a denominator is empty.
pub fn metrics(report: &MetricsReport, settings: &Settings, format: ExportFormat) -> Result<TableWriter, ApiError> {
    let headers: Vec<String> = ["key", "label", "value", "unit", "from", "to"].map(String::from).to_vec();
    let mut out = TableWriter::new(format, "metrics", workspace_tz(settings), &headers)?;
    let values = serde_json::to_value(&report.metrics).map_err(|e| internal("metrics", e))?;
    let digits = settings.base_currency.minor_digits();
    let currency = report.currency.clone();
    for (key, label, unit) in METRICS {
        let v = values.get(*key);
        let (value, unit_text) = match unit {
            Unit::Count => (Cell::opt_int(v.and_then(Value::as_i64)), String::new()),
            Unit::Money => {
                (v.and_then(Value::as_i64).map_or(Cell::Empty, |m| Cell::Money { minor: m, digits }), currency.clone())
            }
            Unit::MoneyF | Unit::MoneyPerDay => (
                v.and_then(Value::as_f64).map_or(Cell::Empty, |m| Cell::MoneyF { minor: m, digits }),
                if *unit == Unit::MoneyPerDay { format!("{currency}/day") } else { currency.clone() },
            ),
            Unit::Percent => (Cell::opt_float(v.and_then(Value::as_f64)), "%".into()),
            Unit::Days => (Cell::opt_float(v.and_then(Value::as_f64)), "days".into()),
            Unit::Flag => (Cell::json(v), String::new()),
        };
        out.row(&[
            Cell::text(*key),
            Cell::text(*label),
            value,
            Cell::Text(unit_text),
            Cell::Time(report.period.from),
            Cell::Time(report.period.to),
        ])?;
    }
    Ok(out)
}

/// One row per stage, in pipeline and stage order.
pub fn stages(report: &StagesReport, settings: &Settings, format: ExportFormat) -> Result<TableWriter, ApiError> {
    let headers: Vec<String> = [
        "pipeline",
        "stage",
        "position",
        "milestone",
        "stage_conversion",
        "stage_reach",
        "time_in_stage_days_median",
        "time_in_stage_days_p90",
        "closed_reached",
        "won_reached",
        "pipeline_id",
        "stage_id",
        "from",
        "to",
    ]
    .map(String::from)
    .to_vec();
    let mut out = TableWriter::new(format, "stages", workspace_tz(settings), &headers)?;
    for s in &report.stages {
        let f = &s.figures;
        out.row(&[
            Cell::Text(s.pipeline.clone()),
            Cell::Text(s.name.clone()),
            Cell::Int(s.position),
            Cell::opt_text(s.milestone.map(|m| m.as_str())),
            Cell::opt_float(f.stage_conversion),
            Cell::opt_float(f.stage_reach),
            Cell::opt_float(f.time_in_stage_days_median),
            Cell::opt_float(f.time_in_stage_days_p90),
            Cell::Int(f.closed_reached as i64),
            Cell::Int(f.won_reached as i64),
            Cell::Text(s.pipeline_id.clone()),
            Cell::Text(s.stage_id.clone()),
            Cell::Time(report.period.from),
            Cell::Time(report.period.to),
        ])?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_in_major_units() {
        assert_eq!(major_units(12050, 2), "120.50");
        assert_eq!(major_units(5, 2), "0.05");
        assert_eq!(major_units(-5, 2), "-0.05");
        assert_eq!(major_units(500, 0), "500");
        assert_eq!(major_units(1234, 3), "1.234");
    }

    #[test]
    fn formulas_are_neutralised() {
        for s in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(csv_safe(s), format!("'{s}"));
        }
        assert_eq!(csv_safe("Acme"), "Acme");
        assert_eq!(csv_safe(""), "");
    }

    #[test]
    fn times_in_the_workspace_zone() {
        let t = Timestamp(1_764_236_400_000); // 2025-11-27T09:40:00Z
        assert_eq!(local_time(t, Tz::UTC), "2025-11-27T09:40:00Z");
        assert_eq!(local_time(t, Tz::Europe__Berlin), "2025-11-27T10:40:00+01:00");
    }
}

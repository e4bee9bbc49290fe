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
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use dealflow_core::model::Settings;
use dealflow_core::time::Timestamp;
use dealflow_store::StoreError;
use serde::Deserialize;
use serde_json::Value;

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

mod records;
mod reports;

pub use records::{deals, organizations, people};
pub use reports::{METRICS, Unit, metrics, stages};

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

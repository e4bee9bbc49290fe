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
//! Record lists are read from the store a page (500 records) at a time and
//! sent while they are read ([`respond`]): memory holds a page, not the
//! file. Reports (metrics, stages) are a few rows and are built in memory.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use dealflow_core::model::Settings;
use dealflow_core::time::Timestamp;
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

/// The headers of a file download: content type and `Content-Disposition:
/// attachment` named `{name}-{date}.{ext}`.
pub fn download_headers(
    format: ExportFormat,
    name: &str,
    date: chrono::NaiveDate,
) -> [(header::HeaderName, String); 3] {
    let filename = format!("{name}-{}.{}", date.format("%Y-%m-%d"), format.extension());
    [
        (header::CONTENT_TYPE, format.content_type().to_string()),
        (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        (header::CACHE_CONTROL, "no-store".to_string()),
    ]
}

/// A file download held in memory.
pub fn download(format: ExportFormat, name: &str, date: chrono::NaiveDate, body: Vec<u8>) -> Response {
    (download_headers(format, name, date), body).into_response()
}

mod audit;
mod records;
mod reports;
mod stream;
mod table;

pub use audit::audit;
pub use records::{deals, organizations, people};
pub use reports::{METRICS, Unit, metrics, stages};
pub use stream::{Target, respond};
pub use table::TableWriter;
use table::internal;

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

//! Metric reports as export tables: the activity metrics and the stage
//! metrics of a period, one row per figure.

use super::{Cell, ExportFormat, TableWriter, internal, workspace_tz};
use crate::error::ApiError;
use crate::insights::{MetricsReport, StagesReport};
use dealflow_core::model::Settings;
use serde_json::Value;

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

/// The activity metrics of docs/metrics.md in its order: (JSON key, label, unit).
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
        "left_forward",
        "playbook_complete",
        "playbook_complete_rate",
        "playbook_on_time",
        "playbook_on_time_rate",
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
            Cell::Int(s.playbook.left_forward as i64),
            Cell::Int(s.playbook.playbook_complete as i64),
            Cell::opt_float(s.playbook.playbook_complete_rate),
            Cell::Int(s.playbook.playbook_on_time as i64),
            Cell::opt_float(s.playbook.playbook_on_time_rate),
            Cell::Text(s.pipeline_id.clone()),
            Cell::Text(s.stage_id.clone()),
            Cell::Time(report.period.from),
            Cell::Time(report.period.to),
        ])?;
    }
    Ok(out)
}

//! `dealflow metrics`: the activity metrics of a period as an aligned table
//! (or the API's JSON with `--json`), computed by the same function the API
//! uses (`dealflow_insights::metrics`), straight from the database.
//! Also the formatting helpers `forecast` and `plan` share.

use anyhow::Context;
use clap::Args;
use dealflow_core::UserId;
use dealflow_core::currency::Currency;
use dealflow_core::time::{Date, Timestamp};
use dealflow_insights::{self as insights, InsightsError, MetricsQuery};
use dealflow_store::Store;
use serde_json::Value;

#[derive(Debug, Args)]
pub struct Metrics {
    /// First day of the period (YYYY-MM-DD, workspace time zone); default 90 days before --to.
    #[arg(long, value_parser = Date::parse)]
    pub from: Option<Date>,
    /// Day after the period (exclusive); default now.
    #[arg(long, value_parser = Date::parse)]
    pub to: Option<Date>,
    /// Only deals of this pipeline (id).
    #[arg(long)]
    pub pipeline: Option<dealflow_core::PipelineId>,
    /// Only deals owned by this user (e-mail or id).
    #[arg(long)]
    pub owner: Option<String>,
    /// Print the API's JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// How a figure reads in the table.
#[derive(Clone, Copy)]
enum Kind {
    Count,
    Percent,
    Money,
    Days,
    MoneyPerDay,
}

/// The figures in docs/metrics.md's order.
const ROWS: &[(&str, Kind)] = &[
    ("outreach_sent", Kind::Count),
    ("replies", Kind::Count),
    ("response_rate", Kind::Percent),
    ("positive_reply_rate", Kind::Percent),
    ("prospects_contacted", Kind::Count),
    ("meetings_booked", Kind::Count),
    ("meeting_booking_rate", Kind::Percent),
    ("proposals_sent", Kind::Count),
    ("deals_won", Kind::Count),
    ("deals_lost", Kind::Count),
    ("won_value", Kind::Money),
    ("win_rate", Kind::Percent),
    ("pipeline_deals", Kind::Count),
    ("close_rate", Kind::Percent),
    ("close_rate_vs_contacted", Kind::Percent),
    ("close_rate_vs_meetings", Kind::Percent),
    ("close_rate_vs_proposals", Kind::Percent),
    ("avg_deal_value", Kind::Money),
    ("acv", Kind::Money),
    ("sales_cycle_days", Kind::Days),
    ("open_deals", Kind::Count),
    ("sales_velocity", Kind::MoneyPerDay),
    ("unconverted", Kind::Count),
];

impl Metrics {
    pub async fn run(self, store: &Store) -> anyhow::Result<()> {
        let owner_id = match &self.owner {
            Some(o) => Some(resolve_owner(store, o).await?),
            None => None,
        };
        let q =
            MetricsQuery { from: self.from, to: self.to, pipeline_id: self.pipeline, owner_id, ..Default::default() };
        let report = insights::metrics(store, &q, Timestamp::now()).await.map_err(api_err)?;
        if self.json {
            // Straight from the struct: keys in docs/metrics.md's order.
            return emit(&format!("{}\n", serde_json::to_string_pretty(&report)?));
        }
        let json = serde_json::to_value(&report)?;
        let cur = Currency::parse(&report.currency).map_err(anyhow::Error::msg)?;
        let mut out = format!(
            "Metrics {} .. {} ({}; money in {})\n",
            report.period.from.to_rfc3339(),
            report.period.to.to_rfc3339(),
            report.period.time_zone,
            report.currency
        );
        let rows: Vec<(String, String)> =
            ROWS.iter().map(|(k, kind)| (k.to_string(), format_figure(&json[*k], *kind, &cur))).collect();
        out.push_str(&table(&rows));
        if report.metrics.outreach_workspace_wide {
            out.push_str("(outreach figures are workspace-wide: messages carry no pipeline or owner)\n");
        }
        emit(&out)
    }
}

fn format_figure(v: &Value, kind: Kind, cur: &Currency) -> String {
    let Some(x) = v.as_f64() else {
        return "—".to_string();
    };
    match kind {
        Kind::Count => format!("{x}"),
        Kind::Percent => format!("{x:.1}%"),
        Kind::Money => money(x, cur),
        Kind::Days => format!("{x:.1} days"),
        Kind::MoneyPerDay => format!("{} / day", money(x, cur)),
    }
}

/// `name  value` rows with the values right-aligned in one column.
pub(super) fn table(rows: &[(String, String)]) -> String {
    let wn = rows.iter().map(|(n, _)| n.chars().count()).max().unwrap_or(0);
    let wv = rows.iter().map(|(_, v)| v.chars().count()).max().unwrap_or(0);
    rows.iter().map(|(n, v)| format!("{n:<wn$}  {v:>wv$}\n")).collect()
}

/// Writes `text` to stdout. A reader that stops early (`| head`) closes
/// the pipe; that ends the command quietly instead of with a panic.
pub(super) fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// Minor units as major units with thousands separators: `1,234.50 USD`.
/// Only for display: figures stay unrounded in the JSON.
pub(super) fn money(minor: f64, cur: &Currency) -> String {
    let digits = usize::from(cur.minor_digits());
    let major = minor / 10f64.powi(digits as i32);
    let text = format!("{:.*}", digits, major.abs());
    let (int, frac) = text.split_once('.').map_or((text.as_str(), None), |(i, f)| (i, Some(f)));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if major < 0.0 && major.abs() >= 0.5 * 10f64.powi(-(digits as i32)) { "-" } else { "" };
    match frac {
        Some(f) => format!("{sign}{grouped}.{f} {}", cur.as_str()),
        None => format!("{sign}{grouped} {}", cur.as_str()),
    }
}

/// A user given by e-mail (contains `@`) or by id.
pub(super) async fn resolve_owner(store: &Store, s: &str) -> anyhow::Result<UserId> {
    if s.contains('@') {
        let (u, _) = store.user_by_email(s).await?.with_context(|| format!("no user with e-mail {s}"))?;
        return Ok(u.id);
    }
    let id: UserId = s.parse().map_err(|_| anyhow::anyhow!("--owner `{s}` is neither an e-mail nor a user id"))?;
    store.user(id).await.map_err(|e| anyhow::anyhow!("--owner {s}: {e}"))?;
    Ok(id)
}

/// An API error as one line: its detail, then each offending parameter.
pub(super) fn api_err(e: InsightsError) -> anyhow::Error {
    match e {
        InsightsError::Invalid(i) => {
            let fields: Vec<String> = i.0.iter().map(|f| format!("{}: {}", f.field, f.message)).collect();
            anyhow::anyhow!("{}", fields.join("; "))
        }
        other => anyhow::Error::new(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_grouped_in_major_units() {
        let usd = Currency::parse("USD").unwrap();
        assert_eq!(money(4_000_000.0, &usd), "40,000.00 USD");
        assert_eq!(money(13636.36, &usd), "136.36 USD");
        assert_eq!(money(-123456.0, &usd), "-1,234.56 USD");
        assert_eq!(money(500.0, &Currency::parse("JPY").unwrap()), "500 JPY");
    }
}

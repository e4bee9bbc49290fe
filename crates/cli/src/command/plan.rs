//! `dealflow plan --target AMOUNT --weeks N`: the goal planner, with the
//! target in the base currency's major units (40000 = 40,000.00), computed
//! by the same function as `GET /api/v1/planner`.

use super::metrics::{api_err, emit, money, table};
use clap::Args;
use dealflow_core::currency::Currency;
use dealflow_core::time::Timestamp;
use dealflow_insights::{self as insights, PlanQuery};
use dealflow_store::Store;

#[derive(Debug, Args)]
pub struct Plan {
    /// Revenue target in the base currency's major units, e.g. 40000 or 40000.50.
    #[arg(long)]
    pub target: String,
    /// Length of the future period in weeks.
    #[arg(long)]
    pub weeks: i64,
    /// Days before now whose rates are used.
    #[arg(long, default_value_t = insights::DEFAULT_DAYS)]
    pub lookback_days: i64,
    /// Print the API's JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// A decimal amount in major units as exact minor units (no float
/// rounding): `40000` → 4,000,000 cents for a 2-digit currency.
pub fn to_minor(amount: &str, digits: u8) -> Result<i64, String> {
    let s = amount.trim().replace(['_', ','], "");
    let bad = || format!("`{amount}` is not an amount; write it in major units, e.g. 40000 or 40000.50");
    let (int, frac) = s.split_once('.').unwrap_or((s.as_str(), ""));
    if int.is_empty() && frac.is_empty() || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let digits = usize::from(digits);
    if frac.len() > digits {
        return Err(format!("`{amount}` has more decimals than the currency's {digits}"));
    }
    let padded = format!("{int}{frac:0<digits$}");
    padded.parse::<i64>().map_err(|_| bad())
}

impl Plan {
    pub async fn run(self, store: &Store) -> anyhow::Result<()> {
        let settings = store.settings().await?;
        let cur: Currency = settings.base_currency;
        let target = to_minor(&self.target, cur.minor_digits()).map_err(|e| anyhow::anyhow!("--target: {e}"))?;
        let q = PlanQuery { target, weeks: self.weeks, lookback_days: Some(self.lookback_days) };
        let r = insights::plan(store, &q, Timestamp::now()).await.map_err(api_err)?;
        if self.json {
            return emit(&format!("{}\n", serde_json::to_string_pretty(&r)?));
        }
        let mut out = format!(
            "Plan: {} in {} weeks, at the rates of {} .. {}\n",
            money(target as f64, &cur),
            r.weeks,
            r.lookback.from.to_rfc3339(),
            r.lookback.to.to_rfc3339()
        );
        let p = &r.plan;
        let num = |x: Option<u64>| x.map_or("—".to_string(), |x| x.to_string());
        let week = |x: Option<f64>| x.map_or("—".to_string(), |x| format!("{x:.2}"));
        let mut rows =
            vec![("figure".to_string(), format!("{:>8}  {:>9}  {:>12}", "needed", "per week", "pace / week"))];
        let mut row = |name: &str, total: Option<u64>, per: Option<f64>, pace: Option<f64>| {
            rows.push((name.to_string(), format!("{:>8}  {:>9}  {:>12}", num(total), week(per), week(pace))));
        };
        row("wins", p.wins, p.per_week.wins, Some(p.current_pace.wins));
        for (m, n) in &p.needed {
            let per = p.per_week.needed.get(m).copied().flatten();
            row(&format!("{m} deals"), *n, per, p.current_pace.reached.get(m).copied());
        }
        row(
            "prospects contacted",
            p.prospects_contacted_needed,
            p.per_week.prospects_contacted_needed,
            Some(p.current_pace.prospects_contacted),
        );
        row("outreach messages", p.outreach_needed, p.per_week.outreach_needed, Some(p.current_pace.outreach_sent));
        out.push_str(&table(&rows));
        for m in &p.missing {
            out.push_str(&format!("missing: {m}\n"));
        }
        emit(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::to_minor;

    #[test]
    fn amounts_convert_exactly() {
        assert_eq!(to_minor("40000", 2), Ok(4_000_000));
        assert_eq!(to_minor("40,000.5", 2), Ok(4_000_050));
        assert_eq!(to_minor("0.07", 2), Ok(7));
        assert_eq!(to_minor("500", 0), Ok(500));
        assert!(to_minor("1.234", 2).is_err());
        assert!(to_minor("-5", 2).is_err());
        assert!(to_minor("abc", 2).is_err());
        assert!(to_minor(".", 2).is_err());
    }
}

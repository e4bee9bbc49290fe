//! `dealflow forecast`: the forecast of the open deals (as of now or an
//! earlier day), or with `--backtest` one line per step of a date range: the
//! forecast as of that day beside what was really won. Same functions as
//! `GET /api/v1/forecast`.

use super::metrics::{api_err, emit, money, resolve_owner, table};
use clap::Args;
use dealflow_core::currency::Currency;
use dealflow_core::time::{Date, Timestamp};
use dealflow_insights::{self as insights, BacktestQuery, ForecastQuery, HeavyReads, Step};
use dealflow_store::Store;

#[derive(Debug, Args)]
pub struct Forecast {
    /// Day of the forecast (YYYY-MM-DD, midnight in the workspace time zone); default now.
    #[arg(long, value_parser = Date::parse)]
    pub as_of: Option<Date>,
    /// Range period start (forecast), or first as-of day (backtest).
    #[arg(long, value_parser = Date::parse)]
    pub from: Option<Date>,
    /// Range period end, exclusive (forecast), or end of the backtest.
    #[arg(long, value_parser = Date::parse)]
    pub to: Option<Date>,
    /// Forecast as of each step from --from to --to and compare with what was won.
    #[arg(long, requires_all = ["from", "to"], conflicts_with = "as_of")]
    pub backtest: bool,
    /// Backtest step: 1month, 2weeks, 7days…
    #[arg(long, default_value = "1month")]
    pub step: String,
    /// Only deals of this pipeline (id).
    #[arg(long)]
    pub pipeline: Option<dealflow_core::PipelineId>,
    /// Only deals owned by this user (e-mail or id).
    #[arg(long)]
    pub owner: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

fn day(t: Timestamp) -> String {
    t.to_rfc3339().chars().take(10).collect()
}

impl Forecast {
    pub async fn run(self, store: &Store) -> anyhow::Result<()> {
        let owner_id = match &self.owner {
            Some(o) => Some(resolve_owner(store, o).await?),
            None => None,
        };
        let cur: Currency = store.settings().await?.base_currency;
        if self.backtest {
            return self.backtest(store, owner_id, &cur).await;
        }
        let q = ForecastQuery { as_of: self.as_of, from: self.from, to: self.to, pipeline_id: self.pipeline, owner_id };
        // One command, one forecast: the default bound is never reached.
        let r = insights::forecast(store, &q, Timestamp::now(), &HeavyReads::default()).await.map_err(api_err)?;
        if self.json {
            return emit(&format!("{}\n", serde_json::to_string_pretty(&r)?));
        }
        let f = &r.forecast;
        let mut out = format!("Forecast as of {} ({})\n", Timestamp(f.as_of).to_rfc3339(), r.currency);
        let mut rows = vec![("weighted pipeline".to_string(), money(f.weighted_pipeline, &cur))];
        if let Some(range) = &f.range {
            let span = format!("{} .. {}", day(r.period.from), day(r.period.to));
            rows.push((format!("P10 won {span}"), money(range.forecast_p10, &cur)));
            rows.push((format!("P50 won {span}"), money(range.forecast_p50, &cur)));
            rows.push((format!("P90 won {span}"), money(range.forecast_p90, &cur)));
        }
        for (month, w) in &f.weighted_by_month {
            rows.push((format!("weighted, closing {month}"), money(*w, &cur)));
        }
        rows.push(("open deals forecast".to_string(), f.deal_probability.len().to_string()));
        rows.push(("unforecastable".to_string(), f.unforecastable.to_string()));
        rows.push(("unconverted currency".to_string(), f.unconverted.to_string()));
        out.push_str(&table(&rows));
        if !f.unforecastable_deals.is_empty() {
            out.push_str(&format!(
                "unforecastable deals (no probability anywhere): {}\n",
                f.unforecastable_deals.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
            ));
        }
        emit(&out)
    }

    async fn backtest(self, store: &Store, owner: Option<dealflow_core::UserId>, cur: &Currency) -> anyhow::Result<()> {
        // clap's `requires_all` guarantees both.
        let (Some(from), Some(to)) = (self.from, self.to) else {
            anyhow::bail!("--backtest needs --from and --to");
        };
        let step = Step::parse(&self.step).map_err(|e| anyhow::anyhow!("--step {e}"))?;
        let q = BacktestQuery { from, to, step, pipeline_id: self.pipeline, owner_id: owner };
        let rows =
            insights::backtest_series(store, &q, Timestamp::now(), &HeavyReads::default()).await.map_err(api_err)?;
        if self.json {
            return emit(&format!("{}\n", serde_json::to_string_pretty(&rows)?));
        }
        let opt = |x: Option<f64>| x.map_or("—".to_string(), |x| money(x, cur));
        let mut lines = vec![(
            "as of      .. to".to_string(),
            format!("{:>20}  {:>20}  {:>20}", "forecast P50", "weighted (period)", "actual won"),
        )];
        for r in &rows {
            lines.push((
                format!("{} .. {}", day(r.as_of), day(r.to)),
                format!(
                    "{:>20}  {:>20}  {:>20}",
                    opt(r.forecast_p50),
                    money(r.weighted_in_period, cur),
                    money(r.actual_won_value as f64, cur)
                ),
            ));
        }
        emit(&table(&lines))
    }
}

//! `dealflow model evaluate --pipeline P [--from D] [--to D] [--step 1month]`:
//! backtests the learned win probability (naive Bayes, see
//! `core::scoring::winmodel`) against the stage-weighted probability. At
//! each point it trains on the deals closed in the 365 days before (at
//! each stage they entered, with their features then) and predicts the
//! deals open at the point whose outcome is known now; it prints the Brier
//! score, the log loss and the error of the weighted forecast against what
//! those deals really won, for both methods.

use super::metrics::emit;
use anyhow::Context;
use clap::{Args, Subcommand};
use dealflow_core::scoring::winmodel::{NaiveBayes, Scored, evaluate, examples_at};
use dealflow_core::time::{Date, Timestamp};
use dealflow_store::Store;
use std::collections::HashMap;

#[derive(Debug, Subcommand)]
pub enum ModelCmd {
    /// Backtest the learned win probability against the stage-weighted one.
    Evaluate(Evaluate),
}

#[derive(Debug, Args)]
pub struct Evaluate {
    /// The pipeline, by name or id.
    #[arg(long)]
    pub pipeline: String,
    /// First point (YYYY-MM-DD, midnight UTC); default a year before `--to`.
    #[arg(long)]
    pub from: Option<String>,
    /// Last point at most; default the last close in the pipeline.
    #[arg(long)]
    pub to: Option<String>,
    /// Between points: `1month`, `2weeks`, `10days`.
    #[arg(long, default_value = "1month")]
    pub step: String,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

impl ModelCmd {
    pub async fn run(self, store: &Store) -> anyhow::Result<()> {
        match self {
            ModelCmd::Evaluate(e) => e.run(store).await,
        }
    }
}

/// `1month` → (1, months); `2weeks` → 14 days; `10days` → 10 days.
fn parse_step(s: &str) -> anyhow::Result<(u32, bool)> {
    let s = s.trim();
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    let n: u32 = digits.parse().ok().filter(|n| *n > 0).context("--step starts with a number above 0, e.g. 1month")?;
    match s[digits.len()..].trim() {
        "month" | "months" => Ok((n, true)),
        "week" | "weeks" => Ok((n * 7, false)),
        "day" | "days" => Ok((n, false)),
        other => anyhow::bail!("--step: `{other}` is not one of month, week, day"),
    }
}

fn midnight(d: chrono::NaiveDate) -> Timestamp {
    Timestamp(d.and_hms_opt(0, 0, 0).map_or(0, |x| x.and_utc().timestamp_millis()))
}

impl Evaluate {
    async fn run(self, store: &Store) -> anyhow::Result<()> {
        let pipelines = store.pipelines().await?;
        let p = pipelines
            .iter()
            .find(|p| p.id.to_string() == self.pipeline.trim() || p.name.eq_ignore_ascii_case(self.pipeline.trim()))
            .with_context(|| format!("--pipeline: no pipeline named or numbered `{}`", self.pipeline))?;
        let deals = store.deal_histories(p.id).await?;
        let probability: HashMap<String, Option<i64>> =
            p.stages.iter().map(|s| (s.name.clone(), s.probability)).collect();
        let last_close = deals.iter().filter_map(|d| d.closed_at).max().context("the pipeline has no closed deal")?;
        let to = match &self.to {
            Some(d) => midnight(Date::parse(d).map_err(|e| anyhow::anyhow!("--to: {e}"))?.0),
            None => last_close,
        };
        let to_day = chrono::DateTime::from_timestamp_millis(to.0).context("--to out of range")?.date_naive();
        let from_day = match &self.from {
            Some(d) => Date::parse(d).map_err(|e| anyhow::anyhow!("--from: {e}"))?.0,
            None => to_day.checked_sub_months(chrono::Months::new(12)).unwrap_or(to_day),
        };
        let (n, months) = parse_step(&self.step)?;
        let mut points = Vec::new();
        let mut day = from_day;
        while midnight(day) <= to && points.len() < 1000 {
            points.push(midnight(day));
            day = if months {
                day.checked_add_months(chrono::Months::new(n)).context("date out of range")?
            } else {
                day.checked_add_days(chrono::Days::new(u64::from(n))).context("date out of range")?
            };
        }
        let mut results = Vec::new();
        for t in points {
            let examples = examples_at(&deals, t);
            let Some(model) = NaiveBayes::train(&examples) else {
                results.push((t, 0, Vec::new()));
                continue;
            };
            // The stage weight: the stage's probability, else its win rate
            // among the training examples, else the overall rate.
            let overall = examples.iter().filter(|e| e.won).count() as f64 / examples.len() as f64;
            let mut by_stage: HashMap<&str, (f64, f64)> = HashMap::new();
            for e in &examples {
                if let Some((_, s)) = e.features.iter().find(|(f, _)| f == "stage") {
                    let c = by_stage.entry(s.as_str()).or_default();
                    c.0 += f64::from(u8::from(e.won));
                    c.1 += 1.0;
                }
            }
            let scored: Vec<Scored> = deals
                .iter()
                .filter(|d| d.open_at(t) && d.closed_at.is_some())
                .map(|d| {
                    let f = d.features_at(t);
                    let stage = f.iter().find(|(k, _)| k == "stage").map(|(_, v)| v.clone()).unwrap_or_default();
                    let weight = match probability.get(&stage).copied().flatten() {
                        Some(p) => p as f64 / 100.0,
                        None => by_stage.get(stage.as_str()).map_or(overall, |(w, n)| w / n),
                    };
                    Scored { model: model.predict(&f).probability, stage: weight, value: d.value, won: d.won }
                })
                .collect();
            results.push((t, examples.len(), scored));
        }
        let e = evaluate(results);
        if self.json {
            return emit(&format!("{}\n", serde_json::to_string_pretty(&e)?));
        }
        let f = |x: Option<f64>| x.map_or("—".to_string(), |v| format!("{v:.4}"));
        let mut out = format!("learned win probability against stage weights, pipeline {}\n", p.name);
        out.push_str(&format!(
            "{:<12} {:>8} {:>6} {:>16} {:>16} {:>16}\n",
            "point", "trained", "open", "model", "stage", "won"
        ));
        for pt in &e.points {
            let day = chrono::DateTime::from_timestamp_millis(pt.at.0)
                .map(|d| d.date_naive().to_string())
                .unwrap_or_default();
            if pt.trained_on == 0 {
                out.push_str(&format!("{day:<12} not enough history (fewer than 30 won or 30 lost)\n"));
                continue;
            }
            out.push_str(&format!(
                "{day:<12} {:>8} {:>6} {:>16} {:>16} {:>16}\n",
                pt.trained_on, pt.open, pt.model_forecast, pt.stage_forecast, pt.won
            ));
        }
        out.push_str(&format!("Brier score      model {}  stage {}\n", f(e.brier_model), f(e.brier_stage)));
        out.push_str(&format!("log loss         model {}  stage {}\n", f(e.log_loss_model), f(e.log_loss_stage)));
        out.push_str(&format!(
            "forecast error   model {}  stage {}  (mean absolute, minor units)\n",
            f(e.forecast_error_model),
            f(e.forecast_error_stage)
        ));
        match e.improvement {
            Some(i) => {
                out.push_str(&format!("forecast error {:.1}% lower than stage-weighted (goal: 20%)\n", i * 100.0))
            }
            None => out.push_str("no forecast error to compare\n"),
        }
        emit(&out)
    }
}

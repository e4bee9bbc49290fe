//! The goals section of the insights page: each goal with its progress bar.

use super::format::{dash, days_text};
use crate::AppState;
use crate::api::goals::{GoalOut, goals_with_progress};
use crate::error::ApiError;
use crate::web::{T, charts};
use dealflow_core::model::Settings;
use dealflow_store::{GoalFilter, Page};

/// At most this many goals are shown.
const GOALS_SHOWN: i64 = 50;

pub struct GoalView {
    pub metric: &'static str,
    pub who: String,
    pub period: String,
    pub value: String,
    pub target: String,
    pub percent: String,
    pub svg: String,
    pub workspace_wide: bool,
}

fn goal_label(t: T, metric: &str) -> &'static str {
    match metric {
        "won_value" => t.t("ins.goal.won_value"),
        "deals_won" => t.t("ins.goal.deals_won"),
        "meetings_booked" => t.t("ins.goal.meetings_booked"),
        "proposals_sent" => t.t("ins.goal.proposals_sent"),
        "outreach_sent" => t.t("ins.goal.outreach_sent"),
        "replies" => t.t("ins.goal.replies"),
        "prospects_contacted" => t.t("ins.goal.prospects_contacted"),
        _ => t.t("ins.goal.other"),
    }
}

pub async fn goals(st: &AppState, t: T, settings: &Settings) -> Result<Vec<GoalView>, ApiError> {
    let list = st.store.list_goals(&GoalFilter::default(), Page { limit: GOALS_SHOWN, before: None }).await?;
    let goals: Vec<GoalOut> = goals_with_progress(&st.store, list.items).await?;
    if goals.is_empty() {
        return Ok(Vec::new());
    }
    let users = st.store.users().await?;
    let pipelines = st.store.pipelines().await?;
    let base = settings.base_currency.as_str().to_string();
    let digits = settings.base_currency.minor_digits();
    Ok(goals
        .into_iter()
        .map(|g| {
            let show = |v: i64| match &g.progress.currency {
                Some(c) => t.money(v, c, if *c == base { digits } else { 2 }),
                None => crate::web::i18n::group(v),
            };
            let mut who = match g.owner_id {
                Some(o) => users.iter().find(|x| x.id == o).map_or_else(|| o.to_string(), |x| x.name.clone()),
                None => t.t("ins.team").to_string(),
            };
            if let Some(p) = g.pipeline_id {
                let name = pipelines.iter().find(|x| x.id == p).map_or_else(|| p.to_string(), |x| x.name.clone());
                who.push_str(&format!(" · {name}"));
            }
            let from = chrono::NaiveDate::parse_from_str(&g.from.to_iso(), "%Y-%m-%d");
            let to = chrono::NaiveDate::parse_from_str(&g.to.to_iso(), "%Y-%m-%d");
            let period = match (from, to) {
                (Ok(a), Ok(b)) => days_text(a, b),
                _ => format!("{} – {}", g.from.to_iso(), g.to.to_iso()),
            };
            let metric = goal_label(t, g.metric.key());
            let percent = g.progress.percent.map_or_else(dash, |p| format!("{p:.0}%"));
            GoalView {
                metric,
                svg: charts::progress(&format!("{metric}: {percent}"), g.progress.percent),
                who,
                period,
                value: show(g.progress.value),
                target: show(g.target),
                percent,
                workspace_wide: g.progress.workspace_wide,
            }
        })
        .collect())
}

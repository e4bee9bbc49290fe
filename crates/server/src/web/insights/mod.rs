//! The insights page (`/insights`): the pipeline metrics of a period as KPI
//! tiles with the change against the previous period, the funnel, the
//! conversion per stage, sales velocity with its inputs, cycle length and
//! time in stage, the forecast, goals with their progress and the goal
//! planner. Every figure comes from the insights layer (`crate::insights`)
//! with the same parameters the API takes, so the page and
//! `/api/v1/metrics` agree; the page only formats and draws. One file per
//! section: `figures` (tiles, charts, forecast), `goals`, `planner`, and
//! `format` for how figures are written.
//!
//! The default period is the 90 days ending today: `to` is tomorrow (the
//! period is `[from, to)`), written into the form so the figures, the
//! export links and the API all use the same dates. Dates go through the
//! core `Date` type (years 1900–2999) and all date arithmetic is checked,
//! so no parameter can make the page panic.

mod calibration;
mod figures;
mod format;
mod goals;
mod hygiene;
mod planner;

use super::clock::zone;
use super::{PageUser, T, html};
use crate::AppState;
use crate::error::ApiError;
use crate::insights::{self, MetricsQuery};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{NaiveDate, TimeZone};
use dealflow_core::model::User;
use dealflow_core::time::{Date, Timestamp};
use dealflow_core::{PipelineId, UserId};
use figures::{Days, Figures};
use goals::GoalView;
use planner::PlanView;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new().route("/insights", get(page))
}

/// The page's query: the period, the slice and the planner's question.
#[derive(Debug, Default, Deserialize)]
pub struct InsightsParams {
    from: Option<String>,
    to: Option<String>,
    pipeline: Option<String>,
    owner: Option<String>,
    /// Planner target in major units of the base currency.
    target: Option<String>,
    weeks: Option<String>,
    /// `1` computes the lead-score calibration (it scores every closed
    /// deal of the period again, so the page does it only when asked).
    calibrate: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/insights.html")]
struct InsightsPage<'a> {
    t: T,
    nav: &'static str,
    user: &'a User,
    csrf: &'a str,
    asset_v: &'static str,
    from: String,
    to: String,
    pipeline: String,
    owner: String,
    pipelines: Vec<(String, String)>,
    users: Vec<(String, String)>,
    /// Why the figures could not be computed (bad dates, unknown slice).
    error: String,
    figures: Option<Figures>,
    goals: Vec<GoalView>,
    target: String,
    weeks: String,
    plan: Option<PlanView>,
    plan_error: String,
    calibration: Option<calibration::CalibrationView>,
    /// Whether a scoring model exists (the calibration can be asked for).
    has_model: bool,
    /// Hygiene per weekly audit, newest first.
    hygiene: Vec<hygiene::HygieneRow>,
}

pub async fn page(State(st): State<AppState>, u: PageUser, Query(q): Query<InsightsParams>) -> Response {
    render(&st, &u, q).await.unwrap_or_else(|e| u.error(e))
}

fn id_of(s: Option<&str>) -> Option<i64> {
    s.map(str::trim).filter(|s| !s.is_empty()).and_then(|s| s.parse().ok())
}

fn blank(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// A problem the visitor can fix (bad parameter) as text; other errors pass.
fn user_problem(e: ApiError) -> Result<String, ApiError> {
    let p = e.to_problem();
    if p.status == 400 || p.status == 422 {
        // The detail of a field problem repeats its fields' messages: say
        // each once.
        if p.errors.is_empty() {
            return Ok(p.detail);
        }
        Ok(p.errors.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join(" "))
    } else {
        Err(e)
    }
}

/// The period's bounds as the form shows them (what was typed, or the
/// defaults) and, when both are dates in range with the start first, the
/// checked period; otherwise the one message the page shows, in the
/// visitor's language and in words (not the API's `[from, to)`).
fn period(t: T, q: &InsightsParams, today: NaiveDate) -> (String, String, Result<Days, String>) {
    let back = chrono::Days::new(insights::DEFAULT_DAYS.unsigned_abs());
    let default_to = today.succ_opt().unwrap_or(today);
    let to = blank(&q.to).unwrap_or_else(|| default_to.to_string());
    let to_date = Date::parse(&to);
    let from = blank(&q.from).unwrap_or_else(|| {
        let end = to_date.as_ref().map_or(default_to, |d| d.0);
        end.checked_sub_days(back).unwrap_or(end).to_string()
    });
    let from_date = Date::parse(&from);
    let days = match (from_date, to_date) {
        (Ok(f), Ok(e)) if f.0 < e.0 => Ok(Days { from: f.0, to: e.0 }),
        (Ok(_), Ok(_)) => Err(t.t("ins.err.order").to_string()),
        (f, e) => {
            let mut msgs = Vec::new();
            if f.is_err() {
                msgs.push(t.t("ins.err.from"));
            }
            if e.is_err() {
                msgs.push(t.t("ins.err.to"));
            }
            Err(msgs.join(" "))
        }
    };
    (from, to, days)
}

/// The slice pickers' choices: live pipelines and active users, plus the
/// chosen ones even if archived or inactive.
async fn choices(
    st: &AppState,
    pipeline: Option<PipelineId>,
    owner: Option<UserId>,
) -> Result<(Vec<(String, String)>, Vec<(String, String)>), ApiError> {
    let pipelines = st.store.pipelines().await?.into_iter().filter(|p| !p.archived || Some(p.id) == pipeline);
    let users = st.store.users().await?.into_iter().filter(|x| x.active || Some(x.id) == owner);
    Ok((pipelines.map(|p| (p.id.to_string(), p.name)).collect(), users.map(|x| (x.id.to_string(), x.name)).collect()))
}

async fn render(st: &AppState, u: &PageUser, q: InsightsParams) -> Result<Response, ApiError> {
    let t = u.t;
    let now = Timestamp::now();
    let settings = st.store.settings().await?;
    let tz = zone(&settings);
    let today = tz.timestamp_millis_opt(now.0).single().map(|d| d.date_naive()).unwrap_or_default();
    let (from, to, days) = period(t, &q, today);
    let pipeline = id_of(q.pipeline.as_deref()).map(PipelineId);
    let owner = id_of(q.owner.as_deref()).map(UserId);
    let mq = MetricsQuery {
        from: days.as_ref().ok().map(|d| Date(d.from)),
        to: days.as_ref().ok().map(|d| Date(d.to)),
        pipeline_id: pipeline,
        owner_id: owner,
        ..Default::default()
    };
    let has_model = !st.store.scoring_models(dealflow_store::Page { limit: 1, before: None }).await?.items.is_empty();
    let calibration = match &days {
        Ok(d) if has_model && q.calibrate.as_deref() == Some("1") => {
            calibration::calibration(st, t, &settings, pipeline, d).await?
        }
        _ => None,
    };
    let (figures, error) = match days {
        Ok(days) => match figures::figures(st, t, &settings, &mq, days, now).await {
            Ok(f) => (Some(f), String::new()),
            Err(e) => (None, user_problem(e)?),
        },
        Err(msg) => (None, msg),
    };

    let goals = goals::goals(st, t, &settings).await?;
    let hygiene = hygiene::rows(st, t, &settings, pipeline).await?;

    let (target, weeks) = (blank(&q.target).unwrap_or_default(), blank(&q.weeks).unwrap_or_default());
    let (plan, plan_error) = if target.is_empty() && weeks.is_empty() {
        (None, String::new())
    } else {
        match planner::planner(st, t, &settings, &target, &weeks, now).await {
            Ok(p) => (Some(p), String::new()),
            Err(e) => (None, user_problem(e)?),
        }
    };

    let (pipelines, users) = choices(st, pipeline, owner).await?;
    let bad = !error.is_empty();
    let page = InsightsPage {
        t,
        nav: "insights",
        user: &u.user,
        csrf: &u.csrf,
        asset_v: super::assets::version(),
        from,
        to,
        pipeline: pipeline.map(|p| p.to_string()).unwrap_or_default(),
        owner: owner.map(|o| o.to_string()).unwrap_or_default(),
        pipelines,
        users,
        error,
        figures,
        goals,
        target,
        weeks,
        plan,
        plan_error,
        calibration,
        has_model,
        hygiene,
    };
    let mut resp = html(&page);
    if bad && resp.status() == StatusCode::OK {
        *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(resp.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn en() -> T {
        T { lang: crate::web::i18n::Lang::En }
    }

    fn q(from: &str, to: &str) -> InsightsParams {
        InsightsParams { from: Some(from.into()), to: Some(to.into()), ..Default::default() }
    }

    #[test]
    fn extreme_dates_are_refused_not_computed() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        for (from, to) in [
            ("-262143-01-01", ""),
            ("", "-262143-01-01"),
            ("+262142-12-31", ""),
            ("", "+262142-12-31"),
            ("1899-12-31", "2026-01-01"),
            ("2026-01-01", "3000-01-01"),
        ] {
            let (_, _, days) = period(en(), &q(from, to), today);
            assert!(days.is_err(), "{from}..{to}");
        }
        let (from, to, days) = period(en(), &q("", ""), today);
        assert_eq!((from.as_str(), to.as_str()), ("2025-12-02", "2026-03-02"));
        assert!(days.is_ok());
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let p = Days { from: d("1900-01-01"), to: d("2999-12-31") }.previous().unwrap();
        assert_eq!(p.to, d("1900-01-01"));
    }
}

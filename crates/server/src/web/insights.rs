//! The insights page (`/insights`): the pipeline metrics of a period as KPI
//! tiles with the change against the previous period, the funnel, the
//! conversion per stage, sales velocity with its inputs, cycle length and
//! time in stage, the forecast, goals with their progress and the goal
//! planner. Every figure comes from the insights layer (`crate::insights`)
//! with the same parameters the API takes, so the page and
//! `/api/v1/metrics` agree; the page only formats and draws.
//!
//! The default period is the 90 days ending today: `to` is tomorrow (the
//! period is `[from, to)`), written into the form so the figures, the
//! export links and the API all use the same dates.

use super::charts::{self, Bar, Pair};
use super::clock::zone;
use super::{PageUser, T, html, page_error, urlencode};
use crate::AppState;
use crate::api::goals::{GoalOut, goals_with_progress};
use crate::error::ApiError;
use crate::insights::{self, ForecastQuery, MetricsQuery, PlanQuery, StageRow};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{Datelike, NaiveDate, TimeZone};
use dealflow_core::currency::Currency;
use dealflow_core::metrics::ActivityMetrics;
use dealflow_core::model::{Settings, User};
use dealflow_core::time::{Date, Timestamp};
use dealflow_core::{PipelineId, UserId};
use dealflow_store::{GoalFilter, Page};
use serde::Deserialize;

/// At most this many goals are shown.
const GOALS_SHOWN: i64 = 50;

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
}

/// One KPI tile.
pub struct Tile {
    pub key: &'static str,
    pub label: &'static str,
    pub value: String,
    pub previous: String,
    /// `▲ 2.1 pp`, `▼ $1,200` or `—`.
    pub delta: String,
    /// `up`, `down`, `flat` or `none`, and whether that is good news.
    pub trend: &'static str,
    pub tone: &'static str,
}

/// A chart with its numbers: the SVG and the table shown under it.
pub struct Chart {
    pub id: String,
    pub title: String,
    pub svg: String,
    pub head: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

pub struct Velocity {
    pub open_deals: String,
    pub avg_deal_value: String,
    pub win_rate: String,
    pub cycle_days: String,
    pub result: String,
}

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

pub struct PlanView {
    pub chart: Chart,
    pub missing: Vec<String>,
    pub lookback: String,
}

/// Everything the page shows for a valid question.
pub struct Figures {
    pub period: String,
    pub previous: String,
    pub tiles: Vec<Tile>,
    pub funnel: Vec<Chart>,
    pub conversion: Vec<Chart>,
    pub velocity: Velocity,
    pub cycle_text: String,
    pub cycle: Vec<Chart>,
    pub months: Chart,
    pub range: Chart,
    pub forecast_period: String,
    pub unforecastable: u64,
    pub notes: Vec<&'static str>,
    pub exports: Vec<(&'static str, String)>,
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
}

pub async fn page(State(st): State<AppState>, u: PageUser, Query(q): Query<InsightsParams>) -> Response {
    render(&st, &u, q).await.unwrap_or_else(page_error)
}

fn id_of(s: Option<&str>) -> Option<i64> {
    s.map(str::trim).filter(|s| !s.is_empty()).and_then(|s| s.parse().ok())
}

/// A problem the visitor can fix (bad parameter) as text; other errors pass.
fn user_problem(e: ApiError) -> Result<String, ApiError> {
    let p = e.to_problem();
    if p.status == 400 || p.status == 422 {
        let mut msg = p.detail;
        for f in p.errors {
            msg.push_str(&format!(" {}: {}", f.field, f.message));
        }
        Ok(msg)
    } else {
        Err(e)
    }
}

async fn render(st: &AppState, u: &PageUser, q: InsightsParams) -> Result<Response, ApiError> {
    let t = u.t;
    let now = Timestamp::now();
    let settings = st.store.settings().await?;
    let tz = zone(&settings);
    let today = tz.timestamp_millis_opt(now.0).single().map(|d| d.date_naive()).unwrap_or_default();
    let blank = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let to = blank(&q.to).unwrap_or_else(|| (today + chrono::Days::new(1)).to_string());
    let from = blank(&q.from).unwrap_or_else(|| match NaiveDate::parse_from_str(&to, "%Y-%m-%d") {
        Ok(d) => (d - chrono::Days::new(insights::DEFAULT_DAYS as u64)).to_string(),
        Err(_) => (today + chrono::Days::new(1) - chrono::Days::new(insights::DEFAULT_DAYS as u64)).to_string(),
    });
    let pipeline = id_of(q.pipeline.as_deref()).map(PipelineId);
    let owner = id_of(q.owner.as_deref()).map(UserId);
    let mq = MetricsQuery {
        from: Date::parse(&from).ok(),
        to: Date::parse(&to).ok(),
        pipeline_id: pipeline,
        owner_id: owner,
        ..Default::default()
    };

    let (figures, error) = match figures(st, t, &settings, &mq, now).await {
        Ok(f) => (Some(f), String::new()),
        Err(e) => (None, user_problem(e)?),
    };

    let goals = goals(st, t, &settings).await?;

    let (target, weeks) = (blank(&q.target).unwrap_or_default(), blank(&q.weeks).unwrap_or_default());
    let (plan, plan_error) = if target.is_empty() && weeks.is_empty() {
        (None, String::new())
    } else {
        match planner(st, t, &settings, &target, &weeks, now).await {
            Ok(p) => (Some(p), String::new()),
            Err(e) => (None, user_problem(e)?),
        }
    };

    let pipelines = st
        .store
        .pipelines()
        .await?
        .into_iter()
        .filter(|p| !p.archived || Some(p.id) == pipeline)
        .map(|p| (p.id.to_string(), p.name))
        .collect();
    let users = st
        .store
        .users()
        .await?
        .into_iter()
        .filter(|x| x.active || Some(x.id) == owner)
        .map(|x| (x.id.to_string(), x.name))
        .collect();
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
    };
    let mut resp = html(&page);
    if bad && resp.status() == StatusCode::OK {
        *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(resp.into_response())
}

/// Formatting of figures in the page's language and base currency.
struct Fmt<'a> {
    t: T,
    currency: &'a str,
    digits: u8,
}

impl Fmt<'_> {
    fn money(&self, minor: f64) -> String {
        self.t.money(minor.round() as i64, self.currency, self.digits)
    }
    fn money_opt(&self, minor: Option<f64>) -> String {
        minor.filter(|v| v.is_finite()).map_or_else(dash, |v| self.money(v))
    }
    fn pct(&self, v: Option<f64>) -> String {
        v.filter(|v| v.is_finite()).map_or_else(dash, |v| format!("{v:.1}%"))
    }
    fn days(&self, v: Option<f64>) -> String {
        v.filter(|v| v.is_finite()).map_or_else(dash, |v| format!("{v:.1} {}", self.t.t("ins.unit_days")))
    }
    fn per_day(&self, v: Option<f64>) -> String {
        v.filter(|v| v.is_finite()).map_or_else(dash, |v| format!("{} {}", self.money(v), self.t.t("ins.per_day")))
    }
}

fn dash() -> String {
    "—".to_string()
}

/// How a tile's figure is shown and compared.
#[derive(Clone, Copy)]
enum Kind {
    Rate,
    Money,
    PerDay,
    Days,
}

fn tile(f: &Fmt<'_>, key: &'static str, label: &'static str, kind: Kind, cur: Option<f64>, prev: Option<f64>) -> Tile {
    let show = |v: Option<f64>| match kind {
        Kind::Rate => f.pct(v),
        Kind::Money => f.money_opt(v),
        Kind::PerDay => f.per_day(v),
        Kind::Days => f.days(v),
    };
    let (delta, trend, tone) = match (cur.filter(|v| v.is_finite()), prev.filter(|v| v.is_finite())) {
        (Some(c), Some(p)) => {
            let d = c - p;
            let magnitude = match kind {
                Kind::Rate => format!("{:.1} {}", d.abs(), f.t.t("ins.pp")),
                Kind::Money => f.money(d.abs()),
                Kind::PerDay => f.per_day(Some(d.abs())),
                Kind::Days => f.days(Some(d.abs())),
            };
            // Shorter sales cycles are good news; for everything else more is.
            let lower_is_better = matches!(kind, Kind::Days);
            if d.abs() < 1e-9 {
                (format!("= {magnitude}"), "flat", "")
            } else if d > 0.0 {
                (format!("▲ {magnitude}"), "up", if lower_is_better { "bad" } else { "good" })
            } else {
                (format!("▼ {magnitude}"), "down", if lower_is_better { "good" } else { "bad" })
            }
        }
        _ => (dash(), "none", ""),
    };
    Tile { key, label, value: show(cur), previous: show(prev), delta, trend, tone }
}

fn tiles(f: &Fmt<'_>, m: &ActivityMetrics, p: &ActivityMetrics) -> Vec<Tile> {
    let t = f.t;
    vec![
        tile(f, "response_rate", t.t("ins.kpi.response_rate"), Kind::Rate, m.response_rate, p.response_rate),
        tile(
            f,
            "meeting_booking_rate",
            t.t("ins.kpi.meeting_booking_rate"),
            Kind::Rate,
            m.meeting_booking_rate,
            p.meeting_booking_rate,
        ),
        tile(f, "win_rate", t.t("ins.kpi.win_rate"), Kind::Rate, m.win_rate, p.win_rate),
        tile(f, "close_rate", t.t("ins.kpi.close_rate"), Kind::Rate, m.close_rate, p.close_rate),
        tile(f, "won_value", t.t("ins.kpi.won_value"), Kind::Money, Some(m.won_value as f64), Some(p.won_value as f64)),
        tile(f, "acv", t.t("ins.kpi.acv"), Kind::Money, m.acv, p.acv),
        tile(f, "sales_velocity", t.t("ins.kpi.sales_velocity"), Kind::PerDay, m.sales_velocity, p.sales_velocity),
        tile(
            f,
            "sales_cycle_days",
            t.t("ins.kpi.sales_cycle_days"),
            Kind::Days,
            m.sales_cycle_days,
            p.sales_cycle_days,
        ),
    ]
}

/// `[from, to)` as the inclusive days people read: `2026-01-01 – 2026-03-31`.
fn days_text(from: NaiveDate, to: NaiveDate) -> String {
    let last = to.pred_opt().unwrap_or(to);
    format!("{from} – {last}")
}

/// `2026-03` as `Mar 2026` / `2026年3月`; anything else as it is.
fn month_label(t: T, key: &str) -> String {
    match NaiveDate::parse_from_str(&format!("{key}-01"), "%Y-%m-%d") {
        Ok(d) => match t.lang {
            super::i18n::Lang::En => d.format("%b %Y").to_string(),
            super::i18n::Lang::ZhCn => format!("{}年{}月", d.year(), d.month()),
        },
        Err(_) if key == "unknown" => t.t("ins.no_date").to_string(),
        Err(_) => key.to_string(),
    }
}

/// The stage rows grouped by pipeline, in order.
fn by_pipeline(rows: &[StageRow]) -> Vec<(&str, Vec<&StageRow>)> {
    let mut out: Vec<(&str, Vec<&StageRow>)> = Vec::new();
    for r in rows {
        match out.last_mut() {
            Some((_, list)) if list.first().is_some_and(|x| x.pipeline_id == r.pipeline_id) => list.push(r),
            _ => out.push((r.pipeline.as_str(), vec![r])),
        }
    }
    out
}

fn chart_title(base: &str, pipeline: &str, several: bool) -> String {
    if several { format!("{base} · {pipeline}") } else { base.to_string() }
}

async fn figures(
    st: &AppState,
    t: T,
    settings: &Settings,
    q: &MetricsQuery,
    now: Timestamp,
) -> Result<Figures, ApiError> {
    // `render` leaves a bound out when it is not a date.
    let from = q.from.ok_or_else(|| dealflow_core::Invalid::one("from", "is not a date; use YYYY-MM-DD"))?.0;
    let to = q.to.ok_or_else(|| dealflow_core::Invalid::one("to", "is not a date; use YYYY-MM-DD"))?.0;
    let report = insights::metrics(&st.store, q, now).await?;
    // The previous period of the same length, ending where this one starts.
    let len = (to - from).num_days().max(1) as u64;
    let prev_from = from - chrono::Days::new(len);
    let prev_q = MetricsQuery { from: Some(Date(prev_from)), to: Some(Date(from)), ..q.clone() };
    let prev = insights::metrics(&st.store, &prev_q, now).await?;
    let stages = insights::stages(&st.store, q, now).await?;
    let fq = ForecastQuery { pipeline_id: q.pipeline_id, owner_id: q.owner_id, ..Default::default() };
    let fc = insights::forecast(&st.store, &fq, now, &st.heavy).await?;

    let currency = report.currency.clone();
    let digits = Currency::parse(&currency).map(|c| c.minor_digits()).unwrap_or(2);
    let f = Fmt { t, currency: &currency, digits };
    let m = &report.metrics;

    let groups = by_pipeline(&stages.stages);
    let several = groups.len() > 1;
    let mut funnel = Vec::new();
    let mut conversion = Vec::new();
    let mut cycle = Vec::new();
    for (i, (pname, rows)) in groups.iter().enumerate() {
        let title = chart_title(t.t("ins.funnel"), pname, several);
        let bars: Vec<Bar> = rows
            .iter()
            .map(|r| Bar { label: r.name.clone(), value: r.figures.stage_reach, text: f.pct(r.figures.stage_reach) })
            .collect();
        funnel.push(Chart {
            id: format!("funnel-{i}"),
            svg: charts::hbars(&title, &bars, t.t("ins.empty")),
            title,
            head: vec![t.t("ins.stage"), t.t("ins.reach")],
            rows: rows.iter().map(|r| vec![r.name.clone(), f.pct(r.figures.stage_reach)]).collect(),
        });

        let title = chart_title(t.t("ins.conversion"), pname, several);
        let bars: Vec<Bar> = rows
            .iter()
            .map(|r| Bar {
                label: r.name.clone(),
                value: r.figures.stage_conversion,
                text: f.pct(r.figures.stage_conversion),
            })
            .collect();
        conversion.push(Chart {
            id: format!("conversion-{i}"),
            svg: charts::hbars(&title, &bars, t.t("ins.empty")),
            title,
            head: vec![t.t("ins.stage"), t.t("ins.conversion_rate"), t.t("ins.won_reached"), t.t("ins.closed_reached")],
            rows: rows
                .iter()
                .map(|r| {
                    vec![
                        r.name.clone(),
                        f.pct(r.figures.stage_conversion),
                        r.figures.won_reached.to_string(),
                        r.figures.closed_reached.to_string(),
                    ]
                })
                .collect(),
        });

        let title = chart_title(t.t("ins.time_in_stage"), pname, several);
        let pairs: Vec<Pair> = rows
            .iter()
            .map(|r| Pair {
                label: r.name.clone(),
                a: r.figures.time_in_stage_days_median,
                a_text: f.days(r.figures.time_in_stage_days_median),
                b: r.figures.time_in_stage_days_p90,
                b_text: f.days(r.figures.time_in_stage_days_p90),
            })
            .collect();
        cycle.push(Chart {
            id: format!("cycle-{i}"),
            svg: charts::paired_hbars(&title, &pairs, (t.t("ins.median"), t.t("ins.p90")), t.t("ins.empty")),
            title,
            head: vec![t.t("ins.stage"), t.t("ins.median"), t.t("ins.p90")],
            rows: pairs.iter().map(|p| vec![p.label.clone(), p.a_text.clone(), p.b_text.clone()]).collect(),
        });
    }

    let fcast = &fc.forecast;
    let month_bars: Vec<Bar> = fcast
        .weighted_by_month
        .iter()
        .map(|(k, v)| Bar { label: month_label(t, k), value: Some(*v), text: f.money(*v) })
        .collect();
    let months = Chart {
        id: "forecast-months".into(),
        title: t.t("ins.weighted_by_month").to_string(),
        svg: charts::hbars(t.t("ins.weighted_by_month"), &month_bars, t.t("ins.empty")),
        head: vec![t.t("ins.month"), t.t("ins.weighted")],
        rows: month_bars
            .iter()
            .map(|b| vec![b.label.clone(), b.text.clone()])
            .chain([vec![t.t("ins.total").to_string(), f.money(fcast.weighted_pipeline)]])
            .collect(),
    };
    let r = fcast.range.as_ref().map(|r| [r.forecast_p10, r.forecast_p50, r.forecast_p90]);
    let texts = r
        .map(|[a, b, c]| [format!("P10 {}", f.money(a)), format!("P50 {}", f.money(b)), format!("P90 {}", f.money(c))]);
    let texts = texts.unwrap_or_else(|| [dash(), dash(), dash()]);
    let range = Chart {
        id: "forecast-range".into(),
        title: t.t("ins.range").to_string(),
        svg: charts::range(t.t("ins.range"), r, [&texts[0], &texts[1], &texts[2]], t.t("ins.empty")),
        head: vec!["P10", "P50", "P90"],
        rows: vec![vec![f.money_opt(r.map(|x| x[0])), f.money_opt(r.map(|x| x[1])), f.money_opt(r.map(|x| x[2]))]],
    };
    let fperiod = (
        chrono::DateTime::from_timestamp_millis(fc.period.from.0)
            .map(|d| d.with_timezone(&zone(settings)).date_naive()),
        chrono::DateTime::from_timestamp_millis(fc.period.to.0).map(|d| d.with_timezone(&zone(settings)).date_naive()),
    );
    let forecast_period = match fperiod {
        (Some(a), Some(b)) => days_text(a, b),
        _ => String::new(),
    };

    let mut notes = Vec::new();
    if m.outreach_workspace_wide {
        notes.push(t.t("ins.note_outreach_wide"));
    }
    if m.unconverted > 0 || fcast.unconverted > 0 {
        notes.push(t.t("ins.note_unconverted"));
    }

    let mut slice = format!("from={}&to={}", urlencode(&from.to_string()), urlencode(&to.to_string()));
    if let Some(p) = q.pipeline_id {
        slice.push_str(&format!("&pipeline_id={p}"));
    }
    if let Some(o) = q.owner_id {
        slice.push_str(&format!("&owner_id={o}"));
    }
    let exports = vec![
        (t.t("ins.export_metrics_csv"), format!("/api/v1/metrics/export?format=csv&{slice}")),
        (t.t("ins.export_metrics_xlsx"), format!("/api/v1/metrics/export?format=xlsx&{slice}")),
        (t.t("ins.export_stages_csv"), format!("/api/v1/metrics/stages/export?format=csv&{slice}")),
        (t.t("ins.export_stages_xlsx"), format!("/api/v1/metrics/stages/export?format=xlsx&{slice}")),
    ];

    Ok(Figures {
        period: days_text(from, to),
        previous: days_text(prev_from, from),
        tiles: tiles(&f, m, &prev.metrics),
        funnel,
        conversion,
        velocity: Velocity {
            open_deals: m.open_deals.to_string(),
            avg_deal_value: f.money_opt(m.avg_deal_value),
            win_rate: f.pct(m.win_rate),
            cycle_days: f.days(m.sales_cycle_days),
            result: f.per_day(m.sales_velocity),
        },
        cycle_text: f.days(m.sales_cycle_days),
        cycle,
        months,
        range,
        forecast_period,
        unforecastable: fcast.unforecastable,
        notes,
        exports,
    })
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

async fn goals(st: &AppState, t: T, settings: &Settings) -> Result<Vec<GoalView>, ApiError> {
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
                None => super::i18n::group(v),
            };
            let mut who = match g.owner_id {
                Some(o) => users.iter().find(|x| x.id == o).map_or_else(|| o.to_string(), |x| x.name.clone()),
                None => t.t("ins.team").to_string(),
            };
            if let Some(p) = g.pipeline_id {
                let name = pipelines.iter().find(|x| x.id == p).map_or_else(|| p.to_string(), |x| x.name.clone());
                who.push_str(&format!(" · {name}"));
            }
            let from = NaiveDate::parse_from_str(&g.from.to_iso(), "%Y-%m-%d");
            let to = NaiveDate::parse_from_str(&g.to.to_iso(), "%Y-%m-%d");
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

/// Parses a target in major units (`50000`, `50,000.50`) into minor units.
fn target_minor(s: &str, digits: u8) -> Option<i64> {
    let v: f64 = s.replace([',', ' ', '_'], "").parse().ok()?;
    let minor = (v * 10f64.powi(i32::from(digits))).round();
    (v.is_finite() && (0.0..9.0e15).contains(&minor)).then_some(minor as i64)
}

async fn planner(
    st: &AppState,
    t: T,
    settings: &Settings,
    target: &str,
    weeks: &str,
    now: Timestamp,
) -> Result<PlanView, ApiError> {
    let digits = settings.base_currency.minor_digits();
    let mut errs = dealflow_core::Invalid::new();
    let target = target_minor(target, digits);
    if target.is_none() {
        errs.add("target", t.t("ins.bad_target"));
    }
    let weeks_n: Option<i64> = weeks.trim().parse().ok().filter(|w| (1..=520).contains(w));
    if weeks_n.is_none() {
        errs.add("weeks", t.t("ins.bad_weeks"));
    }
    errs.into_result()?;
    let (Some(target), Some(weeks)) = (target, weeks_n) else {
        return Err(dealflow_core::Invalid::one("target", t.t("ins.bad_target")).into());
    };
    let report = insights::plan(&st.store, &PlanQuery { target, weeks, lookback_days: None }, now).await?;
    let plan = &report.plan;
    let pace = &plan.current_pace;
    let wk = |v: Option<f64>| v.filter(|v| v.is_finite()).map_or_else(dash, |v| format!("{v:.1}"));
    let total = |v: Option<u64>| v.map_or_else(dash, |v| super::i18n::group(v as i64));
    let mut rows: Vec<(String, Option<u64>, Option<f64>, f64)> =
        vec![(t.t("ins.plan.wins").to_string(), plan.wins, plan.per_week.wins, pace.wins)];
    for (key, label) in [
        ("proposal", t.t("ins.plan.proposal")),
        ("meeting", t.t("ins.plan.meeting")),
        ("conversation", t.t("ins.plan.conversation")),
    ] {
        if plan.needed.contains_key(key) || pace.reached.contains_key(key) {
            rows.push((
                label.to_string(),
                plan.needed.get(key).copied().flatten(),
                plan.per_week.needed.get(key).copied().flatten(),
                pace.reached.get(key).copied().unwrap_or(0.0),
            ));
        }
    }
    rows.push((
        t.t("ins.plan.prospects").to_string(),
        plan.prospects_contacted_needed,
        plan.per_week.prospects_contacted_needed,
        pace.prospects_contacted,
    ));
    rows.push((
        t.t("ins.plan.outreach").to_string(),
        plan.outreach_needed,
        plan.per_week.outreach_needed,
        pace.outreach_sent,
    ));
    let title = t.t("ins.plan_chart");
    let pairs: Vec<Pair> = rows
        .iter()
        .map(|(label, _, per_week, pace)| Pair {
            label: label.clone(),
            a: *per_week,
            a_text: wk(*per_week),
            b: Some(*pace),
            b_text: wk(Some(*pace)),
        })
        .collect();
    let chart = Chart {
        id: "planner".into(),
        title: title.to_string(),
        svg: charts::paired_hbars(title, &pairs, (t.t("ins.plan_per_week"), t.t("ins.plan_pace")), t.t("ins.empty")),
        head: vec![t.t("ins.plan.figure"), t.t("ins.plan_total"), t.t("ins.plan_per_week"), t.t("ins.plan_pace")],
        rows: rows
            .iter()
            .map(|(label, tot, per_week, pace)| vec![label.clone(), total(*tot), wk(*per_week), wk(Some(*pace))])
            .collect(),
    };
    let tz = zone(settings);
    let day = |ms: i64| tz.timestamp_millis_opt(ms).single().map(|d| d.date_naive());
    let lookback = match (day(report.lookback.from.0), day(report.lookback.to.0)) {
        (Some(a), Some(b)) => format!("{a} – {b}"),
        _ => String::new(),
    };
    Ok(PlanView { chart, missing: plan.missing.clone(), lookback })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_in_major_units() {
        assert_eq!(target_minor("50000", 2), Some(5_000_000));
        assert_eq!(target_minor("50,000.5", 2), Some(5_000_050));
        assert_eq!(target_minor("5000", 0), Some(5000));
        assert_eq!(target_minor("-1", 2), None);
        assert_eq!(target_minor("lots", 2), None);
        assert_eq!(target_minor("1e30", 2), None);
    }

    #[test]
    fn periods_read_as_inclusive_days() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(days_text(d("2026-01-01"), d("2026-04-01")), "2026-01-01 – 2026-03-31");
        let en = T { lang: super::super::i18n::Lang::En };
        let zh = T { lang: super::super::i18n::Lang::ZhCn };
        assert_eq!(month_label(en, "2026-03"), "Mar 2026");
        assert_eq!(month_label(zh, "2026-03"), "2026年3月");
    }

    #[test]
    fn tiles_show_the_change_or_a_dash() {
        let t = T { lang: super::super::i18n::Lang::En };
        let f = Fmt { t, currency: "USD", digits: 2 };
        let up = tile(&f, "win_rate", "Win rate", Kind::Rate, Some(30.0), Some(25.0));
        assert_eq!((up.value.as_str(), up.delta.as_str(), up.trend, up.tone), ("30.0%", "▲ 5.0 pp", "up", "good"));
        let none = tile(&f, "win_rate", "Win rate", Kind::Rate, None, Some(25.0));
        assert_eq!((none.value.as_str(), none.delta.as_str(), none.trend), ("—", "—", "none"));
        let slower = tile(&f, "sales_cycle_days", "Cycle", Kind::Days, Some(40.0), Some(30.0));
        assert_eq!((slower.trend, slower.tone), ("up", "bad"));
        let money = tile(&f, "won_value", "Won", Kind::Money, Some(100_000.0), Some(250_000.0));
        assert_eq!(money.delta, "▼ $1,500");
    }
}

//! The figures sections of the insights page: KPI tiles against the
//! previous period, funnel, conversion per stage, velocity, time in stage,
//! playbook compliance per stage with the overrides per owner, and the
//! forecast, with the export links of the same question.

use super::format::{Chart, Fmt, Tile, dash, days_text, month_label, tiles};
use crate::AppState;
use crate::error::ApiError;
use crate::insights::{self, ForecastQuery, ForecastReport, MetricsQuery, StageRow};
use crate::web::charts::{self, Bar, Pair};
use crate::web::clock::zone;
use crate::web::{T, urlencode};
use chrono::NaiveDate;
use dealflow_core::currency::Currency;
use dealflow_core::model::Settings;
use dealflow_core::time::{Date, Timestamp};

pub struct Velocity {
    pub open_deals: String,
    pub avg_deal_value: String,
    pub win_rate: String,
    pub cycle_days: String,
    pub result: String,
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
    /// Playbook compliance per stage, one chart per pipeline.
    pub compliance: Vec<Chart>,
    /// Overrides per deal owner: (owner, count).
    pub overrides: Vec<(String, String)>,
    pub months: Chart,
    pub range: Chart,
    pub forecast_period: String,
    pub unforecastable: u64,
    pub notes: Vec<&'static str>,
    pub exports: Vec<(&'static str, String)>,
}

/// The period `[from, to)` of a question, already checked: `from` before
/// `to`, both in the years every date parameter allows.
#[derive(Clone, Copy)]
pub struct Days {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Days {
    /// The previous period of the same length, ending where this one
    /// starts; 422 rather than a panic if it would leave the calendar.
    pub(super) fn previous(self) -> Result<Days, ApiError> {
        let len = (self.to - self.from).num_days().max(1);
        let from = u64::try_from(len).ok().and_then(|l| self.from.checked_sub_days(chrono::Days::new(l)));
        let from = from
            .ok_or_else(|| dealflow_core::Invalid::one("from", "lies too early to compare with a previous period"))?;
        Ok(Days { from, to: self.from })
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

pub async fn figures(
    st: &AppState,
    t: T,
    settings: &Settings,
    q: &MetricsQuery,
    days: Days,
    now: Timestamp,
) -> Result<Figures, ApiError> {
    let report = insights::metrics(&st.store, q, now).await?;
    let prev_days = days.previous()?;
    let prev_q = MetricsQuery { from: Some(Date(prev_days.from)), to: Some(Date(prev_days.to)), ..q.clone() };
    let prev = insights::metrics(&st.store, &prev_q, now).await?;
    let stages = insights::stages(&st.store, q, now).await?;
    let fq = ForecastQuery { pipeline_id: q.pipeline_id, owner_id: q.owner_id, ..Default::default() };
    let fc = insights::forecast(&st.store, &fq, now, &st.heavy).await?;

    let currency = report.currency.clone();
    let digits = Currency::parse(&currency).map(|c| c.minor_digits()).unwrap_or(2);
    let f = Fmt { t, currency: &currency, digits };
    let m = &report.metrics;
    let (funnel, conversion, cycle) = stage_charts(&f, &stages.stages);
    let compliance = compliance_charts(&f, &stages.stages);
    let overrides = stages
        .overrides_by_owner
        .iter()
        .map(|o| (o.owner.clone().unwrap_or_else(|| t.t("ins.no_owner").to_string()), o.overrides.to_string()))
        .collect();
    let (months, range, forecast_period) = forecast_charts(&f, &fc, settings);

    let mut notes = Vec::new();
    if m.outreach_workspace_wide {
        notes.push(t.t("ins.note_outreach_wide"));
    }
    if m.unconverted > 0 || fc.forecast.unconverted > 0 {
        notes.push(t.t("ins.note_unconverted"));
    }
    Ok(Figures {
        period: days_text(days.from, days.to),
        previous: days_text(prev_days.from, prev_days.to),
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
        compliance,
        overrides,
        months,
        range,
        forecast_period,
        unforecastable: fc.forecast.unforecastable,
        notes,
        exports: exports(t, q, days),
    })
}

/// Playbook compliance per stage: the share of forward exits with the
/// checklist complete as bars, the counts and the on-time share in the
/// numbers table; one chart per pipeline.
fn compliance_charts(f: &Fmt<'_>, stages: &[StageRow]) -> Vec<Chart> {
    let t = f.t;
    let groups = by_pipeline(stages);
    let several = groups.len() > 1;
    let mut out = Vec::new();
    for (i, (pname, rows)) in groups.iter().enumerate() {
        let title = chart_title(t.t("ins.compliance"), pname, several);
        let bars: Vec<Bar> = rows
            .iter()
            .map(|r| Bar {
                label: r.name.clone(),
                value: r.playbook.playbook_complete_rate,
                text: f.pct(r.playbook.playbook_complete_rate),
            })
            .collect();
        out.push(Chart {
            id: format!("compliance-{i}"),
            svg: charts::hbars(&title, &bars, t.t("ins.empty")),
            title,
            head: vec![
                t.t("ins.stage"),
                t.t("ins.left_forward"),
                t.t("ins.playbook_complete"),
                t.t("ins.playbook_on_time"),
            ],
            rows: rows
                .iter()
                .map(|r| {
                    let p = &r.playbook;
                    vec![
                        r.name.clone(),
                        p.left_forward.to_string(),
                        format!("{} ({})", p.playbook_complete, f.pct(p.playbook_complete_rate)),
                        format!("{} ({})", p.playbook_on_time, f.pct(p.playbook_on_time_rate)),
                    ]
                })
                .collect(),
        });
    }
    out
}

/// Funnel, conversion and time-in-stage charts, one of each per pipeline.
fn stage_charts(f: &Fmt<'_>, stages: &[StageRow]) -> (Vec<Chart>, Vec<Chart>, Vec<Chart>) {
    let t = f.t;
    let groups = by_pipeline(stages);
    let several = groups.len() > 1;
    let (mut funnel, mut conversion, mut cycle) = (Vec::new(), Vec::new(), Vec::new());
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
    (funnel, conversion, cycle)
}

/// The weighted forecast by month, the P10–P90 range, and the forecast's
/// period as local days.
fn forecast_charts(f: &Fmt<'_>, fc: &ForecastReport, settings: &Settings) -> (Chart, Chart, String) {
    let t = f.t;
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
    let tz = zone(settings);
    let day = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).map(|d| d.with_timezone(&tz).date_naive());
    let period = match (day(fc.period.from.0), day(fc.period.to.0)) {
        (Some(a), Some(b)) => days_text(a, b),
        _ => String::new(),
    };
    (months, range, period)
}

/// CSV and XLSX exports of the same question.
fn exports(t: T, q: &MetricsQuery, days: Days) -> Vec<(&'static str, String)> {
    let mut slice = format!("from={}&to={}", urlencode(&days.from.to_string()), urlencode(&days.to.to_string()));
    if let Some(p) = q.pipeline_id {
        slice.push_str(&format!("&pipeline_id={p}"));
    }
    if let Some(o) = q.owner_id {
        slice.push_str(&format!("&owner_id={o}"));
    }
    vec![
        (t.t("ins.export_metrics_csv"), format!("/api/v1/metrics/export?format=csv&{slice}")),
        (t.t("ins.export_metrics_xlsx"), format!("/api/v1/metrics/export?format=xlsx&{slice}")),
        (t.t("ins.export_stages_csv"), format!("/api/v1/metrics/stages/export?format=csv&{slice}")),
        (t.t("ins.export_stages_xlsx"), format!("/api/v1/metrics/stages/export?format=xlsx&{slice}")),
    ]
}

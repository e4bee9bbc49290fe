//! The goal planner section of the insights page: a revenue target and a
//! number of weeks turned into weekly activity targets beside the current
//! pace. The target is read in major units of the base currency, exactly
//! (`core::currency::parse_major`), never through a float.

use super::format::{Chart, dash};
use crate::AppState;
use crate::error::ApiError;
use crate::insights::{self, PlanQuery};
use crate::web::T;
use crate::web::charts::{self, Pair};
use crate::web::clock::zone;
use chrono::TimeZone;
use dealflow_core::currency::parse_major;
use dealflow_core::model::Settings;
use dealflow_core::time::Timestamp;

pub struct PlanView {
    pub chart: Chart,
    pub missing: Vec<String>,
    pub lookback: String,
}

/// One row of the plan: label, total needed, needed per week, current pace.
type Row = (String, Option<u64>, Option<f64>, f64);

/// The target and weeks as the planner takes them; 422 naming each bad one.
fn question(t: T, target: &str, weeks: &str, digits: u8) -> Result<(i64, i64), ApiError> {
    let mut errs = dealflow_core::Invalid::new();
    let target = parse_major(target, digits).ok();
    if target.is_none() {
        errs.add("target", t.t("ins.bad_target"));
    }
    let weeks: Option<i64> = weeks.trim().parse().ok().filter(|w| (1..=520).contains(w));
    if weeks.is_none() {
        errs.add("weeks", t.t("ins.bad_weeks"));
    }
    errs.into_result()?;
    match (target, weeks) {
        (Some(target), Some(weeks)) => Ok((target, weeks)),
        _ => Err(dealflow_core::Invalid::one("target", t.t("ins.bad_target")).into()),
    }
}

pub async fn planner(
    st: &AppState,
    t: T,
    settings: &Settings,
    target: &str,
    weeks: &str,
    now: Timestamp,
) -> Result<PlanView, ApiError> {
    let (target, weeks) = question(t, target, weeks, settings.base_currency.minor_digits())?;
    let report = insights::plan(&st.store, &PlanQuery { target, weeks, lookback_days: None }, now).await?;
    let plan = &report.plan;
    let pace = &plan.current_pace;
    let mut rows: Vec<Row> = vec![(t.t("ins.plan.wins").to_string(), plan.wins, plan.per_week.wins, pace.wins)];
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
    let tz = zone(settings);
    let day = |ms: i64| tz.timestamp_millis_opt(ms).single().map(|d| d.date_naive());
    let lookback = match (day(report.lookback.from.0), day(report.lookback.to.0)) {
        (Some(a), Some(b)) => format!("{a} – {b}"),
        _ => String::new(),
    };
    Ok(PlanView { chart: chart(t, &rows), missing: plan.missing.clone(), lookback })
}

/// Needed per week beside the current pace, with the totals in the table.
fn chart(t: T, rows: &[Row]) -> Chart {
    let wk = |v: Option<f64>| v.filter(|v| v.is_finite()).map_or_else(dash, |v| format!("{v:.1}"));
    let total = |v: Option<u64>| v.map_or_else(dash, |v| crate::web::i18n::group(v as i64));
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
    Chart {
        id: "planner".into(),
        title: title.to_string(),
        svg: charts::paired_hbars(title, &pairs, (t.t("ins.plan_per_week"), t.t("ins.plan_pace")), t.t("ins.empty")),
        head: vec![t.t("ins.plan.figure"), t.t("ins.plan_total"), t.t("ins.plan_per_week"), t.t("ins.plan_pace")],
        rows: rows
            .iter()
            .map(|(label, tot, per_week, pace)| vec![label.clone(), total(*tot), wk(*per_week), wk(Some(*pace))])
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_in_major_units_exactly() {
        let t = T { lang: crate::web::i18n::Lang::En };
        assert_eq!(question(t, "50000", "12", 2).ok(), Some((5_000_000, 12)));
        assert_eq!(question(t, "50,000.5", "1", 2).ok(), Some((5_000_050, 1)));
        assert_eq!(question(t, "0.29", "1", 2).ok(), Some((29, 1)));
        assert_eq!(question(t, "5000", "1", 0).ok(), Some((5000, 1)));
        for (target, weeks) in [("-1", "1"), ("lots", "1"), ("1e30", "1"), ("1.001", "1"), ("100", "0"), ("100", "521")]
        {
            assert!(question(t, target, weeks, 2).is_err(), "{target} / {weeks}");
        }
    }
}

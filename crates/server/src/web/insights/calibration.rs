//! Insights' lead-score calibration: for the scoring model of the chosen
//! pipeline (else the first model), how its bands did on the deals closed
//! in the page's period, each deal scored as of when it entered its second
//! stage; the draft beside the published version when they differ; and
//! what the model's `disqualify_below` would have dropped.

use super::super::T;
use super::figures::Days;
use crate::AppState;
use crate::error::ApiError;
use chrono::TimeZone;
use dealflow_core::PipelineId;
use dealflow_core::model::Settings;
use dealflow_core::scoring::calibration::Report;
use dealflow_core::time::Timestamp;
use dealflow_store::Page;
use dealflow_store::scoring::calibration::CalibrationQuery;

/// One band's row, formatted.
pub struct BandRow {
    pub band: String,
    pub deals: i64,
    pub won: i64,
    pub win_rate: String,
    pub cycle: String,
    pub won_value: String,
}

/// One report (published or draft), formatted.
pub struct ReportView {
    pub label: String,
    pub rows: Vec<BandRow>,
    pub unscored: i64,
    /// "Disqualifying below 0 would have dropped 12 deals, 3 of them won, worth $40,000."
    pub what_if: String,
}

pub struct CalibrationView {
    pub model: String,
    pub deals: i64,
    pub reports: Vec<ReportView>,
}

fn report_view(t: T, label: &str, r: &Report, settings: &Settings) -> ReportView {
    let cur = &settings.base_currency;
    let money = |v: i64| t.money(v, cur.as_str(), cur.minor_digits());
    let rows = r
        .bands
        .iter()
        .map(|b| BandRow {
            band: b.band.clone().unwrap_or_else(|| t.t("cal.below").to_string()),
            deals: b.deals,
            won: b.won,
            win_rate: b.win_rate.map(|w| format!("{:.0}%", w * 100.0)).unwrap_or_else(|| "—".into()),
            cycle: b.median_cycle_days.map(|d| format!("{d:.0}")).unwrap_or_else(|| "—".into()),
            won_value: money(b.won_value),
        })
        .collect();
    let what_if = r.what_if.as_ref().map_or(String::new(), |w| {
        super::super::deal::timeline::fill(
            t.t("cal.what_if"),
            &[
                ("level", &w.disqualify_below.to_string()),
                ("dropped", &w.dropped.to_string()),
                ("won", &w.dropped_won.to_string()),
                ("value", &money(w.dropped_won_value)),
            ],
        )
    });
    ReportView { label: t.t(label).to_string(), rows, unscored: r.unscored, what_if }
}

/// The calibration for the page, or `None` when no model exists.
pub async fn calibration(
    st: &AppState,
    t: T,
    settings: &Settings,
    pipeline: Option<PipelineId>,
    days: &Days,
) -> Result<Option<CalibrationView>, ApiError> {
    let models = st.store.scoring_models(Page { limit: 50, before: None }).await?.items;
    let Some(model) = models.iter().find(|m| pipeline.is_some() && m.pipeline_id == pipeline).or(models.first()) else {
        return Ok(None);
    };
    let tz = super::super::clock::zone(settings);
    let at = |d: chrono::NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .and_then(|x| tz.from_local_datetime(&x).earliest())
            .map(|x| Timestamp(x.timestamp_millis()))
    };
    let q = CalibrationQuery { model_id: model.id, from: at(days.from), to: at(days.to), disqualify_below: None };
    let cal = st.store.scoring_calibration(&q, Timestamp::now()).await?;
    let mut reports = Vec::new();
    if let Some(r) = &cal.published {
        reports.push(report_view(t, "cal.published", r, settings));
    }
    if let Some(r) = &cal.draft {
        reports.push(report_view(t, "cal.draft", r, settings));
    }
    Ok(Some(CalibrationView { model: model.name.clone(), deals: cal.deals, reports }))
}

//! The hygiene section of the insights page: per weekly audit of the
//! chosen pipeline (or of every pipeline), the share of open deals with a
//! next action, contacted in the last 14 days and rotting when it was taken,
//! how far the meeting got (decided, signed off on time) and what it did to
//! the pipeline (value disqualified and moved). Read from the audits' stored
//! counts and summaries, so the history never changes afterwards.

use crate::AppState;
use crate::error::ApiError;
use crate::web::T;
use crate::web::clock::{local_time, zone};
use dealflow_core::PipelineId;
use dealflow_core::model::Settings;

/// Audits shown: a quarter of weekly meetings.
const SHOWN: i64 = 13;
/// A sign-off within a day of the meeting (or of the audit, when made by
/// hand) is on time.
const ON_TIME_MS: i64 = 86_400_000;

pub struct HygieneRow {
    pub id: String,
    pub taken: String,
    pub pipeline: String,
    pub next_action: String,
    pub contacted: String,
    pub rotting: String,
    pub decided: String,
    /// `yes`, `no` or `open`.
    pub on_time: &'static str,
    pub removed: String,
    pub moved: String,
}

fn pct(n: u32, of: u32) -> String {
    if of == 0 { "—".to_string() } else { format!("{:.0}%", 100.0 * f64::from(n) / f64::from(of)) }
}

pub async fn rows(
    st: &AppState,
    t: T,
    settings: &Settings,
    pipeline: Option<PipelineId>,
) -> Result<Vec<HygieneRow>, ApiError> {
    let tz = zone(settings);
    let money = |minor: i64| t.money(minor, settings.base_currency.as_str(), settings.base_currency.minor_digits());
    let pipelines = st.store.pipelines().await?;
    let audits = st.store.audits(pipeline, SHOWN * 2).await?;
    Ok(audits
        .iter()
        // Whole-pipeline audits only: one owner's audit is not the team's hygiene.
        .filter(|a| a.owner_id.is_none())
        .take(SHOWN as usize)
        .map(|a| {
            let h = a.hygiene.unwrap_or_default();
            let due = a.scheduled_for.unwrap_or(a.created_at).0 + ON_TIME_MS;
            let on_time = match a.signed_off_at {
                None => "open",
                Some(s) if s.0 <= due => "yes",
                Some(_) => "no",
            };
            let s = a.summary.as_ref();
            HygieneRow {
                id: a.id.to_string(),
                taken: local_time(t, tz, a.created_at.0, false),
                pipeline: pipelines.iter().find(|p| p.id == a.pipeline_id).map(|p| p.name.clone()).unwrap_or_default(),
                next_action: pct(h.with_next_action, h.open),
                contacted: pct(h.contacted_14d, h.open),
                rotting: pct(h.rotting, h.open),
                decided: pct(a.progress.decided as u32, a.progress.total as u32),
                on_time,
                removed: s.map_or_else(|| "—".to_string(), |s| money(s.value_disqualified)),
                moved: s.map_or_else(|| "—".to_string(), |s| money(s.value_moved)),
            }
        })
        .collect())
}

//! The metrics engine's inputs, loaded from the store: [`Store::metric_facts`]
//! turns pipelines, live deals with their stage-event log, live outreach and
//! the workspace's exchange rates into `dealflow_core::metrics::Facts`, and
//! [`Store::deal_field_history_all`] gives backtests each deal's field values
//! as they stood at an earlier moment.
//!
//! Everything is read in a handful of whole-table queries (never one per
//! deal): a workspace holds tens of thousands of deals and the metrics pages
//! must answer quickly. Ids stay the typed integers of `dealflow_core::ids`;
//! an absent owner or campaign is `None`.

use crate::row::*;
use crate::{Store, StoreError};
use dealflow_core::currency::Currency;
use dealflow_core::ids::{CampaignId, DealId, PersonId, PipelineId, StageId, UserId};
use dealflow_core::metrics::{
    DealEvent, DealFact, DealFields, ExchangeRates, Facts, Ms, OutreachFact, PipelineInfo, StageInfo,
};
use dealflow_core::model::{Channel, DealStatus, EventKind, Sentiment};
use dealflow_core::time::{Date, TimeZone};
use serde_json::Value;
use std::collections::HashMap;

/// Rates per *minor* unit (what the engine wants) from the settings' rates
/// per *major* unit, folding in the difference in minor digits (JPY has 0,
/// USD 2). Codes that do not parse are skipped: their deals stay unconverted.
pub fn minor_rates(base: &Currency, rates: &std::collections::BTreeMap<String, f64>) -> ExchangeRates {
    let base_digits = i32::from(base.minor_digits());
    let mut out = ExchangeRates::base_only(base.as_str());
    for (code, rate) in rates {
        if let Ok(c) = Currency::parse(code) {
            let shift = base_digits - i32::from(c.minor_digits());
            out.rates.insert(c.as_str().to_string(), rate * 10f64.powi(shift));
        }
    }
    out
}

/// A stage-event row (`kind`, `stage_id`, `at`) as the engine's event.
pub(crate) fn deal_event(r: &sqlx::any::AnyRow) -> R<DealEvent> {
    let at = i64_(r, "at")?;
    Ok(match enum_(r, "kind", EventKind::parse)? {
        EventKind::Enter => DealEvent::enter(StageId(i64_(r, "stage_id")?), at),
        EventKind::Won => DealEvent::won(at),
        EventKind::Lost => DealEvent::lost(at),
        EventKind::Reopen => DealEvent::reopen(at),
    })
}

/// One recorded change of a tracked field: its value before the change.
#[derive(Debug, Clone)]
struct Change {
    field: String,
    at: Ms,
    old: Value,
}

/// Every deal's field history, for "value at T" questions: a field's value
/// at T is the old value of its first change after T, else the current one.
#[derive(Debug, Clone)]
pub struct FieldHistory {
    /// Per deal id, changes oldest first.
    changes: HashMap<DealId, Vec<Change>>,
    time_zone: TimeZone,
}

impl FieldHistory {
    /// The deal's fields as they stood at `t` (changes dated at `t` count as
    /// made). `source` and `contract_months` have no history: current values.
    pub fn fields_at(&self, d: &DealFact, t: Ms) -> DealFields {
        let mut f = dealflow_core::metrics::current_fields(d, t);
        let Some(changes) = self.changes.get(&d.id) else {
            return f;
        };
        let mut seen: Vec<&str> = Vec::new();
        for c in changes.iter().filter(|c| c.at > t) {
            if seen.contains(&c.field.as_str()) {
                continue;
            }
            seen.push(&c.field);
            match c.field.as_str() {
                "value" => f.value = c.old.as_i64().unwrap_or(f.value),
                "currency" => f.currency = c.old.as_str().map_or(f.currency, str::to_string),
                "probability" => f.probability = c.old.as_f64(),
                "expected_close_date" => {
                    f.expected_close_at =
                        c.old.as_str().and_then(|s| Date::parse(s).ok()).map(|d| self.time_zone.midnight(d.0))
                }
                // Recorded as the id in text, or null for "no owner".
                "owner_id" => f.owner = c.old.as_str().and_then(|s| s.parse().ok()),
                _ => {}
            }
        }
        f
    }
}

/// The columns [`deal_fact`] reads, in a `SELECT` from `deals`.
pub(crate) const DEAL_FACT_COLUMNS: &str = "id, pipeline_id, value, currency, contract_months, probability, \
    expected_close_date, owner_id, source, created_at, status, closed_at";

/// A deal row (read with [`DEAL_FACT_COLUMNS`]) as the engine's fact, with
/// no events yet; the expected close date is midnight of its day in `tz`.
pub(crate) fn deal_fact(r: &sqlx::any::AnyRow, tz: TimeZone) -> R<DealFact> {
    Ok(DealFact {
        id: DealId(i64_(r, "id")?),
        pipeline: PipelineId(i64_(r, "pipeline_id")?),
        value: i64_(r, "value")?,
        currency: text(r, "currency")?,
        contract_months: opt_i64(r, "contract_months")?,
        probability: opt_i64(r, "probability")?.map(|p| p as f64),
        expected_close_at: opt_date(r, "expected_close_date")?.map(|d| tz.midnight(d.0)),
        owner: opt_i64(r, "owner_id")?.map(UserId),
        source: opt_text(r, "source")?.unwrap_or_default(),
        created_at: i64_(r, "created_at")?,
        status: enum_(r, "status", DealStatus::parse)?,
        closed_at: opt_i64(r, "closed_at")?,
        events: Vec::new(),
    })
}

impl Store {
    /// Every pipeline with its stages as the engine sees them. Archived
    /// stages stay: old events still point at them.
    pub async fn metric_pipelines(&self) -> Result<Vec<PipelineInfo>, StoreError> {
        Ok(self
            .pipelines()
            .await?
            .into_iter()
            .map(|p| PipelineInfo {
                id: p.id,
                stages: p
                    .stages
                    .iter()
                    .map(|s| StageInfo {
                        id: s.id,
                        order: s.position,
                        milestone: s.milestone,
                        probability: s.probability.map(|x| x as f64),
                    })
                    .collect(),
            })
            .collect())
    }

    /// Everything the metrics engine reads, without soft-deleted deals,
    /// people or messages (docs/metrics.md "Deleted records").
    #[tracing::instrument(skip_all)]
    pub async fn metric_facts(&self) -> Result<Facts, StoreError> {
        let settings = self.settings().await?;
        let tz = settings.time_zone;
        let pipelines = self.metric_pipelines().await?;

        let mut events: HashMap<i64, Vec<DealEvent>> = HashMap::new();
        let rows = sqlx::query(
            "SELECT e.deal_id, e.kind, e.stage_id, e.at FROM stage_events e JOIN deals d ON d.id = e.deal_id
             WHERE d.deleted_at IS NULL ORDER BY e.deal_id, e.at, e.id",
        )
        .fetch_all(self.pool())
        .await?;
        for r in &rows {
            events.entry(i64_(r, "deal_id")?).or_default().push(deal_event(r)?);
        }

        let sql = format!("SELECT {DEAL_FACT_COLUMNS} FROM deals WHERE deleted_at IS NULL ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(self.pool()).await?;
        let mut deals = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut d = deal_fact(r, tz)?;
            d.events = events.remove(&d.id.0).unwrap_or_default();
            deals.push(d);
        }

        let rows = sqlx::query(
            "SELECT o.person_id, o.campaign_id, o.channel, o.sent_at, o.replied_at, o.sentiment
             FROM outreach_messages o JOIN people p ON p.id = o.person_id
             WHERE o.deleted_at IS NULL AND p.deleted_at IS NULL ORDER BY o.sent_at, o.id",
        )
        .fetch_all(self.pool())
        .await?;
        let outreach = rows
            .iter()
            .map(|r| {
                Ok(OutreachFact {
                    person: PersonId(i64_(r, "person_id")?),
                    campaign: opt_i64(r, "campaign_id")?.map(CampaignId),
                    channel: enum_(r, "channel", Channel::parse)?,
                    sent_at: i64_(r, "sent_at")?,
                    replied_at: opt_i64(r, "replied_at")?,
                    sentiment: opt_enum(r, "sentiment", Sentiment::parse)?,
                })
            })
            .collect::<R<Vec<_>>>()?;

        let rates = minor_rates(&settings.base_currency, &settings.exchange_rates);
        Ok(Facts { pipelines, deals, outreach, rates })
    }

    /// The field history of every live deal, for [`FieldHistory::fields_at`].
    #[tracing::instrument(skip_all)]
    pub async fn deal_field_history_all(&self) -> Result<FieldHistory, StoreError> {
        let settings = self.settings().await?;
        let rows = sqlx::query(
            "SELECT h.deal_id, h.field, h.old_value, h.at FROM field_history h JOIN deals d ON d.id = h.deal_id
             WHERE d.deleted_at IS NULL
               AND h.field IN ('value', 'currency', 'probability', 'expected_close_date', 'owner_id')
             ORDER BY h.deal_id, h.at, h.id",
        )
        .fetch_all(self.pool())
        .await?;
        let mut changes: HashMap<DealId, Vec<Change>> = HashMap::new();
        for r in &rows {
            let old = json::<Value>(r, "old_value")?;
            changes.entry(DealId(i64_(r, "deal_id")?)).or_default().push(Change {
                field: text(r, "field")?,
                at: i64_(r, "at")?,
                old,
            });
        }
        Ok(FieldHistory { changes, time_zone: settings.time_zone })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_fold_minor_digits() {
        let base = Currency::parse("USD").unwrap();
        let rates = [("JPY".to_string(), 0.0065), ("EUR".to_string(), 1.08)].into_iter().collect();
        let r = minor_rates(&base, &rates);
        // 1,000 yen (no minor unit) = 6.50 USD = 650 cents.
        assert_eq!(r.to_base(1000, "JPY"), Some(650));
        assert_eq!(r.to_base(100, "EUR"), Some(108));
        assert_eq!(r.to_base(100, "GBP"), None);
    }
}

//! The calibration of a model against the deals closed in a period: each
//! deal is scored as of the moment it entered its second stage, from the
//! facts known then and nothing later. Tracked deal fields are taken back
//! to that moment through the field history; answers and engagement facts
//! are read up to it; a field with no history (a person's or an
//! organization's changed since, the deal's `source`, `title` or custom
//! fields once the deal changed) is unknown then, and the fit rules on it
//! add nothing for that deal (counted in `unknown_fits`).

use super::facts;
use crate::row::*;
use crate::{Store, StoreError, Tx};
use dealflow_core::model::{Deal, DealStatus};
use dealflow_core::playbook::gate::Records;
use dealflow_core::scoring::calibration::{Report, Sample, report};
use dealflow_core::scoring::eval::{Facts, desired};
use dealflow_core::scoring::ledger::{diff, score};
use dealflow_core::scoring::{Group, ModelBody};
use dealflow_core::time::Timestamp;
use dealflow_core::{ScoringModelId, UserId};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

const DAY: i64 = 86_400_000;

/// `GET /api/v1/scoring/calibration`.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CalibrationQuery {
    /// The model (its published version and its draft).
    pub model_id: ScoringModelId,
    /// Deals closed from this moment (RFC 3339); default 365 days before `to`.
    pub from: Option<Timestamp>,
    /// Deals closed before this moment; default now.
    pub to: Option<Timestamp>,
    /// A proposed `disqualify_below` for the "what if"; default the model's.
    pub disqualify_below: Option<f64>,
}

/// The calibration of a model's published version and of its draft.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Calibration {
    pub model_id: ScoringModelId,
    pub from: Timestamp,
    pub to: Timestamp,
    /// Deals closed in the period, in the model's pipelines.
    pub deals: i64,
    /// The published version; absent before the first publish.
    pub published: Option<Report>,
    /// The draft, when it differs from the published version.
    pub draft: Option<Report>,
    /// Fit contributions left out because the field's value at the moment
    /// is not known (published, then draft).
    pub unknown_fits: i64,
}

/// One closed deal with the moment it is scored at.
struct Closed {
    deal: Deal,
    at: Option<Timestamp>,
}

impl Store {
    /// The calibration of a model (see the module docs).
    pub async fn scoring_calibration(&self, q: &CalibrationQuery, now: Timestamp) -> Result<Calibration, StoreError> {
        let id = q.model_id;
        let to = q.to.unwrap_or(now);
        let from = q.from.unwrap_or(Timestamp(to.0 - 365 * DAY));
        if from >= to {
            return Err(StoreError::invalid("from", "must lie before `to`"));
        }
        let m = self.scoring_model(id).await?;
        let settings = self.settings().await?;
        let rates = crate::facts::minor_rates(&settings.base_currency, &settings.exchange_rates);
        let mut tx = self.snapshot().await?;
        let closed = closed_deals(&mut tx, m.pipeline_id, from, to).await?;
        let mut unknown = 0;
        let published = match &m.published {
            Some(b) => Some(calibrate(&mut tx, &closed, &rates, b, q.disqualify_below, &mut unknown).await?),
            None => None,
        };
        let draft = match &m.published {
            Some(b) if *b == m.draft => None,
            _ => Some(calibrate(&mut tx, &closed, &rates, &m.draft, q.disqualify_below, &mut unknown).await?),
        };
        tx.commit().await?;
        Ok(Calibration { model_id: id, from, to, deals: closed.len() as i64, published, draft, unknown_fits: unknown })
    }
}

/// Closed deals scored per read of their facts: a few hundred keep the
/// `IN (…)` lists short and the statements few (five or six per chunk, not
/// per deal).
const CHUNK: usize = 500;

/// The report of one model body over the closed deals.
async fn calibrate(
    tx: &mut Tx,
    closed: &[Closed],
    rates: &dealflow_core::metrics::facts::ExchangeRates,
    body: &ModelBody,
    what_if: Option<f64>,
    unknown: &mut i64,
) -> Result<Report, StoreError> {
    let mut samples = Vec::with_capacity(closed.len());
    for chunk in closed.chunks(CHUNK) {
        let scored: Vec<(&Deal, Timestamp)> = chunk.iter().filter_map(|c| c.at.map(|at| (&c.deal, at))).collect();
        let then = as_of(tx, &scored).await?;
        let want: Vec<(&Deal, Option<Timestamp>)> =
            then.iter().zip(&scored).map(|(d, (_, at))| (d, Some(*at))).collect();
        let loaded = facts::load_many(tx, &want, body).await?;
        let mut scores: HashMap<i64, f64> = HashMap::with_capacity(scored.len());
        for (((deal, at), then), loaded) in scored.iter().zip(&then).zip(&loaded) {
            scores.insert(deal.id.0, score_at(deal, then, loaded, body, *at, unknown));
        }
        for c in chunk {
            let value = rates.to_base(c.deal.value, c.deal.currency.as_str()).unwrap_or(0);
            let cycle = c.deal.closed_at.map_or(0, |t| t.0 - c.deal.created_at.0) as f64 / DAY as f64;
            let score = scores.get(&c.deal.id.0).copied();
            samples.push(Sample { score, won: c.deal.status == DealStatus::Won, cycle_days: cycle, value });
        }
    }
    Ok(report(body, &samples, what_if))
}

/// The deals closed in `[from, to)` in the pipeline (every pipeline for a
/// model of all), each with the moment it entered its second stage.
async fn closed_deals(
    tx: &mut Tx,
    pipeline: Option<dealflow_core::PipelineId>,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<Closed>, StoreError> {
    let scope = pipeline.map_or(String::new(), |p| format!(" AND d.pipeline_id = {}", p.0));
    let sql = format!(
        "SELECT d.* FROM deals d WHERE d.status IN ('won', 'lost') AND d.deleted_at IS NULL
           AND d.closed_at >= $1 AND d.closed_at < $2{scope} ORDER BY d.id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(from.0).bind(to.0).fetch_all(&mut **tx).await?;
    let deals: Vec<Deal> = rows.iter().map(crate::deals::from_row).collect::<R<_>>()?;
    let sql = format!(
        "SELECT e.deal_id, e.at FROM stage_events e JOIN deals d ON d.id = e.deal_id
         WHERE e.kind = 'enter' AND d.status IN ('won', 'lost') AND d.deleted_at IS NULL
           AND d.closed_at >= $1 AND d.closed_at < $2{scope} ORDER BY e.deal_id, e.at, e.id"
    );
    let entries: Vec<(i64, i64)> =
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(from.0).bind(to.0).fetch_all(&mut **tx).await?;
    let mut second: HashMap<i64, i64> = HashMap::new();
    let mut seen: HashMap<i64, usize> = HashMap::new();
    for (deal, at) in entries {
        let n = seen.entry(deal).or_default();
        *n += 1;
        if *n == 2 {
            second.insert(deal, at);
        }
    }
    Ok(deals.into_iter().map(|d| Closed { at: second.get(&d.id.0).copied().map(Timestamp), deal: d }).collect())
}

/// The deal's score under `body` as of `at`, from what was known then:
/// `then` is the deal with its tracked fields taken back to `at`, `loaded`
/// its facts up to `at`.
fn score_at(
    deal: &Deal,
    then: &Deal,
    loaded: &facts::Loaded,
    body: &ModelBody,
    at: Timestamp,
    unknown: &mut i64,
) -> f64 {
    // A person or organization changed since may have had other values then.
    let person = loaded.person.as_ref().filter(|p| p.updated_at <= at);
    let organization = loaded.organization.as_ref().filter(|o| o.updated_at <= at);
    let deal_known = deal.updated_at <= at;
    let known = |field: &str| {
        if field.starts_with("person.") {
            person.is_some() || then.person_id.is_none()
        } else if field.starts_with("organization.") {
            organization.is_some() || then.organization_id.is_none()
        } else {
            deal_known || dealflow_core::model::TRACKED_FIELDS.contains(&field)
        }
    };
    let f = Facts {
        records: Records { deal: then, person, organization },
        answers: &loaded.answers,
        events: &loaded.events,
    };
    let want: Vec<_> = desired(body, &f)
        .into_iter()
        .filter(|d| {
            let fit_field =
                (d.group == Group::Fit).then(|| body.rule(&d.rule_id).and_then(|r| r.field.as_deref())).flatten();
            match fit_field {
                Some(field) if !known(field) => {
                    *unknown += 1;
                    false
                }
                _ => true,
            }
        })
        .collect();
    // Fit rules that match an absent record (`is_empty`) would match an
    // unknown one too: those are left out above with the known check.
    score(body, &diff(&[], &want, at), at).total
}

/// Each deal with its tracked fields as they were at its moment: every
/// change after it undone, newest first. One read for all of them.
async fn as_of(tx: &mut Tx, deals: &[(&Deal, Timestamp)]) -> Result<Vec<Deal>, StoreError> {
    let ids = id_list(deals.iter().map(|(d, _)| d.id.0));
    let sql = format!(
        "SELECT deal_id, field, old_value, at FROM field_history WHERE deal_id IN ({ids}) ORDER BY at DESC, id DESC"
    );
    let mut changes: HashMap<i64, Vec<(i64, String, String)>> = HashMap::new();
    for r in sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut **tx).await? {
        changes.entry(i64_(&r, "deal_id")?).or_default().push((
            i64_(&r, "at")?,
            text(&r, "field")?,
            text(&r, "old_value")?,
        ));
    }
    deals
        .iter()
        .map(|(deal, at)| {
            let after = changes.get(&deal.id.0).into_iter().flatten().filter(|(t, _, _)| *t > at.0);
            undo(deal, after.map(|(_, f, old)| (f.as_str(), old.as_str())))
        })
        .collect()
}

/// The deal with `changes` (field, old value; newest first) undone.
fn undo<'a>(deal: &Deal, changes: impl Iterator<Item = (&'a str, &'a str)>) -> Result<Deal, StoreError> {
    let mut v = serde_json::to_value(deal).map_err(|e| StoreError::Config(e.to_string()))?;
    for (field, old) in changes {
        v[field] = serde_json::from_str(old).unwrap_or(serde_json::Value::Null);
    }
    let mut then = deal.clone();
    // Only the fields a rule reads through the JSON view change; the
    // typed ones the facts need (person, organization) are set too.
    then.person_id = v["person_id"].as_str().and_then(|s| s.parse().ok()).map(dealflow_core::PersonId);
    then.organization_id =
        v["organization_id"].as_str().and_then(|s| s.parse().ok()).map(dealflow_core::OrganizationId);
    then.owner_id = v["owner_id"].as_str().and_then(|s| s.parse().ok()).map(UserId);
    then.value = v["value"].as_i64().unwrap_or(deal.value);
    then.probability = v["probability"].as_i64();
    then.expected_close_date = v["expected_close_date"].as_str().and_then(|s| dealflow_core::time::Date::parse(s).ok());
    then.title = v["title"].as_str().map_or_else(|| deal.title.clone(), str::to_string);
    Ok(then)
}

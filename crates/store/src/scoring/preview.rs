//! The model editor's live counts: over the open deals a model covers (the
//! newest [`PREVIEW_DEALS`]), how many each rule of the draft matches now,
//! and the score distribution over the bands that the draft would give,
//! next to the one the published version gives. Computed from the facts
//! as they stand, with the same pure functions the ledger uses.

use super::facts;
use crate::row::*;
use crate::{Store, StoreError};
use dealflow_core::ScoringModelId;
use dealflow_core::playbook::gate::Records;
use dealflow_core::scoring::eval::{Facts, desired};
use dealflow_core::scoring::ledger::{diff, score};
use dealflow_core::scoring::{Group, ModelBody};
use dealflow_core::time::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;

/// Most open deals a preview reads.
pub const PREVIEW_DEALS: i64 = 2_000;

/// How many open deals a rule of the draft matches now.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RuleCount {
    pub rule_id: String,
    pub group: Group,
    /// Deals where it adds points (fit: the condition holds; engagement: at
    /// least one counted fact; question: answered with an answer it scores).
    pub deals: i64,
}

/// Deals per band under the draft and under the published version.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BandCount {
    /// `null`: below every band.
    pub band: Option<String>,
    pub draft: i64,
    pub published: Option<i64>,
}

/// `GET /api/v1/scoring/models/{id}/preview`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Preview {
    /// Open deals read.
    pub deals: i64,
    /// Whether more open deals exist than were read.
    pub sampled: bool,
    pub rules: Vec<RuleCount>,
    pub bands: Vec<BandCount>,
    pub draft_mean: Option<f64>,
    pub published_mean: Option<f64>,
}

impl Store {
    /// The live counts of a model's draft (see the module docs).
    pub async fn scoring_preview(&self, id: ScoringModelId) -> Result<Preview, StoreError> {
        self.scoring_preview_of(id, None).await
    }

    /// The live counts of `body` in place of the saved draft: an edit not
    /// saved yet, checked as saving would check it (an invalid body is the
    /// same 422, a rule without an id gets the id saving would give it).
    /// Without a body, the saved draft's.
    pub async fn scoring_preview_of(
        &self,
        id: ScoringModelId,
        body: Option<&ModelBody>,
    ) -> Result<Preview, StoreError> {
        let mut m = self.scoring_model(id).await?;
        let mut tx = self.snapshot().await?;
        if let Some(b) = body {
            m.draft = super::check(&mut tx, m.pipeline_id, b).await?;
        }
        let scope = m.pipeline_id.map_or(String::new(), |p| format!(" AND pipeline_id = {}", p.0));
        let sql = format!(
            "SELECT * FROM deals WHERE status = 'open' AND deleted_at IS NULL{scope} ORDER BY id DESC LIMIT {}",
            PREVIEW_DEALS + 1
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *tx).await?;
        let sampled = rows.len() as i64 > PREVIEW_DEALS;
        let deals: Vec<_> = rows.iter().take(PREVIEW_DEALS as usize).map(crate::deals::from_row).collect::<R<_>>()?;
        // One read of the facts serves both bodies: it loads what any rule
        // of either looks at.
        let mut both = m.draft.clone();
        if let Some(p) = &m.published {
            both.rules.extend(p.rules.iter().cloned());
        }
        let now = Timestamp::now();
        let mut matches: BTreeMap<String, i64> = BTreeMap::new();
        let (mut draft_scores, mut published_scores) = (Vec::new(), Vec::new());
        let mut loaded = Vec::with_capacity(deals.len());
        for chunk in deals.chunks(500) {
            let want: Vec<_> = chunk.iter().map(|d| (d, None)).collect();
            loaded.extend(facts::load_many(&mut tx, &want, &both).await?);
        }
        for (d, loaded) in deals.iter().zip(&loaded) {
            let f = Facts {
                records: Records {
                    deal: d,
                    person: loaded.person.as_ref(),
                    organization: loaded.organization.as_ref(),
                },
                answers: &loaded.answers,
                events: &loaded.events,
            };
            let want = desired(&m.draft, &f);
            let mut hit: Vec<&str> = want.iter().filter(|w| w.points != 0.0).map(|w| w.rule_id.as_str()).collect();
            hit.dedup();
            for r in hit {
                *matches.entry(r.to_string()).or_default() += 1;
            }
            draft_scores.push(score(&m.draft, &diff(&[], &want, now), now).total);
            if let Some(p) = &m.published {
                published_scores.push(score(p, &diff(&[], &desired(p, &f), now), now).total);
            }
        }
        tx.commit().await?;
        let rules = m
            .draft
            .rules
            .iter()
            .map(|r| RuleCount {
                rule_id: r.id().to_string(),
                group: r.group,
                deals: matches.get(r.id()).copied().unwrap_or(0),
            })
            .collect();
        let bands = bands(&m.draft, m.published.as_ref(), &draft_scores, &published_scores);
        let mean = |xs: &[f64]| {
            (!xs.is_empty()).then(|| dealflow_core::scoring::round2(xs.iter().sum::<f64>() / xs.len() as f64))
        };
        Ok(Preview {
            deals: deals.len() as i64,
            sampled,
            rules,
            bands,
            draft_mean: mean(&draft_scores),
            published_mean: m.published.as_ref().and(mean(&published_scores)),
        })
    }
}

/// The draft's bands (highest first, then "below every band"), each with
/// its count under the draft and under the published version's own bands
/// of the same name.
fn bands(draft: &ModelBody, published: Option<&ModelBody>, d: &[f64], p: &[f64]) -> Vec<BandCount> {
    let mut names: Vec<(Option<String>, f64)> = draft.bands.iter().map(|b| (Some(b.name.clone()), b.min)).collect();
    names.sort_by(|a, b| b.1.total_cmp(&a.1));
    names.push((None, f64::MIN));
    names
        .into_iter()
        .map(|(name, _)| {
            let count = |body: &ModelBody, xs: &[f64]| {
                xs.iter().filter(|x| body.band(**x).map(str::to_string) == name).count() as i64
            };
            BandCount { draft: count(draft, d), published: published.map(|b| count(b, p)), band: name }
        })
        .collect()
}

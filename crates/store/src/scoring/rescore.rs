//! Work the score does in the background: rescoring every open deal after
//! a publish (in batches, progress on the model), losing a deal whose
//! score disqualified it when the model says `lose`, and the hourly sweep
//! that finds decay carrying a score across a threshold.

use super::Published;
use super::sync::{entries, refresh_with, settle};
use crate::jobs::{NewJob, enqueue_in};
use crate::row::*;
use crate::{Actor, Store, StoreError, Tx};
use dealflow_core::model::{DealPatch, DealStatus};
use dealflow_core::scoring::ledger::score;
use dealflow_core::time::Timestamp;
use dealflow_core::{DealId, PipelineId};
use serde_json::json;

/// The job that rescores the open deals of a published model version.
pub const RESCORE_JOB: &str = "scoring.rescore";
/// The job that loses a deal its score disqualified (`disqualify_action: lose`).
pub const LOSE_JOB: &str = "scoring.lose";
/// Deals rescored per transaction.
const BATCH: i64 = 200;

/// The open deals a model of `pipeline` (all pipelines when `None`) scores.
fn scope(pipeline: Option<PipelineId>) -> String {
    match pipeline {
        Some(p) => format!("d.pipeline_id = {}", p.0),
        None => "d.pipeline_id NOT IN (SELECT pipeline_id FROM scoring_models WHERE deleted_at IS NULL
                 AND published_version IS NOT NULL AND pipeline_id IS NOT NULL)"
            .to_string(),
    }
}

pub(crate) async fn count_open(tx: &mut Tx, pipeline: Option<PipelineId>) -> Result<i64, StoreError> {
    let sql = format!(
        "SELECT COUNT(*) FROM deals d WHERE d.status = 'open' AND d.deleted_at IS NULL AND {}",
        scope(pipeline)
    );
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(&mut **tx).await?)
}

pub(crate) async fn schedule(tx: &mut Tx, model: i64, version: i64, now: Timestamp) -> Result<(), StoreError> {
    let mut job = NewJob::new(RESCORE_JOB, json!({"model_id": model.to_string(), "version": version}), now);
    job.dedupe_key = Some(format!("{RESCORE_JOB}:{model}:{version}"));
    enqueue_in(tx, &job, now).await?;
    Ok(())
}

/// Schedules a rescore by every published model (after an import). A
/// deal is rescored when its ledger does not follow the version yet, so
/// deals the import changed are caught by the refresh this also forces.
pub(crate) async fn schedule_all(tx: &mut Tx, now: Timestamp) -> Result<(), StoreError> {
    let rows = sqlx::query(
        "SELECT id, published_version FROM scoring_models WHERE deleted_at IS NULL AND published_version IS NOT NULL",
    )
    .fetch_all(&mut **tx)
    .await?;
    for r in &rows {
        let (model, version) = (i64_(r, "id")?, i64_(r, "published_version")?);
        let mut job =
            NewJob::new(RESCORE_JOB, json!({"model_id": model.to_string(), "version": version, "all": true}), now);
        job.dedupe_key = Some(format!("{RESCORE_JOB}:{model}:{version}:{}", now.0));
        enqueue_in(tx, &job, now).await?;
    }
    Ok(())
}

pub(crate) async fn schedule_lose(tx: &mut Tx, deal: DealId, now: Timestamp) -> Result<(), StoreError> {
    let mut job = NewJob::new(LOSE_JOB, json!({"deal_id": deal.to_string()}), now);
    job.deal_id = Some(deal);
    enqueue_in(tx, &job, now).await?;
    Ok(())
}

impl Store {
    /// Rescores the next batch of open deals (ids above `after`) under a
    /// published version: those whose ledger does not follow it yet, or
    /// every one with `all` (after an import). The id to continue after,
    /// or `None` when none is left (or the version was superseded). Each
    /// batch is its own transaction, so writes go on meanwhile.
    pub async fn rescore_batch(
        &self,
        model: i64,
        version: i64,
        all: bool,
        after: i64,
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = self.write().await?;
        let row = sqlx::query(
            "SELECT m.pipeline_id, v.body FROM scoring_models m
             JOIN scoring_model_versions v ON v.model_id = m.id AND v.number = m.published_version
             WHERE m.id = $1 AND m.published_version = $2 AND m.deleted_at IS NULL",
        )
        .bind(model)
        .bind(version)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let pipeline = opt_i64(&row, "pipeline_id")?.map(PipelineId);
        let published = Published { model_id: model, version, body: json(&row, "body")? };
        let sql = format!(
            "SELECT d.* FROM deals d LEFT JOIN deal_scores s ON s.deal_id = d.id
             WHERE d.status = 'open' AND d.deleted_at IS NULL AND d.id > $3 AND {}
               AND ($4 = 1 OR s.id IS NULL OR s.model_id <> $1 OR s.model_version <> $2)
             ORDER BY d.id LIMIT {BATCH}",
            scope(pipeline)
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(model)
            .bind(version)
            .bind(after)
            .bind(i64::from(all))
            .fetch_all(&mut *tx)
            .await?;
        let actor = Actor::system();
        let mut last = after;
        for r in &rows {
            let deal = crate::deals::from_row(r)?;
            refresh_with(&mut tx, &actor, &deal, &published).await?;
            last = deal.id.0;
        }
        let finished = (rows.len() as i64) < BATCH;
        if !all {
            let progress = if finished {
                "UPDATE scoring_models SET rescore_done = rescore_total WHERE id = $1 AND $2 >= 0"
            } else {
                "UPDATE scoring_models SET rescore_done = rescore_done + $2 WHERE id = $1"
            };
            sqlx::query(progress).bind(model).bind(rows.len() as i64).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok((!finished).then_some(last))
    }

    /// Loses a deal its score disqualified, through the same path as every
    /// deal change; a deal no longer open or no longer flagged is left.
    pub async fn lose_disqualified(&self, deal: DealId) -> Result<bool, StoreError> {
        let cur = self.deal(deal).await?;
        let flagged: Option<i64> = sqlx::query_scalar("SELECT disqualified FROM deal_scores WHERE deal_id = $1")
            .bind(deal.0)
            .fetch_optional(self.pool())
            .await?;
        if cur.status != DealStatus::Open || flagged != Some(1) {
            return Ok(false);
        }
        let patch = DealPatch {
            version: cur.version,
            status: Some(DealStatus::Lost),
            lost_reason: Some(dealflow_core::scoring::DISQUALIFIED_REASON.to_string()),
            ..Default::default()
        };
        self.update_deal(&Actor::system(), deal, patch).await?;
        Ok(true)
    }

    /// Re-reads the score of every open scored deal whose model decays,
    /// so a threshold that decay crossed fires. Runs hourly, in batches.
    pub async fn sweep_score_decay(&self, now: Timestamp) -> Result<u64, StoreError> {
        let mut after = 0i64;
        let mut swept = 0u64;
        loop {
            let mut tx = self.write().await?;
            let rows = sqlx::query(
                "SELECT d.*, s.model_id AS s_model, s.model_version AS s_version, v.body AS s_body
                 FROM deal_scores s JOIN deals d ON d.id = s.deal_id
                 JOIN scoring_models m ON m.id = s.model_id AND m.published_version = s.model_version
                   AND m.deleted_at IS NULL
                 JOIN scoring_model_versions v ON v.model_id = s.model_id AND v.number = s.model_version
                 WHERE d.status = 'open' AND d.deleted_at IS NULL AND d.id > $1 AND v.body LIKE '%half_life_days%'
                 ORDER BY d.id LIMIT 500",
            )
            .bind(after)
            .fetch_all(&mut *tx)
            .await?;
            let actor = Actor { now, ..Actor::system() };
            for r in &rows {
                let deal = crate::deals::from_row(r)?;
                let m = Published {
                    model_id: i64_(r, "s_model")?,
                    version: i64_(r, "s_version")?,
                    body: json(r, "s_body")?,
                };
                let ledger = entries(&mut tx, deal.id, m.model_id, m.version).await?;
                settle(&mut tx, &actor, &deal, &m, &score(&m.body, &ledger, now)).await?;
                after = deal.id.0;
                swept += 1;
            }
            tx.commit().await?;
            if rows.len() < 500 {
                return Ok(swept);
            }
        }
    }
}

//! Pipelines and their stages.

use crate::row::*;
use crate::{Actor, Store, StoreError, Tx};
use dealflow_core::limits;
use dealflow_core::model::{
    DEFAULT_PIPELINE, ForecastSource, Milestone, NewPipeline, NewStage, Pipeline, PipelinePatch, Stage, StagePatch,
};
use dealflow_core::validate::{int_range, percent, required_text};
use dealflow_core::{Invalid, PipelineId, StageId};
use sqlx::any::AnyRow;

pub(crate) async fn insert_default(tx: &mut Tx) -> Result<(), StoreError> {
    let (name, stages) = DEFAULT_PIPELINE;
    let p = NewPipeline {
        name: name.to_string(),
        stages: stages
            .iter()
            .map(|(n, m)| NewStage {
                name: n.to_string(),
                position: None,
                probability: None,
                rotting_days: None,
                milestone: *m,
            })
            .collect(),
    };
    insert_pipeline(tx, &p, dealflow_core::time::Timestamp::now().0).await?;
    Ok(())
}

pub(crate) fn stage_from_row(r: &AnyRow) -> R<Stage> {
    Ok(Stage {
        id: StageId(i64_(r, "id")?),
        pipeline_id: PipelineId(i64_(r, "pipeline_id")?),
        name: text(r, "name")?,
        position: i64_(r, "position")?,
        probability: opt_i64(r, "probability")?,
        rotting_days: opt_i64(r, "rotting_days")?,
        milestone: opt_enum(r, "milestone", Milestone::parse)?,
        archived: bool_(r, "archived")?,
        version: i64_(r, "version")?,
    })
}

fn pipeline_from_row(r: &AnyRow, stages: Vec<Stage>) -> R<Pipeline> {
    Ok(Pipeline {
        id: PipelineId(i64_(r, "id")?),
        name: text(r, "name")?,
        position: i64_(r, "position")?,
        archived: bool_(r, "archived")?,
        no_skipping_stages: bool_(r, "no_skipping_stages")?,
        forecast_source: enum_(r, "forecast_source", ForecastSource::parse)?,
        audit_weekday: opt_i64(r, "audit_weekday")?,
        audit_time: opt_text(r, "audit_time")?,
        audit_no_contact_days: i64_(r, "audit_no_contact_days")?,
        stages,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        version: i64_(r, "version")?,
    })
}

/// A pipeline with its stages, read inside a transaction (for its audit entry).
async fn pipeline_in(tx: &mut Tx, id: PipelineId) -> Result<Pipeline, StoreError> {
    let r = sqlx::query("SELECT * FROM pipelines WHERE id = $1")
        .bind(id.0)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("pipeline", id))?;
    let stages = stages_of(tx, id).await?;
    Ok(pipeline_from_row(&r, stages)?)
}

fn check_stage(s: &NewStage) -> Result<(), Invalid> {
    let mut e = Invalid::new();
    e.take(required_text("name", &s.name, 100));
    if let Some(p) = s.probability {
        e.take(percent("probability", p));
    }
    if let Some(d) = s.rotting_days {
        e.take(int_range("rotting_days", d, 1, 3650));
    }
    e.into_result()
}

/// Stages of one pipeline, in order, read inside a transaction.
pub(crate) async fn stages_of(tx: &mut Tx, pipeline: PipelineId) -> Result<Vec<Stage>, StoreError> {
    let rows = sqlx::query("SELECT * FROM stages WHERE pipeline_id = $1 ORDER BY position, id")
        .bind(pipeline.0)
        .fetch_all(&mut **tx)
        .await?;
    Ok(rows.iter().map(stage_from_row).collect::<R<_>>()?)
}

/// Whether the pipeline exists, and if so whether it is archived.
pub(crate) async fn pipeline_archived(tx: &mut Tx, id: PipelineId) -> Result<Option<bool>, StoreError> {
    let v: Option<i64> =
        sqlx::query_scalar("SELECT archived FROM pipelines WHERE id = $1").bind(id.0).fetch_optional(&mut **tx).await?;
    Ok(v.map(|a| a != 0))
}

pub(crate) async fn insert_pipeline(tx: &mut Tx, p: &NewPipeline, now: i64) -> Result<PipelineId, StoreError> {
    let mut errs = Invalid::new();
    errs.take(required_text("name", &p.name, 100));
    if p.stages.is_empty() {
        errs.add("stages", "a pipeline needs at least one stage");
    }
    if p.stages.len() as i64 > limits::MAX_STAGES {
        errs.take::<()>(Err(limits::full("stages", "stages", limits::MAX_STAGES)));
    }
    for (i, s) in p.stages.iter().enumerate() {
        if let Err(e) = check_stage(s) {
            for fe in e.0 {
                errs.add(format!("stages[{i}].{}", fe.field), fe.message);
            }
        }
    }
    errs.into_result()?;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pipelines").fetch_one(&mut **tx).await?;
    if count >= limits::MAX_PIPELINES {
        return Err(limits::full("pipelines", "pipelines", limits::MAX_PIPELINES).into());
    }
    let position: i64 = sqlx::query_scalar("SELECT CAST(COALESCE(MAX(position), -1) + 1 AS BIGINT) FROM pipelines")
        .fetch_one(&mut **tx)
        .await?;
    let id = PipelineId::new();
    sqlx::query(
        "INSERT INTO pipelines (id, name, position, archived, created_at, updated_at, version) VALUES ($1, $2, $3, 0, $4, $4, 1)",
    )
    .bind(id.0)
    .bind(p.name.trim().to_string())
    .bind(position)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    for (i, s) in p.stages.iter().enumerate() {
        insert_stage(tx, id, s, i as i64, now).await?;
    }
    Ok(id)
}

async fn insert_stage(
    tx: &mut Tx,
    pipeline: PipelineId,
    s: &NewStage,
    position: i64,
    now: i64,
) -> Result<StageId, StoreError> {
    let id = StageId::new();
    sqlx::query(
        "INSERT INTO stages (id, pipeline_id, name, position, probability, rotting_days, milestone, archived, created_at, updated_at, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $8, 1)",
    )
    .bind(id.0)
    .bind(pipeline.0)
    .bind(s.name.trim().to_string())
    .bind(position)
    .bind(s.probability)
    .bind(s.rotting_days)
    .bind(s.milestone.map(|m| m.as_str().to_string()))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

/// Rewrites stage positions 0..n in the given order.
async fn renumber(tx: &mut Tx, order: &[StageId]) -> Result<(), StoreError> {
    for (i, id) in order.iter().enumerate() {
        sqlx::query("UPDATE stages SET position = $1 WHERE id = $2 AND position <> $1")
            .bind(i as i64)
            .bind(id.0)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

impl Store {
    /// All pipelines with their stages, in order.
    pub async fn pipelines(&self) -> Result<Vec<Pipeline>, StoreError> {
        let prow = sqlx::query("SELECT * FROM pipelines ORDER BY position, id").fetch_all(self.pool()).await?;
        let srows =
            sqlx::query("SELECT * FROM stages ORDER BY pipeline_id, position, id").fetch_all(self.pool()).await?;
        let stages: Vec<Stage> = srows.iter().map(stage_from_row).collect::<R<_>>()?;
        let mut out = Vec::with_capacity(prow.len());
        for r in &prow {
            let id = PipelineId(i64_(r, "id")?);
            let st = stages.iter().filter(|s| s.pipeline_id == id).cloned().collect();
            out.push(pipeline_from_row(r, st)?);
        }
        Ok(out)
    }

    pub async fn pipeline(&self, id: PipelineId) -> Result<Pipeline, StoreError> {
        let r = sqlx::query("SELECT * FROM pipelines WHERE id = $1")
            .bind(id.0)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found("pipeline", id))?;
        let srows = sqlx::query("SELECT * FROM stages WHERE pipeline_id = $1 ORDER BY position, id")
            .bind(id.0)
            .fetch_all(self.pool())
            .await?;
        let stages = srows.iter().map(stage_from_row).collect::<R<_>>()?;
        Ok(pipeline_from_row(&r, stages)?)
    }

    pub async fn stage(&self, id: StageId) -> Result<Stage, StoreError> {
        crate::records::load(self.pool(), "stages", "stage", id.0, stage_from_row).await
    }

    #[tracing::instrument(skip_all)]
    pub async fn create_pipeline(&self, actor: &Actor, p: NewPipeline) -> Result<Pipeline, StoreError> {
        let mut tx = self.write().await?;
        let id = insert_pipeline(&mut tx, &p, actor.now.0).await?;
        let after = pipeline_in(&mut tx, id).await?;
        crate::audit::created(&mut tx, actor, "pipeline", id.0, &after).await?;
        tx.commit().await?;
        Ok(after)
    }

    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn update_pipeline(
        &self,
        actor: &Actor,
        id: PipelineId,
        p: PipelinePatch,
    ) -> Result<Pipeline, StoreError> {
        let mut errs = Invalid::new();
        let name = p.name.as_deref().and_then(|n| errs.take(required_text("name", n, 100)));
        if let Some(Some(d)) = p.audit_weekday {
            errs.take(int_range("audit_weekday", d, 1, 7));
        }
        if let Some(Some(t)) = &p.audit_time
            && chrono::NaiveTime::parse_from_str(t, "%H:%M").is_err()
        {
            errs.add("audit_time", format!("`{t}` is not a time; write it as HH:MM, e.g. 09:30"));
        }
        if let Some(d) = p.audit_no_contact_days {
            errs.take(int_range("audit_no_contact_days", d, 1, 365));
        }
        errs.into_result()?;
        let mut tx = self.write().await?;
        let before = pipeline_in(&mut tx, id).await?;
        crate::records::check_version(before.version, p.version)?;
        // A new day or time starts the schedule afresh: slots before it are
        // not made. Saving the same values again changes nothing.
        let schedule_changed = p.audit_weekday.is_some_and(|w| w != before.audit_weekday)
            || p.audit_time.as_ref().is_some_and(|t| *t != before.audit_time);
        sqlx::query(
            "UPDATE pipelines SET name = COALESCE($1, name), position = COALESCE($2, position),
             archived = COALESCE($3, archived), updated_at = $4, version = version + 1,
             no_skipping_stages = COALESCE($6, no_skipping_stages),
             forecast_source = COALESCE($7, forecast_source),
             audit_weekday = CASE WHEN $8 = 1 THEN $9 ELSE audit_weekday END,
             audit_time = CASE WHEN $10 = 1 THEN $11 ELSE audit_time END,
             audit_no_contact_days = COALESCE($12, audit_no_contact_days),
             audit_schedule_from = CASE WHEN $13 = 1 THEN $4 ELSE audit_schedule_from END WHERE id = $5",
        )
        .bind(name)
        .bind(p.position)
        .bind(p.archived.map(b))
        .bind(actor.now.0)
        .bind(id.0)
        .bind(p.no_skipping_stages.map(b))
        .bind(p.forecast_source.map(ForecastSource::as_str))
        .bind(i64::from(p.audit_weekday.is_some()))
        .bind(p.audit_weekday.flatten())
        .bind(i64::from(p.audit_time.is_some()))
        .bind(p.audit_time.clone().flatten())
        .bind(p.audit_no_contact_days)
        .bind(i64::from(schedule_changed))
        .execute(&mut *tx)
        .await?;
        let after = pipeline_in(&mut tx, id).await?;
        crate::audit::updated(&mut tx, actor, "pipeline", id.0, &before, &after).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Adds a stage at `position` (the end when absent), shifting later ones.
    #[tracing::instrument(skip_all)]
    pub async fn add_stage(&self, actor: &Actor, pipeline: PipelineId, s: NewStage) -> Result<Stage, StoreError> {
        check_stage(&s)?;
        let mut tx = self.write().await?;
        if pipeline_archived(&mut tx, pipeline).await?.is_none() {
            return Err(StoreError::not_found("pipeline", pipeline));
        }
        let mut order: Vec<StageId> = stages_of(&mut tx, pipeline).await?.iter().map(|s| s.id).collect();
        if order.len() as i64 >= limits::MAX_STAGES {
            return Err(limits::full("stages", "stages", limits::MAX_STAGES).into());
        }
        let at = s.position.map(|p| p.clamp(0, order.len() as i64) as usize).unwrap_or(order.len());
        let id = insert_stage(&mut tx, pipeline, &s, at as i64, actor.now.0).await?;
        order.insert(at, id);
        renumber(&mut tx, &order).await?;
        // A stage in the middle changes which stages the deals reached.
        crate::projections::refresh_pipeline(&mut tx, pipeline.0).await?;
        let after = crate::records::load(&mut *tx, "stages", "stage", id.0, stage_from_row).await?;
        crate::audit::created(&mut tx, actor, "stage", id.0, &after).await?;
        tx.commit().await?;
        Ok(after)
    }

    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn update_stage(&self, actor: &Actor, id: StageId, p: StagePatch) -> Result<Stage, StoreError> {
        let mut errs = Invalid::new();
        let name = p.name.as_deref().and_then(|n| errs.take(required_text("name", n, 100)));
        if let Some(Some(pr)) = p.probability {
            errs.take(percent("probability", pr));
        }
        if let Some(Some(d)) = p.rotting_days {
            errs.take(int_range("rotting_days", d, 1, 3650));
        }
        errs.into_result()?;
        let mut tx = self.write().await?;
        let cur = sqlx::query("SELECT * FROM stages WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found("stage", id))?;
        let cur = stage_from_row(&cur)?;
        let before = cur.clone();
        crate::records::check_version(cur.version, p.version)?;
        sqlx::query(
            "UPDATE stages SET name = $1, probability = $2, rotting_days = $3, milestone = $4, archived = $5,
             updated_at = $6, version = version + 1 WHERE id = $7",
        )
        .bind(name.unwrap_or(cur.name))
        .bind(p.probability.unwrap_or(cur.probability))
        .bind(p.rotting_days.unwrap_or(cur.rotting_days))
        .bind(p.milestone.unwrap_or(cur.milestone).map(|m| m.as_str().to_string()))
        .bind(b(p.archived.unwrap_or(cur.archived)))
        .bind(actor.now.0)
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        if let Some(pos) = p.position {
            let mut order: Vec<StageId> =
                stages_of(&mut tx, cur.pipeline_id).await?.iter().map(|s| s.id).filter(|s| *s != id).collect();
            order.insert(pos.clamp(0, order.len() as i64) as usize, id);
            renumber(&mut tx, &order).await?;
        }
        // Order and milestones decide reach counts and reach times.
        if p.position.is_some() || p.milestone.is_some_and(|m| m != cur.milestone) {
            crate::projections::refresh_pipeline(&mut tx, cur.pipeline_id.0).await?;
        }
        let after = crate::records::load(&mut *tx, "stages", "stage", id.0, stage_from_row).await?;
        crate::audit::updated(&mut tx, actor, "stage", id.0, &before, &after).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes a stage no deal has ever been in; otherwise asks to archive it.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn delete_stage(&self, actor: &Actor, id: StageId) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let used: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM stage_events WHERE stage_id = $1 OR from_stage_id = $1",
        )
        .bind(id.0)
        .fetch_one(&mut *tx)
        .await?;
        if used > 0 {
            return Err(StoreError::InUse(
                "deals have been in this stage, so its history needs it; archive it instead".into(),
            ));
        }
        let pipeline: Option<i64> = sqlx::query_scalar("SELECT pipeline_id FROM stages WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(p) = pipeline {
            // A pipeline without stages could hold no deal; it is archived instead.
            let active: i64 = sqlx::query_scalar(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM stages WHERE pipeline_id = $1 AND archived = 0 AND id <> $2",
            )
            .bind(p)
            .bind(id.0)
            .fetch_one(&mut *tx)
            .await?;
            if active == 0 {
                return Err(StoreError::invalid(
                    "stage_id",
                    "this is the pipeline's last active stage; add another stage first, or archive the pipeline",
                ));
            }
        }
        // No deal was ever in the stage, so no deal has a state of its
        // steps: its playbook (a new workspace's "Demo booked" has one) goes
        // with it rather than holding it by its foreign key.
        sqlx::query("DELETE FROM playbook_steps WHERE stage_id = $1").bind(id.0).execute(&mut *tx).await?;
        let n = sqlx::query("DELETE FROM stages WHERE id = $1").bind(id.0).execute(&mut *tx).await?;
        let Some(pipeline) = pipeline.filter(|_| n.rows_affected() > 0) else {
            return Err(StoreError::not_found("stage", id));
        };
        // Deals that skipped over the stage no longer count it as reached.
        crate::projections::refresh_pipeline(&mut tx, pipeline).await?;
        crate::audit::deleted(&mut tx, actor, "stage", "delete", id.0).await?;
        tx.commit().await?;
        Ok(())
    }
}

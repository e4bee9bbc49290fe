//! Playbook steps per stage: their storage, their editing (validated by
//! `core::playbook`), and what the stage gate reads (see
//! [`gate::facts`]). The per-deal checklist — the state rows made when a
//! deal enters a stage, the tasks they make, the ticks — is in
//! [`checklist`]; the playbook a new workspace starts with in [`defaults`].

pub(crate) mod checklist;
pub(crate) mod defaults;
pub(crate) mod gate;
pub(crate) mod mail;
mod overdue;
mod preview;
mod progress;
mod skip;
mod ticks;

pub use mail::{EMAIL_JOB, EmailPlan, Outgoing};
pub use overdue::OVERDUE_SETTLE_MS;

use crate::custom_fields;
use crate::row::*;
use crate::{Actor, Store, StoreError, Tx};
use dealflow_core::playbook::{
    Due, DueAnchor, FieldOp, Refs, SendMode, Step, StepKind, StepSpec, Template, check_spec,
};
use dealflow_core::{CampaignId, Invalid, StageId, StepId};
use serde_json::Value;
use sqlx::any::AnyRow;

/// The most steps one stage may carry, so a checklist stays readable and
/// the gate's read stays small.
pub const MAX_STEPS_PER_STAGE: i64 = 50;

pub(crate) fn step_from_row(r: &AnyRow) -> R<Step> {
    let template = match (opt_text(r, "template_subject")?, opt_text(r, "template_body")?) {
        (Some(subject), Some(body)) => Some(Template { subject, body }),
        _ => None,
    };
    let due = opt_enum(r, "due_anchor", DueAnchor::parse)?.map(|anchor| -> R<Due> {
        Ok(Due {
            anchor,
            offset_minutes: opt_i64(r, "due_offset_minutes")?,
            offset_working_days: opt_i64(r, "due_offset_working_days")?,
        })
    });
    let value = match opt_text(r, "value")? {
        Some(s) => Some(serde_json::from_str::<Value>(&s).map_err(|e| decode_err("value", e))?),
        None => None,
    };
    Ok(Step {
        id: StepId(i64_(r, "id")?),
        stage_id: StageId(i64_(r, "stage_id")?),
        position: i64_(r, "position")?,
        spec: StepSpec {
            title: text(r, "title")?,
            description: opt_text(r, "description")?,
            required: bool_(r, "required")?,
            kind: enum_(r, "kind", StepKind::parse)?,
            send: opt_enum(r, "send", SendMode::parse)?,
            template,
            due: due.transpose()?,
            field: opt_text(r, "field")?,
            op: opt_enum(r, "op", FieldOp::parse)?,
            value,
            activity_kind: opt_enum(r, "activity_kind", dealflow_core::model::ActivityKind::parse)?,
            campaign_id: opt_i64(r, "campaign_id")?.map(CampaignId),
        },
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        version: i64_(r, "version")?,
    })
}

/// The live steps of a stage, in order.
pub(crate) async fn steps_in(tx: &mut Tx, stage: StageId) -> Result<Vec<Step>, StoreError> {
    let rows =
        sqlx::query("SELECT * FROM playbook_steps WHERE stage_id = $1 AND deleted_at IS NULL ORDER BY position, id")
            .bind(stage.0)
            .fetch_all(&mut **tx)
            .await?;
    Ok(rows.iter().map(step_from_row).collect::<R<_>>()?)
}

/// Validates `spec` against the workspace's custom fields and campaigns.
async fn checked(tx: &mut Tx, spec: &StepSpec) -> Result<StepSpec, StoreError> {
    let [deal_fields, person_fields, organization_fields] = custom_fields::defs_of_all(tx).await?;
    let campaign_exists = crate::campaigns::exists(tx, spec.campaign_id).await?;
    let refs = Refs {
        deal_fields: &deal_fields,
        person_fields: &person_fields,
        organization_fields: &organization_fields,
        campaign_exists,
    };
    Ok(check_spec(spec, &refs)?)
}

/// Binds the spec's columns `$1`…`$14` in the order both statements use.
fn bind_spec<'q>(q: AnyQuery<'q>, s: &StepSpec) -> AnyQuery<'q> {
    q.bind(s.title.clone())
        .bind(s.description.clone())
        .bind(b(s.required))
        .bind(s.kind.as_str().to_string())
        .bind(s.send.map(|x| x.as_str().to_string()))
        .bind(s.template.as_ref().map(|t| t.subject.clone()))
        .bind(s.template.as_ref().map(|t| t.body.clone()))
        .bind(s.due.as_ref().map(|d| d.anchor.as_str().to_string()))
        .bind(s.due.as_ref().and_then(|d| d.offset_minutes))
        .bind(s.due.as_ref().and_then(|d| d.offset_working_days))
        .bind(s.field.clone())
        .bind(s.op.map(|x| x.as_str().to_string()))
        .bind(s.value.as_ref().map(Value::to_string))
        .bind(s.activity_kind.map(|x| x.as_str().to_string()))
        .bind(s.campaign_id.map(|c| c.0))
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

impl Store {
    /// The live steps of a stage, in order; 404 for an unknown stage.
    pub async fn stage_steps(&self, stage: StageId) -> Result<Vec<Step>, StoreError> {
        sqlx::query_scalar::<_, i64>("SELECT id FROM stages WHERE id = $1")
            .bind(stage.0)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found("stage", stage))?;
        let rows = sqlx::query(
            "SELECT * FROM playbook_steps WHERE stage_id = $1 AND deleted_at IS NULL ORDER BY position, id",
        )
        .bind(stage.0)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(step_from_row).collect::<R<_>>()?)
    }

    /// One live step.
    pub async fn step(&self, id: StepId) -> Result<Step, StoreError> {
        let row = sqlx::query("SELECT * FROM playbook_steps WHERE id = $1 AND deleted_at IS NULL")
            .bind(id.0)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found("step", id))?;
        Ok(step_from_row(&row)?)
    }

    /// Appends a step to a stage's checklist.
    #[tracing::instrument(skip_all, fields(stage = %stage))]
    pub async fn create_step(&self, actor: &Actor, stage: StageId, spec: StepSpec) -> Result<Step, StoreError> {
        let mut tx = self.write().await?;
        stage_exists(&mut tx, stage).await?;
        let spec = checked(&mut tx, &spec).await?;
        let (count, next): (i64, i64) = sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT), CAST(COALESCE(MAX(position), -1) + 1 AS BIGINT)
             FROM playbook_steps WHERE stage_id = $1 AND deleted_at IS NULL",
        )
        .bind(stage.0)
        .fetch_one(&mut *tx)
        .await?;
        if count >= MAX_STEPS_PER_STAGE {
            return Err(dealflow_core::limits::full("steps", "steps in a stage", MAX_STEPS_PER_STAGE).into());
        }
        let id = StepId::new();
        let q = sqlx::query(
            "INSERT INTO playbook_steps (title, description, required, kind, send, template_subject, template_body,
              due_anchor, due_offset_minutes, due_offset_working_days, field, op, value, activity_kind, campaign_id,
              id, stage_id, position, created_at, updated_at, version, deleted_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19, 1, NULL)",
        );
        bind_spec(q, &spec).bind(id.0).bind(stage.0).bind(next).bind(actor.now.0).execute(&mut *tx).await?;
        let step = step_in(&mut tx, id).await?;
        checklist::step_added(&mut tx, actor, &step).await?;
        crate::audit::created(&mut tx, actor, "step", id.0, &spec).await?;
        tx.commit().await?;
        self.step(id).await
    }

    /// Changes a step: `patch` holds `version` and any step properties; the
    /// properties it names replace the stored ones (`null` clears one) and
    /// the whole step is validated again. `position` reorders.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn update_step(&self, actor: &Actor, id: StepId, patch: &Value) -> Result<Step, StoreError> {
        let Some(obj) = patch.as_object() else {
            return Err(Invalid::one("body", "send a JSON object with `version` and the properties to change").into());
        };
        let Some(version) = obj.get("version").and_then(Value::as_i64) else {
            return Err(Invalid::one("version", "is required: the step's version you last read").into());
        };
        let mut tx = self.write().await?;
        let cur = step_in(&mut tx, id).await?;
        crate::records::check_version(cur.version, version)?;
        let mut merged = serde_json::to_value(&cur.spec).map_err(|e| StoreError::Config(e.to_string()))?;
        let mut position = cur.position;
        for (k, v) in obj {
            match k.as_str() {
                "version" => {}
                "position" => match v.as_i64() {
                    Some(p) if (0..=10_000).contains(&p) => position = p,
                    _ => return Err(Invalid::one("position", "must be a whole number from 0 to 10000").into()),
                },
                _ => {
                    merged[k] = v.clone();
                }
            }
        }
        let spec: StepSpec = serde_json::from_value(merged).map_err(|e| Invalid::one("body", e.to_string()))?;
        let spec = checked(&mut tx, &spec).await?;
        let q = sqlx::query(
            "UPDATE playbook_steps SET title = $1, description = $2, required = $3, kind = $4, send = $5,
              template_subject = $6, template_body = $7, due_anchor = $8, due_offset_minutes = $9,
              due_offset_working_days = $10, field = $11, op = $12, value = $13, activity_kind = $14,
              campaign_id = $15, position = $16, updated_at = $17, version = version + 1
             WHERE id = $18 AND version = $19",
        );
        let n = bind_spec(q, &spec).bind(position).bind(actor.now.0).bind(id.0).bind(version).execute(&mut *tx).await?;
        if n.rows_affected() == 0 {
            return Err(crate::records::stale(&mut tx, "playbook_steps", id.0).await);
        }
        crate::audit::updated(&mut tx, actor, "step", id.0, &cur.spec, &spec).await?;
        let after = Step { spec, position, ..cur.clone() };
        checklist::step_changed(&mut tx, actor, &cur, &after).await?;
        tx.commit().await?;
        self.step(id).await
    }

    /// Removes a step softly: deals' states and ticks keep pointing at it,
    /// but it no longer shows or gates.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn delete_step(&self, actor: &Actor, id: StepId) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let n = sqlx::query(
            "UPDATE playbook_steps SET deleted_at = $1, updated_at = $1, version = version + 1
             WHERE id = $2 AND deleted_at IS NULL",
        )
        .bind(actor.now.0)
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        if n.rows_affected() == 0 {
            return Err(StoreError::not_found("step", id));
        }
        crate::audit::deleted(&mut tx, actor, "step", "delete", id.0).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// One live step, inside a transaction.
pub(crate) async fn step_in(tx: &mut Tx, id: StepId) -> Result<Step, StoreError> {
    let row = sqlx::query("SELECT * FROM playbook_steps WHERE id = $1 AND deleted_at IS NULL")
        .bind(id.0)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("step", id))?;
    Ok(step_from_row(&row)?)
}

/// 404 unless the stage exists.
async fn stage_exists(tx: &mut Tx, stage: StageId) -> Result<(), StoreError> {
    sqlx::query_scalar::<_, i64>("SELECT id FROM stages WHERE id = $1")
        .bind(stage.0)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("stage", stage))?;
    Ok(())
}

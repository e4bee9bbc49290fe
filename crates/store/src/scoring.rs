//! Lead-scoring models: a draft edited in place (validated by
//! `core::scoring`), published as numbered versions that are kept, and
//! the rescore a publish starts. A deal's ledger, kept current in the
//! transaction of every fact that moves it, is in [`sync`]; reading the
//! score in [`read`]; qualifying answers in [`answers`].

pub mod answers;
pub mod calibration;
pub(crate) mod facts;
pub mod history;
pub mod preview;
pub mod read;
pub mod rescore;
pub(crate) mod sync;

pub use answers::{Answer, NewAnswer};
pub use read::{DealScore, Firing};
pub use rescore::{LOSE_JOB, RESCORE_JOB};

use crate::row::*;
use crate::sql::{ListPage, Page, Sql, fetch_page};
use crate::{Actor, Store, StoreError, Tx};
use dealflow_core::scoring::{ModelBody, Refs, check_model};
use dealflow_core::time::Timestamp;
use dealflow_core::{PipelineId, ScoringModelId, StageId};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;

/// Most models a workspace keeps (one per pipeline and one for all, with
/// room for models being prepared).
pub const MAX_MODELS: i64 = 50;

/// A model as the API shows it: its draft, and the published version
/// deals are scored by.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ScoringModel {
    pub id: ScoringModelId,
    pub name: String,
    /// The pipeline it scores; absent: every pipeline without its own.
    pub pipeline_id: Option<PipelineId>,
    /// The draft, edited by `PATCH`; what `publish` publishes.
    pub draft: ModelBody,
    /// The number of the published version (1, 2, …); absent until the
    /// first publish.
    pub published_version: Option<i64>,
    /// The published version's body.
    pub published: Option<ModelBody>,
    pub published_at: Option<Timestamp>,
    /// The rescore the last publish started: deals done of deals to do.
    pub rescore: RescoreProgress,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// How far a rescore has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RescoreProgress {
    pub done: i64,
    pub total: i64,
    pub finished: bool,
}

/// Body of `POST /api/v1/scoring/models`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewScoringModel {
    pub name: String,
    /// The pipeline it scores; leave it out for every pipeline without a
    /// model of its own.
    pub pipeline_id: Option<PipelineId>,
    #[serde(default, deserialize_with = "dealflow_core::scoring::objects_only")]
    pub rules: Vec<dealflow_core::scoring::Rule>,
    #[serde(default, deserialize_with = "dealflow_core::scoring::object_only")]
    pub thresholds: dealflow_core::scoring::Thresholds,
    #[serde(default, deserialize_with = "dealflow_core::scoring::objects_only")]
    pub bands: Vec<dealflow_core::scoring::Band>,
}

impl NewScoringModel {
    fn body(&self) -> ModelBody {
        ModelBody { rules: self.rules.clone(), thresholds: self.thresholds.clone(), bands: self.bands.clone() }
    }
}

/// Body of `PATCH /api/v1/scoring/models/{id}`: edits the draft.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoringModelPatch {
    pub version: i64,
    pub name: Option<String>,
    #[serde(default, deserialize_with = "dealflow_core::scoring::opt_objects_only")]
    pub rules: Option<Vec<dealflow_core::scoring::Rule>>,
    #[serde(default, deserialize_with = "dealflow_core::scoring::opt_object_only")]
    pub thresholds: Option<dealflow_core::scoring::Thresholds>,
    #[serde(default, deserialize_with = "dealflow_core::scoring::opt_objects_only")]
    pub bands: Option<Vec<dealflow_core::scoring::Band>>,
}

/// A published model, as scoring reads it.
#[derive(Debug, Clone)]
pub(crate) struct Published {
    pub model_id: i64,
    pub version: i64,
    pub body: ModelBody,
}

fn from_row(r: &AnyRow) -> R<ScoringModel> {
    let total = i64_(r, "rescore_total")?;
    let done = i64_(r, "rescore_done")?;
    let published: Option<String> = opt_text(r, "pub_body")?;
    Ok(ScoringModel {
        id: ScoringModelId(i64_(r, "id")?),
        name: text(r, "name")?,
        pipeline_id: opt_i64(r, "pipeline_id")?.map(PipelineId),
        draft: json(r, "draft")?,
        published_version: opt_i64(r, "published_version")?,
        published: published.map(|s| serde_json::from_str(&s).map_err(|e| decode_err("pub_body", e))).transpose()?,
        published_at: opt_ts(r, "pub_at")?,
        rescore: RescoreProgress { done, total, finished: done >= total },
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        version: i64_(r, "version")?,
    })
}

const SELECT: &str = "SELECT m.*, v.body AS pub_body, v.published_at AS pub_at FROM scoring_models m
     LEFT JOIN scoring_model_versions v ON v.model_id = m.id AND v.number = m.published_version
     WHERE m.deleted_at IS NULL";

async fn load(tx: &mut Tx, id: ScoringModelId) -> Result<ScoringModel, StoreError> {
    load_from(&mut **tx, id).await
}

async fn load_from<'e>(
    e: impl sqlx::Executor<'e, Database = sqlx::Any>,
    id: ScoringModelId,
) -> Result<ScoringModel, StoreError> {
    let sql = format!("{SELECT} AND m.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id.0).fetch_optional(e).await?;
    row.as_ref().map(from_row).transpose()?.ok_or_else(|| StoreError::not_found("scoring model", id))
}

/// The published model that scores deals of `pipeline`: its own, else the
/// model of all pipelines; `None` when neither is published.
pub(crate) async fn published_for(tx: &mut Tx, pipeline: PipelineId) -> Result<Option<Published>, StoreError> {
    let row = sqlx::query(
        "SELECT m.id, v.number, v.body FROM scoring_models m
         JOIN scoring_model_versions v ON v.model_id = m.id AND v.number = m.published_version
         WHERE m.deleted_at IS NULL AND (m.pipeline_id = $1 OR m.pipeline_id IS NULL)
         ORDER BY CASE WHEN m.pipeline_id IS NULL THEN 1 ELSE 0 END LIMIT 1",
    )
    .bind(pipeline.0)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(Published { model_id: i64_(&r, "id")?, version: i64_(&r, "number")?, body: json(&r, "body")? }))
}

/// Validates a body against the workspace: its custom fields, the stages
/// of its pipeline (of every pipeline for a model of all), its campaign.
pub(crate) async fn check(
    tx: &mut Tx,
    pipeline: Option<PipelineId>,
    body: &ModelBody,
) -> Result<ModelBody, StoreError> {
    let [deal_fields, person_fields, organization_fields] = crate::custom_fields::defs_of_all(tx).await?;
    let stages: Vec<i64> = match pipeline {
        Some(p) => {
            sqlx::query_scalar("SELECT id FROM stages WHERE pipeline_id = $1").bind(p.0).fetch_all(&mut **tx).await?
        }
        None => sqlx::query_scalar("SELECT id FROM stages").fetch_all(&mut **tx).await?,
    };
    let stages: Vec<StageId> = stages.into_iter().map(StageId).collect();
    let campaign_exists = crate::campaigns::exists(tx, body.thresholds.nurture_campaign_id).await?;
    let refs = Refs {
        deal_fields: &deal_fields,
        person_fields: &person_fields,
        organization_fields: &organization_fields,
        stages: &stages,
        campaign_exists,
    };
    Ok(check_model(body, &refs)?)
}

fn check_name(name: &str) -> Result<String, StoreError> {
    Ok(dealflow_core::validate::required_text("name", name, 100)?)
}

/// A second model for the same pipeline (or a second model of all) is a
/// conflict: one model scores a pipeline.
async fn check_unique(tx: &mut Tx, pipeline: Option<PipelineId>, except: Option<i64>) -> Result<(), StoreError> {
    let taken: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM scoring_models WHERE deleted_at IS NULL AND id <> $1
           AND ((pipeline_id IS NULL AND $2 IS NULL) OR pipeline_id = $2) LIMIT 1",
    )
    .bind(except.unwrap_or(0))
    .bind(pipeline.map(|p| p.0))
    .fetch_optional(&mut **tx)
    .await?;
    match taken {
        Some(id) => Err(StoreError::Duplicate {
            field: "pipeline_id".into(),
            message: format!("model {id} already scores this pipeline; edit its draft instead"),
        }),
        None => Ok(()),
    }
}

impl Store {
    /// Models, newest first.
    pub async fn scoring_models(&self, page: Page) -> Result<ListPage<ScoringModel>, StoreError> {
        let mut sql = Sql::new(SELECT);
        page.apply(&mut sql, "m.id");
        fetch_page(self.pool(), &sql, page, from_row).await
    }

    pub async fn scoring_model(&self, id: ScoringModelId) -> Result<ScoringModel, StoreError> {
        load_from(self.pool(), id).await
    }

    /// Stores a new model as a draft; nothing is scored until it is published.
    #[tracing::instrument(skip_all)]
    pub async fn create_scoring_model(&self, actor: &Actor, n: NewScoringModel) -> Result<ScoringModel, StoreError> {
        let name = check_name(&n.name)?;
        let mut tx = self.write().await?;
        if let Some(p) = n.pipeline_id {
            let found: Option<i64> =
                sqlx::query_scalar("SELECT id FROM pipelines WHERE id = $1").bind(p.0).fetch_optional(&mut *tx).await?;
            if found.is_none() {
                return Err(StoreError::invalid("pipeline_id", format!("pipeline {p} does not exist")));
            }
        }
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM scoring_models WHERE deleted_at IS NULL")
            .fetch_one(&mut *tx)
            .await?;
        if count >= MAX_MODELS {
            return Err(StoreError::invalid("name", format!("a workspace keeps at most {MAX_MODELS} models")));
        }
        check_unique(&mut tx, n.pipeline_id, None).await?;
        let body = check(&mut tx, n.pipeline_id, &n.body()).await?;
        let id = ScoringModelId::new();
        sqlx::query(
            "INSERT INTO scoring_models (id, name, pipeline_id, draft, published_version, created_at, updated_at, version)
             VALUES ($1, $2, $3, $4, NULL, $5, $5, 1)",
        )
        .bind(id.0)
        .bind(name)
        .bind(n.pipeline_id.map(|p| p.0))
        .bind(to_json(&body)?)
        .bind(actor.now.0)
        .execute(&mut *tx)
        .await?;
        let m = load(&mut tx, id).await?;
        crate::audit::created(&mut tx, actor, "scoring_model", id.0, &m).await?;
        tx.commit().await?;
        Ok(m)
    }

    /// Edits the draft; the published version is untouched.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn update_scoring_model(
        &self,
        actor: &Actor,
        id: ScoringModelId,
        p: ScoringModelPatch,
    ) -> Result<ScoringModel, StoreError> {
        let mut tx = self.write().await?;
        let before = load(&mut tx, id).await?;
        crate::records::check_version(before.version, p.version)?;
        let name = match &p.name {
            Some(n) => check_name(n)?,
            None => before.name.clone(),
        };
        let mut body = before.draft.clone();
        if let Some(r) = p.rules {
            body.rules = r;
        }
        if let Some(t) = p.thresholds {
            body.thresholds = t;
        }
        if let Some(b) = p.bands {
            body.bands = b;
        }
        let body = check(&mut tx, before.pipeline_id, &body).await?;
        sqlx::query(
            "UPDATE scoring_models SET name = $1, draft = $2, updated_at = $3, version = version + 1 WHERE id = $4",
        )
        .bind(name)
        .bind(to_json(&body)?)
        .bind(actor.now.0)
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        let after = load(&mut tx, id).await?;
        crate::audit::updated(&mut tx, actor, "scoring_model", id.0, &before, &after).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Publishes the draft as the next version (validated again: a field
    /// or stage may have gone since it was saved) and schedules the
    /// rescore of every open deal the model scores. Earlier versions stay.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn publish_scoring_model(&self, actor: &Actor, id: ScoringModelId) -> Result<ScoringModel, StoreError> {
        let mut tx = self.write().await?;
        let before = load(&mut tx, id).await?;
        let body = check(&mut tx, before.pipeline_id, &before.draft).await?;
        let number = before.published_version.unwrap_or(0) + 1;
        sqlx::query(
            "INSERT INTO scoring_model_versions (id, model_id, number, body, published_at, published_by)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(dealflow_core::ids::next_id())
        .bind(id.0)
        .bind(number)
        .bind(to_json(&body)?)
        .bind(actor.now.0)
        .bind(actor.user_id.map(|u| u.0))
        .execute(&mut *tx)
        .await?;
        let total = rescore::count_open(&mut tx, before.pipeline_id).await?;
        sqlx::query(
            "UPDATE scoring_models SET published_version = $1, draft = $2, rescore_total = $3, rescore_done = 0,
             updated_at = $4, version = version + 1 WHERE id = $5",
        )
        .bind(number)
        .bind(to_json(&body)?)
        .bind(total)
        .bind(actor.now.0)
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        rescore::schedule(&mut tx, id.0, number, actor.now).await?;
        let after = load(&mut tx, id).await?;
        let detail = serde_json::json!({"version": number, "open_deals": total});
        crate::audit::append(
            &mut tx,
            actor,
            crate::audit::Entry::new("scoring_model", "publish", Some(id.0)).detail(detail),
        )
        .await?;
        tx.commit().await?;
        self.jobs_enqueued();
        Ok(after)
    }

    /// Deletes a model: deals it scored keep their ledgers and are no
    /// longer scored (until another model covers their pipeline).
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn delete_scoring_model(&self, actor: &Actor, id: ScoringModelId) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        load(&mut tx, id).await?;
        sqlx::query("UPDATE scoring_models SET deleted_at = $1, updated_at = $1, version = version + 1 WHERE id = $2")
            .bind(actor.now.0)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        crate::audit::deleted(&mut tx, actor, "scoring_model", "delete", id.0).await?;
        tx.commit().await?;
        Ok(())
    }
}

fn to_json(body: &ModelBody) -> Result<String, StoreError> {
    serde_json::to_string(body).map_err(|e| StoreError::Config(format!("a model did not serialize: {e}")))
}

//! Intake forms: self-serve sign-ups into the pipeline. A form says which
//! fields it takes, where its deals go (pipeline, stage), who owns them
//! (one user, or each active user in turn) and the `source` they carry;
//! its `key` names its public endpoint. What a submission does is in
//! `intake.rs`.

mod intake;

pub use intake::{FREE_MAIL_DOMAINS, Paid, Submitted, SubmittedOutcome};

use crate::row::*;
use crate::sql::{ListPage, Page, Sql, fetch_page};
use crate::{Actor, Store, StoreError, Tx};
use dealflow_core::time::Timestamp;
use dealflow_core::validate::optional_text;
use dealflow_core::{DealId, OrganizationId};
use dealflow_core::{FormId, Invalid, PersonId, PipelineId, StageId, SubmissionId, UserId};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;

/// The fields a form may ask for.
pub const FORM_FIELDS: &[&str] = &["name", "email", "phone", "company", "job_title", "message"];
/// Most forms a workspace keeps.
pub const MAX_FORMS: i64 = 100;

dealflow_core::text_enum!(
    /// Who owns the deals a form creates.
    OwnerMode {
        /// Always `owner_id`.
        Fixed = "fixed",
        /// Each active user in turn (admins, managers and reps, by name).
        RoundRobin = "round_robin",
    }
);

/// An intake form as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Form {
    pub id: FormId,
    /// Names the public endpoint: `POST /f/{key}`.
    pub key: String,
    pub name: String,
    /// The fields it takes, from `name`, `email`, `phone`, `company`,
    /// `job_title`, `message`; `email` is always one.
    pub fields: Vec<String>,
    pub pipeline_id: PipelineId,
    /// Where its deals start; `null` is the pipeline's first stage.
    pub stage_id: Option<StageId>,
    pub owner_mode: OwnerMode,
    /// The owner when `owner_mode` is `fixed`.
    pub owner_id: Option<UserId>,
    /// The `source` its deals get, e.g. `self-serve`.
    pub source: Option<String>,
    /// Shown after a submission (unless `redirect_url` is set).
    pub success_message: Option<String>,
    /// Where a browser goes after a submission.
    pub redirect_url: Option<String>,
    pub active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// The answer to a create: the form and the secret a billing system sends
/// (header `X-Form-Secret`) to record a paid sign-up as won; shown once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FormWithSecret {
    #[serde(flatten)]
    pub form: Form,
    pub secret: String,
}

/// A new form.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewForm {
    pub name: String,
    pub pipeline_id: PipelineId,
    pub stage_id: Option<StageId>,
    /// Default `["name", "email"]`.
    pub fields: Option<Vec<String>>,
    /// Default `round_robin`.
    pub owner_mode: Option<OwnerMode>,
    pub owner_id: Option<UserId>,
    pub source: Option<String>,
    pub success_message: Option<String>,
    pub redirect_url: Option<String>,
    /// Default `true`.
    pub active: Option<bool>,
}

/// A change to a form; `version` is the one read.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormPatch {
    pub version: i64,
    pub name: Option<String>,
    pub fields: Option<Vec<String>>,
    pub owner_mode: Option<OwnerMode>,
    pub owner_id: Option<UserId>,
    pub source: Option<String>,
    pub success_message: Option<String>,
    pub redirect_url: Option<String>,
    pub active: Option<bool>,
}

/// One accepted submission, for the form's list of recent ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FormSubmission {
    pub id: SubmissionId,
    pub form_id: FormId,
    pub at: Timestamp,
    pub outcome: SubmittedOutcome,
    pub email: String,
    pub person_id: Option<PersonId>,
    pub organization_id: Option<OrganizationId>,
    pub deal_id: Option<DealId>,
}

fn from_row(r: &AnyRow) -> R<Form> {
    Ok(Form {
        id: FormId(i64_(r, "id")?),
        key: text(r, "form_key")?,
        name: text(r, "name")?,
        fields: json(r, "fields")?,
        pipeline_id: PipelineId(i64_(r, "pipeline_id")?),
        stage_id: opt_i64(r, "stage_id")?.map(StageId),
        owner_mode: enum_(r, "owner_mode", OwnerMode::parse)?,
        owner_id: opt_i64(r, "owner_id")?.map(UserId),
        source: opt_text(r, "source")?,
        success_message: opt_text(r, "success_message")?,
        redirect_url: opt_text(r, "redirect_url")?,
        active: bool_(r, "active")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        version: i64_(r, "version")?,
    })
}

fn submission_from_row(r: &AnyRow) -> R<FormSubmission> {
    Ok(FormSubmission {
        id: SubmissionId(i64_(r, "id")?),
        form_id: FormId(i64_(r, "form_id")?),
        at: ts(r, "at")?,
        outcome: enum_(r, "outcome", SubmittedOutcome::parse)?,
        email: text(r, "email")?,
        person_id: opt_i64(r, "person_id")?.map(PersonId),
        organization_id: opt_i64(r, "organization_id")?.map(OrganizationId),
        deal_id: opt_i64(r, "deal_id")?.map(DealId),
    })
}

/// A random token of 24 bytes as hex (48 characters).
fn token() -> String {
    let bytes: [u8; 24] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn check_fields(fields: &[String], errs: &mut Invalid) -> Vec<String> {
    let mut out = Vec::new();
    for f in fields {
        if !FORM_FIELDS.contains(&f.as_str()) {
            errs.add("fields", format!("{f:?} is not a form field; use any of {}", FORM_FIELDS.join(", ")));
        } else if !out.contains(f) {
            out.push(f.clone());
        }
    }
    if !out.iter().any(|f| f == "email") {
        errs.add("fields", "must include `email`: a sign-up is matched to its person by e-mail address");
    }
    out
}

/// The shape of a redirect address, as a pattern for the API's schema;
/// [`check_redirect`] checks the same.
pub const REDIRECT_PATTERN: &str = "^https?://[!-~]+$";

fn check_redirect(url: Option<&str>, errs: &mut Invalid) -> Option<String> {
    let url = url?;
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    let fits = rest.is_some_and(|r| !r.is_empty() && r.chars().all(|c| ('!'..='~').contains(&c)));
    if !fits || url.chars().count() > 2_000 {
        errs.add(
            "redirect_url",
            "must be an http:// or https:// address of at most 2,000 characters, without spaces \
             (percent-encode other characters)",
        );
    }
    Some(url.to_string())
}

/// Checks that the stage (if any) is an active stage of the pipeline, and
/// the fixed owner (if any) an active user.
async fn check_place(
    tx: &mut Tx,
    pipeline: PipelineId,
    stage: Option<StageId>,
    mode: OwnerMode,
    owner: Option<UserId>,
) -> Result<(), StoreError> {
    let p: Option<i64> = sqlx::query_scalar("SELECT archived FROM pipelines WHERE id = $1")
        .bind(pipeline.0)
        .fetch_optional(&mut **tx)
        .await?;
    match p {
        None => return Err(StoreError::invalid("pipeline_id", format!("pipeline {pipeline} does not exist"))),
        Some(1) => return Err(StoreError::invalid("pipeline_id", format!("pipeline {pipeline} is archived"))),
        Some(_) => {}
    }
    if let Some(s) = stage {
        let row: Option<(i64, i64)> = sqlx::query_as("SELECT pipeline_id, archived FROM stages WHERE id = $1")
            .bind(s.0)
            .fetch_optional(&mut **tx)
            .await?;
        match row {
            Some((p, 0)) if p == pipeline.0 => {}
            Some((p, _)) if p == pipeline.0 => {
                return Err(StoreError::invalid("stage_id", format!("stage {s} is archived")));
            }
            _ => {
                return Err(StoreError::invalid(
                    "stage_id",
                    format!("stage {s} is not a stage of pipeline {pipeline}; pick one of that pipeline's stages"),
                ));
            }
        }
    }
    match (mode, owner) {
        (OwnerMode::Fixed, None) => Err(StoreError::invalid("owner_id", "is required when owner_mode is `fixed`")),
        (_, Some(u)) => crate::users::check_user(tx, "owner_id", u).await,
        (OwnerMode::RoundRobin, None) => Ok(()),
    }
}

async fn load(tx: &mut Tx, id: FormId) -> Result<Form, StoreError> {
    crate::records::load(&mut **tx, "forms", "form", id.0, from_row).await
}

impl Store {
    pub async fn forms(&self, page: Page) -> Result<ListPage<Form>, StoreError> {
        let mut sql = Sql::new("SELECT * FROM forms WHERE 1 = 1");
        page.apply(&mut sql, "id");
        fetch_page(self.pool(), &sql, page, from_row).await
    }

    pub async fn form(&self, id: FormId) -> Result<Form, StoreError> {
        crate::records::load(self.pool(), "forms", "form", id.0, from_row).await
    }

    #[tracing::instrument(skip_all)]
    pub async fn create_form(&self, actor: &Actor, n: NewForm) -> Result<FormWithSecret, StoreError> {
        let mut errs = Invalid::new();
        let name = errs.take(dealflow_core::validate::required_text("name", &n.name, 200));
        let fields = check_fields(&n.fields.unwrap_or_else(|| vec!["name".into(), "email".into()]), &mut errs);
        let source = errs.take(optional_text("source", n.source.as_deref(), 100)).flatten();
        let message = errs.take(optional_text("success_message", n.success_message.as_deref(), 500)).flatten();
        let redirect = check_redirect(n.redirect_url.as_deref(), &mut errs);
        errs.into_result()?;
        let mode = n.owner_mode.unwrap_or(OwnerMode::RoundRobin);
        let mut tx = self.write().await?;
        check_place(&mut tx, n.pipeline_id, n.stage_id, mode, n.owner_id).await?;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM forms").fetch_one(&mut *tx).await?;
        if count >= MAX_FORMS {
            return Err(StoreError::invalid("name", format!("a workspace keeps at most {MAX_FORMS} forms")));
        }
        let id = FormId::new();
        let secret = token();
        sqlx::query(
            "INSERT INTO forms (id, form_key, secret, name, fields, pipeline_id, stage_id, owner_mode, owner_id,
               next_owner, source, success_message, redirect_url, active, created_at, updated_at, version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $11, $12, $13, $14, $14, 1)",
        )
        .bind(id.0)
        .bind(token())
        .bind(secret.clone())
        .bind(name.unwrap_or_default())
        .bind(serde_json::Value::from(fields).to_string())
        .bind(n.pipeline_id.0)
        .bind(n.stage_id.map(|s| s.0))
        .bind(mode.as_str())
        .bind(n.owner_id.map(|u| u.0))
        .bind(source)
        .bind(message)
        .bind(redirect)
        .bind(b(n.active.unwrap_or(true)))
        .bind(actor.now.0)
        .execute(&mut *tx)
        .await?;
        let form = load(&mut tx, id).await?;
        crate::audit::created(&mut tx, actor, "form", id.0, &form).await?;
        tx.commit().await?;
        Ok(FormWithSecret { form, secret })
    }

    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn update_form(&self, actor: &Actor, id: FormId, p: FormPatch) -> Result<Form, StoreError> {
        let mut errs = Invalid::new();
        let name = p.name.as_deref().and_then(|n| errs.take(dealflow_core::validate::required_text("name", n, 200)));
        let fields = p.fields.as_deref().map(|f| check_fields(f, &mut errs));
        let source = p.source.as_deref().map(|s| errs.take(optional_text("source", Some(s), 100)).flatten());
        let message =
            p.success_message.as_deref().map(|m| errs.take(optional_text("success_message", Some(m), 500)).flatten());
        let redirect = p.redirect_url.as_deref().map(|u| check_redirect(Some(u), &mut errs));
        errs.into_result()?;
        let mut tx = self.write().await?;
        let before = load(&mut tx, id).await?;
        crate::records::check_version(before.version, p.version)?;
        let mode = p.owner_mode.unwrap_or(before.owner_mode);
        let owner = p.owner_id.or(before.owner_id);
        check_place(&mut tx, before.pipeline_id, before.stage_id, mode, owner).await?;
        sqlx::query(
            "UPDATE forms SET name = $1, fields = $2, owner_mode = $3, owner_id = $4, source = $5,
               success_message = $6, redirect_url = $7, active = $8, updated_at = $9, version = version + 1
             WHERE id = $10",
        )
        .bind(name.unwrap_or_else(|| before.name.clone()))
        .bind(serde_json::Value::from(fields.unwrap_or_else(|| before.fields.clone())).to_string())
        .bind(mode.as_str())
        .bind(owner.map(|u| u.0))
        .bind(source.unwrap_or_else(|| before.source.clone()))
        .bind(message.unwrap_or_else(|| before.success_message.clone()))
        .bind(redirect.unwrap_or_else(|| before.redirect_url.clone()))
        .bind(b(p.active.unwrap_or(before.active)))
        .bind(actor.now.0)
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        let after = load(&mut tx, id).await?;
        crate::audit::updated(&mut tx, actor, "form", id.0, &before, &after).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes a form and its submission list; the people and deals it
    /// made stay.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn delete_form(&self, actor: &Actor, id: FormId) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM form_submissions WHERE form_id = $1").bind(id.0).execute(&mut *tx).await?;
        crate::records::remove(&mut tx, "forms", "form", id.0).await?;
        crate::audit::deleted(&mut tx, actor, "form", "delete", id.0).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A form's accepted submissions, newest first.
    pub async fn form_submissions(&self, id: FormId, page: Page) -> Result<ListPage<FormSubmission>, StoreError> {
        self.form(id).await?;
        let mut sql = Sql::new("SELECT * FROM form_submissions WHERE form_id = ");
        sql.bind(id.0);
        page.apply(&mut sql, "id");
        fetch_page(self.pool(), &sql, page, submission_from_row).await
    }
}

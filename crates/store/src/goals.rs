//! Goals: a target for one metric of docs/metrics.md over a period of calendar
//! days, for the team or one owner, optionally one pipeline. Create, read,
//! update with a version check, delete, and a filtered list. The progress
//! toward a goal is computed by the insights service on read.

use crate::pipelines::pipeline_archived;
use crate::row::*;
use crate::sql::{ListPage, Page, Sql, fetch_page};
use crate::users::check_user;
use crate::{Actor, Store, StoreError, Tx};
use dealflow_core::currency::MAX_AMOUNT;
use dealflow_core::model::GoalMetric;
use dealflow_core::time::{Date, Timestamp};
use dealflow_core::{GoalId, Invalid, PipelineId, UserId};
use sqlx::any::AnyRow;

/// A stored goal.
#[derive(Debug, Clone, PartialEq)]
pub struct Goal {
    pub id: GoalId,
    pub metric: GoalMetric,
    /// Minor units of the base currency for money metrics, a count otherwise.
    pub target: i64,
    /// First day of the period (midnight in the workspace time zone).
    pub from: Date,
    /// Day after the period (exclusive), like `to` of `/metrics`.
    pub to: Date,
    /// `None`: the whole team.
    pub owner_id: Option<UserId>,
    pub pipeline_id: Option<PipelineId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// A new goal as the caller wrote it: metric and dates as text, parsed
/// here into [`GoalMetric`] and [`Date`] so a bad one is a 422 naming it
/// (with every other bad field) rather than a bare parse error.
#[derive(Debug, Clone, Default)]
pub struct NewGoal {
    pub metric: String,
    pub target: i64,
    pub from: String,
    pub to: String,
    pub owner_id: Option<UserId>,
    pub pipeline_id: Option<PipelineId>,
}

/// A change to a goal: `None` leaves a field alone; `Some(None)` clears an
/// optional one. `version` must be the stored one.
#[derive(Debug, Clone, Default)]
pub struct GoalPatch {
    pub version: i64,
    pub metric: Option<String>,
    pub target: Option<i64>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub owner_id: Option<Option<UserId>>,
    pub pipeline_id: Option<Option<PipelineId>>,
}

/// Filters of the goal list: `GET /api/v1/goals` reads it straight from the
/// query string.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GoalFilter {
    pub metric: Option<GoalMetric>,
    pub owner_id: Option<UserId>,
    pub pipeline_id: Option<PipelineId>,
}

fn from_row(r: &AnyRow) -> R<Goal> {
    let date = |c: &str| -> R<Date> {
        opt_date(r, c)?.ok_or_else(|| sqlx::Error::ColumnDecode { index: c.into(), source: "missing date".into() })
    };
    Ok(Goal {
        id: GoalId(i64_(r, "id")?),
        metric: GoalMetric::parse(&text(r, "metric")?).map_err(|e| sqlx::Error::Decode(e.into()))?,
        target: i64_(r, "target")?,
        from: date("period_from")?,
        to: date("period_to")?,
        owner_id: opt_i64(r, "owner_id")?.map(UserId),
        pipeline_id: opt_i64(r, "pipeline_id")?.map(PipelineId),
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        version: i64_(r, "version")?,
    })
}

/// Checks the plain fields; returns the parsed metric and dates.
fn check_fields(metric: &str, target: i64, from: &str, to: &str) -> Result<(GoalMetric, Date, Date), Invalid> {
    let mut errs = Invalid::new();
    let metric = errs.take(GoalMetric::parse(metric).map_err(|m| Invalid::one("metric", m)));
    if target < 0 {
        errs.add("target", "must be zero or more (minor units of the base currency for money, a count otherwise)");
    } else if target > MAX_AMOUNT {
        errs.add("target", format!("is too large: at most {MAX_AMOUNT}"));
    }
    let from = errs.take(Date::parse(from).map_err(|m| Invalid::one("from", m)));
    let to = errs.take(Date::parse(to).map_err(|m| Invalid::one("to", m)));
    if let (Some(f), Some(t)) = (from, to)
        && f >= t
    {
        errs.add("from", "must be a day before `to` (the period is [from, to), `to` excluded)");
    }
    match (metric, from, to) {
        (Some(m), Some(f), Some(t)) if errs.0.is_empty() => Ok((m, f, t)),
        _ => Err(errs),
    }
}

async fn check_refs(tx: &mut Tx, owner: Option<UserId>, pipeline: Option<PipelineId>) -> Result<(), StoreError> {
    if let Some(u) = owner {
        check_user(tx, "owner_id", u).await?;
    }
    if let Some(p) = pipeline
        && pipeline_archived(tx, p).await?.is_none()
    {
        return Err(StoreError::invalid("pipeline_id", format!("pipeline {p} does not exist")));
    }
    Ok(())
}

/// A goal's fields as its audit entries show them.
fn audit_view(g: &Goal) -> serde_json::Value {
    serde_json::json!({
        "metric": g.metric.key(),
        "target": g.target,
        "from": g.from.to_iso(),
        "to": g.to.to_iso(),
        "owner_id": g.owner_id,
        "pipeline_id": g.pipeline_id,
    })
}

async fn load(tx: &mut Tx, id: GoalId) -> Result<Goal, StoreError> {
    crate::records::load(&mut **tx, "goals", "goal", id.0, from_row).await
}

impl Store {
    #[tracing::instrument(skip_all)]
    pub async fn create_goal(&self, actor: &Actor, n: NewGoal) -> Result<Goal, StoreError> {
        let (metric, from, to) = check_fields(&n.metric, n.target, &n.from, &n.to)?;
        let mut tx = self.write().await?;
        check_refs(&mut tx, n.owner_id, n.pipeline_id).await?;
        let id = GoalId::new();
        sqlx::query(
            "INSERT INTO goals (id, metric, target, period_from, period_to, owner_id, pipeline_id, created_at,
              updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, 1)",
        )
        .bind(id.0)
        .bind(metric.key().to_string())
        .bind(n.target)
        .bind(from.to_iso())
        .bind(to.to_iso())
        .bind(n.owner_id.map(|u| u.0))
        .bind(n.pipeline_id.map(|p| p.0))
        .bind(actor.now.0)
        .execute(&mut *tx)
        .await?;
        let goal = load(&mut tx, id).await?;
        crate::audit::created(&mut tx, actor, "goal", id.0, &audit_view(&goal)).await?;
        tx.commit().await?;
        Ok(goal)
    }

    pub async fn goal(&self, id: GoalId) -> Result<Goal, StoreError> {
        crate::records::load(self.pool(), "goals", "goal", id.0, from_row).await
    }

    /// Applies a change if `p.version` is the stored version (409 if not).
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn update_goal(&self, actor: &Actor, id: GoalId, p: GoalPatch) -> Result<Goal, StoreError> {
        let mut tx = self.write().await?;
        let cur = load(&mut tx, id).await?;
        crate::records::check_version(cur.version, p.version)?;
        let metric = p.metric.clone().unwrap_or_else(|| cur.metric.key().to_string());
        let target = p.target.unwrap_or(cur.target);
        let from = p.from.clone().unwrap_or_else(|| cur.from.to_iso());
        let to = p.to.clone().unwrap_or_else(|| cur.to.to_iso());
        let (metric, from, to) = check_fields(&metric, target, &from, &to)?;
        let owner = p.owner_id.unwrap_or(cur.owner_id);
        let pipeline = p.pipeline_id.unwrap_or(cur.pipeline_id);
        check_refs(
            &mut tx,
            owner.filter(|o| Some(*o) != cur.owner_id),
            pipeline.filter(|x| Some(*x) != cur.pipeline_id),
        )
        .await?;
        let n = sqlx::query(
            "UPDATE goals SET metric = $1, target = $2, period_from = $3, period_to = $4, owner_id = $5,
              pipeline_id = $6, updated_at = $7, version = version + 1 WHERE id = $8 AND version = $9",
        )
        .bind(metric.key().to_string())
        .bind(target)
        .bind(from.to_iso())
        .bind(to.to_iso())
        .bind(owner.map(|u| u.0))
        .bind(pipeline.map(|x| x.0))
        .bind(actor.now.0)
        .bind(id.0)
        .bind(p.version)
        .execute(&mut *tx)
        .await?;
        if n.rows_affected() == 0 {
            return Err(crate::records::stale(&mut tx, "goals", id.0).await);
        }
        let goal = load(&mut tx, id).await?;
        crate::audit::updated(&mut tx, actor, "goal", id.0, &audit_view(&cur), &audit_view(&goal)).await?;
        tx.commit().await?;
        Ok(goal)
    }

    /// Deletes a goal for good (goals carry no history worth a trash).
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn delete_goal(&self, actor: &Actor, id: GoalId) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        crate::records::remove(&mut tx, "goals", "goal", id.0).await?;
        crate::audit::deleted(&mut tx, actor, "goal", "delete", id.0).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Goals, newest first.
    pub async fn list_goals(&self, f: &GoalFilter, page: Page) -> Result<ListPage<Goal>, StoreError> {
        let mut sql = Sql::new("SELECT * FROM goals WHERE 1 = 1");
        if let Some(m) = f.metric {
            sql.push(" AND metric = ").bind(m.key());
        }
        if let Some(o) = f.owner_id {
            sql.push(" AND owner_id = ").bind(o.0);
        }
        if let Some(p) = f.pipeline_id {
            sql.push(" AND pipeline_id = ").bind(p.0);
        }
        page.apply(&mut sql, "id");
        fetch_page(self.pool(), &sql, page, from_row).await
    }
}

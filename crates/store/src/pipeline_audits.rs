//! Weekly pipeline audits: taking the snapshot, reading it back, deciding
//! on its items through the deal's normal write path, and signing it off.
//! The facts are computed by `core::pipeline_audit`; the schedule lives in
//! `pipeline_audits/schedule.rs`.

mod schedule;
mod snapshot;

pub use schedule::AUDIT_BRIEF_JOB;

use crate::row::*;
use crate::sql::Sql;
use crate::webhooks::Emit;
use crate::{Actor, Store, StoreError, Tx};
use dealflow_core::metrics::{Period, Slice, stages_from};
use dealflow_core::pipeline_audit::decision::Action;
use dealflow_core::pipeline_audit::facts::Clock;
use dealflow_core::pipeline_audit::{
    AuditStatus, Decision, DecisionKind, Hygiene, Item, Summary, hygiene, item, summarize,
};
use dealflow_core::time::{Date, Timestamp};
use dealflow_core::{ActivityId, DealId, PipelineAuditId, PipelineId, UserId};
use serde::Serialize;
use sqlx::any::AnyRow;

/// A decision taken on an item.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ItemDecision {
    pub kind: DecisionKind,
    pub body: Decision,
    pub by: Option<UserId>,
    pub at: Timestamp,
    /// The activity a `keep` with a next action created.
    pub activity_id: Option<ActivityId>,
}

/// One deal of an audit: the facts as they stood, and the decision.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AuditItem {
    /// Its place in the audit (stage order, then deal).
    pub position: i64,
    #[serde(flatten)]
    pub facts: Item,
    pub decision: Option<ItemDecision>,
}

/// How far the meeting has come.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AuditProgress {
    pub total: i64,
    pub decided: i64,
}

/// `GET /api/v1/audits/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PipelineAudit {
    pub id: PipelineAuditId,
    pub pipeline_id: PipelineId,
    /// The owner whose deals alone the audit covers, when it was made for one.
    pub owner_id: Option<UserId>,
    pub status: AuditStatus,
    /// The weekly slot a scheduled audit was made for.
    pub scheduled_for: Option<Timestamp>,
    pub previous_id: Option<PipelineAuditId>,
    pub created_at: Timestamp,
    pub created_by: Option<UserId>,
    pub signed_off_at: Option<Timestamp>,
    pub signed_off_by: Option<UserId>,
    pub progress: AuditProgress,
    /// Written at sign-off.
    pub summary: Option<Summary>,
    /// The pipeline's hygiene when the audit was taken.
    pub hygiene: Option<Hygiene>,
    /// The deals in stage order; left out of the list of audits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<AuditItem>>,
    pub version: i64,
}

const SELECT: &str = "SELECT a.*, (SELECT COUNT(*) FROM pipeline_audit_items i WHERE i.audit_id = a.id) AS n_total,
    (SELECT COUNT(*) FROM pipeline_audit_items i WHERE i.audit_id = a.id AND i.decided_at IS NOT NULL) AS n_decided
    FROM pipeline_audits a";

fn from_row(r: &AnyRow) -> R<PipelineAudit> {
    Ok(PipelineAudit {
        id: PipelineAuditId(i64_(r, "id")?),
        pipeline_id: PipelineId(i64_(r, "pipeline_id")?),
        owner_id: opt_i64(r, "owner_id")?.map(UserId),
        status: enum_(r, "status", AuditStatus::parse)?,
        scheduled_for: opt_ts(r, "scheduled_for")?,
        previous_id: opt_i64(r, "previous_id")?.map(PipelineAuditId),
        created_at: ts(r, "created_at")?,
        created_by: opt_i64(r, "created_by")?.map(UserId),
        signed_off_at: opt_ts(r, "signed_off_at")?,
        signed_off_by: opt_i64(r, "signed_off_by")?.map(UserId),
        progress: AuditProgress { total: i64_(r, "n_total")?, decided: i64_(r, "n_decided")? },
        summary: opt_text(r, "summary")?
            .map(|s| serde_json::from_str(&s))
            .transpose()
            .map_err(|e| decode_err("summary", e))?,
        hygiene: opt_text(r, "hygiene")?
            .map(|s| serde_json::from_str(&s))
            .transpose()
            .map_err(|e| decode_err("hygiene", e))?,
        items: None,
        version: i64_(r, "version")?,
    })
}

fn item_from_row(r: &AnyRow) -> R<AuditItem> {
    let decision = match opt_text(r, "decision")? {
        None => None,
        Some(kind) => Some(ItemDecision {
            kind: DecisionKind::parse(&kind).map_err(|e| decode_err("decision", e))?,
            body: json(r, "decision_body")?,
            by: opt_i64(r, "decided_by")?.map(UserId),
            at: ts(r, "decided_at")?,
            activity_id: opt_i64(r, "activity_id")?.map(ActivityId),
        }),
    };
    Ok(AuditItem { position: i64_(r, "position")?, facts: json(r, "facts")?, decision })
}

/// Rows per multi-row insert of items (6 parameters each).
const BATCH: usize = 500;

impl Store {
    /// Takes an audit of `pipeline` (only `owner`'s deals when given): every
    /// open deal in stage order with its facts, read in one snapshot.
    pub async fn create_audit(
        &self,
        actor: &Actor,
        pipeline: PipelineId,
        owner: Option<UserId>,
    ) -> Result<PipelineAudit, StoreError> {
        let made = self.take_audit(actor, pipeline, owner, None).await?;
        // Without a slot the insert cannot meet the unique slot.
        made.ok_or_else(|| StoreError::InUse(format!("an audit of pipeline {pipeline} could not be made; try again")))
    }

    /// [`Store::create_audit`]; `slot` marks a scheduled audit, and a slot
    /// already made returns `None`.
    pub(crate) async fn take_audit(
        &self,
        actor: &Actor,
        pipeline: PipelineId,
        owner: Option<UserId>,
        slot: Option<Timestamp>,
    ) -> Result<Option<PipelineAudit>, StoreError> {
        let p = self.pipeline(pipeline).await.map_err(|e| match e {
            StoreError::NotFound { .. } => {
                StoreError::invalid("pipeline_id", format!("pipeline {pipeline} does not exist"))
            }
            e => e,
        })?;
        let settings = self.settings().await?;
        let now = actor.now;
        let today = Date(
            chrono::DateTime::from_timestamp_millis(now.0)
                .unwrap_or_default()
                .with_timezone(&settings.time_zone.tz())
                .date_naive(),
        );
        // The stages' 90th percentile of time in stage over the last year,
        // from the projections (a statistic: outside the snapshot is fine).
        let slice = Slice { pipeline: Some(pipeline), ..Slice::default() };
        let (inputs, pipelines) =
            tokio::try_join!(self.stage_inputs(&slice, Period::year_before(now.0)), self.metric_pipelines())?;
        let p90 = stages_from(&inputs, &pipelines, &slice).stages;

        let mut tx = self.snapshot().await?;
        if let Some(o) = owner {
            crate::users::check_user(&mut tx, "owner_id", o).await?;
        }
        let previous = snapshot::previous(&mut tx, pipeline).await?;
        let model = crate::scoring::published_for(&mut tx, pipeline).await?.map(|m| m.body.thresholds.disqualify_below);
        // Overrides count since the previous audit, or over the last week
        // for a pipeline's first audit.
        let since = previous.as_ref().map_or(Timestamp(now.0 - 7 * 86_400_000), |p| p.created_at);
        let mut inputs = snapshot::inputs(&mut tx, pipeline, owner, model, since, now).await?;
        tx.commit().await?;

        let clock = Clock { no_contact_days: p.audit_no_contact_days, ..Clock::new(now, today) };
        let items: Vec<Item> = inputs
            .drain(..)
            .map(|mut i| {
                i.stage_p90_days = p90.get(&i.stage_id).and_then(|f| f.time_in_stage_days_p90);
                if let Some(prev) = &previous {
                    i.previous = prev.items.get(&i.deal_id).cloned();
                    i.previous_action = prev.actions.get(&i.deal_id).cloned();
                }
                item(i, clock)
            })
            .collect();

        let id = dealflow_core::ids::next_id();
        let mut tx = self.write().await?;
        let inserted = sqlx::query(
            "INSERT INTO pipeline_audits (id, pipeline_id, owner_id, status, scheduled_for, previous_id, created_at,
               created_by, hygiene, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1)
             ON CONFLICT (pipeline_id, scheduled_for) DO NOTHING",
        )
        .bind(id)
        .bind(pipeline.0)
        .bind(owner.map(|o| o.0))
        .bind(AuditStatus::Open.as_str())
        .bind(slot.map(|s| s.0))
        .bind(previous.as_ref().map(|p| p.id))
        .bind(now.0)
        .bind(actor.user_id.map(|u| u.0))
        .bind(serde_json::to_string(&hygiene(&items)).map_err(|e| StoreError::Db(sqlx::Error::Encode(e.into())))?)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Ok(None);
        }
        for (n, chunk) in items.chunks(BATCH).enumerate() {
            let mut sql = Sql::new("INSERT INTO pipeline_audit_items (id, audit_id, deal_id, position, facts) VALUES ");
            for (k, it) in chunk.iter().enumerate() {
                let facts = serde_json::to_string(it).map_err(|e| StoreError::Db(sqlx::Error::Encode(e.into())))?;
                sql.push(if k == 0 { "(" } else { ", (" });
                sql.bind(dealflow_core::ids::next_id()).push(", ").bind(id).push(", ").bind(it.deal_id.0);
                sql.push(", ").bind((n * BATCH + k) as i64).push(", ").bind(facts).push(")");
            }
            sql.query().execute(&mut *tx).await?;
        }
        let entry = serde_json::json!({"pipeline_id": pipeline, "owner_id": owner, "items": items.len()});
        crate::audit::created(&mut tx, actor, "pipeline_audit", id, &entry).await?;
        tx.commit().await?;
        self.audit(PipelineAuditId(id)).await.map(Some)
    }

    /// An audit with its items.
    pub async fn audit(&self, id: PipelineAuditId) -> Result<PipelineAudit, StoreError> {
        let mut tx = self.snapshot().await?;
        let a = audit_in(&mut tx, id).await?;
        let rows = sqlx::query("SELECT * FROM pipeline_audit_items WHERE audit_id = $1 ORDER BY position")
            .bind(id.0)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let items = rows.iter().map(item_from_row).collect::<R<Vec<_>>>()?;
        Ok(PipelineAudit { items: Some(items), ..a })
    }

    /// The audits, newest first, of one pipeline or all, without items.
    pub async fn audits(&self, pipeline: Option<PipelineId>, limit: i64) -> Result<Vec<PipelineAudit>, StoreError> {
        let mut sql = Sql::new(SELECT);
        if let Some(p) = pipeline {
            sql.push(" WHERE a.pipeline_id = ").bind(p.0);
        }
        sql.push(" ORDER BY a.created_at DESC, a.id DESC LIMIT ").bind(limit.clamp(1, 200));
        let rows = sql.query().fetch_all(self.pool()).await?;
        Ok(rows.iter().map(from_row).collect::<R<Vec<_>>>()?)
    }

    /// One item of an audit (for the caller's permission check).
    pub async fn audit_item(&self, id: PipelineAuditId, deal: DealId) -> Result<AuditItem, StoreError> {
        let row = sqlx::query("SELECT * FROM pipeline_audit_items WHERE audit_id = $1 AND deal_id = $2")
            .bind(id.0)
            .bind(deal.0)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found("audit item", format!("{deal} in audit {id}")))?;
        Ok(item_from_row(&row)?)
    }

    /// Decides on an item: the item is claimed and the deal changed through
    /// its normal write path in one transaction, so two screens deciding at
    /// once make one change and the other gets 409.
    pub async fn decide_audit_item(
        &self,
        actor: &Actor,
        id: PipelineAuditId,
        deal: DealId,
        d: Decision,
    ) -> Result<AuditItem, StoreError> {
        let mut tx = self.write().await?;
        let a = audit_in(&mut tx, id).await?;
        if a.status == AuditStatus::SignedOff {
            return Err(StoreError::InUse(format!(
                "audit {id} was signed off; decisions are closed (start a new audit to review the deal again)"
            )));
        }
        let claimed = sqlx::query(
            "UPDATE pipeline_audit_items SET decision = $1, decision_body = $2, decided_by = $3, decided_at = $4
             WHERE audit_id = $5 AND deal_id = $6 AND decided_at IS NULL",
        )
        .bind(d.kind.as_str())
        .bind(serde_json::to_string(&d).map_err(|e| StoreError::Db(sqlx::Error::Encode(e.into())))?)
        .bind(actor.user_id.map(|u| u.0))
        .bind(actor.now.0)
        .bind(id.0)
        .bind(deal.0)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 0 {
            let exists: Option<Option<i64>> =
                sqlx::query_scalar("SELECT decided_at FROM pipeline_audit_items WHERE audit_id = $1 AND deal_id = $2")
                    .bind(id.0)
                    .bind(deal.0)
                    .fetch_optional(&mut *tx)
                    .await?;
            return Err(match exists {
                None => StoreError::not_found("audit item", format!("{deal} in audit {id}")),
                Some(_) => StoreError::InUse(format!(
                    "deal {deal} was already decided in audit {id}; reload the audit to see the decision"
                )),
            });
        }
        let current = crate::records::live(&mut *tx, "deals", "deal", deal.0, crate::deals::from_row).await.map_err(|e| {
            match e {
                StoreError::NotFound { .. } => StoreError::InUse(format!(
                    "deal {deal} was deleted since the audit was taken; restore it to decide, or leave the item undecided"
                )),
                e => e,
            }
        })?;
        if current.status != dealflow_core::model::DealStatus::Open {
            return Err(StoreError::InUse(format!(
                "deal {deal} was {} since the audit was taken; there is nothing left to decide",
                current.status.as_str()
            )));
        }
        let mut wake = false;
        match d.check(deal, current.version)? {
            Action::None => {}
            Action::Patch(p) => wake = crate::deals::update_deal_tx(&mut tx, actor, deal, *p).await?.1,
            Action::Activity(n) => {
                let (activity, w) = crate::activities::create_activity_tx(&mut tx, actor, *n).await?;
                wake = w;
                sqlx::query("UPDATE pipeline_audit_items SET activity_id = $1 WHERE audit_id = $2 AND deal_id = $3")
                    .bind(activity.id.0)
                    .bind(id.0)
                    .bind(deal.0)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        self.woken(wake);
        self.audit_item(id, deal).await
    }

    /// Signs an audit off: no later decisions, and its summary is kept.
    /// Undecided items stay undecided and are counted.
    pub async fn sign_off_audit(&self, actor: &Actor, id: PipelineAuditId) -> Result<PipelineAudit, StoreError> {
        let settings = self.settings().await?;
        let rates = crate::minor_rates(&settings.base_currency, &settings.exchange_rates);
        let mut tx = self.write().await?;
        let a = audit_in(&mut tx, id).await?;
        if a.status == AuditStatus::SignedOff {
            return Err(StoreError::InUse(format!("audit {id} is already signed off")));
        }
        let items = items_in(&mut tx, id).await?;
        let previous = match a.previous_id {
            Some(p) => items_in(&mut tx, p).await?.into_iter().map(|i| i.facts).collect(),
            None => Vec::new(),
        };
        let decided: Vec<(Item, Option<DecisionKind>)> =
            items.into_iter().map(|i| (i.facts, i.decision.map(|d| d.kind))).collect();
        let summary = summarize(&decided, &previous, &|v, c| rates.to_base(v, c));
        sqlx::query(
            "UPDATE pipeline_audits SET status = $1, signed_off_at = $2, signed_off_by = $3, summary = $4,
               version = version + 1 WHERE id = $5",
        )
        .bind(AuditStatus::SignedOff.as_str())
        .bind(actor.now.0)
        .bind(actor.user_id.map(|u| u.0))
        .bind(serde_json::to_string(&summary).map_err(|e| StoreError::Db(sqlx::Error::Encode(e.into())))?)
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        let after = audit_in(&mut tx, id).await?;
        crate::audit::updated(&mut tx, actor, "pipeline_audit", id.0, &a, &after).await?;
        let wake = crate::webhooks::emit(&mut tx, actor.now, vec![Emit::new("audit.signed_off", &after)]).await?;
        tx.commit().await?;
        self.woken(wake);
        Ok(after)
    }
}

/// A decision on a deal in a signed-off audit, for the deal's timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    pub audit_id: PipelineAuditId,
    /// When the audit was taken.
    pub audit_at: Timestamp,
    pub signed_off_at: Timestamp,
    pub kind: DecisionKind,
    pub note: Option<String>,
    pub by: Option<UserId>,
}

impl Store {
    /// The decisions on `deal` in signed-off audits, oldest first.
    pub async fn deal_reviews(&self, deal: DealId) -> Result<Vec<Review>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.id, a.created_at, a.signed_off_at, i.decision, i.decision_body, i.decided_by
             FROM pipeline_audit_items i JOIN pipeline_audits a ON a.id = i.audit_id
             WHERE i.deal_id = $1 AND i.decision IS NOT NULL AND a.signed_off_at IS NOT NULL
             ORDER BY a.signed_off_at, a.id",
        )
        .bind(deal.0)
        .fetch_all(self.pool())
        .await?;
        let review = |r: &AnyRow| -> R<Review> {
            let body: Decision = json(r, "decision_body")?;
            Ok(Review {
                audit_id: PipelineAuditId(i64_(r, "id")?),
                audit_at: ts(r, "created_at")?,
                signed_off_at: ts(r, "signed_off_at")?,
                kind: enum_(r, "decision", DecisionKind::parse)?,
                note: body.note,
                by: opt_i64(r, "decided_by")?.map(UserId),
            })
        };
        Ok(rows.iter().map(review).collect::<R<Vec<_>>>()?)
    }
}

async fn audit_in(tx: &mut Tx, id: PipelineAuditId) -> Result<PipelineAudit, StoreError> {
    let sql = format!("{SELECT} WHERE a.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("audit", id))?;
    Ok(from_row(&row)?)
}

async fn items_in(tx: &mut Tx, id: PipelineAuditId) -> Result<Vec<AuditItem>, StoreError> {
    let rows = sqlx::query("SELECT * FROM pipeline_audit_items WHERE audit_id = $1 ORDER BY position")
        .bind(id.0)
        .fetch_all(&mut **tx)
        .await?;
    Ok(rows.iter().map(item_from_row).collect::<R<Vec<_>>>()?)
}

//! Deals: create, read, update (decided by `core::deal_change`, written by
//! [`write`]), soft delete and restore, lists, and their stage events and
//! field history. A deal's stage, status and close time are a projection of
//! its stage events, and both are written in the same transaction.

mod logs;
mod write;

pub use logs::LogCursor;

pub(crate) use write::{
    BatchReads, Gate, Placed, Written, create_deal_gated, create_deal_in, decide_placed, insert_rows,
    update_deal_gated, update_deal_in, write_placed,
};

use crate::projections;
use crate::row::*;
use crate::sql::{ListPage, Page, Sql, fetch_page, like_pattern};
use crate::webhooks::Emit;
use crate::{Actor, Store, StoreError, Tx};
use dealflow_core::currency::Currency;
use dealflow_core::model::{Deal, DealPatch, DealStatus, EventKind, FieldChange, NewDeal, StageEvent};
use dealflow_core::time::Timestamp;
use dealflow_core::{DealId, EventId, OrganizationId, PersonId, PipelineId, StageId, UserId};
use serde_json::Value;
use sqlx::any::AnyRow;

/// Filters of deals: the one definition behind `GET /api/v1/deals`, the
/// deal export and [`Store::list_deals`]; the API reads it straight from
/// the query string (its doc comments are the parameters' descriptions).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DealFilter {
    pub pipeline_id: Option<PipelineId>,
    pub stage_id: Option<StageId>,
    pub status: Option<DealStatus>,
    pub owner_id: Option<UserId>,
    pub person_id: Option<PersonId>,
    pub organization_id: Option<OrganizationId>,
    /// Only deals changed at or after this time.
    pub updated_since: Option<Timestamp>,
    /// Text search in the title (case-insensitive).
    pub q: Option<String>,
    /// `true` lists deleted deals (the trash) instead.
    #[serde(default)]
    pub deleted: bool,
    /// Only deals whose lead score is in this band (by name).
    pub band: Option<String>,
}

pub(crate) fn from_row(r: &AnyRow) -> R<Deal> {
    Ok(Deal {
        id: DealId(i64_(r, "id")?),
        title: text(r, "title")?,
        value: i64_(r, "value")?,
        currency: Currency::parse(&text(r, "currency")?).map_err(|e| sqlx::Error::Decode(e.into()))?,
        contract_months: opt_i64(r, "contract_months")?,
        pipeline_id: PipelineId(i64_(r, "pipeline_id")?),
        stage_id: StageId(i64_(r, "stage_id")?),
        status: enum_(r, "status", DealStatus::parse)?,
        lost_reason: opt_text(r, "lost_reason")?,
        probability: opt_i64(r, "probability")?,
        expected_close_date: opt_date(r, "expected_close_date")?,
        owner_id: opt_i64(r, "owner_id")?.map(UserId),
        person_id: opt_i64(r, "person_id")?.map(PersonId),
        organization_id: opt_i64(r, "organization_id")?.map(OrganizationId),
        source: opt_text(r, "source")?,
        form_id: opt_i64(r, "form_id")?.map(dealflow_core::FormId),
        custom: json(r, "custom")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        closed_at: opt_ts(r, "closed_at")?,
        stage_entered_at: ts(r, "stage_entered_at")?,
        deleted_at: opt_ts(r, "deleted_at")?,
        version: i64_(r, "version")?,
    })
}

pub(crate) fn event_from_row(r: &AnyRow) -> R<StageEvent> {
    Ok(StageEvent {
        id: EventId(i64_(r, "id")?),
        deal_id: DealId(i64_(r, "deal_id")?),
        kind: enum_(r, "kind", EventKind::parse)?,
        pipeline_id: PipelineId(i64_(r, "pipeline_id")?),
        stage_id: StageId(i64_(r, "stage_id")?),
        from_stage_id: opt_i64(r, "from_stage_id")?.map(StageId),
        lost_reason: opt_text(r, "lost_reason")?,
        at: ts(r, "at")?,
        user_id: opt_i64(r, "user_id")?.map(UserId),
        override_reason: opt_text(r, "override_reason")?,
        override_by: opt_i64(r, "override_by")?.map(UserId),
        override_steps: match opt_text(r, "override_steps")? {
            // Written by this program from a serialized list; a row that
            // does not parse shows no steps rather than failing the log.
            Some(s) => serde_json::from_str(&s).unwrap_or_default(),
            None => Vec::new(),
        },
        origin: enum_(r, "origin", dealflow_core::model::EventOrigin::parse)?,
    })
}

/// Appends one field-history row.
pub(crate) async fn record_change(
    tx: &mut Tx,
    deal: DealId,
    field: &str,
    old: Value,
    new: Value,
    actor: &Actor,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO field_history (id, deal_id, field, old_value, new_value, at, user_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(dealflow_core::ids::next_id())
    .bind(deal.0)
    .bind(field.to_string())
    .bind(old.to_string())
    .bind(new.to_string())
    .bind(actor.now.0)
    .bind(actor.user_id.map(|u| u.0))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The webhook events of a deal update: `deal.updated` with the changed
/// fields' values before, and `deal.stage_changed`, `deal.won` or
/// `deal.lost` when the move was one.
fn deal_events(before: &Deal, after: &Deal) -> Vec<Emit> {
    let changed = crate::audit::diff(Some(before), Some(after));
    let previous: serde_json::Map<String, Value> = changed.into_iter().map(|c| (c.field, c.before)).collect();
    let previous = Value::Object(previous);
    let mut out = vec![Emit::new("deal.updated", after).previous(previous.clone())];
    if before.stage_id != after.stage_id {
        out.push(Emit::new("deal.stage_changed", after).previous(previous.clone()));
    }
    if before.status != after.status {
        match after.status {
            DealStatus::Won => out.push(Emit::new("deal.won", after).previous(previous)),
            DealStatus::Lost => out.push(Emit::new("deal.lost", after).previous(previous)),
            DealStatus::Open => {}
        }
    }
    out
}

/// Checks that a person/organization exists and is not deleted.
pub(crate) async fn check_ref(tx: &mut Tx, table: &str, field: &str, what: &str, id: i64) -> Result<(), StoreError> {
    let sql = format!("SELECT deleted_at FROM {table} WHERE id = $1");
    let row: Option<Option<i64>> =
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut **tx).await?;
    match row {
        None => Err(StoreError::invalid(field, format!("{what} {id} does not exist"))),
        Some(Some(_)) => Err(StoreError::invalid(field, format!("{what} {id} is deleted; restore it first"))),
        Some(None) => Ok(()),
    }
}

/// A deal change with everything that goes with it (projections, the
/// audit-log entry, webhook events) inside the caller's transaction; the
/// flag says whether the webhook sender should be woken after commit.
pub(crate) async fn update_deal_tx(
    tx: &mut Tx,
    actor: &Actor,
    id: DealId,
    p: DealPatch,
) -> Result<(Deal, bool), StoreError> {
    let out = update_deal_in(tx, actor, id, p).await?;
    projections::refresh_written(tx, &out).await?;
    let mut wake = false;
    if let Some(before) = &out.before {
        crate::audit::updated(tx, actor, "deal", id.0, before, &out.deal).await?;
        wake = crate::webhooks::emit(tx, actor.now, deal_events(before, &out.deal)).await?;
    }
    Ok((out.deal, wake))
}

impl Store {
    #[tracing::instrument(skip_all)]
    pub async fn create_deal(&self, actor: &Actor, n: NewDeal) -> Result<Deal, StoreError> {
        let mut tx = self.write().await?;
        let out = create_deal_in(&mut tx, actor, n).await?;
        projections::refresh_written(&mut tx, &out).await?;
        crate::audit::created(&mut tx, actor, "deal", out.deal.id.0, &out.deal).await?;
        let wake = crate::webhooks::emit(&mut tx, actor.now, vec![Emit::new("deal.created", &out.deal)]).await?;
        tx.commit().await?;
        self.woken(wake);
        Ok(out.deal)
    }

    /// A live (not deleted) deal.
    pub async fn deal(&self, id: DealId) -> Result<Deal, StoreError> {
        crate::records::live(self.pool(), "deals", "deal", id.0, from_row).await
    }

    /// Applies a PATCH as `core::deal_change::decide_update` decides it:
    /// plain fields, custom fields and stage/outcome changes; tracked
    /// fields get history rows. A patch that changes nothing writes nothing
    /// and leaves the version as it was.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn update_deal(&self, actor: &Actor, id: DealId, p: DealPatch) -> Result<Deal, StoreError> {
        let mut tx = self.write().await?;
        let (deal, wake) = update_deal_tx(&mut tx, actor, id, p).await?;
        tx.commit().await?;
        self.woken(wake);
        Ok(deal)
    }

    /// Moves a deal to the trash; it drops out of lists and metrics until restored.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn delete_deal(&self, actor: &Actor, id: DealId) -> Result<(), StoreError> {
        self.set_deleted(actor, "deals", "deal", id.0, true).await
    }

    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn restore_deal(&self, actor: &Actor, id: DealId) -> Result<Deal, StoreError> {
        self.set_deleted(actor, "deals", "deal", id.0, false).await?;
        self.deal(id).await
    }

    /// Sets (`delete`) or clears `deleted_at` on a soft-deletable table,
    /// with its audit entry (`{record}.delete` or `{record}.restore`).
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub(crate) async fn set_deleted(
        &self,
        actor: &Actor,
        table: &str,
        what: &'static str,
        id: i64,
        delete: bool,
    ) -> Result<(), StoreError> {
        let at = delete.then_some(actor.now);
        let mut tx = self.write().await?;
        let cond = if at.is_some() { "deleted_at IS NULL" } else { "deleted_at IS NOT NULL" };
        let sql = format!(
            "UPDATE {table} SET deleted_at = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND {cond}"
        );
        let n = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(at.map(|t| t.0))
            .bind(Timestamp::now().0)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if n.rows_affected() == 0 {
            return Err(StoreError::not_found(what, id));
        }
        // Deleted rows leave every metric; restored ones come back.
        match table {
            "deals" => {
                projections::refresh_deals(&mut tx, &[id]).await?;
                // A deleted deal leaves its stage's checklist (no more
                // e-mails, its tasks closed); a restored one enters it again.
                let deal = crate::records::load(&mut *tx, "deals", "deal", id, from_row).await?;
                crate::playbooks::checklist::deleted_or_restored(&mut tx, actor, &deal, delete).await?;
            }
            "people" => projections::refresh_person(&mut tx, id).await?,
            "outreach_messages" => {
                let person: i64 = sqlx::query_scalar("SELECT person_id FROM outreach_messages WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
                projections::refresh_person(&mut tx, person).await?;
                crate::scoring::sync::refresh_person(&mut tx, actor.now, dealflow_core::PersonId(person)).await?;
            }
            _ => {}
        }
        let record = match table {
            "deals" => "deal",
            "people" => "person",
            "organizations" => "organization",
            _ => "outreach_message",
        };
        crate::audit::deleted(&mut tx, actor, record, if delete { "delete" } else { "restore" }, id).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_deals(&self, f: &DealFilter, page: Page) -> Result<ListPage<Deal>, StoreError> {
        let mut sql = Sql::new("SELECT * FROM deals WHERE ");
        sql.push(if f.deleted { "deleted_at IS NOT NULL" } else { "deleted_at IS NULL" });
        if let Some(v) = f.pipeline_id {
            sql.push(" AND pipeline_id = ").bind(v.0);
        }
        if let Some(v) = f.stage_id {
            sql.push(" AND stage_id = ").bind(v.0);
        }
        if let Some(v) = f.status {
            sql.push(" AND status = ").bind(v.as_str());
        }
        if let Some(v) = f.owner_id {
            sql.push(" AND owner_id = ").bind(v.0);
        }
        if let Some(v) = f.person_id {
            sql.push(" AND person_id = ").bind(v.0);
        }
        if let Some(v) = f.organization_id {
            sql.push(" AND organization_id = ").bind(v.0);
        }
        if let Some(v) = f.updated_since {
            sql.push(" AND updated_at >= ").bind(v.0);
        }
        if let Some(q) = f.q.as_deref().filter(|q| !q.trim().is_empty()) {
            sql.push(" AND LOWER(title) LIKE ").bind(like_pattern(q)).push(" ESCAPE '\\'");
        }
        if let Some(b) = &f.band {
            sql.push(" AND id IN (SELECT deal_id FROM deal_scores WHERE band = ").bind(b.clone()).push(")");
        }
        page.apply(&mut sql, "id");
        fetch_page(self.pool(), &sql, page, from_row).await
    }

    /// The stage log of a deal, oldest first.
    pub async fn deal_events(&self, id: DealId) -> Result<Vec<StageEvent>, StoreError> {
        let rows = sqlx::query("SELECT * FROM stage_events WHERE deal_id = $1 ORDER BY at, id")
            .bind(id.0)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(event_from_row).collect::<R<_>>()?)
    }

    /// Field history of a deal, oldest first.
    pub async fn deal_history(&self, id: DealId) -> Result<Vec<FieldChange>, StoreError> {
        let rows = sqlx::query("SELECT * FROM field_history WHERE deal_id = $1 ORDER BY at, id")
            .bind(id.0)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(change_from_row).collect::<R<_>>()?)
    }
}

pub(crate) fn change_from_row(r: &AnyRow) -> R<FieldChange> {
    let parse = |c: &str| -> R<Value> { serde_json::from_str(&text(r, c)?).map_err(|e| sqlx::Error::Decode(e.into())) };
    Ok(FieldChange {
        deal_id: DealId(i64_(r, "deal_id")?),
        field: text(r, "field")?,
        old_value: parse("old_value")?,
        new_value: parse("new_value")?,
        at: ts(r, "at")?,
        user_id: opt_i64(r, "user_id")?.map(UserId),
    })
}

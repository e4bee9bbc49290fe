//! Deals: create, read, update (through the stage-move rules), soft delete
//! and restore, lists, and their stage events and field history. A deal's
//! stage, status and close time are a projection of its stage events, and
//! both are written in the same transaction.

use crate::custom_fields;
use crate::pipelines::{pipeline_archived, stages_of};
use crate::projections;
use crate::row::*;
use crate::sql::{ListPage, Page, Sql, fetch_page, like_pattern};
use crate::users::check_user;
use crate::{Actor, Store, StoreError, Tx};
use dealflow_core::currency::{Currency, check_amount};
use dealflow_core::custom_field::Entity;
use dealflow_core::model::{Deal, DealPatch, DealStatus, EventKind, FieldChange, NewDeal, StageEvent};
use dealflow_core::stage_move::{Context, MoveRequest, PlannedEvent, Position, plan_create, plan_move};
use dealflow_core::time::Timestamp;
use dealflow_core::validate::{int_range, optional_text, percent, required_text};
use dealflow_core::{DealId, EventId, Invalid, OrganizationId, PersonId, PipelineId, StageId, UserId};
use serde_json::{Value, json};
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
        custom: json(r, "custom")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        closed_at: opt_ts(r, "closed_at")?,
        stage_entered_at: ts(r, "stage_entered_at")?,
        deleted_at: opt_ts(r, "deleted_at")?,
        version: i64_(r, "version")?,
    })
}

fn event_from_row(r: &AnyRow) -> R<StageEvent> {
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

async fn insert_events(
    tx: &mut Tx,
    deal: DealId,
    events: &[PlannedEvent],
    user: Option<UserId>,
) -> Result<(), StoreError> {
    for e in events {
        sqlx::query(
            "INSERT INTO stage_events (id, deal_id, kind, pipeline_id, stage_id, from_stage_id, lost_reason, at, user_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(EventId::new().0)
        .bind(deal.0)
        .bind(e.kind.as_str().to_string())
        .bind(e.pipeline_id.0)
        .bind(e.stage_id.0)
        .bind(e.from_stage_id.map(|s| s.0))
        .bind(e.lost_reason.clone())
        .bind(e.at.0)
        .bind(user.map(|u| u.0))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
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

async fn check_refs(
    tx: &mut Tx,
    owner: Option<UserId>,
    person: Option<PersonId>,
    org: Option<OrganizationId>,
) -> Result<(), StoreError> {
    if let Some(u) = owner {
        check_user(tx, "owner_id", u).await?;
    }
    if let Some(p) = person {
        check_ref(tx, "people", "person_id", "person", p.0).await?;
    }
    if let Some(o) = org {
        check_ref(tx, "organizations", "organization_id", "organization", o.0).await?;
    }
    Ok(())
}

pub(crate) async fn load_for_update(tx: &mut Tx, id: DealId) -> Result<Deal, StoreError> {
    let r = sqlx::query("SELECT * FROM deals WHERE id = $1 AND deleted_at IS NULL")
        .bind(id.0)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("deal", id))?;
    Ok(from_row(&r)?)
}

fn id_json<T: std::fmt::Display>(v: Option<T>) -> Value {
    v.map(|x| json!(x.to_string())).unwrap_or(Value::Null)
}

/// The body of [`Store::create_deal`], inside the caller's transaction.
pub(crate) async fn create_deal_in(tx: &mut Tx, actor: &Actor, n: NewDeal) -> Result<Deal, StoreError> {
    let mut errs = Invalid::new();
    let title = errs.take(required_text("title", &n.title, 200));
    errs.take(check_amount("value", n.value));
    if let Some(m) = n.contract_months {
        errs.take(int_range("contract_months", m, 1, 1200));
    }
    if let Some(p) = n.probability {
        errs.take(percent("probability", p));
    }
    let source = errs.take(optional_text("source", n.source.as_deref(), 100)).flatten();
    let created_at = match n.created_at {
        Some(t) => errs.take(t.check_not_future("created_at", actor.now)).unwrap_or(t),
        None => actor.now,
    };
    if let Some(c) = n.closed_at {
        errs.take(c.check_not_future("closed_at", actor.now));
    }
    errs.into_result()?;
    let title = title.unwrap_or_default();

    let settings = crate::settings::load(tx).await?;
    let pipeline_id = match n.pipeline_id {
        Some(p) => match pipeline_archived(tx, p).await? {
            None => return Err(StoreError::invalid("pipeline_id", format!("pipeline {p} does not exist"))),
            Some(true) => {
                return Err(StoreError::invalid("pipeline_id", "this pipeline is archived; choose another"));
            }
            Some(false) => p,
        },
        None => PipelineId(
            sqlx::query_scalar("SELECT id FROM pipelines WHERE archived = 0 ORDER BY position, id LIMIT 1")
                .fetch_optional(&mut **tx)
                .await?
                .ok_or_else(|| {
                    StoreError::invalid("pipeline_id", "the workspace has no active pipeline; create one first")
                })?,
        ),
    };
    let stages = stages_of(tx, pipeline_id).await?;
    let stage_id = match n.stage_id {
        Some(s) => s,
        None => stages
            .iter()
            .find(|s| !s.archived)
            .map(|s| s.id)
            .ok_or_else(|| StoreError::invalid("pipeline_id", "this pipeline has no active stage"))?,
    };
    let owner = n.owner_id.or(actor.user_id);
    check_refs(tx, owner, n.person_id, n.organization_id).await?;
    let custom = custom_fields::apply(tx, Entity::Deal, &Default::default(), n.custom.as_ref(), true).await?;
    let labels = crate::lost_reasons::labels(tx).await?;
    let status = n.status.unwrap_or(DealStatus::Open);
    let closed_at = match status {
        DealStatus::Open => n.closed_at,
        _ => Some(n.closed_at.unwrap_or(actor.now)),
    };
    let plan = plan_create(
        pipeline_id,
        stage_id,
        &stages,
        status,
        n.lost_reason.clone(),
        created_at,
        closed_at,
        settings.require_lost_reason,
        &labels,
    )?;
    let currency = n.currency.unwrap_or(settings.base_currency);
    let id = DealId::new();
    let pos = &plan.position;
    sqlx::query(
        "INSERT INTO deals (id, title, value, currency, contract_months, pipeline_id, stage_id, status, lost_reason,
          probability, expected_close_date, owner_id, person_id, organization_id, source, custom, created_at, updated_at,
          closed_at, stage_entered_at, deleted_at, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, NULL, 1)",
    )
    .bind(id.0)
    .bind(title)
    .bind(n.value)
    .bind(currency.as_str().to_string())
    .bind(n.contract_months)
    .bind(pos.pipeline_id.0)
    .bind(pos.stage_id.0)
    .bind(pos.status.as_str().to_string())
    .bind(pos.lost_reason.clone())
    .bind(n.probability)
    .bind(n.expected_close_date.map(|d| d.to_iso()))
    .bind(owner.map(|u| u.0))
    .bind(n.person_id.map(|p| p.0))
    .bind(n.organization_id.map(|o| o.0))
    .bind(source)
    .bind(custom_fields::to_text(&custom))
    .bind(created_at.0)
    .bind(actor.now.0)
    .bind(pos.closed_at.map(|t| t.0))
    .bind(pos.stage_entered_at.0)
    .execute(&mut **tx)
    .await?;
    insert_events(tx, id, &plan.events, actor.user_id).await?;
    let deal = load_for_update(tx, id).await?;
    Ok(deal)
}

/// The body of [`Store::update_deal`], inside the caller's transaction.
/// The caller refreshes the deal's metric projections before committing
/// (`projections::refresh_deals`), so a file import does it once per deal.
pub(crate) async fn update_deal_in(tx: &mut Tx, actor: &Actor, id: DealId, p: DealPatch) -> Result<Deal, StoreError> {
    let mut errs = Invalid::new();
    let title = p.title.as_deref().and_then(|t| errs.take(required_text("title", t, 200)));
    if let Some(v) = p.value {
        errs.take(check_amount("value", v));
    }
    if let Some(Some(m)) = p.contract_months {
        errs.take(int_range("contract_months", m, 1, 1200));
    }
    if let Some(Some(pr)) = p.probability {
        errs.take(percent("probability", pr));
    }
    let source = match &p.source {
        Some(s) => errs.take(optional_text("source", s.as_deref(), 100)),
        None => None,
    };
    let explicit_at = match p.at {
        Some(t) => errs.take(t.check_not_future("at", actor.now)),
        None => None,
    };
    errs.into_result()?;

    let cur = load_for_update(tx, id).await?;
    // Without an explicit time the change happens now, read inside the
    // transaction: a writer that waited for the lock must not stamp its
    // events before those of the writer it waited for.
    let last: Option<i64> = sqlx::query_scalar("SELECT MAX(at) FROM stage_events WHERE deal_id = $1")
        .bind(id.0)
        .fetch_one(&mut **tx)
        .await?;
    let at = explicit_at.unwrap_or_else(|| Timestamp(Timestamp::now().0.max(last.unwrap_or(0))));
    // History rows carry the time the change happened.
    let actor = Actor { user_id: actor.user_id, now: at };
    if cur.version != p.version {
        return Err(StoreError::Conflict { current: cur.version });
    }
    let mut next = cur.clone();
    if let Some(t) = title {
        next.title = t;
    }
    if let Some(v) = p.value {
        next.value = v;
    }
    if let Some(c) = &p.currency {
        next.currency = c.clone();
    }
    if let Some(m) = p.contract_months {
        next.contract_months = m;
    }
    if let Some(pr) = p.probability {
        next.probability = pr;
    }
    if let Some(d) = p.expected_close_date {
        next.expected_close_date = d;
    }
    if let Some(o) = p.owner_id {
        next.owner_id = o;
    }
    if let Some(pe) = p.person_id {
        next.person_id = pe;
    }
    if let Some(o) = p.organization_id {
        next.organization_id = o;
    }
    if let Some(s) = source {
        next.source = s;
    }
    check_refs(
        tx,
        next.owner_id.filter(|o| Some(*o) != cur.owner_id),
        next.person_id.filter(|o| Some(*o) != cur.person_id),
        next.organization_id.filter(|o| Some(*o) != cur.organization_id),
    )
    .await?;
    if p.custom.is_some() {
        next.custom = custom_fields::apply(tx, Entity::Deal, &cur.custom, p.custom.as_ref(), false).await?;
    }

    let wants_move = p.pipeline_id.is_some() || p.stage_id.is_some() || p.status.is_some() || p.lost_reason.is_some();
    let mut events = Vec::new();
    if wants_move {
        let target = p.pipeline_id.unwrap_or(cur.pipeline_id);
        let archived = match pipeline_archived(tx, target).await? {
            None => return Err(StoreError::invalid("pipeline_id", format!("pipeline {target} does not exist"))),
            Some(a) => a,
        };
        let stages = stages_of(tx, target).await?;
        let settings = crate::settings::load(tx).await?;
        let labels = crate::lost_reasons::labels(tx).await?;
        let position = Position {
            pipeline_id: cur.pipeline_id,
            stage_id: cur.stage_id,
            status: cur.status,
            lost_reason: cur.lost_reason.clone(),
            closed_at: cur.closed_at,
            stage_entered_at: cur.stage_entered_at,
        };
        let req = MoveRequest {
            pipeline_id: p.pipeline_id,
            stage_id: p.stage_id,
            status: p.status,
            lost_reason: p.lost_reason.clone(),
        };
        let ctx = Context {
            target_stages: &stages,
            target_archived: archived,
            require_lost_reason: settings.require_lost_reason,
            lost_reasons: &labels,
            at,
            last_event_at: last.map(Timestamp),
        };
        let plan = plan_move(&position, &req, &ctx)?;
        let np = plan.position;
        next.pipeline_id = np.pipeline_id;
        next.stage_id = np.stage_id;
        next.status = np.status;
        next.lost_reason = np.lost_reason;
        next.closed_at = np.closed_at;
        next.stage_entered_at = np.stage_entered_at;
        events = plan.events;
    }

    let tracked: [(&str, Value, Value); 7] = [
        ("value", json!(cur.value), json!(next.value)),
        ("currency", json!(cur.currency.as_str()), json!(next.currency.as_str())),
        ("probability", json!(cur.probability), json!(next.probability)),
        (
            "expected_close_date",
            json!(cur.expected_close_date.map(|d| d.to_iso())),
            json!(next.expected_close_date.map(|d| d.to_iso())),
        ),
        ("owner_id", id_json(cur.owner_id), id_json(next.owner_id)),
        ("person_id", id_json(cur.person_id), id_json(next.person_id)),
        ("organization_id", id_json(cur.organization_id), id_json(next.organization_id)),
    ];
    for (field, old, new) in tracked {
        if old != new {
            record_change(tx, id, field, old, new, &actor).await?;
        }
    }
    insert_events(tx, id, &events, actor.user_id).await?;
    let n = sqlx::query(
        "UPDATE deals SET title = $1, value = $2, currency = $3, contract_months = $4, pipeline_id = $5, stage_id = $6,
          status = $7, lost_reason = $8, probability = $9, expected_close_date = $10, owner_id = $11, person_id = $12,
          organization_id = $13, source = $14, custom = $15, closed_at = $16, stage_entered_at = $17,
          updated_at = $18, version = version + 1
         WHERE id = $19 AND version = $20",
    )
    .bind(next.title)
    .bind(next.value)
    .bind(next.currency.as_str().to_string())
    .bind(next.contract_months)
    .bind(next.pipeline_id.0)
    .bind(next.stage_id.0)
    .bind(next.status.as_str().to_string())
    .bind(next.lost_reason)
    .bind(next.probability)
    .bind(next.expected_close_date.map(|d| d.to_iso()))
    .bind(next.owner_id.map(|u| u.0))
    .bind(next.person_id.map(|x| x.0))
    .bind(next.organization_id.map(|x| x.0))
    .bind(next.source)
    .bind(custom_fields::to_text(&next.custom))
    .bind(next.closed_at.map(|t| t.0))
    .bind(next.stage_entered_at.0)
    .bind(Timestamp::now().0.max(at.0))
    .bind(id.0)
    .bind(p.version)
    .execute(&mut **tx)
    .await?;
    if n.rows_affected() == 0 {
        // Another writer got in between our read and this update
        // (possible on PostgreSQL); the whole transaction rolls back.
        let v: i64 =
            sqlx::query_scalar("SELECT version FROM deals WHERE id = $1").bind(id.0).fetch_one(&mut **tx).await?;
        return Err(StoreError::Conflict { current: v });
    }
    let deal = load_for_update(tx, id).await?;
    Ok(deal)
}

impl Store {
    pub async fn create_deal(&self, actor: &Actor, n: NewDeal) -> Result<Deal, StoreError> {
        let mut tx = self.write().await?;
        let out = create_deal_in(&mut tx, actor, n).await?;
        projections::refresh_deals(&mut tx, &[out.id.0]).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// A live (not deleted) deal.
    pub async fn deal(&self, id: DealId) -> Result<Deal, StoreError> {
        let r = sqlx::query("SELECT * FROM deals WHERE id = $1 AND deleted_at IS NULL")
            .bind(id.0)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found("deal", id))?;
        Ok(from_row(&r)?)
    }

    /// Applies a PATCH: plain fields, custom fields, and stage/outcome
    /// changes through [`plan_move`]; tracked fields get history rows.
    pub async fn update_deal(&self, actor: &Actor, id: DealId, p: DealPatch) -> Result<Deal, StoreError> {
        let mut tx = self.write().await?;
        let out = update_deal_in(&mut tx, actor, id, p).await?;
        projections::refresh_deals(&mut tx, &[id.0]).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Moves a deal to the trash; it drops out of lists and metrics until restored.
    pub async fn delete_deal(&self, actor: &Actor, id: DealId) -> Result<(), StoreError> {
        self.set_deleted("deals", "deal", id.0, Some(actor.now)).await
    }

    pub async fn restore_deal(&self, _actor: &Actor, id: DealId) -> Result<Deal, StoreError> {
        self.set_deleted("deals", "deal", id.0, None).await?;
        self.deal(id).await
    }

    /// Sets or clears `deleted_at` on a soft-deletable table.
    pub(crate) async fn set_deleted(
        &self,
        table: &str,
        what: &'static str,
        id: i64,
        at: Option<Timestamp>,
    ) -> Result<(), StoreError> {
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
            "deals" => projections::refresh_deals(&mut tx, &[id]).await?,
            "people" => projections::refresh_person(&mut tx, id).await?,
            "outreach_messages" => {
                let person: i64 = sqlx::query_scalar("SELECT person_id FROM outreach_messages WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
                projections::refresh_person(&mut tx, person).await?;
            }
            _ => {}
        }
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
        rows.iter()
            .map(|r| {
                let parse = |c: &str| -> R<Value> {
                    serde_json::from_str(&text(r, c)?).map_err(|e| sqlx::Error::Decode(e.into()))
                };
                Ok(FieldChange {
                    deal_id: DealId(i64_(r, "deal_id")?),
                    field: text(r, "field")?,
                    old_value: parse("old_value")?,
                    new_value: parse("new_value")?,
                    at: ts(r, "at")?,
                    user_id: opt_i64(r, "user_id")?.map(UserId),
                })
            })
            .collect::<R<_>>()
            .map_err(StoreError::from)
    }
}

//! The write path of a deal. It reads what `core::deal_change::needs` asks
//! for, calls the decision, and writes what the decision returns: the deal
//! row, its new stage events and its field-history rows, each in one
//! statement. The store decides nothing here; every rule is in core.

mod place;

pub(crate) use place::{BatchReads, Placed, decide as decide_placed, insert as insert_rows, write as write_placed};

use super::{event_from_row, from_row};
use crate::custom_fields;
use crate::parties::{org_from_row, person_from_row};
use crate::pipelines::stage_from_row;
use crate::records::{check_version, stale};
use crate::row::*;
use crate::sql::Sql;
use crate::{Actor, StoreError, Tx};
use dealflow_core::custom_field::{CustomField, Entity};
use dealflow_core::deal_change::{
    Change, Context, Decision, Found, Needs, PipelineView, ScoreGate, TrackedChange, decide_create, decide_update,
    needs,
};
use dealflow_core::model::{Deal, DealPatch, EventOrigin, NewDeal, Organization, Person, Settings, Stage, StageEvent};
use dealflow_core::stage_move::PlannedEvent;
use dealflow_core::time::Timestamp;
use dealflow_core::{DealId, EventId, PipelineId, UserId};
use sqlx::any::AnyRow;

/// What a write leaves in memory, so the projections can be refreshed
/// without reading any of it back.
pub(crate) struct Written {
    pub deal: Deal,
    /// The deal as it was before (`None` for a new deal).
    pub before: Option<Deal>,
    /// The stage log before the write, oldest first.
    pub log_before: Vec<StageEvent>,
    /// The stage log after the write, oldest first.
    pub log: Vec<StageEvent>,
    /// The stages of the pipeline the deal is in after the write.
    pub stages: Vec<Stage>,
}

/// What [`Needs`] asked for, read inside the transaction.
struct Loaded {
    settings: Settings,
    lost_reasons: Vec<String>,
    custom_fields: Vec<CustomField>,
    /// The pipeline, whether it is archived, and whether its "no skipping
    /// stages" rule applies to this write.
    pipeline: Option<(PipelineId, bool, bool)>,
    stages: Vec<Stage>,
    owner: Option<Found<UserId>>,
    person: Option<Found<Person>>,
    organization: Option<Found<Organization>>,
    playbook: Option<crate::playbooks::gate::GateData>,
    /// The deal's score now and the published model's minimum per stage,
    /// when a move is gated and the model sets minimums.
    score: Option<(f64, std::collections::BTreeMap<dealflow_core::StageId, f64>)>,
    /// The published scoring model of the pipeline, read with it.
    model: Option<crate::scoring::Published>,
}

/// Whether a change passes the playbook gate. Working a deal does; placing
/// one where a file says (imports) does not, nor where an admin's
/// configuration says (an intake form), whose events are live, not loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gate {
    Apply,
    Bypass,
    Place,
}

impl Loaded {
    fn context<'a>(&'a self, actor: Option<UserId>, now: Timestamp, history: &'a [StageEvent]) -> Context<'a> {
        Context {
            actor,
            now,
            settings: &self.settings,
            lost_reasons: &self.lost_reasons,
            custom_fields: &self.custom_fields,
            pipeline: self.pipeline.map(|(id, archived, no_skipping_stages)| PipelineView {
                id,
                archived,
                stages: &self.stages,
                no_skipping_stages,
            }),
            history,
            owner: self.owner,
            person: self.person.as_ref().map(Found::as_ref),
            organization: self.organization.as_ref().map(Found::as_ref),
            playbook: self.playbook.as_ref().map(|p| p.facts()),
            score: self.score.as_ref().map(|(total, min_score)| ScoreGate { total: *total, min_score }),
        }
    }
}

/// Reads what the decision needs: the settings always, the rest on demand.
async fn load(tx: &mut Tx, n: &Needs, deal: Option<DealId>, gate: Gate) -> Result<Loaded, StoreError> {
    let mut out = Loaded {
        settings: crate::settings::load(tx).await?,
        lost_reasons: Vec::new(),
        custom_fields: Vec::new(),
        pipeline: None,
        stages: Vec::new(),
        owner: None,
        person: None,
        organization: None,
        playbook: None,
        score: None,
        model: None,
    };
    if n.pipeline.is_some() || n.first_pipeline {
        (out.pipeline, out.stages, out.model) = pipeline_with_stages(tx, n.pipeline).await?;
        // Placing a deal where a file says skips the pipeline's rules too.
        if gate != Gate::Apply
            && let Some(p) = &mut out.pipeline
        {
            p.2 = false;
        }
    }
    if n.lost_reasons {
        out.lost_reasons = crate::lost_reasons::labels(tx).await?;
    }
    if n.custom_fields {
        out.custom_fields = custom_fields::defs(tx, Entity::Deal).await?;
    }
    if let Some(u) = n.owner {
        let active: Option<i64> =
            sqlx::query_scalar("SELECT active FROM users WHERE id = $1").bind(u.0).fetch_optional(&mut **tx).await?;
        out.owner = Some(match active {
            None => Found::Missing,
            Some(0) => Found::Inactive,
            Some(_) => Found::Live(u),
        });
    }
    if let Some(p) = n.person {
        out.person = Some(party(tx, "people", p.0, person_from_row).await?);
    }
    if let Some(o) = n.organization {
        out.organization = Some(party(tx, "organizations", o.0, org_from_row).await?);
    }
    if let (Some((stage, since)), Some(deal), Gate::Apply) = (n.playbook, deal, gate) {
        out.playbook = Some(crate::playbooks::gate::facts(tx, deal, stage, since).await?);
        if let Some(m) = &out.model {
            out.score = crate::scoring::sync::gate(tx, deal, m).await?;
        }
    }
    Ok(out)
}

/// The pipeline, whether it is archived, and whether its "no skipping
/// stages" rule applies; its stages; its published scoring model.
type PipelineRead = (Option<(PipelineId, bool, bool)>, Vec<Stage>, Option<crate::scoring::Published>);

/// A pipeline (the given one, else the first active one), its stages in
/// order and the published scoring model that covers it, in one
/// statement; `None` when there is no such pipeline.
async fn pipeline_with_stages(tx: &mut Tx, id: Option<PipelineId>) -> Result<PipelineRead, StoreError> {
    let head = "SELECT p.id AS p_id, p.archived AS p_archived, p.no_skipping_stages AS p_no_skip,
                  sm.id AS sm_id, sv.number AS sm_version, sv.body AS sm_body, s.* FROM pipelines p
                LEFT JOIN scoring_models sm ON sm.id = (SELECT m.id FROM scoring_models m WHERE m.deleted_at IS NULL
                  AND m.published_version IS NOT NULL AND (m.pipeline_id = p.id OR m.pipeline_id IS NULL)
                  ORDER BY CASE WHEN m.pipeline_id IS NULL THEN 1 ELSE 0 END LIMIT 1)
                LEFT JOIN scoring_model_versions sv ON sv.model_id = sm.id AND sv.number = sm.published_version
                LEFT JOIN stages s ON s.pipeline_id = p.id WHERE p.id = ";
    let mut sql = Sql::new(head);
    match id {
        Some(id) => {
            sql.bind(id.0);
        }
        None => {
            sql.push("(SELECT id FROM pipelines WHERE archived = 0 ORDER BY position, id LIMIT 1)");
        }
    }
    sql.push(" ORDER BY s.position, s.id");
    let rows = sql.query().fetch_all(&mut **tx).await?;
    let Some(first) = rows.first() else { return Ok((None, Vec::new(), None)) };
    let pipeline = (PipelineId(i64_(first, "p_id")?), i64_(first, "p_archived")? != 0, i64_(first, "p_no_skip")? != 0);
    let model = match (opt_i64(first, "sm_id")?, opt_i64(first, "sm_version")?) {
        (Some(model_id), Some(version)) => {
            Some(crate::scoring::Published { model_id, version, body: json(first, "sm_body")? })
        }
        _ => None,
    };
    // A pipeline without stages gives one row whose stage columns are NULL.
    let stages = rows
        .iter()
        .filter_map(|r| match opt_i64(r, "id") {
            Ok(Some(_)) => Some(stage_from_row(r)),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        })
        .collect::<R<Vec<_>>>()?;
    Ok((Some(pipeline), stages, model))
}

/// A person or organization, found live, deleted or not at all.
async fn party<T>(tx: &mut Tx, table: &str, id: i64, map: fn(&AnyRow) -> R<T>) -> Result<Found<T>, StoreError> {
    let sql = format!("SELECT * FROM {table} WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut **tx).await?;
    Ok(match row {
        None => Found::Missing,
        Some(r) => party_from(&r, map)?,
    })
}

/// A person or organization row, live or deleted.
fn party_from<T>(r: &AnyRow, map: fn(&AnyRow) -> R<T>) -> R<Found<T>> {
    Ok(if opt_i64(r, "deleted_at")?.is_some() { Found::Inactive } else { Found::Live(map(r)?) })
}

/// A deal's stage log, oldest first.
async fn log_of(tx: &mut Tx, id: DealId) -> Result<Vec<StageEvent>, StoreError> {
    let rows = sqlx::query("SELECT * FROM stage_events WHERE deal_id = $1 ORDER BY at, id")
        .bind(id.0)
        .fetch_all(&mut **tx)
        .await?;
    Ok(rows.iter().map(event_from_row).collect::<R<_>>()?)
}

/// The body of [`crate::Store::create_deal`], inside the caller's transaction.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub(crate) async fn create_deal_in(tx: &mut Tx, actor: &Actor, n: NewDeal) -> Result<Written, StoreError> {
    create_deal_gated(tx, actor, n, Gate::Apply).await
}

/// [`create_deal_in`]; placing a deal ([`Gate::Bypass`]) leaves its
/// checklist to the caller, which gives it only the stage it ends in.
pub(crate) async fn create_deal_gated(
    tx: &mut Tx,
    actor: &Actor,
    n: NewDeal,
    gate: Gate,
) -> Result<Written, StoreError> {
    let loaded = load(tx, &needs(None, Change::Create(&n)), None, gate).await?;
    let id = DealId::new();
    let d = decide_create(&n, id, &loaded.context(actor.user_id, actor.now, &[]))?;
    let insert = sqlx::query(
        "INSERT INTO deals (title, value, currency, contract_months, pipeline_id, stage_id, status, lost_reason,
          probability, expected_close_date, owner_id, person_id, organization_id, source, custom, closed_at,
          stage_entered_at, updated_at, version, id, created_at, deleted_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, NULL)",
    );
    bind_row(insert, &d.deal).bind(d.deal.created_at.0).execute(&mut **tx).await?;
    let mut log = insert_events(tx, id, &d.events, actor.user_id, origin(&d, gate)).await?;
    if let Some(o) = &d.overridden {
        record_override(tx, &mut log, o, actor.user_id).await?;
        let detail = serde_json::json!({"reason": o.reason, "open_steps": o.steps});
        crate::audit::append(tx, actor, crate::audit::Entry::new("deal", "override", Some(id.0)).detail(detail))
            .await?;
    }
    if gate == Gate::Apply {
        crate::playbooks::checklist::after_write(tx, actor, None, &d.deal, None).await?;
    }
    // Imports score their deals with the rescore they schedule at the end.
    if gate != Gate::Bypass
        && let Some(m) = &loaded.model
    {
        crate::scoring::sync::refresh_open(tx, actor, &d.deal, m).await?;
    }
    tracing::debug!(deal = %id, events = log.len(), "deal created");
    Ok(Written { deal: d.deal, before: None, log_before: Vec::new(), log, stages: loaded.stages })
}

/// The body of [`crate::Store::update_deal`], inside the caller's
/// transaction. The caller refreshes the metric projections before
/// committing, so a file import does it once per deal.
#[tracing::instrument(skip_all, fields(deal = %id), err(level = "debug"))]
pub(crate) async fn update_deal_in(
    tx: &mut Tx,
    actor: &Actor,
    id: DealId,
    p: DealPatch,
) -> Result<Written, StoreError> {
    update_deal_gated(tx, actor, id, p, Gate::Apply).await
}

/// [`update_deal_in`] with the playbook gate applied or bypassed.
pub(crate) async fn update_deal_gated(
    tx: &mut Tx,
    actor: &Actor,
    id: DealId,
    p: DealPatch,
    gate: Gate,
) -> Result<Written, StoreError> {
    let cur = crate::records::live(&mut **tx, "deals", "deal", id.0, from_row).await?;
    check_version(cur.version, p.version)?;
    let log_before = log_of(tx, id).await?;
    let loaded = load(tx, &needs(Some(&cur), Change::Update(&p)), Some(id), gate).await?;
    // Now is read inside the transaction: a writer that waited for the
    // lock must not stamp its events before those it waited for.
    let d: Decision = decide_update(&cur, &p, &loaded.context(actor.user_id, Timestamp::now(), &log_before))?;
    let mut log = log_before.clone();
    if d.changed {
        insert_changes(tx, id, &d.changes, d.at, actor.user_id).await?;
        let mut events = insert_events(tx, id, &d.events, actor.user_id, origin(&d, gate)).await?;
        if let Some(o) = &d.overridden {
            record_override(tx, &mut events, o, actor.user_id).await?;
            // An override is a decision the weekly audit reviews: its own entry.
            let detail = serde_json::json!({"reason": o.reason, "open_steps": o.steps});
            crate::audit::append(tx, actor, crate::audit::Entry::new("deal", "override", Some(id.0)).detail(detail))
                .await?;
        }
        log.extend(events);
        write_row(tx, &d.deal, p.version).await?;
        // Placing a deal (an import) makes no tasks for the past.
        if gate == Gate::Apply {
            // The gate's read covers the deal's pipeline; another one's
            // stages are read afresh.
            let known = loaded.playbook.as_ref().filter(|_| d.deal.pipeline_id == cur.pipeline_id);
            crate::playbooks::checklist::after_write(tx, actor, Some(&cur), &d.deal, known).await?;
        }
        if gate != Gate::Bypass {
            // The model read with the pipeline covers the deal unless it
            // moved to another pipeline.
            match &loaded.model {
                Some(m) if d.deal.pipeline_id == cur.pipeline_id => {
                    crate::scoring::sync::refresh_open(tx, actor, &d.deal, m).await?
                }
                _ if d.deal.pipeline_id != cur.pipeline_id => crate::scoring::sync::refresh(tx, actor, &d.deal).await?,
                _ => {}
            }
        }
    }
    let stages = if loaded.pipeline.is_some_and(|(pid, _, _)| pid == d.deal.pipeline_id) {
        loaded.stages
    } else {
        crate::pipelines::stages_of(tx, d.deal.pipeline_id).await?
    };
    Ok(Written { deal: d.deal, before: Some(cur), log_before, log, stages })
}

/// Writes the decided row, guarded by the version the caller saw.
async fn write_row(tx: &mut Tx, next: &Deal, seen: i64) -> Result<(), StoreError> {
    let update = sqlx::query(
        "UPDATE deals SET title = $1, value = $2, currency = $3, contract_months = $4, pipeline_id = $5, stage_id = $6,
          status = $7, lost_reason = $8, probability = $9, expected_close_date = $10, owner_id = $11, person_id = $12,
          organization_id = $13, source = $14, custom = $15, closed_at = $16, stage_entered_at = $17,
          updated_at = $18, version = $19
         WHERE id = $20 AND version = $21",
    );
    let n = bind_row(update, next).bind(seen).execute(&mut **tx).await?;
    if n.rows_affected() == 0 {
        return Err(stale(tx, "deals", next.id.0).await);
    }
    Ok(())
}

/// Binds `$1`…`$20` of both row statements: the fields in the order the
/// INSERT and the UPDATE list them, then the id.
fn bind_row<'q>(q: AnyQuery<'q>, d: &Deal) -> AnyQuery<'q> {
    q.bind(d.title.clone())
        .bind(d.value)
        .bind(d.currency.as_str().to_string())
        .bind(d.contract_months)
        .bind(d.pipeline_id.0)
        .bind(d.stage_id.0)
        .bind(d.status.as_str().to_string())
        .bind(d.lost_reason.clone())
        .bind(d.probability)
        .bind(d.expected_close_date.map(|x| x.to_iso()))
        .bind(d.owner_id.map(|u| u.0))
        .bind(d.person_id.map(|x| x.0))
        .bind(d.organization_id.map(|x| x.0))
        .bind(d.source.clone())
        .bind(custom_fields::to_text(&d.custom))
        .bind(d.closed_at.map(|t| t.0))
        .bind(d.stage_entered_at.0)
        .bind(d.updated_at.0)
        .bind(d.version)
        .bind(d.id.0)
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// Where a write's events come from: a file when the gate is bypassed
/// (imports), else what the decision says (loaded history or live).
fn origin(d: &Decision, gate: Gate) -> EventOrigin {
    match gate {
        Gate::Bypass => EventOrigin::Imported,
        Gate::Apply | Gate::Place => d.origin,
    }
}

/// Appends the planned events in one statement; returns them as stored.
async fn insert_events(
    tx: &mut Tx,
    deal: DealId,
    events: &[PlannedEvent],
    user: Option<UserId>,
    origin: EventOrigin,
) -> Result<Vec<StageEvent>, StoreError> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let stored: Vec<StageEvent> =
        events.iter().map(|e| StageEvent { origin, ..e.stored(EventId::new(), deal, user) }).collect();
    let mut sql = Sql::new(
        "INSERT INTO stage_events (id, deal_id, kind, pipeline_id, stage_id, from_stage_id, lost_reason, at, user_id,
          origin) VALUES ",
    );
    for (i, e) in stored.iter().enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" });
        sql.bind(e.id.0).push(", ").bind(deal.0).push(", ").bind(e.kind.as_str()).push(", ");
        sql.bind(e.pipeline_id.0).push(", ").bind(e.stage_id.0).push(", ").bind(e.from_stage_id.map(|s| s.0));
        sql.push(", ").bind(e.lost_reason.clone()).push(", ").bind(e.at.0).push(", ").bind(user.map(|u| u.0));
        sql.push(", ").bind(origin.as_str()).push(")");
    }
    sql.query().execute(&mut **tx).await?;
    Ok(stored)
}

/// Marks the events of an overriding move with the reason, who and the
/// open steps, in one statement.
async fn record_override(
    tx: &mut Tx,
    events: &mut [StageEvent],
    o: &dealflow_core::deal_change::Override,
    user: Option<UserId>,
) -> Result<(), StoreError> {
    let steps = serde_json::to_string(&o.steps).map_err(|e| StoreError::Config(e.to_string()))?;
    let mut sql = Sql::new("UPDATE stage_events SET override_reason = ");
    sql.bind(o.reason.clone()).push(", override_by = ").bind(user.map(|u| u.0));
    sql.push(", override_steps = ").bind(steps).push(" WHERE id IN (");
    for (i, e) in events.iter_mut().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(e.id.0);
        e.override_reason = Some(o.reason.clone());
        e.override_by = user;
        e.override_steps = o.steps.clone();
    }
    sql.push(")");
    if !events.is_empty() {
        sql.query().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Appends the field-history rows of one change in one statement.
async fn insert_changes(
    tx: &mut Tx,
    deal: DealId,
    changes: &[TrackedChange],
    at: Timestamp,
    user: Option<UserId>,
) -> Result<(), StoreError> {
    if changes.is_empty() {
        return Ok(());
    }
    let mut sql = Sql::new("INSERT INTO field_history (id, deal_id, field, old_value, new_value, at, user_id) VALUES ");
    for (i, c) in changes.iter().enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" });
        sql.bind(dealflow_core::ids::next_id()).push(", ").bind(deal.0).push(", ").bind(c.field).push(", ");
        sql.bind(c.old.to_string()).push(", ").bind(c.new.to_string()).push(", ").bind(at.0).push(", ");
        sql.bind(user.map(|u| u.0)).push(")");
    }
    sql.query().execute(&mut **tx).await?;
    Ok(())
}

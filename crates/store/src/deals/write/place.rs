//! Many new deals placed where a file says (imports), in batches. Each deal
//! is still decided by `core::deal_change`, exactly as
//! [`super::create_deal_gated`] and then [`super::update_deal_gated`] with
//! [`super::Gate::Bypass`] decide it (its creation, then each move and the
//! close as patches), but from what the batch read once instead of a read
//! per deal and step; the batch is then written in a few multi-row
//! statements. A deal whose decision would need something the batch did
//! not read is handed back, for the one-deal-at-a-time path.

use super::party_from;
use crate::custom_fields;
use crate::parties::{org_from_row, person_from_row};
use crate::row::*;
use crate::sql::{Arg, Sql};
use crate::{Actor, Engine, StoreError, Tx};
use dealflow_core::custom_field::{CustomField, Entity};
use dealflow_core::deal_change::{
    Change, Context, Found, Needs, PipelineView, TrackedChange, decide_create, decide_update, needs,
};
use dealflow_core::model::{Deal, DealPatch, EventOrigin, NewDeal, Organization, Person, Settings, Stage, StageEvent};
use dealflow_core::time::Timestamp;
use dealflow_core::{DealId, EventId, OrganizationId, PersonId, PipelineId, UserId};
use std::collections::HashMap;

/// What the decisions of one batch read, once: the workspace settings, the
/// lost reasons and deal custom fields, the pipeline every deal of the
/// batch goes to with its stages, and the records the deals point at.
pub(crate) struct BatchReads {
    settings: Settings,
    lost_reasons: Vec<String>,
    custom_fields: Vec<CustomField>,
    /// The pipeline and whether it is archived (placing skips its "no
    /// skipping stages" rule, as every placement does).
    pipeline: (PipelineId, bool),
    stages: Vec<Stage>,
    owners: HashMap<UserId, Found<UserId>>,
    people: HashMap<PersonId, Found<Person>>,
    organizations: HashMap<OrganizationId, Found<Organization>>,
}

impl BatchReads {
    /// Reads what the decisions of deals placed in `pipeline` and pointing
    /// at these records need.
    pub(crate) async fn read(
        tx: &mut Tx,
        engine: Engine,
        pipeline: PipelineId,
        owners: &[UserId],
        people: &[PersonId],
        organizations: &[OrganizationId],
    ) -> Result<Self, StoreError> {
        let (view, stages, _model) = super::pipeline_with_stages(tx, Some(pipeline)).await?;
        let Some((id, archived, _)) = view else {
            return Err(StoreError::NotFound { what: "pipeline", id: pipeline.0.to_string() });
        };
        let mut out = BatchReads {
            settings: crate::settings::load(tx).await?,
            lost_reasons: crate::lost_reasons::labels(tx).await?,
            custom_fields: custom_fields::defs(tx, Entity::Deal).await?,
            pipeline: (id, archived),
            stages,
            owners: owners.iter().map(|u| (*u, Found::Missing)).collect(),
            people: people.iter().map(|p| (*p, Found::Missing)).collect(),
            organizations: organizations.iter().map(|o| (*o, Found::Missing)).collect(),
        };
        if !owners.is_empty() {
            let mut sql = Sql::for_engine(engine, "SELECT id, active FROM users WHERE id IN (");
            id_list(&mut sql, owners.iter().map(|u| u.0));
            for r in sql.query().fetch_all(&mut **tx).await? {
                let u = UserId(i64_(&r, "id")?);
                let found = if i64_(&r, "active")? == 0 { Found::Inactive } else { Found::Live(u) };
                out.owners.insert(u, found);
            }
        }
        if !people.is_empty() {
            let mut sql = Sql::for_engine(engine, "SELECT * FROM people WHERE id IN (");
            id_list(&mut sql, people.iter().map(|p| p.0));
            for r in sql.query().fetch_all(&mut **tx).await? {
                out.people.insert(PersonId(i64_(&r, "id")?), party_from(&r, person_from_row)?);
            }
        }
        if !organizations.is_empty() {
            let mut sql = Sql::for_engine(engine, "SELECT * FROM organizations WHERE id IN (");
            id_list(&mut sql, organizations.iter().map(|o| o.0));
            for r in sql.query().fetch_all(&mut **tx).await? {
                out.organizations.insert(OrganizationId(i64_(&r, "id")?), party_from(&r, org_from_row)?);
            }
        }
        Ok(out)
    }

    /// The pipeline's stages, as the projections need them.
    pub(crate) fn stages(&self) -> &[Stage] {
        &self.stages
    }

    /// The decision's context for `n`, as `load` would fill it; `None`
    /// when it needs something this batch did not read.
    fn context<'a>(
        &'a self,
        n: &Needs,
        actor: Option<UserId>,
        now: Timestamp,
        history: &'a [StageEvent],
    ) -> Option<Context<'a>> {
        let pipeline = match (n.pipeline, n.first_pipeline) {
            (Some(p), _) if p == self.pipeline.0 => Some(PipelineView {
                id: self.pipeline.0,
                archived: self.pipeline.1,
                stages: &self.stages,
                no_skipping_stages: false,
            }),
            (None, false) => None,
            _ => return None,
        };
        Some(Context {
            actor,
            now,
            settings: &self.settings,
            lost_reasons: if n.lost_reasons { &self.lost_reasons } else { &[] },
            custom_fields: if n.custom_fields { &self.custom_fields } else { &[] },
            pipeline,
            history,
            owner: match n.owner {
                Some(u) => Some(*self.owners.get(&u)?),
                None => None,
            },
            person: match n.person {
                Some(p) => Some(self.people.get(&p)?.as_ref()),
                None => None,
            },
            organization: match n.organization {
                Some(o) => Some(self.organizations.get(&o)?.as_ref()),
                None => None,
            },
            playbook: None,
            score: None,
        })
    }
}

/// `id, id, …)` bound into `sql`.
fn id_list(sql: &mut Sql, ids: impl Iterator<Item = i64>) {
    for (i, id) in ids.enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(id);
    }
    sql.push(")");
}

/// One deal as decided: its row, its whole stage log, and the field
/// history its moves wrote.
pub(crate) struct Placed {
    pub deal: Deal,
    pub log: Vec<StageEvent>,
    changes: Vec<(TrackedChange, Timestamp)>,
}

/// Decides a new deal `n`, then each of `patches` in turn (their `version`
/// is set to the version just decided). `Ok(None)`: the decisions need
/// what the batch did not read, or decided an override (which writes an
/// audit entry); the caller places that deal on its own.
pub(crate) fn decide(
    reads: &BatchReads,
    actor: &Actor,
    n: &NewDeal,
    patches: Vec<DealPatch>,
) -> Result<Option<Placed>, StoreError> {
    let user = actor.user_id;
    let Some(ctx) = reads.context(&needs(None, Change::Create(n)), user, actor.now, &[]) else {
        return Ok(None);
    };
    let id = DealId::new();
    let d = decide_create(n, id, &ctx)?;
    if d.overridden.is_some() {
        return Ok(None);
    }
    let stored = |e: &dealflow_core::stage_move::PlannedEvent| StageEvent {
        origin: EventOrigin::Imported,
        ..e.stored(EventId::new(), id, user)
    };
    let mut log: Vec<StageEvent> = d.events.iter().map(stored).collect();
    let mut deal = d.deal;
    let mut changes = Vec::new();
    for mut p in patches {
        p.version = deal.version;
        // As the update reads the log back: by time, then id.
        log.sort_by_key(|e| (e.at.0, e.id.0));
        let Some(ctx) = reads.context(&needs(Some(&deal), Change::Update(&p)), user, Timestamp::now(), &log) else {
            return Ok(None);
        };
        let d = decide_update(&deal, &p, &ctx)?;
        if d.overridden.is_some() {
            return Ok(None);
        }
        if d.changed {
            changes.extend(d.changes.into_iter().map(|c| (c, d.at)));
            log.extend(d.events.iter().map(stored));
            deal = d.deal;
        }
    }
    log.sort_by_key(|e| (e.at.0, e.id.0));
    Ok(Some(Placed { deal, log, changes }))
}

/// Rows per multi-row INSERT: the widest (deals, 21 values) stays below
/// SQLite's 32,766 bound values and PostgreSQL's 65,535.
const ROWS_PER_INSERT: usize = 500;

/// Writes the decided deals: their rows, stage events and field history,
/// each table in statements of [`ROWS_PER_INSERT`] rows.
pub(crate) async fn write(
    tx: &mut Tx,
    engine: Engine,
    user: Option<UserId>,
    placed: &[Placed],
) -> Result<(), StoreError> {
    let deals = placed.iter().map(|p| deal_args(&p.deal));
    insert(
        tx,
        engine,
        "INSERT INTO deals (title, value, currency, contract_months, pipeline_id, stage_id, status, lost_reason,
          probability, expected_close_date, owner_id, person_id, organization_id, source, custom, closed_at,
          stage_entered_at, updated_at, version, id, created_at) VALUES ",
        deals,
    )
    .await?;
    let events = placed.iter().flat_map(|p| p.log.iter()).map(|e| {
        vec![
            e.id.0.into(),
            e.deal_id.0.into(),
            e.kind.as_str().into(),
            e.pipeline_id.0.into(),
            e.stage_id.0.into(),
            e.from_stage_id.map(|s| s.0).into(),
            e.lost_reason.clone().into(),
            e.at.0.into(),
            e.user_id.map(|u| u.0).into(),
            e.origin.as_str().into(),
        ]
    });
    insert(
        tx,
        engine,
        "INSERT INTO stage_events (id, deal_id, kind, pipeline_id, stage_id, from_stage_id, lost_reason, at, user_id,
          origin) VALUES ",
        events,
    )
    .await?;
    let history = placed.iter().flat_map(|p| p.changes.iter().map(move |c| (p.deal.id, c))).map(|(deal, (c, at))| {
        vec![
            dealflow_core::ids::next_id().into(),
            deal.0.into(),
            c.field.into(),
            c.old.to_string().into(),
            c.new.to_string().into(),
            at.0.into(),
            user.map(|u| u.0).into(),
        ]
    });
    insert(
        tx,
        engine,
        "INSERT INTO field_history (id, deal_id, field, old_value, new_value, at, user_id) VALUES ",
        history,
    )
    .await
}

/// The values of a new deal's row, in the order [`write`] lists the columns.
fn deal_args(d: &Deal) -> Vec<Arg> {
    vec![
        d.title.clone().into(),
        d.value.into(),
        d.currency.as_str().into(),
        d.contract_months.into(),
        d.pipeline_id.0.into(),
        d.stage_id.0.into(),
        d.status.as_str().into(),
        d.lost_reason.clone().into(),
        d.probability.into(),
        d.expected_close_date.map(|x| x.to_iso()).into(),
        d.owner_id.map(|u| u.0).into(),
        d.person_id.map(|x| x.0).into(),
        d.organization_id.map(|x| x.0).into(),
        d.source.clone().into(),
        custom_fields::to_text(&d.custom).into(),
        d.closed_at.map(|t| t.0).into(),
        d.stage_entered_at.0.into(),
        d.updated_at.0.into(),
        d.version.into(),
        d.id.0.into(),
        d.created_at.0.into(),
    ]
}

/// Runs `head` followed by `(…), (…)` for `rows`, [`ROWS_PER_INSERT`] at a time.
pub(crate) async fn insert(
    tx: &mut Tx,
    engine: Engine,
    head: &str,
    rows: impl Iterator<Item = Vec<Arg>>,
) -> Result<(), StoreError> {
    let mut sql = Sql::for_engine(engine, head);
    let mut n = 0;
    for row in rows {
        sql.push(if n == 0 { "(" } else { ", (" });
        for (c, v) in row.into_iter().enumerate() {
            if c > 0 {
                sql.push(", ");
            }
            sql.bind(v);
        }
        sql.push(")");
        n += 1;
        if n == ROWS_PER_INSERT {
            sql.query().execute(&mut **tx).await?;
            sql = Sql::for_engine(engine, head);
            n = 0;
        }
    }
    if n > 0 {
        sql.query().execute(&mut **tx).await?;
    }
    Ok(())
}

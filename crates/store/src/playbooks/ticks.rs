//! Reading a deal's checklist, ticking steps done and undone (each tick
//! kept), the moves a deal may make now, and the overrides recorded.

use super::gate::{GateData, facts};
use crate::parties::{org_from_row, person_from_row};
use crate::row::*;
use crate::{Actor, Store, StoreError, Tx};
use dealflow_core::deal_change::order::stages_first;
use dealflow_core::deal_change::update_is_forward;
use dealflow_core::model::{Deal, DealStatus, Organization, Person};
use dealflow_core::playbook::gate::{Records, open_required, status_of};
use dealflow_core::playbook::view::{ChecklistItem, EmailState, Move, OverrideRecord, StageRef};
use dealflow_core::playbook::{SendMode, Step, StepKind, StepStatus};
use dealflow_core::stage_move::Position;
use dealflow_core::time::Timestamp;
use dealflow_core::{ActivityId, DealId, EventId, Invalid, StageId, StepId, UserId};

/// A deal with what its checklist is evaluated from.
struct Loaded {
    deal: Deal,
    data: GateData,
    person: Option<Person>,
    organization: Option<Organization>,
}

impl Loaded {
    fn records(&self) -> Records<'_> {
        Records { deal: &self.deal, person: self.person.as_ref(), organization: self.organization.as_ref() }
    }
}

async fn load(tx: &mut Tx, id: DealId) -> Result<Loaded, StoreError> {
    let deal = crate::records::live(&mut **tx, "deals", "deal", id.0, crate::deals::from_row).await?;
    let data = facts(tx, id, deal.stage_id, deal.stage_entered_at).await?;
    let field_steps = data.steps.iter().any(|s| s.spec.kind == StepKind::Field);
    let mut person = None;
    let mut organization = None;
    if field_steps && let Some(p) = deal.person_id {
        let r = sqlx::query("SELECT * FROM people WHERE id = $1 AND deleted_at IS NULL").bind(p.0);
        person = r.fetch_optional(&mut **tx).await?.map(|r| person_from_row(&r)).transpose()?;
    }
    if field_steps && let Some(o) = deal.organization_id {
        let r = sqlx::query("SELECT * FROM organizations WHERE id = $1 AND deleted_at IS NULL").bind(o.0);
        organization = r.fetch_optional(&mut **tx).await?.map(|r| org_from_row(&r)).transpose()?;
    }
    Ok(Loaded { deal, data, person, organization })
}

impl Store {
    /// The checklist of a deal's current stage.
    pub async fn deal_checklist(&self, id: DealId) -> Result<Vec<ChecklistItem>, StoreError> {
        let mut tx = self.read().await?;
        let l = load(&mut tx, id).await?;
        let rows = sqlx::query(
            "SELECT ds.*, j.status AS job_status, j.last_error AS job_error FROM deal_steps ds
             JOIN playbook_steps s ON s.id = ds.step_id LEFT JOIN jobs j ON j.id = ds.job_id
             WHERE ds.deal_id = $1 AND s.stage_id = $2",
        )
        .bind(id.0)
        .bind(l.deal.stage_id.0)
        .fetch_all(&mut *tx)
        .await?;
        let facts = l.data.facts();
        let mut out = Vec::with_capacity(l.data.steps.len());
        for step in &l.data.steps {
            let row = rows.iter().find(|r| opt_i64(r, "step_id").ok().flatten() == Some(step.id.0));
            let status = status_of(step, &facts, &l.records()).unwrap_or(StepStatus::Open);
            let field = |c: &str| row.map(|r| opt_i64(r, c)).transpose().map(Option::flatten);
            let auto = step.spec.kind == StepKind::Email && step.spec.send == Some(SendMode::Auto);
            let job = if auto { row.map(|r| opt_text(r, "job_status")).transpose()?.flatten() } else { None };
            let email_state = match (auto, status, job.as_deref()) {
                (false, _, _) => None,
                (true, StepStatus::Done, _) => Some(EmailState::Sent),
                (true, StepStatus::Failed, _) | (true, StepStatus::Waiting, Some("failed")) => Some(EmailState::Failed),
                (true, StepStatus::Waiting, Some("pending" | "running")) => Some(EmailState::Scheduled),
                _ => None,
            };
            let last_error = match job.as_deref() {
                Some("pending" | "running" | "failed") => row.map(|r| opt_text(r, "job_error")).transpose()?.flatten(),
                _ => None,
            };
            out.push(ChecklistItem {
                step_id: step.id,
                title: step.spec.title.clone(),
                kind: step.spec.kind,
                required: step.spec.required,
                status,
                due_at: field("due_at")?.map(Timestamp),
                done_at: field("done_at")?.map(Timestamp),
                done_by: field("done_by")?.map(UserId),
                activity_id: field("activity_id")?.map(ActivityId),
                reason: row.map(|r| opt_text(r, "reason")).transpose()?.flatten(),
                email_state,
                last_error,
                job_id: if auto { field("job_id")?.map(|j| j.to_string()) } else { None },
            });
        }
        Ok(out)
    }

    /// For every stage of the deal's pipeline and for won: whether the
    /// deal may move there now, and the open required steps that block it.
    /// A closed deal may move nowhere until it is reopened. In a pipeline
    /// that allows no skipping stages, a move past stages names them.
    pub async fn deal_moves(&self, id: DealId) -> Result<Vec<Move>, StoreError> {
        let mut tx = self.read().await?;
        let l = load(&mut tx, id).await?;
        let stages = crate::pipelines::stages_of(&mut tx, l.deal.pipeline_id).await?;
        let no_skipping: i64 = sqlx::query_scalar("SELECT no_skipping_stages FROM pipelines WHERE id = $1")
            .bind(l.deal.pipeline_id.0)
            .fetch_one(&mut *tx)
            .await?;
        let open = open_required(&l.data.facts(), &l.records());
        let at = |stage_id: StageId, status: DealStatus| Position {
            pipeline_id: l.deal.pipeline_id,
            stage_id,
            status,
            lost_reason: None,
            closed_at: None,
            stage_entered_at: l.deal.stage_entered_at,
        };
        let mut targets: Vec<(Option<StageId>, &'static str, Position)> =
            stages.iter().filter(|s| !s.archived).map(|s| (Some(s.id), "stage", at(s.id, DealStatus::Open))).collect();
        targets.push((None, "won", at(l.deal.stage_id, DealStatus::Won)));
        Ok(targets
            .into_iter()
            .map(|(stage_id, target, to)| {
                let forward = update_is_forward(&l.deal, &to, &stages);
                let blocked = forward && !open.is_empty();
                let skipped = if forward && no_skipping != 0 {
                    stages_first(l.deal.stage_id, &to, &stages)
                        .into_iter()
                        .map(|s| StageRef { id: s.id, name: s.name.clone() })
                        .collect()
                } else {
                    Vec::new()
                };
                Move {
                    stage_id,
                    target,
                    allowed: !blocked && skipped.is_empty() && l.deal.status == DealStatus::Open,
                    open_steps: if blocked { open.clone() } else { Vec::new() },
                    stages_first: skipped,
                }
            })
            .collect())
    }

    /// Ticks a step of the deal's current stage done (`done`) or undone.
    /// A task step completes or reopens its task; an e-mail step ticked
    /// done counts as sent by hand; a campaign step enrols the deal's
    /// person in its campaign (by this step), and unticked ends that
    /// membership, since membership is what the step asks for. Field and
    /// evidence steps are worked out from the deal and cannot be ticked,
    /// except undone when skipped. Every tick is kept.
    #[tracing::instrument(skip_all, fields(deal = %id, step = %step))]
    pub async fn tick_step(&self, actor: &Actor, id: DealId, step: StepId, done: bool) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let deal = crate::records::live(&mut *tx, "deals", "deal", id.0, crate::deals::from_row).await?;
        let s = super::step_in(&mut tx, step).await?;
        if s.stage_id != deal.stage_id {
            return Err(
                Invalid::one("step_id", format!("step {step} is not a step of the deal's current stage")).into()
            );
        }
        let row: Option<(i64, Option<i64>, String)> =
            sqlx::query_as("SELECT id, activity_id, status FROM deal_steps WHERE deal_id = $1 AND step_id = $2")
                .bind(id.0)
                .bind(step.0)
                .fetch_optional(&mut *tx)
                .await?;
        // A skipped step of any kind may be reopened (ticked undone).
        let skipped = row.as_ref().is_some_and(|r| r.2 == StepStatus::Skipped.as_str());
        if matches!(s.spec.kind, StepKind::Field | StepKind::Evidence) && (done || !skipped) {
            return Err(Invalid::one(
                "step_id",
                format!(
                    "a {} step is done by the deal's data, not by a tick; fill the field or do the activity",
                    s.spec.kind
                ),
            )
            .into());
        }
        if s.spec.kind == StepKind::Campaign {
            campaign_tick(&mut tx, actor, &deal, &s, done).await?;
        }
        let (status, done_at, done_by) = if done {
            (StepStatus::Done, Some(actor.now.0), actor.user_id.map(|u| u.0))
        } else if s.spec.kind == StepKind::Email && s.spec.send == Some(SendMode::Auto) {
            (StepStatus::Waiting, None, None)
        } else {
            (StepStatus::Open, None, None)
        };
        match row {
            Some((row_id, activity, _)) => {
                sqlx::query(
                    "UPDATE deal_steps SET status = $1, done_at = $2, done_by = $3, reason = NULL, updated_at = $4
                     WHERE id = $5",
                )
                .bind(status.as_str())
                .bind(done_at)
                .bind(done_by)
                .bind(actor.now.0)
                .bind(row_id)
                .execute(&mut *tx)
                .await?;
                if let Some(a) = activity {
                    // The task follows the tick: done with it, open again without.
                    sqlx::query(
                        "UPDATE activities SET done_at = $1, updated_at = $2, version = version + 1 WHERE id = $3",
                    )
                    .bind(done_at)
                    .bind(actor.now.0)
                    .bind(a)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            None => {
                // A step added after the deal entered the stage has no row yet.
                sqlx::query(
                    "INSERT INTO deal_steps (id, deal_id, step_id, status, due_at, done_at, done_by, activity_id,
                      reason, updated_at) VALUES ($1, $2, $3, $4, NULL, $5, $6, NULL, NULL, $7)",
                )
                .bind(dealflow_core::ids::next_id())
                .bind(id.0)
                .bind(step.0)
                .bind(status.as_str())
                .bind(done_at)
                .bind(done_by)
                .bind(actor.now.0)
                .execute(&mut *tx)
                .await?;
            }
        }
        sqlx::query(
            "INSERT INTO deal_step_ticks (id, deal_id, step_id, done, at, user_id) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(dealflow_core::ids::next_id())
        .bind(id.0)
        .bind(step.0)
        .bind(b(done))
        .bind(actor.now.0)
        .bind(actor.user_id.map(|u| u.0))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Moves made past open required steps between `from` and `to`
    /// (inclusive), oldest first.
    pub async fn overrides(&self, from: Timestamp, to: Timestamp) -> Result<Vec<OverrideRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM stage_events WHERE override_reason IS NOT NULL AND at >= $1 AND at <= $2
             ORDER BY at, id LIMIT 10000",
        )
        .bind(from.0)
        .bind(to.0)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let e = crate::deals::event_from_row(r)?;
                Ok(OverrideRecord {
                    event_id: EventId(e.id.0),
                    deal_id: e.deal_id,
                    stage_id: e.stage_id,
                    from_stage_id: e.from_stage_id,
                    at: e.at,
                    by: e.override_by,
                    reason: e.override_reason.unwrap_or_default(),
                    open_steps: e.override_steps,
                })
            })
            .collect::<R<_>>()
            .map_err(StoreError::from)
    }
}

/// A campaign step ticked: enrols the deal's person by this step, or
/// (unticked) ends their membership. Enrolling needs a person.
async fn campaign_tick(tx: &mut Tx, actor: &Actor, deal: &Deal, s: &Step, done: bool) -> Result<(), StoreError> {
    // `check_spec` refuses a campaign step without a campaign.
    let Some(campaign) = s.spec.campaign_id else { return Ok(()) };
    match (deal.person_id, done) {
        (Some(p), true) => {
            crate::campaigns::members::enrol_in(tx, actor, campaign, p, Some((s.id, deal.id))).await?;
        }
        (Some(p), false) => {
            crate::campaigns::members::leave_in(tx, actor, campaign, p).await?;
        }
        (None, true) => {
            return Err(Invalid::one(
                "person_id",
                format!(
                    "the deal has no person to enrol in the campaign of step \"{}\"; link a person to the deal first",
                    s.spec.title
                ),
            )
            .into());
        }
        (None, false) => {}
    }
    Ok(())
}

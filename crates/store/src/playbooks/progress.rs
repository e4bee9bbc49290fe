//! The checklist progress of many deals at once, for the board's cards:
//! one statement reads every live step of each deal's current stage with
//! the deal's state of it, a second the deals themselves (only when some
//! have steps); their people and organizations (for field steps) and the
//! activity kinds done in the stage (for evidence steps) are read only
//! when such steps are among them. The number of statements never depends
//! on the number of cards. Also which activities are playbook tasks, for
//! the activities page, in one statement, and how many deals a new step
//! of a stage applies to.

use super::step_from_row;
use crate::parties::{org_from_row, person_from_row};
use crate::row::*;
use crate::{Store, StoreError};
use dealflow_core::model::{ActivityKind, Deal, Organization, Person};
use dealflow_core::playbook::gate::{Facts, Records, StoredState};
use dealflow_core::playbook::view::Progress;
use dealflow_core::playbook::{Step, StepKind, StepStatus};
use dealflow_core::{ActivityId, DealId, OrganizationId, PersonId};
use std::collections::HashMap;

/// What one deal's progress is computed from.
#[derive(Default)]
struct PerDeal {
    steps: Vec<Step>,
    states: Vec<StoredState>,
    evidence: Vec<ActivityKind>,
}

impl Store {
    /// The checklist progress of each of `deals` that is open, live and in
    /// a stage with steps; deals without steps are left out of the map.
    pub async fn board_progress(&self, deals: &[DealId]) -> Result<HashMap<DealId, Progress>, StoreError> {
        if deals.is_empty() {
            return Ok(HashMap::new());
        }
        let mut tx = self.read().await?;
        let ids = id_list(deals.iter().map(|d| d.0));
        let sql = format!(
            "SELECT s.*, d.id AS p_deal_id, ds.status AS ds_status, a.done_at AS ds_activity_done
             FROM deals d JOIN playbook_steps s ON s.stage_id = d.stage_id AND s.deleted_at IS NULL
             LEFT JOIN deal_steps ds ON ds.step_id = s.id AND ds.deal_id = d.id
             LEFT JOIN activities a ON a.id = ds.activity_id
             WHERE d.id IN ({ids}) AND d.deleted_at IS NULL AND d.status = 'open'
             ORDER BY d.id, s.position, s.id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *tx).await?;
        let mut per: HashMap<DealId, PerDeal> = HashMap::new();
        for r in &rows {
            let deal = DealId(i64_(r, "p_deal_id")?);
            let step = step_from_row(r)?;
            let e = per.entry(deal).or_default();
            if let Some(status) = opt_enum(r, "ds_status", StepStatus::parse)? {
                let activity_done = opt_i64(r, "ds_activity_done")?.is_some();
                e.states.push(StoredState { step_id: step.id, status, activity_done });
            }
            e.steps.push(step);
        }
        let has = |k: StepKind| per.values().any(|p| p.steps.iter().any(|s| s.spec.kind == k));
        let (fields, evidence) = (has(StepKind::Field), has(StepKind::Evidence));
        let ids = id_list(per.keys().map(|d| d.0));
        if evidence {
            let sql = format!(
                "SELECT DISTINCT a.deal_id, a.kind FROM activities a JOIN deals d ON d.id = a.deal_id
                 WHERE a.deal_id IN ({ids}) AND a.done_at IS NOT NULL AND a.done_at >= d.stage_entered_at"
            );
            for r in sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *tx).await? {
                let kind = ActivityKind::parse(&text(&r, "kind")?).ok();
                if let (Some(p), Some(k)) = (per.get_mut(&DealId(i64_(&r, "deal_id")?)), kind) {
                    p.evidence.push(k);
                }
            }
        }
        let mut records: HashMap<DealId, Deal> = HashMap::new();
        let mut people: HashMap<PersonId, Person> = HashMap::new();
        let mut orgs: HashMap<OrganizationId, Organization> = HashMap::new();
        if !per.is_empty() {
            let sql = format!("SELECT * FROM deals WHERE id IN ({ids})");
            for r in sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *tx).await? {
                let d = crate::deals::from_row(&r)?;
                records.insert(d.id, d);
            }
        }
        if fields {
            if records.values().any(|d| d.person_id.is_some()) {
                let pids = id_list(records.values().filter_map(|d| d.person_id.map(|p| p.0)));
                let sql = format!("SELECT * FROM people WHERE id IN ({pids}) AND deleted_at IS NULL");
                for r in sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *tx).await? {
                    let p = person_from_row(&r)?;
                    people.insert(p.id, p);
                }
            }
            if records.values().any(|d| d.organization_id.is_some()) {
                let oids = id_list(records.values().filter_map(|d| d.organization_id.map(|o| o.0)));
                let sql = format!("SELECT * FROM organizations WHERE id IN ({oids}) AND deleted_at IS NULL");
                for r in sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *tx).await? {
                    let o = org_from_row(&r)?;
                    orgs.insert(o.id, o);
                }
            }
        }
        let mut out = HashMap::with_capacity(per.len());
        for (id, p) in &per {
            let Some(deal) = records.get(id) else { continue };
            let facts = Facts { steps: &p.steps, states: &p.states, evidence: &p.evidence };
            let rec = Records {
                deal,
                person: deal.person_id.and_then(|x| people.get(&x)),
                organization: deal.organization_id.and_then(|x| orgs.get(&x)),
            };
            out.insert(*id, Progress::of(&facts, &rec));
        }
        Ok(out)
    }

    /// Of `activities`, the ones a playbook step made, with the step's
    /// title.
    pub async fn playbook_tasks(&self, activities: &[ActivityId]) -> Result<HashMap<ActivityId, String>, StoreError> {
        if activities.is_empty() {
            return Ok(HashMap::new());
        }
        let ids = id_list(activities.iter().map(|a| a.0));
        let sql = format!(
            "SELECT ds.activity_id, s.title FROM deal_steps ds JOIN playbook_steps s ON s.id = ds.step_id
             WHERE ds.activity_id IN ({ids})"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(self.pool()).await?;
        let mut out = HashMap::with_capacity(rows.len());
        for r in &rows {
            out.insert(ActivityId(i64_(r, "activity_id")?), text(r, "title")?);
        }
        Ok(out)
    }

    /// How many open, live deals are in `stage` now: the deals a step added
    /// to it applies to.
    pub async fn open_deals_in_stage(&self, stage: dealflow_core::StageId) -> Result<i64, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM deals WHERE stage_id = $1 AND status = 'open' AND deleted_at IS NULL",
        )
        .bind(stage.0)
        .fetch_one(self.pool())
        .await?;
        Ok(n)
    }
}

//! Campaign membership: adding and removing people (by a user, or by a
//! playbook's campaign step ticked on a deal), the member list, and what
//! the stage gate needs to know of it. A campaign step is done while the
//! deal's person is a member of its campaign, so enrolling and leaving
//! also bring the stored state of such steps in line (for open deals of
//! that person in the step's stage), and the gate's read overlays the
//! membership on the stored states ([`overlay`]) so that a person who was
//! a member before the deal entered the stage counts too.

use crate::row::*;
use crate::sql::{ListPage, Page, Sql, fetch_page};
use crate::{Actor, Store, StoreError, Tx};
use dealflow_core::model::{CampaignMember, NewMember};
use dealflow_core::playbook::gate::StoredState;
use dealflow_core::playbook::{Step, StepKind, StepStatus};
use dealflow_core::{CampaignId, DealId, PersonId, StepId, UserId};
use serde_json::json;
use sqlx::any::AnyRow;

/// Filters of `GET /api/v1/campaigns/{id}/members`.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberFilter {
    /// Also list memberships that ended (default false: current members only).
    pub include_left: Option<bool>,
}

fn member_from_row(r: &AnyRow) -> R<CampaignMember> {
    Ok(CampaignMember {
        campaign_id: CampaignId(i64_(r, "campaign_id")?),
        person_id: PersonId(i64_(r, "person_id")?),
        person_name: text(r, "person_name")?,
        joined_at: ts(r, "joined_at")?,
        joined_by: opt_i64(r, "joined_by")?.map(UserId),
        step_id: opt_i64(r, "step_id")?.map(StepId),
        deal_id: opt_i64(r, "deal_id")?.map(DealId),
        left_at: opt_ts(r, "left_at")?,
        left_by: opt_i64(r, "left_by")?.map(UserId),
    })
}

const SELECT: &str = "SELECT m.*, p.name AS person_name FROM campaign_members m JOIN people p ON p.id = m.person_id";

/// 404 unless the campaign exists.
async fn campaign_exists(tx: &mut Tx, id: CampaignId) -> Result<(), StoreError> {
    sqlx::query_scalar::<_, i64>("SELECT id FROM campaigns WHERE id = $1")
        .bind(id.0)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("campaign", id))?;
    Ok(())
}

/// The person's current membership of the campaign, if any.
async fn current(tx: &mut Tx, campaign: CampaignId, person: PersonId) -> Result<Option<CampaignMember>, StoreError> {
    let sql = format!("{SELECT} WHERE m.campaign_id = $1 AND m.person_id = $2 AND m.left_at IS NULL");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(campaign.0).bind(person.0).fetch_optional(&mut **tx).await?;
    Ok(row.map(|r| member_from_row(&r)).transpose()?)
}

/// Enrols a live person in a campaign, `via` a step ticked on a deal or
/// (without) by the actor. A current member stays as they are: the answer
/// is their membership and `false`.
pub(crate) async fn enrol_in(
    tx: &mut Tx,
    actor: &Actor,
    campaign: CampaignId,
    person: PersonId,
    via: Option<(StepId, DealId)>,
) -> Result<(CampaignMember, bool), StoreError> {
    let live: Option<i64> = sqlx::query_scalar("SELECT id FROM people WHERE id = $1 AND deleted_at IS NULL")
        .bind(person.0)
        .fetch_optional(&mut **tx)
        .await?;
    if live.is_none() {
        return Err(StoreError::invalid("person_id", format!("person {person} does not exist or is in the trash")));
    }
    if let Some(m) = current(tx, campaign, person).await? {
        return Ok((m, false));
    }
    let id = dealflow_core::ids::next_id();
    sqlx::query(
        "INSERT INTO campaign_members (id, campaign_id, person_id, joined_at, joined_by, step_id, deal_id, left_at, left_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL)",
    )
    .bind(id)
    .bind(campaign.0)
    .bind(person.0)
    .bind(actor.now.0)
    .bind(actor.user_id.map(|u| u.0))
    .bind(via.map(|(s, _)| s.0))
    .bind(via.map(|(_, d)| d.0))
    .execute(&mut **tx)
    .await?;
    sync_steps(tx, actor, campaign, person, true).await?;
    let detail = json!({"campaign_id": campaign.to_string(), "person_id": person.to_string(),
        "step_id": via.map(|(s, _)| s.to_string()), "deal_id": via.map(|(_, d)| d.to_string())});
    crate::audit::append(tx, actor, crate::audit::Entry::new("campaign_member", "create", Some(id)).detail(detail))
        .await?;
    let m = current(tx, campaign, person).await?.ok_or_else(|| StoreError::not_found("campaign member", person))?;
    crate::webhooks::emit(tx, actor.now, vec![crate::webhooks::Emit::new("campaign.member_added", &m)]).await?;
    Ok((m, true))
}

/// Ends the person's current membership of the campaign; `false` when
/// they were not a member.
pub(crate) async fn leave_in(
    tx: &mut Tx,
    actor: &Actor,
    campaign: CampaignId,
    person: PersonId,
) -> Result<bool, StoreError> {
    let Some(id) = sqlx::query_scalar::<_, i64>(
        "SELECT id FROM campaign_members WHERE campaign_id = $1 AND person_id = $2 AND left_at IS NULL",
    )
    .bind(campaign.0)
    .bind(person.0)
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(false);
    };
    sqlx::query("UPDATE campaign_members SET left_at = $1, left_by = $2 WHERE id = $3")
        .bind(actor.now.0)
        .bind(actor.user_id.map(|u| u.0))
        .bind(id)
        .execute(&mut **tx)
        .await?;
    sync_steps(tx, actor, campaign, person, false).await?;
    let detail = json!({"campaign_id": campaign.to_string(), "person_id": person.to_string()});
    crate::audit::append(tx, actor, crate::audit::Entry::new("campaign_member", "delete", Some(id)).detail(detail))
        .await?;
    Ok(true)
}

/// Brings the stored state of the campaign's steps in line with a join
/// (`joined`) or a leave, for the person's open deals that sit in the
/// step's stage: done (with when and who) on joining, open again on
/// leaving. Skipped steps stay skipped.
async fn sync_steps(
    tx: &mut Tx,
    actor: &Actor,
    campaign: CampaignId,
    person: PersonId,
    joined: bool,
) -> Result<(), StoreError> {
    let target = "step_id IN (SELECT id FROM playbook_steps WHERE kind = 'campaign' AND campaign_id = $1
           AND deleted_at IS NULL)
         AND deal_id IN (SELECT d.id FROM deals d WHERE d.person_id = $2 AND d.status = 'open'
           AND d.deleted_at IS NULL AND d.stage_id = (SELECT s.stage_id FROM playbook_steps s WHERE s.id = deal_steps.step_id))";
    if joined {
        let sql = format!(
            "UPDATE deal_steps SET status = 'done', done_at = $3, done_by = $4, reason = NULL, updated_at = $3
             WHERE status IN ('open', 'waiting') AND {target}"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(campaign.0)
            .bind(person.0)
            .bind(actor.now.0)
            .bind(actor.user_id.map(|u| u.0))
            .execute(&mut **tx)
            .await?;
    } else {
        let sql = format!(
            "UPDATE deal_steps SET status = 'open', done_at = NULL, done_by = NULL, updated_at = $3
             WHERE status = 'done' AND {target}"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(campaign.0)
            .bind(person.0)
            .bind(actor.now.0)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The campaigns `deal`'s person is a current member of (none without a
/// person).
pub(crate) async fn deal_person_campaigns(tx: &mut Tx, deal: DealId) -> Result<Vec<CampaignId>, StoreError> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT m.campaign_id FROM campaign_members m JOIN deals d ON d.person_id = m.person_id
         WHERE d.id = $1 AND m.left_at IS NULL",
    )
    .bind(deal.0)
    .fetch_all(&mut **tx)
    .await?;
    Ok(ids.into_iter().map(CampaignId).collect())
}

/// Puts the membership into a deal's stored step states: a campaign step
/// is done while the person is a member of its campaign and open while
/// not, whatever was stored; a skipped step stays skipped.
pub(crate) fn overlay(steps: &[Step], states: &mut Vec<StoredState>, member_of: &[CampaignId]) {
    for step in steps.iter().filter(|s| s.spec.kind == StepKind::Campaign) {
        let member = step.spec.campaign_id.is_some_and(|c| member_of.contains(&c));
        let status = if member { StepStatus::Done } else { StepStatus::Open };
        match states.iter_mut().find(|s| s.step_id == step.id) {
            Some(s) if s.status == StepStatus::Skipped => {}
            Some(s) => s.status = status,
            None => states.push(StoredState { step_id: step.id, status, activity_done: false }),
        }
    }
}

impl Store {
    /// Adds a person to a campaign by hand. The second value is `false`
    /// when they already were a member (their membership is answered).
    #[tracing::instrument(skip_all, fields(campaign = %campaign))]
    pub async fn add_campaign_member(
        &self,
        actor: &Actor,
        campaign: CampaignId,
        n: NewMember,
    ) -> Result<(CampaignMember, bool), StoreError> {
        let mut tx = self.write().await?;
        campaign_exists(&mut tx, campaign).await?;
        let out = enrol_in(&mut tx, actor, campaign, n.person_id, None).await?;
        tx.commit().await?;
        if out.1 {
            self.jobs_enqueued();
        }
        Ok(out)
    }

    /// Ends a person's membership of a campaign; 404 when they are not a
    /// member.
    #[tracing::instrument(skip_all, fields(campaign = %campaign, person = %person))]
    pub async fn remove_campaign_member(
        &self,
        actor: &Actor,
        campaign: CampaignId,
        person: PersonId,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        campaign_exists(&mut tx, campaign).await?;
        if !leave_in(&mut tx, actor, campaign, person).await? {
            return Err(StoreError::not_found("campaign member", person));
        }
        tx.commit().await?;
        Ok(())
    }

    /// A campaign's members (people in the trash left out), newest first.
    pub async fn campaign_members(
        &self,
        campaign: CampaignId,
        f: &MemberFilter,
        page: Page,
    ) -> Result<ListPage<CampaignMember>, StoreError> {
        let mut tx = self.read().await?;
        campaign_exists(&mut tx, campaign).await?;
        drop(tx);
        let mut sql = Sql::new(SELECT);
        sql.push(" WHERE p.deleted_at IS NULL AND m.campaign_id = ").bind(campaign.0);
        if !f.include_left.unwrap_or(false) {
            sql.push(" AND m.left_at IS NULL");
        }
        page.apply(&mut sql, "m.id");
        fetch_page(self.pool(), &sql, page, member_from_row).await
    }
}

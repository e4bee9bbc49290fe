//! The playbook a new workspace starts with (`core::playbook::defaults`):
//! the "Nurture" campaign and the five required steps of the default
//! pipeline's "Demo booked" stage, written with the other defaults.

use crate::{StoreError, Tx};
use dealflow_core::CampaignId;
use dealflow_core::StepId;
use dealflow_core::playbook::defaults::{DEFAULT_PLAYBOOK_STAGE, NURTURE_CAMPAIGN, demo_booked_steps};

/// Adds the default playbook to the workspace's "Demo booked" stage (the
/// first stage of that name); nothing when there is none.
pub(crate) async fn insert_default(tx: &mut Tx, now: i64) -> Result<(), StoreError> {
    let stage: Option<i64> = sqlx::query_scalar("SELECT id FROM stages WHERE name = $1 ORDER BY position, id LIMIT 1")
        .bind(DEFAULT_PLAYBOOK_STAGE)
        .fetch_optional(&mut **tx)
        .await?;
    let Some(stage) = stage else { return Ok(()) };
    let campaign = CampaignId::new();
    sqlx::query(
        "INSERT INTO campaigns (id, name, channel, created_at, updated_at, version) VALUES ($1, $2, 'email', $3, $3, 1)",
    )
    .bind(campaign.0)
    .bind(NURTURE_CAMPAIGN)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    for (position, spec) in demo_booked_steps(campaign).iter().enumerate() {
        let q = sqlx::query(
            "INSERT INTO playbook_steps (title, description, required, kind, send, template_subject, template_body,
              due_anchor, due_offset_minutes, due_offset_working_days, field, op, value, activity_kind, campaign_id,
              id, stage_id, position, created_at, updated_at, version, deleted_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19, 1, NULL)",
        );
        super::bind_spec(q, spec)
            .bind(StepId::new().0)
            .bind(stage)
            .bind(position as i64)
            .bind(now)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

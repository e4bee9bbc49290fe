//! Campaigns, the outreach messages sent in them (in [`outreach`]) and
//! their members (in [`members`]). Campaigns have no trash: deleting one
//! removes it for good (with its membership history), so one still
//! referred to by messages cannot be deleted.

pub(crate) mod members;
mod outreach;

pub use members::MemberFilter;
pub use outreach::OutreachFilter;

use crate::records;
use crate::row::*;
use crate::sql::{ListPage, Page, Sql, fetch_page, like_pattern};
use crate::{Actor, Store, StoreError, Tx};
use dealflow_core::model::{Campaign, CampaignPatch, Channel, NewCampaign};
use dealflow_core::validate::{limits, required_text};
use dealflow_core::{CampaignId, Invalid};
use sqlx::any::AnyRow;

/// Filters of `GET /api/v1/campaigns`.
/// (The one definition for the list API and the store.)
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CampaignFilter {
    pub channel: Option<Channel>,
    /// Text search in the name (case-insensitive).
    pub q: Option<String>,
}

fn campaign_from_row(r: &AnyRow) -> R<Campaign> {
    Ok(Campaign {
        id: CampaignId(i64_(r, "id")?),
        name: text(r, "name")?,
        channel: opt_enum(r, "channel", Channel::parse)?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        version: i64_(r, "version")?,
    })
}

/// The channel of an existing campaign; 422 on `campaign_id` when there is
/// no such campaign.
async fn campaign_channel(tx: &mut Tx, id: CampaignId) -> Result<Option<Channel>, StoreError> {
    let row: Option<Option<String>> =
        sqlx::query_scalar("SELECT channel FROM campaigns WHERE id = $1").bind(id.0).fetch_optional(&mut **tx).await?;
    match row {
        None => Err(StoreError::invalid("campaign_id", format!("campaign {id} does not exist"))),
        // A stored channel that no longer parses is corrupt data, not bad input.
        Some(c) => c.map(|c| Channel::parse(&c)).transpose().map_err(|e| StoreError::Db(sqlx::Error::Decode(e.into()))),
    }
}

/// Whether `id` names a campaign (a step or a threshold may point at it).
pub(crate) async fn exists(tx: &mut Tx, id: Option<CampaignId>) -> Result<bool, StoreError> {
    let Some(c) = id else { return Ok(false) };
    let found: Option<i64> =
        sqlx::query_scalar("SELECT id FROM campaigns WHERE id = $1").bind(c.0).fetch_optional(&mut **tx).await?;
    Ok(found.is_some())
}

impl Store {
    #[tracing::instrument(skip_all)]
    pub async fn create_campaign(&self, actor: &Actor, n: NewCampaign) -> Result<Campaign, StoreError> {
        let mut errs = Invalid::new();
        let name = errs.take(required_text("name", &n.name, limits::NAME));
        let created_at = match n.created_at {
            Some(t) => errs.take(t.check_not_future("created_at", actor.now)).unwrap_or(t),
            None => actor.now,
        };
        errs.into_result()?;

        let mut tx = self.write().await?;
        let id = CampaignId::new();
        sqlx::query(
            "INSERT INTO campaigns (id, name, channel, created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, 1)",
        )
        .bind(id.0)
        .bind(name.unwrap_or_default())
        .bind(n.channel.map(|c| c.as_str().to_string()))
        .bind(created_at.0)
        .bind(actor.now.0)
        .execute(&mut *tx)
        .await?;
        let c = records::load(&mut *tx, "campaigns", "campaign", id.0, campaign_from_row).await?;
        crate::audit::created(&mut tx, actor, "campaign", id.0, &c).await?;
        tx.commit().await?;
        Ok(c)
    }

    pub async fn campaign(&self, id: CampaignId) -> Result<Campaign, StoreError> {
        crate::records::load(self.pool(), "campaigns", "campaign", id.0, campaign_from_row).await
    }

    /// Renames a campaign or changes its channel; existing messages keep
    /// the channel they were sent through.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn update_campaign(
        &self,
        actor: &Actor,
        id: CampaignId,
        p: CampaignPatch,
    ) -> Result<Campaign, StoreError> {
        let mut errs = Invalid::new();
        let name = p.name.as_deref().and_then(|s| errs.take(required_text("name", s, limits::NAME)));
        errs.into_result()?;

        let mut tx = self.write().await?;
        let cur = records::load(&mut *tx, "campaigns", "campaign", id.0, campaign_from_row).await?;
        crate::records::check_version(cur.version, p.version)?;
        let channel = p.channel.unwrap_or(cur.channel);
        let n = sqlx::query(
            "UPDATE campaigns SET name = $1, channel = $2, updated_at = $3, version = version + 1 WHERE id = $4 AND version = $5",
        )
        .bind(name.unwrap_or_else(|| cur.name.clone()))
        .bind(channel.map(|c| c.as_str().to_string()))
        .bind(actor.now.0)
        .bind(id.0)
        .bind(p.version)
        .execute(&mut *tx)
        .await?;
        if n.rows_affected() == 0 {
            return Err(records::stale(&mut tx, "campaigns", id.0).await);
        }
        let c = records::load(&mut *tx, "campaigns", "campaign", id.0, campaign_from_row).await?;
        crate::audit::updated(&mut tx, actor, "campaign", id.0, &cur, &c).await?;
        tx.commit().await?;
        Ok(c)
    }

    /// Deletes a campaign for good; refused while messages (live or in the
    /// trash) refer to it, since they would lose their campaign.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn delete_campaign(&self, actor: &Actor, id: CampaignId) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        records::load(&mut *tx, "campaigns", "campaign", id.0, campaign_from_row).await?;
        let used: i64 =
            sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM outreach_messages WHERE campaign_id = $1")
                .bind(id.0)
                .fetch_one(&mut *tx)
                .await?;
        if used > 0 {
            return Err(StoreError::InUse(format!(
                "{used} outreach message(s), including any in the trash, belong to this campaign; move or purge them first"
            )));
        }
        let mapped: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM connections WHERE campaign_id = $1")
            .bind(id.0)
            .fetch_one(&mut *tx)
            .await?;
        if mapped > 0 {
            return Err(StoreError::InUse(format!(
                "{mapped} e-mail connection(s) count their sent e-mails in this campaign; change their campaign first"
            )));
        }
        // Membership means nothing without its campaign; it goes with it.
        sqlx::query("DELETE FROM campaign_members WHERE campaign_id = $1").bind(id.0).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM campaigns WHERE id = $1").bind(id.0).execute(&mut *tx).await?;
        crate::audit::deleted(&mut tx, actor, "campaign", "delete", id.0).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Campaigns, newest first.
    pub async fn list_campaigns(&self, f: &CampaignFilter, page: Page) -> Result<ListPage<Campaign>, StoreError> {
        let mut sql = Sql::new("SELECT * FROM campaigns WHERE 1 = 1");
        if let Some(v) = f.channel {
            sql.push(" AND channel = ").bind(v.as_str());
        }
        if let Some(q) = f.q.as_deref().filter(|q| !q.trim().is_empty()) {
            sql.push(" AND LOWER(name) LIKE ").bind(like_pattern(q)).push(" ESCAPE '\\'");
        }
        page.apply(&mut sql, "id");
        fetch_page(self.pool(), &sql, page, campaign_from_row).await
    }
}

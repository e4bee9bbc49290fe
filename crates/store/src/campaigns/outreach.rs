//! Outreach messages: one touch of a person, in a campaign or not, and the
//! reply once it came. Reply rates and response times are computed from
//! these rows, so their times are checked strictly. Messages have a trash.

use super::campaign_channel;
use crate::deals::check_ref;
use crate::records;
use crate::row::*;
use crate::sql::{ListPage, Page, Sql, fetch_page};
use crate::{Actor, Store, StoreError, Tx};
use dealflow_core::model::{Channel, NewOutreachMessage, OutreachMessage, OutreachPatch, Sentiment};
use dealflow_core::time::Timestamp;
use dealflow_core::{CampaignId, Invalid, OutreachId, PersonId};
use sqlx::any::AnyRow;

/// Filters of `GET /api/v1/outreach`.
/// (The one definition for the list API and the store.)
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutreachFilter {
    pub person_id: Option<PersonId>,
    pub campaign_id: Option<CampaignId>,
    pub channel: Option<Channel>,
    /// Only messages sent at or after this time.
    pub sent_after: Option<Timestamp>,
    /// Only messages sent strictly before this time.
    pub sent_before: Option<Timestamp>,
    /// `true`: only replied messages; `false`: only unanswered ones.
    pub replied: Option<bool>,
    /// `true` lists deleted messages (the trash) instead.
    #[serde(default)]
    pub deleted: bool,
}

fn message_from_row(r: &AnyRow) -> R<OutreachMessage> {
    Ok(OutreachMessage {
        id: OutreachId(i64_(r, "id")?),
        person_id: PersonId(i64_(r, "person_id")?),
        campaign_id: opt_i64(r, "campaign_id")?.map(CampaignId),
        channel: enum_(r, "channel", Channel::parse)?,
        sent_at: ts(r, "sent_at")?,
        replied_at: opt_ts(r, "replied_at")?,
        sentiment: opt_enum(r, "sentiment", Sentiment::parse)?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        deleted_at: opt_ts(r, "deleted_at")?,
        version: i64_(r, "version")?,
    })
}

/// A reply comes after the message and not in the future.
fn check_reply_time(errs: &mut Invalid, sent_at: Timestamp, replied_at: Timestamp, now: Timestamp) {
    if errs.take(replied_at.check_not_future("replied_at", now)).is_some() && replied_at.0 < sent_at.0 {
        errs.add("replied_at", "lies before sent_at; a reply comes after the message");
    }
}

/// Only a reply has a sentiment.
fn check_sentiment(errs: &mut Invalid, replied_at: Option<Timestamp>, sentiment: Option<Sentiment>) {
    if sentiment.is_some() && replied_at.is_none() {
        errs.add("sentiment", "only a replied message has a sentiment; set replied_at too, or clear sentiment");
    }
}

/// A live (not deleted) message inside a transaction.
async fn live_message(tx: &mut Tx, id: OutreachId) -> Result<OutreachMessage, StoreError> {
    let m = records::load(&mut **tx, "outreach_messages", "outreach message", id.0, message_from_row).await?;
    if m.deleted_at.is_some() {
        return Err(StoreError::not_found("outreach message", id));
    }
    Ok(m)
}

impl Store {
    /// Records a message sent to a person. The channel defaults to the
    /// campaign's, else e-mail; `sent_at` defaults to now.
    #[tracing::instrument(skip_all)]
    pub async fn create_outreach(&self, actor: &Actor, n: NewOutreachMessage) -> Result<OutreachMessage, StoreError> {
        let mut errs = Invalid::new();
        let sent_at = match n.sent_at {
            Some(t) => errs.take(t.check_not_future("sent_at", actor.now)).unwrap_or(t),
            None => actor.now,
        };
        if let Some(r) = n.replied_at {
            check_reply_time(&mut errs, sent_at, r, actor.now);
        }
        check_sentiment(&mut errs, n.replied_at, n.sentiment);
        errs.into_result()?;

        let mut tx = self.write().await?;
        check_ref(&mut tx, "people", "person_id", "person", n.person_id.0).await?;
        let campaign_channel = match n.campaign_id {
            Some(c) => campaign_channel(&mut tx, c).await?,
            None => None,
        };
        let channel = n.channel.or(campaign_channel).unwrap_or(Channel::Email);
        let id = OutreachId::new();
        sqlx::query(
            "INSERT INTO outreach_messages (id, person_id, campaign_id, channel, sent_at, replied_at, sentiment,
              created_at, updated_at, deleted_at, version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, 1)",
        )
        .bind(id.0)
        .bind(n.person_id.0)
        .bind(n.campaign_id.map(|c| c.0))
        .bind(channel.as_str().to_string())
        .bind(sent_at.0)
        .bind(n.replied_at.map(|t| t.0))
        .bind(n.sentiment.map(|s| s.as_str().to_string()))
        .bind(actor.now.0)
        .bind(actor.now.0)
        .execute(&mut *tx)
        .await?;
        crate::projections::refresh_person(&mut tx, n.person_id.0).await?;
        crate::scoring::sync::refresh_person(&mut tx, actor.now, n.person_id).await?;
        let m = live_message(&mut tx, id).await?;
        crate::audit::created(&mut tx, actor, "outreach_message", id.0, &m).await?;
        tx.commit().await?;
        Ok(m)
    }

    /// A live (not deleted) message.
    pub async fn outreach(&self, id: OutreachId) -> Result<OutreachMessage, StoreError> {
        let r = sqlx::query("SELECT * FROM outreach_messages WHERE id = $1 AND deleted_at IS NULL")
            .bind(id.0)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found("outreach message", id))?;
        Ok(message_from_row(&r)?)
    }

    /// Applies a PATCH, typically recording a reply; the reply rules are
    /// checked on the result. `version` must be current.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn update_outreach(
        &self,
        actor: &Actor,
        id: OutreachId,
        p: OutreachPatch,
    ) -> Result<OutreachMessage, StoreError> {
        let mut tx = self.write().await?;
        let cur = live_message(&mut tx, id).await?;
        crate::records::check_version(cur.version, p.version)?;
        let mut next = cur.clone();
        if let Some(c) = p.campaign_id {
            next.campaign_id = c;
        }
        if let Some(c) = p.channel {
            next.channel = c;
        }
        if let Some(r) = p.replied_at {
            next.replied_at = r;
        }
        if let Some(s) = p.sentiment {
            next.sentiment = s;
        }
        let mut errs = Invalid::new();
        // Only a reply time given now is checked against the clock: a stored
        // one was checked when it was written.
        if let Some(Some(r)) = p.replied_at {
            check_reply_time(&mut errs, next.sent_at, r, actor.now);
        }
        check_sentiment(&mut errs, next.replied_at, next.sentiment);
        errs.into_result()?;
        if let Some(c) = next.campaign_id.filter(|c| Some(*c) != cur.campaign_id) {
            campaign_channel(&mut tx, c).await?;
        }
        let n = sqlx::query(
            "UPDATE outreach_messages SET campaign_id = $1, channel = $2, replied_at = $3, sentiment = $4, updated_at = $5,
              version = version + 1
             WHERE id = $6 AND version = $7",
        )
        .bind(next.campaign_id.map(|c| c.0))
        .bind(next.channel.as_str().to_string())
        .bind(next.replied_at.map(|t| t.0))
        .bind(next.sentiment.map(|s| s.as_str().to_string()))
        .bind(actor.now.0)
        .bind(id.0)
        .bind(p.version)
        .execute(&mut *tx)
        .await?;
        if n.rows_affected() == 0 {
            return Err(records::stale(&mut tx, "outreach_messages", id.0).await);
        }
        crate::projections::refresh_person(&mut tx, cur.person_id.0).await?;
        crate::scoring::sync::refresh_person(&mut tx, actor.now, cur.person_id).await?;
        let m = live_message(&mut tx, id).await?;
        crate::audit::updated(&mut tx, actor, "outreach_message", id.0, &cur, &m).await?;
        tx.commit().await?;
        Ok(m)
    }

    /// Moves a message to the trash; it drops out of lists and metrics until restored.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn delete_outreach(&self, actor: &Actor, id: OutreachId) -> Result<(), StoreError> {
        self.set_deleted(actor, "outreach_messages", "outreach message", id.0, true).await
    }

    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn restore_outreach(&self, actor: &Actor, id: OutreachId) -> Result<OutreachMessage, StoreError> {
        self.set_deleted(actor, "outreach_messages", "outreach message", id.0, false).await?;
        self.outreach(id).await
    }

    /// Messages, newest first.
    pub async fn list_outreach(&self, f: &OutreachFilter, page: Page) -> Result<ListPage<OutreachMessage>, StoreError> {
        let mut sql = Sql::new("SELECT * FROM outreach_messages WHERE ");
        sql.push(if f.deleted { "deleted_at IS NOT NULL" } else { "deleted_at IS NULL" });
        if let Some(v) = f.person_id {
            sql.push(" AND person_id = ").bind(v.0);
        }
        if let Some(v) = f.campaign_id {
            sql.push(" AND campaign_id = ").bind(v.0);
        }
        if let Some(v) = f.channel {
            sql.push(" AND channel = ").bind(v.as_str());
        }
        if let Some(v) = f.sent_after {
            sql.push(" AND sent_at >= ").bind(v.0);
        }
        if let Some(v) = f.sent_before {
            sql.push(" AND sent_at < ").bind(v.0);
        }
        match f.replied {
            Some(true) => sql.push(" AND replied_at IS NOT NULL"),
            Some(false) => sql.push(" AND replied_at IS NULL"),
            None => &mut sql,
        };
        page.apply(&mut sql, "id");
        fetch_page(self.pool(), &sql, page, message_from_row).await
    }
}

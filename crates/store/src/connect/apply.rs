//! What a stored e-mail event does once it has a person: a `sent` event
//! becomes an outreach message (once per message), a hard bounce,
//! complaint or unsubscribe marks the person "do not e-mail", a `replied`
//! event records the reply on the message it answers. The same code runs
//! when the event arrives matched, when an admin assigns it, and when the
//! person it waited for is created.

use super::{EmailEventType, Provider};
use crate::row::*;
use crate::{StoreError, Tx};
use dealflow_core::time::Timestamp;
use dealflow_core::{CampaignId, ConnectionId, OutreachId};

/// What applying needs to know of the connection an event came through.
pub(crate) struct Conn {
    pub provider: Provider,
    pub name: String,
    pub campaign_id: Option<i64>,
}

impl Conn {
    pub async fn load(tx: &mut Tx, id: ConnectionId) -> Result<Conn, StoreError> {
        let r = sqlx::query("SELECT provider, name, campaign_id FROM connections WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| StoreError::not_found("connection", id))?;
        Ok(Conn {
            provider: enum_(&r, "provider", Provider::parse)?,
            name: text(&r, "name")?,
            campaign_id: opt_i64(&r, "campaign_id")?,
        })
    }

    /// The connection of a stored event; a deleted connection's events
    /// count in a campaign named after their provider.
    async fn of_event(tx: &mut Tx, connection: i64, provider: Provider) -> Result<Conn, StoreError> {
        match Conn::load(tx, ConnectionId(connection)).await {
            Err(StoreError::NotFound { .. }) => {
                Ok(Conn { provider, name: provider.as_str().to_string(), campaign_id: None })
            }
            other => other,
        }
    }
}

/// The live person an event is about: the `dealflow_person_id` the sender
/// attached if it names one, else the person whose primary address it is
/// (case-insensitive; the oldest such person).
pub(crate) async fn match_person(
    tx: &mut Tx,
    hint: Option<i64>,
    email: Option<&str>,
) -> Result<Option<i64>, StoreError> {
    if let Some(h) = hint {
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM people WHERE id = $1 AND deleted_at IS NULL")
            .bind(h)
            .fetch_optional(&mut **tx)
            .await?;
        if found.is_some() {
            return Ok(found);
        }
    }
    let Some(e) = email else { return Ok(None) };
    Ok(sqlx::query_scalar(
        "SELECT id FROM people WHERE lower(primary_email) = $1 AND deleted_at IS NULL ORDER BY id LIMIT 1",
    )
    .bind(e.to_lowercase())
    .fetch_optional(&mut **tx)
    .await?)
}

/// The campaign a `sent` event counts in: the connection's, else one named
/// after the provider's campaign (or category), else after the connection;
/// made when missing.
async fn campaign_for(tx: &mut Tx, c: &Conn, named: Option<&str>, now: Timestamp) -> Result<i64, StoreError> {
    if let Some(id) = c.campaign_id {
        return Ok(id);
    }
    let name = named.filter(|n| !n.trim().is_empty()).unwrap_or(&c.name).trim().to_string();
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM campaigns WHERE name = $1 ORDER BY id LIMIT 1")
        .bind(name.clone())
        .fetch_optional(&mut **tx)
        .await?;
    if let Some(id) = found {
        return Ok(id);
    }
    let id = CampaignId::new();
    sqlx::query(
        "INSERT INTO campaigns (id, name, channel, created_at, updated_at, version) VALUES ($1, $2, 'email', $3, $3, 1)",
    )
    .bind(id.0)
    .bind(name)
    .bind(now.0)
    .execute(&mut **tx)
    .await?;
    Ok(id.0)
}

/// Applies stored event `id` to `person`. `true` when it changed the
/// person's outreach (so their metric rows need a refresh).
pub(crate) async fn apply(tx: &mut Tx, c: &Conn, id: i64, person: i64, now: Timestamp) -> Result<bool, StoreError> {
    let r = sqlx::query("SELECT type, at, message_id, campaign, event_key FROM email_events WHERE id = $1")
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    let kind = enum_(&r, "type", EmailEventType::parse)?;
    let at = ts(&r, "at")?;
    let message = opt_text(&r, "message_id")?;
    match kind {
        EmailEventType::Sent => {
            // Without a provider message id the event itself is the message.
            let key = message.unwrap_or_else(|| format!("event:{}", text(&r, "event_key").unwrap_or_default()));
            let known: Option<i64> = sqlx::query_scalar("SELECT id FROM outreach_messages WHERE message_id = $1")
                .bind(key.clone())
                .fetch_optional(&mut **tx)
                .await?;
            let outreach = match known {
                Some(o) => o,
                None => {
                    let campaign = campaign_for(tx, c, opt_text(&r, "campaign")?.as_deref(), now).await?;
                    let o = OutreachId::new();
                    sqlx::query(
                        "INSERT INTO outreach_messages (id, person_id, campaign_id, channel, sent_at, replied_at,
                           sentiment, created_at, updated_at, deleted_at, version, message_id)
                         VALUES ($1, $2, $3, 'email', $4, NULL, NULL, $5, $5, NULL, 1, $6)",
                    )
                    .bind(o.0)
                    .bind(person)
                    .bind(campaign)
                    .bind(at.0)
                    .bind(now.0)
                    .bind(key)
                    .execute(&mut **tx)
                    .await?;
                    o.0
                }
            };
            sqlx::query("UPDATE email_events SET outreach_id = $1 WHERE id = $2")
                .bind(outreach)
                .bind(id)
                .execute(&mut **tx)
                .await?;
            Ok(known.is_none())
        }
        EmailEventType::BouncedHard | EmailEventType::Complained | EmailEventType::Unsubscribed => {
            let reason = match kind {
                EmailEventType::BouncedHard => "hard bounce",
                EmailEventType::Complained => "spam complaint",
                _ => "unsubscribed",
            };
            sqlx::query(
                "UPDATE people SET do_not_email = 1, do_not_email_reason = $1, do_not_email_at = $2,
                   updated_at = $3, version = version + 1
                 WHERE id = $4 AND do_not_email = 0",
            )
            .bind(reason)
            .bind(at.0)
            .bind(now.0)
            .bind(person)
            .execute(&mut **tx)
            .await?;
            Ok(false)
        }
        EmailEventType::Replied => match message {
            Some(m) => super::replies::mark_replied(tx, person, &m, at, now).await.map(|o| o.is_some()),
            None => Ok(false),
        },
        _ => Ok(false),
    }
}

/// Gives waiting events `ids` to `person` and applies them, oldest first;
/// refreshes the person's metric rows when their outreach changed.
pub(crate) async fn assign(tx: &mut Tx, ids: &[i64], person: i64, now: Timestamp) -> Result<i64, StoreError> {
    let mut changed = false;
    let mut n = 0;
    for &id in ids {
        let r = sqlx::query("SELECT connection_id, provider FROM email_events WHERE id = $1 AND person_id IS NULL")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
        let Some(r) = r else { continue };
        let c = Conn::of_event(tx, i64_(&r, "connection_id")?, enum_(&r, "provider", Provider::parse)?).await?;
        sqlx::query("UPDATE email_events SET person_id = $1 WHERE id = $2")
            .bind(person)
            .bind(id)
            .execute(&mut **tx)
            .await?;
        changed |= apply(tx, &c, id, person, now).await?;
        n += 1;
    }
    if changed {
        crate::projections::refresh_person(&mut *tx, person).await?;
    }
    crate::scoring::sync::refresh_person(tx, now, dealflow_core::PersonId(person)).await?;
    Ok(n)
}

/// After a person is created or their address changes: the events that
/// waited for that address are theirs now.
pub(crate) async fn rematch_person(
    tx: &mut Tx,
    person: i64,
    email: Option<&str>,
    now: Timestamp,
) -> Result<(), StoreError> {
    let Some(e) = email.map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty()) else { return Ok(()) };
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM email_events WHERE person_id IS NULL AND email = $1 ORDER BY at, id")
            .bind(e)
            .fetch_all(&mut **tx)
            .await?;
    if !ids.is_empty() {
        assign(tx, &ids, person, now).await?;
    }
    Ok(())
}

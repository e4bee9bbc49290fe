//! E-mail events: stored once per provider event (the unique key on
//! `(provider, event_key)` makes a redelivery a no-op on both engines),
//! matched to a person, listed, and — for events no person matched — kept
//! in a queue that admins assign from.

use super::apply::{Conn, apply, match_person};
use super::{EmailEventType, Provider};
use crate::row::*;
use crate::sql::{ListPage, Page, Sql, fetch_page};
use crate::{Actor, Store, StoreError};
use dealflow_core::time::Timestamp;
use dealflow_core::{ConnectionId, DealId, EmailEventId, OutreachId, PersonId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use std::collections::BTreeSet;

/// One event as a provider's payload described it, in our vocabulary.
#[derive(Debug, Clone)]
pub struct IncomingEvent {
    /// Where it was in the request's batch (for the report).
    pub index: usize,
    /// The provider's event id, if it has one.
    pub event_id: Option<String>,
    pub kind: EmailEventType,
    pub at: Timestamp,
    /// The recipient (or sender, for a reply).
    pub email: Option<String>,
    /// A `dealflow_person_id` the sender attached.
    pub person_hint: Option<i64>,
    pub message_id: Option<String>,
    /// The provider's campaign or category.
    pub campaign: Option<String>,
    pub url: Option<String>,
    pub machine_open: bool,
    pub raw: serde_json::Value,
}

impl IncomingEvent {
    /// The key it is stored once under: the provider's event id, else a
    /// hash of message id, type, time and recipient.
    pub fn key(&self) -> String {
        if let Some(id) = self.event_id.as_deref().filter(|s| !s.is_empty()) {
            return id.chars().take(200).collect();
        }
        let mut h = Sha256::new();
        for part in [self.message_id.as_deref().unwrap_or(""), self.kind.as_str(), &self.at.0.to_string()] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        h.update(self.email.as_deref().unwrap_or("").as_bytes());
        let d = h.finalize();
        format!("h:{}", d.iter().take(16).map(|b| format!("{b:02x}")).collect::<String>())
    }
}

/// What one ingest request stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IngestReport {
    /// Events stored now.
    pub stored: usize,
    /// Events already stored by an earlier delivery: changed nothing.
    pub duplicates: usize,
    /// Stored events that matched no person (they wait in the unmatched
    /// queue).
    pub unmatched: usize,
    /// Events of kinds dealflow does not track (e.g. SendGrid `dropped`).
    pub ignored: usize,
    /// Events that could not be read, by their index in the batch.
    pub errors: Vec<IngestError>,
}

/// One event of a batch that could not be read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IngestError {
    pub index: usize,
    pub message: String,
}

/// An e-mail event as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EmailEvent {
    pub id: EmailEventId,
    pub connection_id: ConnectionId,
    pub provider: Provider,
    /// The provider's event id, or `h:` + a hash where it has none.
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: EmailEventType,
    pub at: Timestamp,
    pub email: Option<String>,
    /// `null` while the event waits in the unmatched queue.
    pub person_id: Option<PersonId>,
    pub message_id: Option<String>,
    pub campaign: Option<String>,
    /// The link, for clicks.
    pub url: Option<String>,
    /// An open made by a privacy proxy, not by the person.
    pub machine_open: bool,
    /// The outreach message a `sent` event recorded.
    pub outreach_id: Option<OutreachId>,
    /// The provider's payload of this event.
    #[schema(value_type = Object)]
    pub raw: serde_json::Value,
    pub received_at: Timestamp,
}

/// Filters of `GET /api/v1/email-events`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EmailEventFilter {
    pub person_id: Option<PersonId>,
    /// Events of the deal's person.
    pub deal_id: Option<DealId>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<EmailEventType>,
    /// Only events at or after this time.
    pub from: Option<Timestamp>,
    /// Only events strictly before this time.
    pub to: Option<Timestamp>,
}

pub(crate) fn event_from_row(r: &AnyRow) -> R<EmailEvent> {
    let raw: String = text(r, "raw")?;
    Ok(EmailEvent {
        id: EmailEventId(i64_(r, "id")?),
        connection_id: ConnectionId(i64_(r, "connection_id")?),
        provider: enum_(r, "provider", Provider::parse)?,
        event_id: text(r, "event_key")?,
        kind: enum_(r, "type", EmailEventType::parse)?,
        at: ts(r, "at")?,
        email: opt_text(r, "email")?,
        person_id: opt_i64(r, "person_id")?.map(PersonId),
        message_id: opt_text(r, "message_id")?,
        campaign: opt_text(r, "campaign")?,
        url: opt_text(r, "url")?,
        machine_open: bool_(r, "machine_open")?,
        outreach_id: opt_i64(r, "outreach_id")?.map(OutreachId),
        raw: serde_json::from_str(&raw).map_err(|e| decode_err("raw", e))?,
        received_at: ts(r, "received_at")?,
    })
}

/// A Message-ID as stored and compared: without angle brackets or
/// surrounding space, lower case.
pub fn normalize_message_id(id: &str) -> Option<String> {
    let t = id.trim().trim_start_matches('<').trim_end_matches('>').trim().to_lowercase();
    (!t.is_empty()).then(|| t.chars().take(300).collect())
}

fn clip(v: Option<String>, n: usize) -> Option<String> {
    v.map(|s| s.chars().filter(|c| *c != '\0').take(n).collect::<String>()).filter(|s| !s.trim().is_empty())
}

impl Store {
    /// Stores a verified batch in one transaction: each new event is
    /// matched and applied (see `apply.rs`); a redelivered one changes
    /// nothing. Updates the connection's counters.
    #[tracing::instrument(skip_all, fields(connection = %conn, n = events.len()))]
    pub async fn ingest_events(
        &self,
        conn: ConnectionId,
        now: Timestamp,
        events: Vec<IncomingEvent>,
        mut report: IngestReport,
    ) -> Result<IngestReport, StoreError> {
        let mut tx = self.write().await?;
        let c = Conn::load(&mut tx, conn).await?;
        let mut touched = BTreeSet::new();
        let mut scored = BTreeSet::new();
        for ev in events {
            let key = ev.key();
            let email = clip(ev.email.as_deref().map(|e| e.trim().to_lowercase()), 320);
            let message_id = ev.message_id.as_deref().and_then(normalize_message_id);
            let person = match_person(&mut tx, ev.person_hint, email.as_deref()).await?;
            let id = EmailEventId::new();
            let n = sqlx::query(
                "INSERT INTO email_events (id, connection_id, provider, event_key, type, at, email, person_id, message_id,
                   campaign, url, machine_open, outreach_id, raw, received_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, NULL, $13, $14)
                 ON CONFLICT (provider, event_key) DO NOTHING",
            )
            .bind(id.0)
            .bind(conn.0)
            .bind(c.provider.as_str())
            .bind(key)
            .bind(ev.kind.as_str())
            .bind(ev.at.0.min(now.0))
            .bind(email)
            .bind(person)
            .bind(message_id)
            .bind(clip(ev.campaign, 200))
            .bind(clip(ev.url, 2000))
            .bind(b(ev.machine_open))
            .bind(ev.raw.to_string().replace("\\u0000", ""))
            .bind(now.0)
            .execute(&mut *tx)
            .await?;
            if n.rows_affected() == 0 {
                report.duplicates += 1;
                continue;
            }
            report.stored += 1;
            match person {
                Some(p) => {
                    scored.insert(p);
                    if apply(&mut tx, &c, id.0, p, now).await? {
                        touched.insert(p);
                    }
                }
                None => report.unmatched += 1,
            }
        }
        for p in touched {
            crate::projections::refresh_person(&mut tx, p).await?;
        }
        for p in scored {
            crate::scoring::sync::refresh_person(&mut tx, now, PersonId(p)).await?;
        }
        if report.stored > 0 {
            sqlx::query(
                "UPDATE connections SET events_received = events_received + $1, last_event_at = $2 WHERE id = $3",
            )
            .bind(report.stored as i64)
            .bind(now.0)
            .bind(conn.0)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(report)
    }

    /// Whether an event with this key is stored already.
    pub async fn email_event_known(&self, provider: Provider, key: &str) -> Result<bool, StoreError> {
        let n: Option<i64> = sqlx::query_scalar("SELECT id FROM email_events WHERE provider = $1 AND event_key = $2")
            .bind(provider.as_str())
            .bind(key)
            .fetch_optional(self.pool())
            .await?;
        Ok(n.is_some())
    }

    /// E-mail events, newest first.
    pub async fn email_events(&self, f: &EmailEventFilter, page: Page) -> Result<ListPage<EmailEvent>, StoreError> {
        let mut sql = Sql::new("SELECT * FROM email_events WHERE 1 = 1");
        if let Some(p) = f.person_id {
            sql.push(" AND person_id = ").bind(p.0);
        }
        if let Some(d) = f.deal_id {
            sql.push(" AND person_id = (SELECT person_id FROM deals WHERE id = ").bind(d.0).push(")");
        }
        if let Some(k) = f.kind {
            sql.push(" AND type = ").bind(k.as_str());
        }
        if let Some(t) = f.from {
            sql.push(" AND at >= ").bind(t.0);
        }
        if let Some(t) = f.to {
            sql.push(" AND at < ").bind(t.0);
        }
        page.apply(&mut sql, "id");
        fetch_page(self.pool(), &sql, page, event_from_row).await
    }

    /// The unmatched queue: events no person matched yet, newest first.
    pub async fn unmatched_events(&self, page: Page) -> Result<ListPage<EmailEvent>, StoreError> {
        let mut sql = Sql::new("SELECT * FROM email_events WHERE person_id IS NULL");
        page.apply(&mut sql, "id");
        fetch_page(self.pool(), &sql, page, event_from_row).await
    }

    /// Assigns an unmatched event — and every other waiting event from the
    /// same address — to a person, applying them as if they had matched.
    /// Returns how many events were assigned.
    #[tracing::instrument(skip_all, fields(event = %id, person = %person))]
    pub async fn assign_event(&self, actor: &Actor, id: EmailEventId, person: PersonId) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let ev = crate::records::load(&mut *tx, "email_events", "e-mail event", id.0, event_from_row).await?;
        if ev.person_id.is_some() {
            return Err(StoreError::InUse(format!(
                "event {id} is already matched to a person; only events in the unmatched queue are assigned"
            )));
        }
        crate::deals::check_ref(&mut tx, "people", "person_id", "person", person.0).await?;
        let ids: Vec<i64> = match ev.email.as_deref() {
            Some(e) => {
                sqlx::query_scalar("SELECT id FROM email_events WHERE person_id IS NULL AND email = $1 ORDER BY at, id")
                    .bind(e)
                    .fetch_all(&mut *tx)
                    .await?
            }
            None => vec![id.0],
        };
        let n = super::apply::assign(&mut tx, &ids, person.0, actor.now).await?;
        crate::audit::append(
            &mut tx,
            actor,
            crate::audit::Entry::new("person", "email_events_assigned", Some(person.0))
                .detail(serde_json::json!({ "event_id": id, "events": n, "email": ev.email })),
        )
        .await?;
        tx.commit().await?;
        Ok(n)
    }
}

//! Inbound replies: an e-mail a provider's inbound parse forwarded. It is
//! matched to the message it answers by `In-Reply-To`/`References` (an
//! outreach message, or a playbook e-mail by its Message-ID), else to the
//! person by the sender's address; it records the reply on that outreach
//! message (so replies and the response rate count it) and is kept as a
//! timeline entry whose sentiment a rep sets.

use super::events::normalize_message_id;
use crate::row::*;
use crate::sql::{ListPage, Page, Sql, fetch_page};
use crate::{Actor, Store, StoreError, Tx};
use dealflow_core::model::Sentiment;
use dealflow_core::time::Timestamp;
use dealflow_core::{ActivityId, ConnectionId, OutreachId, PersonId, ReplyId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;

/// Longest reply text kept.
const BODY_MAX: usize = 20_000;
/// Longest preview.
const PREVIEW_MAX: usize = 500;

/// An inbound e-mail as the server read it from the provider's post.
#[derive(Debug, Clone)]
pub struct InboundMail {
    pub from: String,
    pub subject: String,
    pub text: String,
    pub message_id: Option<String>,
    /// `In-Reply-To` first, then `References` newest first.
    pub references: Vec<String>,
    pub received_at: Timestamp,
}

/// A reply as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Reply {
    pub id: ReplyId,
    pub connection_id: ConnectionId,
    pub from_email: String,
    pub person_id: Option<PersonId>,
    /// The outreach message it answers, if found.
    pub outreach_id: Option<OutreachId>,
    /// The playbook e-mail (an activity) it answers, if found.
    pub activity_id: Option<ActivityId>,
    pub subject: String,
    /// The whole text.
    pub body: String,
    /// The new text only: quoted history and signature left out.
    pub preview: String,
    pub received_at: Timestamp,
    pub sentiment: Option<Sentiment>,
}

/// Filters of `GET /api/v1/replies`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReplyFilter {
    pub person_id: Option<PersonId>,
}

/// Body of `PATCH /api/v1/replies/{id}`: the sentiment a rep reads in it
/// (`null` clears it).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyPatch {
    pub sentiment: Option<Sentiment>,
}

fn from_row(r: &AnyRow) -> R<Reply> {
    Ok(Reply {
        id: ReplyId(i64_(r, "id")?),
        connection_id: ConnectionId(i64_(r, "connection_id")?),
        from_email: text(r, "from_email")?,
        person_id: opt_i64(r, "person_id")?.map(PersonId),
        outreach_id: opt_i64(r, "outreach_id")?.map(OutreachId),
        activity_id: opt_i64(r, "activity_id")?.map(ActivityId),
        subject: text(r, "subject")?,
        body: text(r, "body")?,
        preview: text(r, "preview")?,
        received_at: ts(r, "received_at")?,
        sentiment: opt_enum(r, "sentiment", Sentiment::parse)?,
    })
}

/// Whether a line starts the quoted history of an earlier message.
fn starts_history(line: &str) -> bool {
    let t = line.trim();
    t.starts_with('>')
        || (t.starts_with("On ") && t.ends_with("wrote:"))
        || (t.starts_with('在') && (t.ends_with("写道：") || t.ends_with("写道:")))
        || t.starts_with("-----Original Message-----")
        || t.starts_with("________________________________")
        || (t.starts_with("From:") && t.contains('@'))
}

/// The new text of a reply: up to the quoted history or the signature
/// (`-- ` on its own line, or a "Sent from my …" line), trimmed, at most
/// 500 characters.
pub fn reply_preview(text: &str) -> String {
    let mut kept = Vec::new();
    for line in text.lines() {
        if starts_history(line)
            || line == "-- "
            || line.trim() == "--"
            || line.trim_start().starts_with("Sent from my ")
        {
            break;
        }
        kept.push(line.trim_end());
    }
    let joined = kept.join("\n");
    joined.trim().chars().take(PREVIEW_MAX).collect()
}

/// Records a reply at `at` on the live outreach message of `person` with
/// Message-ID `message` (if it has none yet); the message's id if found.
pub(crate) async fn mark_replied(
    tx: &mut Tx,
    person: i64,
    message: &str,
    at: Timestamp,
    now: Timestamp,
) -> Result<Option<i64>, StoreError> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT id, sent_at FROM outreach_messages WHERE message_id = $1 AND person_id = $2 AND deleted_at IS NULL",
    )
    .bind(message)
    .bind(person)
    .fetch_optional(&mut **tx)
    .await?;
    let Some((id, sent_at)) = row else { return Ok(None) };
    // A reply comes after its message, whatever the clocks said.
    let at = at.0.max(sent_at).min(now.0.max(sent_at));
    sqlx::query(
        "UPDATE outreach_messages SET replied_at = $1, updated_at = $2, version = version + 1
         WHERE id = $3 AND replied_at IS NULL",
    )
    .bind(at)
    .bind(now.0)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(Some(id))
}

/// The Message-ID candidates a reference may match: the id itself, and its
/// part before `@` (providers such as Postmark report only that part).
fn candidates(refs: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for r in refs.iter().filter_map(|r| normalize_message_id(r)) {
        if let Some((local, _)) = r.split_once('@') {
            out.push(local.to_string());
        }
        out.push(r);
    }
    out
}

impl Store {
    /// Stores an inbound reply once (by its Message-ID, else a hash of its
    /// sender, subject and text) and records it; `None` when it was
    /// stored before.
    #[tracing::instrument(skip_all, fields(connection = %conn))]
    pub async fn receive_reply(&self, conn: ConnectionId, mail: InboundMail) -> Result<Option<Reply>, StoreError> {
        let now = Timestamp::now();
        let from = mail.from.trim().to_lowercase();
        let key = match mail.message_id.as_deref().and_then(normalize_message_id) {
            Some(m) => format!("m:{m}"),
            None => {
                let mut h = Sha256::new();
                for part in [from.as_str(), mail.subject.as_str(), mail.text.as_str()] {
                    h.update(part.as_bytes());
                    h.update([0]);
                }
                format!("h:{}", h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect::<String>())
            }
        };
        let mut tx = self.write().await?;
        let seen: Option<i64> = sqlx::query_scalar("SELECT id FROM email_replies WHERE reply_key = $1")
            .bind(key.clone())
            .fetch_optional(&mut *tx)
            .await?;
        if seen.is_some() {
            return Ok(None);
        }
        let mut person = None;
        let mut outreach = None;
        let mut activity = None;
        for c in candidates(&mail.references) {
            let o: Option<(i64, i64)> = sqlx::query_as(
                "SELECT id, person_id FROM outreach_messages WHERE message_id = $1 AND deleted_at IS NULL",
            )
            .bind(c.clone())
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((o, p)) = o {
                (outreach, person) = (Some(o), Some(p));
                break;
            }
            let a: Option<(i64, Option<i64>)> = sqlx::query_as(
                "SELECT a.id, COALESCE(a.person_id, d.person_id) FROM activities a
                 LEFT JOIN deals d ON d.id = a.deal_id WHERE a.message_id = $1",
            )
            .bind(c.clone())
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((a, p)) = a {
                (activity, person) = (Some(a), p);
                break;
            }
        }
        if person.is_none() {
            person = super::apply::match_person(&mut tx, None, Some(&from)).await?;
        }
        let at = mail.received_at.0.min(now.0);
        if let (Some(o), Some(p)) = (outreach, person) {
            let m: Option<String> = sqlx::query_scalar("SELECT message_id FROM outreach_messages WHERE id = $1")
                .bind(o)
                .fetch_one(&mut *tx)
                .await?;
            if let Some(m) = m {
                mark_replied(&mut tx, p, &m, Timestamp(at), now).await?;
                crate::projections::refresh_person(&mut tx, p).await?;
            }
        }
        let body: String = mail.text.chars().filter(|c| *c != '\0').take(BODY_MAX).collect();
        let id = ReplyId::new();
        sqlx::query(
            "INSERT INTO email_replies (id, connection_id, reply_key, from_email, person_id, outreach_id, activity_id,
               subject, body, preview, received_at, sentiment)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL)",
        )
        .bind(id.0)
        .bind(conn.0)
        .bind(key)
        .bind(from.chars().take(320).collect::<String>())
        .bind(person)
        .bind(outreach)
        .bind(activity)
        .bind(mail.subject.chars().filter(|c| *c != '\0').take(500).collect::<String>())
        .bind(body.clone())
        .bind(reply_preview(&body))
        .bind(at)
        .execute(&mut *tx)
        .await?;
        if let Some(p) = person {
            crate::scoring::sync::refresh_person(&mut tx, now, dealflow_core::PersonId(p)).await?;
        }
        let r = crate::records::load(&mut *tx, "email_replies", "reply", id.0, from_row).await?;
        tx.commit().await?;
        Ok(Some(r))
    }

    /// Replies, newest first.
    pub async fn replies(&self, f: &ReplyFilter, page: Page) -> Result<ListPage<Reply>, StoreError> {
        let mut sql = Sql::new("SELECT * FROM email_replies WHERE 1 = 1");
        if let Some(p) = f.person_id {
            sql.push(" AND person_id = ").bind(p.0);
        }
        page.apply(&mut sql, "id");
        fetch_page(self.pool(), &sql, page, from_row).await
    }

    /// Sets a reply's sentiment, and that of the outreach message it
    /// answers (which the positive-reply rate reads).
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn set_reply_sentiment(&self, actor: &Actor, id: ReplyId, p: ReplyPatch) -> Result<Reply, StoreError> {
        let mut tx = self.write().await?;
        let before = crate::records::load(&mut *tx, "email_replies", "reply", id.0, from_row).await?;
        let s = p.sentiment.map(|s| s.as_str());
        sqlx::query("UPDATE email_replies SET sentiment = $1 WHERE id = $2")
            .bind(s)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        if let (Some(o), Some(person)) = (before.outreach_id, before.person_id) {
            sqlx::query(
                "UPDATE outreach_messages SET sentiment = $1, updated_at = $2, version = version + 1
                 WHERE id = $3 AND replied_at IS NOT NULL",
            )
            .bind(s)
            .bind(actor.now.0)
            .bind(o.0)
            .execute(&mut *tx)
            .await?;
            crate::projections::refresh_person(&mut tx, person.0).await?;
        }
        if let Some(person) = before.person_id {
            crate::scoring::sync::refresh_person(&mut tx, actor.now, person).await?;
        }
        let after = crate::records::load(&mut *tx, "email_replies", "reply", id.0, from_row).await?;
        crate::audit::updated(&mut tx, actor, "reply", id.0, &before, &after).await?;
        tx.commit().await?;
        Ok(after)
    }
}

//! A person's e-mail events and replies as timeline entries: repeated
//! opens of one message collapse into one entry with a count and the last
//! time; `sent` events are left out (their outreach message is the entry).

use super::EmailEventType;
use super::replies::Reply;
use crate::row::*;
use crate::{ReplyFilter, Store, StoreError};
use dealflow_core::PersonId;
use dealflow_core::time::Timestamp;
use std::collections::HashMap;

/// One e-mail entry of a timeline.
#[derive(Debug, Clone)]
pub enum EmailEntry {
    /// An event (or, for opens, all opens of one message).
    Event {
        at: Timestamp,
        kind: EmailEventType,
        /// How many events the entry stands for (opens), else 1.
        count: i64,
        url: Option<String>,
        campaign: Option<String>,
    },
    /// An inbound reply.
    Reply(Reply),
}

impl EmailEntry {
    pub fn at(&self) -> Timestamp {
        match self {
            EmailEntry::Event { at, .. } => *at,
            EmailEntry::Reply(r) => r.received_at,
        }
    }
}

impl Store {
    /// The newest `limit` e-mail events (opens of one message counted as
    /// one) and replies of `person`, newest first.
    pub async fn email_timeline(&self, person: PersonId, limit: i64) -> Result<Vec<EmailEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT type, at, message_id, campaign, url FROM email_events
             WHERE person_id = $1 AND type <> 'sent' ORDER BY at DESC, id DESC LIMIT $2",
        )
        .bind(person.0)
        .bind(limit.saturating_mul(4))
        .fetch_all(self.pool())
        .await?;
        let mut out: Vec<EmailEntry> = Vec::new();
        // Where each message's open entry is in `out`.
        let mut opens: HashMap<String, usize> = HashMap::new();
        for r in &rows {
            let kind = enum_(r, "type", EmailEventType::parse)?;
            let at = ts(r, "at")?;
            let (campaign, url) = (opt_text(r, "campaign")?, opt_text(r, "url")?);
            let open_key = (kind == EmailEventType::Opened)
                .then(|| opt_text(r, "message_id"))
                .transpose()?
                .map(|m| m.or_else(|| campaign.clone()).unwrap_or_default());
            if let Some(&i) = open_key.as_ref().and_then(|k| opens.get(k)) {
                if let EmailEntry::Event { count, .. } = &mut out[i] {
                    *count += 1;
                }
                continue;
            }
            if out.len() as i64 >= limit {
                continue;
            }
            if let Some(k) = open_key {
                opens.insert(k, out.len());
            }
            out.push(EmailEntry::Event { at, kind, count: 1, url, campaign });
        }
        let f = ReplyFilter { person_id: Some(person) };
        for r in self.replies(&f, crate::Page { limit, before: None }).await?.items {
            out.push(EmailEntry::Reply(r));
        }
        out.sort_by_key(|e| std::cmp::Reverse(e.at()));
        Ok(out)
    }
}

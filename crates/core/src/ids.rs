//! Typed identifiers. Ids are assigned by the application: 64-bit, roughly
//! time-ordered (milliseconds since the Unix epoch in the high bits, a
//! per-process counter seeded at random in the low 16 bits), so several
//! server processes can mint them without coordination and `ORDER BY id`
//! follows creation order, which cursor pagination relies on.
//!
//! In JSON an id is a string: the values exceed 2^53, the largest integer a
//! JavaScript number holds exactly. Parsing accepts a string or a number.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);

        impl $name {
            /// Mints a fresh id.
            pub fn new() -> Self {
                Self(next_id())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.trim().parse().map(Self)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                deserialize_id(d).map(Self)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                id_schema()
            }
        }
        impl utoipa::ToSchema for $name {}
    )*};
}

id_type!(
    /// A user account.
    UserId,
    /// A pipeline.
    PipelineId,
    /// A stage of a pipeline.
    StageId,
    /// An organization (company).
    OrganizationId,
    /// A person (contact).
    PersonId,
    /// A deal.
    DealId,
    /// An activity (call, meeting, email, task, LinkedIn).
    ActivityId,
    /// A note.
    NoteId,
    /// A marketing or outreach campaign.
    CampaignId,
    /// An outreach message sent to a person.
    OutreachId,
    /// A custom field definition.
    CustomFieldId,
    /// A lost reason.
    LostReasonId,
    /// An API token.
    TokenId,
    /// A stage event.
    EventId,
    /// A goal.
    GoalId,
    /// An audit-log entry.
    AuditId,
    /// A weekly pipeline audit (the review meeting's snapshot).
    PipelineAuditId,
    /// Any record named by an audit-log entry (a deal, a user, a token, …).
    RecordId,
    /// A step of a stage's playbook.
    StepId,
    /// An outgoing webhook subscription.
    WebhookId,
    /// One logged attempt to deliver a webhook message.
    WebhookAttemptId,
    /// An intake form (self-serve sign-ups).
    FormId,
    /// One accepted submission of an intake form.
    SubmissionId,
    /// A connection to an e-mail provider (events and replies in).
    ConnectionId,
    /// One e-mail event received from a provider.
    EmailEventId,
    /// One inbound reply e-mail.
    ReplyId,
    /// A lead-scoring model (its draft and published versions).
    ScoringModelId,
);

fn id_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^[0-9]{1,18}$"))
        .description(Some("Identifier: a 64-bit integer written as a decimal string"))
        .into()
}

fn deserialize_id<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Num(i64),
        Text(String),
    }
    match Raw::deserialize(d)? {
        Raw::Num(n) => Ok(n),
        // At most 18 digits, as the schema says: every id minted before
        // the year 2400 fits, and every 18-digit number fits an i64.
        Raw::Text(s) => {
            let t = s.trim();
            t.parse().ok().filter(|_| t.len() <= 18 && t.bytes().all(|b| b.is_ascii_digit())).ok_or_else(|| {
                serde::de::Error::custom(format!("`{s}` is not an id (a decimal number of 1 to 18 digits)"))
            })
        }
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);
static LAST_ID: AtomicU64 = AtomicU64::new(0);

/// Mints a new id: `(unix_ms << 16) | low`, strictly increasing within the
/// process. When more than 65,536 ids are minted in one millisecond the time
/// part is borrowed from the next millisecond, which keeps the order.
pub fn next_id() -> i64 {
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    // Seed the low bits once per process so two processes starting in the same
    // millisecond are unlikely to collide.
    if COUNTER.load(Ordering::Relaxed) == 0 {
        let seed = (now ^ (std::process::id() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)) & 0xFFFF;
        let _ = COUNTER.compare_exchange(0, seed | 1, Ordering::Relaxed, Ordering::Relaxed);
    }
    loop {
        let last = LAST_ID.load(Ordering::Acquire);
        let c = COUNTER.fetch_add(1, Ordering::AcqRel);
        let candidate = (now << 16) | (c & 0xFFFF);
        let floor = last + 1;
        let id = candidate.max(floor);
        if LAST_ID.compare_exchange(last, id, Ordering::AcqRel, Ordering::Acquire).is_ok() {
            // The top bit stays clear until the year 6429, so this is positive.
            return id as i64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_increase() {
        let mut prev = next_id();
        for _ in 0..100_000 {
            let n = next_id();
            assert!(n > prev);
            prev = n;
        }
    }

    #[test]
    fn id_json_is_string_and_accepts_number() {
        let d = DealId(123);
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"123\"");
        assert_eq!(serde_json::from_str::<DealId>("\"123\"").unwrap(), d);
        assert_eq!(serde_json::from_str::<DealId>("123").unwrap(), d);
        assert!(serde_json::from_str::<DealId>("\"abc\"").is_err());
    }
}

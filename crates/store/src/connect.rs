//! Connections to e-mail providers: where their events and inbound replies
//! come in (`/ingest/{id}`), with the material each provider's requests are
//! verified by and the connection's status counters. What an event does
//! once verified is in [`events`] and [`apply`]; inbound replies in
//! [`replies`]. Verifying signatures is the server's work.

mod apply;
mod events;
mod replies;
mod timeline;

pub(crate) use apply::rematch_person;
pub(crate) use events::normalize_message_id;
pub use events::{EmailEvent, EmailEventFilter, IncomingEvent, IngestError, IngestReport};
pub use replies::{InboundMail, Reply, ReplyFilter, ReplyPatch, reply_preview};
pub use timeline::EmailEntry;

use crate::row::*;
use crate::sql::{ListPage, Page, Sql, fetch_page};
use crate::{Actor, Store, StoreError, Tx};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use dealflow_core::time::Timestamp;
use dealflow_core::validate::required_text;
use dealflow_core::{CampaignId, ConnectionId, Invalid};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;

/// Most connections a workspace keeps.
pub const MAX_CONNECTIONS: i64 = 50;
/// Longest verification material (a key, a password, a secret).
const KEY_MAX: usize = 500;

dealflow_core::text_enum!(
    /// The e-mail provider a connection receives from.
    Provider {
        /// SendGrid Event Webhook (ECDSA-signed batches) and Inbound Parse.
        Sendgrid = "sendgrid",
        /// Mailgun webhooks (HMAC-signed) and routes.
        Mailgun = "mailgun",
        /// Postmark webhooks and inbound, behind HTTP basic auth.
        Postmark = "postmark",
        /// Brevo transactional webhooks, with a secret token.
        Brevo = "brevo",
        /// dealflow's own JSON batch, signed like its outgoing webhooks.
        Generic = "generic",
    }
);

dealflow_core::text_enum!(
    /// What happened to an e-mail: one vocabulary for every provider.
    EmailEventType {
        Sent = "sent",
        Delivered = "delivered",
        Deferred = "deferred",
        BouncedSoft = "bounced_soft",
        BouncedHard = "bounced_hard",
        Opened = "opened",
        Clicked = "clicked",
        Unsubscribed = "unsubscribed",
        Complained = "complained",
        Replied = "replied",
    }
);

/// A connection as the API shows it. Secrets (Mailgun's signing key,
/// Postmark's password, the Brevo and generic secret) are shown only in
/// the answer that set them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Connection {
    pub id: ConnectionId,
    pub provider: Provider,
    pub name: String,
    /// SendGrid: the verification key as SendGrid shows it (base64 DER).
    pub public_key: Option<String>,
    /// Postmark: the basic-auth user name.
    pub username: Option<String>,
    /// The campaign its `sent` events count in; without one, a campaign
    /// named after the provider's campaign or category, else after the
    /// connection.
    pub campaign_id: Option<CampaignId>,
    /// Events stored (duplicates and refused requests aside).
    pub events_received: i64,
    pub last_event_at: Option<Timestamp>,
    /// Requests refused because their signature or secret did not verify.
    pub failures: i64,
    pub last_failure_at: Option<Timestamp>,
    pub last_failure: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// The answer to a create (or a change of material): the connection and
/// the secrets dealflow generated or was given, shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConnectionWithSecrets {
    #[serde(flatten)]
    pub connection: Connection,
    /// Mailgun: the HTTP webhook signing key.
    pub signing_key: Option<String>,
    /// Postmark: the basic-auth password.
    pub password: Option<String>,
    /// Brevo: the token; generic: the `whsec_…` signing secret.
    pub secret: Option<String>,
}

/// Body of `POST /api/v1/connections`. Material that is absent is
/// generated (except SendGrid's public key, which SendGrid makes).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConnection {
    pub provider: Provider,
    /// Default: the provider's name.
    pub name: Option<String>,
    /// SendGrid (required): the Event Webhook verification key, base64 DER.
    pub public_key: Option<String>,
    /// Mailgun: the HTTP webhook signing key.
    pub signing_key: Option<String>,
    /// Postmark: the basic-auth user name and password.
    pub username: Option<String>,
    pub password: Option<String>,
    /// Brevo and generic: the shared secret.
    pub secret: Option<String>,
    pub campaign_id: Option<CampaignId>,
}

/// Body of `PATCH /api/v1/connections/{id}`; `version` is the one read.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionPatch {
    pub version: i64,
    pub name: Option<String>,
    #[serde(default, deserialize_with = "dealflow_core::patch::double_option")]
    #[schema(value_type = Option<CampaignId>)]
    pub campaign_id: Option<Option<CampaignId>>,
    pub public_key: Option<String>,
    pub signing_key: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub secret: Option<String>,
}

/// What requests to a connection are verified with.
#[derive(Clone, Default)]
pub struct ConnectionKeys {
    pub public_key: Option<String>,
    pub signing_key: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub secret: Option<String>,
}

impl std::fmt::Debug for ConnectionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConnectionKeys(…)")
    }
}

/// The DER prefix of a P-256 public key (SubjectPublicKeyInfo with
/// id-ecPublicKey and prime256v1), before its 65-byte uncompressed point.
pub const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
    0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// The uncompressed point of a SendGrid verification key (base64 of a
/// P-256 SubjectPublicKeyInfo), or why it is not one.
pub fn p256_point(key: &str) -> Result<Vec<u8>, String> {
    let compact: String = key.split_whitespace().collect();
    let der = BASE64.decode(compact.as_bytes()).map_err(|_| "is not base64".to_string())?;
    match der.strip_prefix(&P256_SPKI_PREFIX[..]) {
        Some(point) if point.len() == 65 && point[0] == 4 => Ok(point.to_vec()),
        _ => {
            Err("is not a P-256 public key (SendGrid shows one as base64 DER, starting `MFkwEwYHKoZIzj0CAQYI`)".into())
        }
    }
}

fn from_row(r: &AnyRow) -> R<Connection> {
    Ok(Connection {
        id: ConnectionId(i64_(r, "id")?),
        provider: enum_(r, "provider", Provider::parse)?,
        name: text(r, "name")?,
        public_key: opt_text(r, "public_key")?,
        username: opt_text(r, "username")?,
        campaign_id: opt_i64(r, "campaign_id")?.map(CampaignId),
        events_received: i64_(r, "events_received")?,
        last_event_at: opt_ts(r, "last_event_at")?,
        failures: i64_(r, "failures")?,
        last_failure_at: opt_ts(r, "last_failure_at")?,
        last_failure: opt_text(r, "last_failure")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        version: i64_(r, "version")?,
    })
}

fn keys_from_row(r: &AnyRow) -> R<ConnectionKeys> {
    Ok(ConnectionKeys {
        public_key: opt_text(r, "public_key")?,
        signing_key: opt_text(r, "signing_key")?,
        username: opt_text(r, "username")?,
        password: opt_text(r, "password")?,
        secret: opt_text(r, "secret")?,
    })
}

/// 24 random bytes as hex.
fn token() -> String {
    let bytes: [u8; 24] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The shape of a piece of material, as a pattern for the API's schema;
/// [`material`] checks the same.
pub const MATERIAL_PATTERN: &str = "^[!-~]+$";
/// Longest material, for the schema.
pub const MATERIAL_MAX: u64 = KEY_MAX as u64;

/// Checks one piece of material: printable, no spaces, not too long.
fn material(field: &str, v: Option<&str>, errs: &mut Invalid) -> Option<String> {
    let v = v?;
    if v.is_empty() || v.chars().count() > KEY_MAX || !v.chars().all(|c| c.is_ascii_graphic()) {
        errs.add(field, format!("must be 1 to {KEY_MAX} printable ASCII characters without spaces"));
        return None;
    }
    Some(v.to_string())
}

/// Whether connections to `provider` take the material `field`.
fn uses(provider: Provider, field: &str) -> bool {
    matches!(
        (provider, field),
        (Provider::Sendgrid, "public_key")
            | (Provider::Mailgun, "signing_key")
            | (Provider::Postmark, "username" | "password")
            | (Provider::Brevo | Provider::Generic, "secret")
    )
}

/// Checks and completes a connection's material for its provider:
/// SendGrid needs its public key; the rest is generated when absent.
/// Returns the keys and the secrets to show once.
fn complete(provider: Provider, given: ConnectionKeys, errs: &mut Invalid) -> (ConnectionKeys, ConnectionKeys) {
    let mut keys = ConnectionKeys::default();
    let mut shown = ConnectionKeys::default();
    for (field, v) in [
        ("public_key", &given.public_key),
        ("signing_key", &given.signing_key),
        ("username", &given.username),
        ("password", &given.password),
        ("secret", &given.secret),
    ] {
        if v.is_some() && !uses(provider, field) {
            errs.add(field, format!("is not used by {provider} connections; leave it out"));
        }
    }
    match provider {
        Provider::Sendgrid => {
            match given.public_key.as_deref() {
                None => errs.add(
                    "public_key",
                    "is required for SendGrid: copy the verification key from Mail Settings → Event Webhook → \
                     Signature Verification",
                ),
                Some(k) => match p256_point(k) {
                    Ok(_) => keys.public_key = Some(k.split_whitespace().collect()),
                    Err(e) => errs.add("public_key", e),
                },
            }
            keys.secret = Some(token());
            shown.secret = keys.secret.clone();
        }
        Provider::Mailgun => {
            keys.signing_key = material("signing_key", given.signing_key.as_deref(), errs).or_else(|| Some(token()));
            shown.signing_key = keys.signing_key.clone();
        }
        Provider::Postmark => {
            keys.username = material("username", given.username.as_deref(), errs).or_else(|| Some("dealflow".into()));
            keys.password = material("password", given.password.as_deref(), errs).or_else(|| Some(token()));
            shown.password = keys.password.clone();
        }
        Provider::Brevo | Provider::Generic => {
            let fresh = if provider == Provider::Generic { crate::webhooks::new_secret() } else { token() };
            keys.secret = material("secret", given.secret.as_deref(), errs).or(Some(fresh));
            shown.secret = keys.secret.clone();
        }
    }
    (keys, shown)
}

async fn check_campaign(tx: &mut Tx, c: Option<CampaignId>) -> Result<(), StoreError> {
    match c {
        Some(c) => {
            let found: Option<i64> = sqlx::query_scalar("SELECT id FROM campaigns WHERE id = $1")
                .bind(c.0)
                .fetch_optional(&mut **tx)
                .await?;
            match found {
                Some(_) => Ok(()),
                None => Err(StoreError::invalid("campaign_id", format!("campaign {c} does not exist"))),
            }
        }
        None => Ok(()),
    }
}

async fn load(tx: &mut Tx, id: ConnectionId) -> Result<Connection, StoreError> {
    crate::records::load(&mut **tx, "connections", "connection", id.0, from_row).await
}

impl Store {
    pub async fn connections(&self, page: Page) -> Result<ListPage<Connection>, StoreError> {
        let mut sql = Sql::new("SELECT * FROM connections WHERE 1 = 1");
        page.apply(&mut sql, "id");
        fetch_page(self.pool(), &sql, page, from_row).await
    }

    pub async fn connection(&self, id: ConnectionId) -> Result<Connection, StoreError> {
        crate::records::load(self.pool(), "connections", "connection", id.0, from_row).await
    }

    /// A connection and what its requests are verified with.
    pub async fn connection_keys(&self, id: ConnectionId) -> Result<(Connection, ConnectionKeys), StoreError> {
        let r = sqlx::query("SELECT * FROM connections WHERE id = $1")
            .bind(id.0)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found("connection", id))?;
        Ok((from_row(&r)?, keys_from_row(&r)?))
    }

    #[tracing::instrument(skip_all)]
    pub async fn create_connection(
        &self,
        actor: &Actor,
        n: NewConnection,
    ) -> Result<ConnectionWithSecrets, StoreError> {
        let mut errs = Invalid::new();
        let name = match n.name.as_deref() {
            Some(s) => errs.take(required_text("name", s, 200)),
            None => Some(n.provider.as_str().to_string()),
        };
        let given = ConnectionKeys {
            public_key: n.public_key,
            signing_key: n.signing_key,
            username: n.username,
            password: n.password,
            secret: n.secret,
        };
        let (keys, shown) = complete(n.provider, given, &mut errs);
        errs.into_result()?;
        let mut tx = self.write().await?;
        check_campaign(&mut tx, n.campaign_id).await?;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM connections").fetch_one(&mut *tx).await?;
        if count >= MAX_CONNECTIONS {
            return Err(StoreError::invalid(
                "provider",
                format!("a workspace keeps at most {MAX_CONNECTIONS} connections"),
            ));
        }
        let id = ConnectionId::new();
        sqlx::query(
            "INSERT INTO connections (id, provider, name, public_key, signing_key, username, password, secret,
               campaign_id, events_received, failures, created_at, updated_at, version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, 0, $10, $10, 1)",
        )
        .bind(id.0)
        .bind(n.provider.as_str())
        .bind(name.unwrap_or_default())
        .bind(keys.public_key)
        .bind(keys.signing_key)
        .bind(keys.username)
        .bind(keys.password)
        .bind(keys.secret)
        .bind(n.campaign_id.map(|c| c.0))
        .bind(actor.now.0)
        .execute(&mut *tx)
        .await?;
        let connection = load(&mut tx, id).await?;
        crate::audit::created(&mut tx, actor, "connection", id.0, &connection).await?;
        tx.commit().await?;
        Ok(ConnectionWithSecrets {
            connection,
            signing_key: shown.signing_key,
            password: shown.password,
            secret: shown.secret,
        })
    }

    /// Renames a connection, changes its campaign, or replaces material
    /// (only what the provider uses); the answer shows material given.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn update_connection(
        &self,
        actor: &Actor,
        id: ConnectionId,
        p: ConnectionPatch,
    ) -> Result<ConnectionWithSecrets, StoreError> {
        let mut errs = Invalid::new();
        let name = p.name.as_deref().and_then(|s| errs.take(required_text("name", s, 200)));
        let (before, old) = self.connection_keys(id).await?;
        let mut keys = old.clone();
        let mut shown = ConnectionKeys::default();
        let used = |field: &str, errs: &mut Invalid| {
            let ok = uses(before.provider, field);
            if !ok {
                errs.add(field, format!("is not used by {} connections; leave it out", before.provider));
            }
            ok
        };
        if let Some(k) = p.public_key.as_deref().filter(|_| used("public_key", &mut errs)) {
            match p256_point(k) {
                Ok(_) => keys.public_key = Some(k.split_whitespace().collect()),
                Err(e) => errs.add("public_key", e),
            }
        }
        if p.username.is_some() && used("username", &mut errs) {
            keys.username = material("username", p.username.as_deref(), &mut errs).or(keys.username);
        }
        for (field, given, slot, show) in [
            ("signing_key", &p.signing_key, &mut keys.signing_key, &mut shown.signing_key),
            ("password", &p.password, &mut keys.password, &mut shown.password),
            ("secret", &p.secret, &mut keys.secret, &mut shown.secret),
        ] {
            if given.is_some()
                && used(field, &mut errs)
                && let Some(v) = material(field, given.as_deref(), &mut errs)
            {
                *slot = Some(v.clone());
                *show = Some(v);
            }
        }
        errs.into_result()?;
        let mut tx = self.write().await?;
        crate::records::check_version(before.version, p.version)?;
        let campaign = p.campaign_id.unwrap_or(before.campaign_id);
        if campaign != before.campaign_id {
            check_campaign(&mut tx, campaign).await?;
        }
        let n = sqlx::query(
            "UPDATE connections SET name = $1, campaign_id = $2, public_key = $3, signing_key = $4, username = $5,
               password = $6, secret = $7, updated_at = $8, version = version + 1
             WHERE id = $9 AND version = $10",
        )
        .bind(name.unwrap_or_else(|| before.name.clone()))
        .bind(campaign.map(|c| c.0))
        .bind(keys.public_key)
        .bind(keys.signing_key)
        .bind(keys.username)
        .bind(keys.password)
        .bind(keys.secret)
        .bind(actor.now.0)
        .bind(id.0)
        .bind(p.version)
        .execute(&mut *tx)
        .await?;
        if n.rows_affected() == 0 {
            return Err(crate::records::stale(&mut tx, "connections", id.0).await);
        }
        let after = load(&mut tx, id).await?;
        crate::audit::updated(&mut tx, actor, "connection", id.0, &before, &after).await?;
        tx.commit().await?;
        Ok(ConnectionWithSecrets {
            connection: after,
            signing_key: shown.signing_key,
            password: shown.password,
            secret: shown.secret,
        })
    }

    /// Deletes a connection; the events it brought in stay on their people.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn delete_connection(&self, actor: &Actor, id: ConnectionId) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM ingest_tokens WHERE connection_id = $1").bind(id.0).execute(&mut *tx).await?;
        crate::records::remove(&mut tx, "connections", "connection", id.0).await?;
        crate::audit::deleted(&mut tx, actor, "connection", "delete", id.0).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Counts a refused request in the connection's status (its own small
    /// write, so a flood of forgeries stores nothing else).
    pub async fn connection_failed(&self, id: ConnectionId, now: Timestamp, why: &str) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(
            "UPDATE connections SET failures = failures + 1, last_failure_at = $1, last_failure = $2 WHERE id = $3",
        )
        .bind(now.0)
        .bind(why.chars().take(300).collect::<String>())
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a Mailgun token as used; `false` when it was used before.
    pub async fn use_ingest_token(&self, id: ConnectionId, token: &str, now: Timestamp) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let n = sqlx::query(
            "INSERT INTO ingest_tokens (id, connection_id, token, at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (connection_id, token) DO NOTHING",
        )
        .bind(dealflow_core::RecordId::new().0)
        .bind(id.0)
        .bind(token)
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(n.rows_affected() == 1)
    }
}

//! Outgoing webhooks: subscriptions (where to post, which events, the
//! signing secret), and the log of delivery attempts. How an event gets
//! from a change to a subscriber is in `outbox.rs`; what one delivery
//! reads and writes is in `deliveries.rs`. Signing and posting happen in
//! the server, which owns the HTTP client.

mod deliveries;
mod outbox;
mod url;

pub use deliveries::{Delivery, WebhookAttempt};
pub use outbox::{DELIVER_JOB, FANOUT_JOB, WEBHOOK_EVENTS, WEBHOOK_MAX_ATTEMPTS};
pub(crate) use outbox::{Emit, emit};
pub use url::{WEBHOOK_URL_MAX, WEBHOOK_URL_PATTERN, url_has_shape};

use crate::row::*;
use crate::sql::{ListPage, Page, Sql, fetch_page};
use crate::{Actor, Store, StoreError, Tx};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use dealflow_core::time::Timestamp;
use dealflow_core::{Invalid, WebhookId};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;

/// Most subscriptions a workspace keeps; each event is posted to every one.
pub const MAX_WEBHOOKS: i64 = 50;
/// How long the previous secret still signs after a rotation.
pub const PREVIOUS_SECRET_MS: i64 = 24 * 3_600_000;

/// A webhook subscription as the API shows it; the secret is never shown
/// again after the create (or a rotation) answered it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Webhook {
    pub id: WebhookId,
    /// Where deliveries are posted (http or https).
    pub url: String,
    /// The event types delivered, e.g. `deal.stage_changed`.
    pub events: Vec<String>,
    /// Inactive subscriptions get nothing; a 410 answer makes one inactive.
    pub active: bool,
    pub description: Option<String>,
    /// Why the subscription was switched off by dealflow (a 410 answer).
    pub disabled_reason: Option<String>,
    /// Until when the secret before the last rotation still signs.
    pub previous_secret_until: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// The answer to a create or a rotation: the subscription and its secret,
/// shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// `whsec_` + base64 of 32 random bytes; verify deliveries with it.
    pub secret: String,
}

/// A new subscription.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Where to post (http or https, no spaces).
    pub url: String,
    pub events: Vec<String>,
    /// Default `true`.
    pub active: Option<bool>,
    pub description: Option<String>,
}

/// A change to a subscription; `version` is the one read.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    pub version: i64,
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    /// Setting it `true` again also clears `disabled_reason`.
    pub active: Option<bool>,
    pub description: Option<String>,
}

fn from_row(r: &AnyRow) -> R<Webhook> {
    Ok(Webhook {
        id: WebhookId(i64_(r, "id")?),
        url: text(r, "url")?,
        events: json(r, "events")?,
        active: bool_(r, "active")?,
        description: opt_text(r, "description")?,
        disabled_reason: opt_text(r, "disabled_reason")?,
        previous_secret_until: opt_ts(r, "previous_until")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        version: i64_(r, "version")?,
    })
}

/// A fresh signing secret: `whsec_` + base64 of 32 random bytes, as the
/// Standard Webhooks specification asks (at least 24).
pub fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("whsec_{}", BASE64.encode(bytes))
}

/// Checks the URL's form (the server checks where it resolves to).
fn check_url(url: &str, errs: &mut Invalid) -> String {
    if url.chars().count() > WEBHOOK_URL_MAX {
        errs.add("url", "is longer than 2,000 characters");
    } else if !url_has_shape(url) {
        errs.add(
            "url",
            "must be an http:// or https:// address with a host and an optional port and path, \
             e.g. https://example.com/hooks (no spaces; percent-encode other characters)",
        );
    }
    url.to_string()
}

fn check_events(events: &[String], errs: &mut Invalid) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in events {
        if !WEBHOOK_EVENTS.contains(&e.as_str()) {
            errs.add("events", format!("{e:?} is not an event; use any of {}", WEBHOOK_EVENTS.join(", ")));
        } else if !out.contains(e) {
            out.push(e.clone());
        }
    }
    if events.is_empty() {
        errs.add("events", format!("name at least one event: {}", WEBHOOK_EVENTS.join(", ")));
    }
    out
}

fn check_description(d: &Option<String>, errs: &mut Invalid) -> Option<String> {
    errs.take(dealflow_core::validate::optional_text("description", d.as_deref(), 500)).flatten()
}

async fn load(tx: &mut Tx, id: WebhookId) -> Result<Webhook, StoreError> {
    crate::records::load(&mut **tx, "webhook_subscriptions", "webhook", id.0, from_row).await
}

impl Store {
    /// Subscriptions, newest first.
    pub async fn webhooks(&self, page: Page) -> Result<ListPage<Webhook>, StoreError> {
        let mut sql = Sql::new("SELECT * FROM webhook_subscriptions WHERE 1 = 1");
        page.apply(&mut sql, "id");
        fetch_page(self.pool(), &sql, page, from_row).await
    }

    pub async fn webhook(&self, id: WebhookId) -> Result<Webhook, StoreError> {
        crate::records::load(self.pool(), "webhook_subscriptions", "webhook", id.0, from_row).await
    }

    /// Stores a subscription with a new secret, which the answer carries.
    #[tracing::instrument(skip_all)]
    pub async fn create_webhook(&self, actor: &Actor, n: NewWebhook) -> Result<WebhookWithSecret, StoreError> {
        let mut errs = Invalid::new();
        let url = check_url(&n.url, &mut errs);
        let events = check_events(&n.events, &mut errs);
        let description = check_description(&n.description, &mut errs);
        errs.into_result()?;
        let mut tx = self.write().await?;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_subscriptions").fetch_one(&mut *tx).await?;
        if count >= MAX_WEBHOOKS {
            return Err(StoreError::invalid(
                "url",
                format!("a workspace keeps at most {MAX_WEBHOOKS} webhooks; delete one first"),
            ));
        }
        let id = WebhookId::new();
        let secret = new_secret();
        sqlx::query(
            "INSERT INTO webhook_subscriptions (id, url, events, active, description, secret, created_at, updated_at, version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, 1)",
        )
        .bind(id.0)
        .bind(url)
        .bind(serde_json::Value::from(events).to_string())
        .bind(b(n.active.unwrap_or(true)))
        .bind(description)
        .bind(secret.clone())
        .bind(actor.now.0)
        .execute(&mut *tx)
        .await?;
        let webhook = load(&mut tx, id).await?;
        crate::audit::created(&mut tx, actor, "webhook", id.0, &webhook).await?;
        tx.commit().await?;
        Ok(WebhookWithSecret { webhook, secret })
    }

    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn update_webhook(&self, actor: &Actor, id: WebhookId, p: WebhookPatch) -> Result<Webhook, StoreError> {
        let mut errs = Invalid::new();
        let url = p.url.as_deref().map(|u| check_url(u, &mut errs));
        let events = p.events.as_deref().map(|e| check_events(e, &mut errs));
        let description = p.description.as_ref().map(|d| check_description(&Some(d.clone()), &mut errs));
        errs.into_result()?;
        let mut tx = self.write().await?;
        let before = load(&mut tx, id).await?;
        crate::records::check_version(before.version, p.version)?;
        let active = p.active.unwrap_or(before.active);
        // Switching a subscription on again is the admin's answer to why it
        // was switched off.
        let reason = if active { None } else { before.disabled_reason.clone() };
        sqlx::query(
            "UPDATE webhook_subscriptions SET url = $1, events = $2, active = $3, description = $4,
             disabled_reason = $5, updated_at = $6, version = version + 1 WHERE id = $7",
        )
        .bind(url.unwrap_or_else(|| before.url.clone()))
        .bind(serde_json::Value::from(events.unwrap_or_else(|| before.events.clone())).to_string())
        .bind(b(active))
        .bind(description.unwrap_or_else(|| before.description.clone()))
        .bind(reason)
        .bind(actor.now.0)
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        let after = load(&mut tx, id).await?;
        crate::audit::updated(&mut tx, actor, "webhook", id.0, &before, &after).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes a subscription and its delivery log; deliveries not yet made
    /// find it gone and send nothing.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn delete_webhook(&self, actor: &Actor, id: WebhookId) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM webhook_attempts WHERE subscription_id = $1").bind(id.0).execute(&mut *tx).await?;
        crate::records::remove(&mut tx, "webhook_subscriptions", "webhook", id.0).await?;
        crate::audit::deleted(&mut tx, actor, "webhook", "delete", id.0).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A new secret for the subscription, answered this once. The previous
    /// one keeps signing beside it for [`PREVIOUS_SECRET_MS`], so receivers
    /// can switch without losing a delivery.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn rotate_webhook_secret(&self, actor: &Actor, id: WebhookId) -> Result<WebhookWithSecret, StoreError> {
        let mut tx = self.write().await?;
        load(&mut tx, id).await?;
        let secret = new_secret();
        sqlx::query(
            "UPDATE webhook_subscriptions SET previous_secret = secret, previous_until = $1, secret = $2,
             updated_at = $3, version = version + 1 WHERE id = $4",
        )
        .bind(actor.now.0 + PREVIOUS_SECRET_MS)
        .bind(secret.clone())
        .bind(actor.now.0)
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        let webhook = load(&mut tx, id).await?;
        let entry = crate::audit::Entry::new("webhook", "rotate_secret", Some(id.0))
            .changes(vec![crate::audit::secret_changed("secret")]);
        crate::audit::append(&mut tx, actor, entry).await?;
        tx.commit().await?;
        Ok(WebhookWithSecret { webhook, secret })
    }
}

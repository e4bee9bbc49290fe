//! The audit log: who changed what, when and from where. Every write of the
//! store appends its entry with [`append`] (or the [`created`], [`updated`],
//! [`deleted`] shorthands) inside the transaction of the change itself, so a
//! change never commits without its entry and a rolled-back change leaves
//! none. Entries are only inserted; [`Store::prune_audit_log`] is the one
//! delete, and there is no update.
//!
//! Field changes come from a generic diff of the record's JSON before and
//! after ([`diff`]): the top-level fields that differ, without the `version`
//! and `updated_at` bookkeeping. Secrets never reach it: password and token
//! hashes and CSRF tokens are not part of any serialized record, and a field
//! named like one is written as `"changed"` without its values.

use crate::row::*;
use crate::sql::{ListPage, Page, Sql, fetch_page};
use crate::{Actor, Store, StoreError, Tx};
use dealflow_core::time::Timestamp;
use dealflow_core::{AuditId, RecordId, UserId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::any::AnyRow;

/// How the author of a change was signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Credential {
    /// A browser session (cookie); `credential_id` is the session's id.
    Session,
    /// An API token; `credential_id` is the token's id.
    Token,
    /// The `dealflow` command line on the server.
    Cli,
    /// The server itself (start-up defaults, the demo seeder).
    System,
}

impl Credential {
    pub fn as_str(self) -> &'static str {
        match self {
            Credential::Session => "session",
            Credential::Token => "token",
            Credential::Cli => "cli",
            Credential::System => "system",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "session" => Credential::Session,
            "token" => Credential::Token,
            "cli" => Credential::Cli,
            "system" => Credential::System,
            _ => return None,
        })
    }
}

/// Where a change came from: the credential and the client's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub credential: Credential,
    /// The session or token row that authenticated the request.
    pub credential_id: Option<i64>,
    pub ip: Option<std::net::IpAddr>,
}

impl Origin {
    pub fn of(credential: Credential) -> Self {
        Self { credential, credential_id: None, ip: None }
    }
}

/// One changed field of an entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldDiff {
    pub field: String,
    /// The value before (JSON; `null` when the record is new).
    pub before: Value,
    /// The value after (JSON; `null` when the record was removed).
    pub after: Value,
}

/// What a write appends: the action, the record it is about, the changed
/// fields and anything else worth keeping (an import's file and counts).
#[derive(Debug, Clone, Default)]
pub struct Entry {
    /// `record_type.verb`, e.g. `deal.update`, `user.login_failed`.
    pub action: String,
    pub record_type: &'static str,
    pub record_id: Option<i64>,
    pub changes: Vec<FieldDiff>,
    pub detail: Option<Value>,
}

impl Entry {
    pub fn new(record_type: &'static str, verb: &str, record_id: Option<i64>) -> Self {
        Self { action: format!("{record_type}.{verb}"), record_type, record_id, ..Self::default() }
    }

    pub fn changes(mut self, changes: Vec<FieldDiff>) -> Self {
        self.changes = changes;
        self
    }

    pub fn detail(mut self, detail: Value) -> Self {
        self.detail = Some(detail);
        self
    }
}

/// Fields that change on every write and say nothing about it.
const NOISE: &[&str] = &["version", "updated_at"];

/// Fields whose values are never written, only that they changed.
const SECRETS: &[&str] = &["password", "password_hash", "token", "token_hash", "secret", "csrf_token"];

/// The top-level fields of two records' JSON that differ, in name order.
/// `None` stands for "no record" (creation or removal). Non-object values
/// are compared whole, as one field named `value`.
pub fn diff<T: Serialize>(before: Option<&T>, after: Option<&T>) -> Vec<FieldDiff> {
    let to_map = |v: Option<&T>| match v.map(serde_json::to_value) {
        Some(Ok(Value::Object(m))) => m,
        Some(Ok(Value::Null)) | None => serde_json::Map::new(),
        Some(Ok(other)) => serde_json::Map::from_iter([("value".to_string(), other)]),
        // Serializing a plain record cannot fail; were it to, the entry
        // still records that the change happened, without its fields.
        Some(Err(_)) => serde_json::Map::new(),
    };
    let (b, a) = (to_map(before), to_map(after));
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for k in keys {
        if NOISE.contains(&k.as_str()) {
            continue;
        }
        let (x, y) = (b.get(k).unwrap_or(&Value::Null), a.get(k).unwrap_or(&Value::Null));
        if x == y {
            continue;
        }
        out.push(if SECRETS.contains(&k.as_str()) { secret_changed(k) } else { change(k, x.clone(), y.clone()) });
    }
    out
}

/// One field change from plain values.
pub fn change(field: &str, before: Value, after: Value) -> FieldDiff {
    FieldDiff { field: field.to_string(), before, after }
}

/// A secret that changed, without its values.
pub fn secret_changed(field: &str) -> FieldDiff {
    FieldDiff { field: field.to_string(), before: Value::Null, after: Value::String("changed".into()) }
}

/// Appends one entry inside `tx`, as `actor` and from where it acts.
pub async fn append(tx: &mut Tx, actor: &Actor, e: Entry) -> Result<(), StoreError> {
    let changes = serde_json::to_string(&e.changes).map_err(|err| StoreError::Config(err.to_string()))?;
    sqlx::query(
        "INSERT INTO audit_log (id, at, user_id, credential, credential_id, ip, action, record_type, record_id, changes, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(AuditId::new().0)
    .bind(actor.now.0)
    .bind(actor.user_id.map(|u| u.0))
    .bind(actor.origin.credential.as_str())
    .bind(actor.origin.credential_id)
    .bind(actor.origin.ip.map(|ip| ip.to_string()))
    .bind(e.action)
    .bind(e.record_type)
    .bind(e.record_id)
    .bind(changes)
    .bind(e.detail.map(|d| d.to_string()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A new record: every field it was created with.
pub async fn created<T: Serialize>(
    tx: &mut Tx,
    actor: &Actor,
    record_type: &'static str,
    id: i64,
    after: &T,
) -> Result<(), StoreError> {
    let mut changes = diff(None, Some(after));
    changes.retain(|c| !matches!(c.field.as_str(), "id" | "created_at"));
    append(tx, actor, Entry::new(record_type, "create", Some(id)).changes(changes)).await
}

/// A changed record: the fields that differ. A write that changed nothing
/// appends nothing.
pub async fn updated<T: Serialize>(
    tx: &mut Tx,
    actor: &Actor,
    record_type: &'static str,
    id: i64,
    before: &T,
    after: &T,
) -> Result<(), StoreError> {
    let changes = diff(Some(before), Some(after));
    if changes.is_empty() {
        return Ok(());
    }
    append(tx, actor, Entry::new(record_type, "update", Some(id)).changes(changes)).await
}

/// A record removed (or moved to the trash, or restored: `verb` says which).
pub async fn deleted(
    tx: &mut Tx,
    actor: &Actor,
    record_type: &'static str,
    verb: &str,
    id: i64,
) -> Result<(), StoreError> {
    append(tx, actor, Entry::new(record_type, verb, Some(id))).await
}

/// Filters of the audit log: `GET /api/v1/audit-log`, its export and the
/// settings page read it from the query string.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// Only entries of changes made by this user (or failed sign-ins to this account).
    pub user_id: Option<UserId>,
    /// Only entries about this kind of record (`deal`, `user`, `token`, `settings`, …).
    pub record_type: Option<String>,
    /// Only entries about this record (give `record_type` too when ids could be ambiguous).
    pub record_id: Option<RecordId>,
    /// Only entries at or after this time (RFC 3339).
    pub from: Option<Timestamp>,
    /// Only entries before this time (RFC 3339).
    pub to: Option<Timestamp>,
}

/// One entry as read back.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: AuditId,
    /// When the change happened.
    pub at: Timestamp,
    /// Who made it; absent for the system and for failed sign-ins to unknown e-mails.
    pub user_id: Option<UserId>,
    pub credential: Credential,
    /// The session or token row used, when there was one.
    pub credential_id: Option<RecordId>,
    /// The client's address, when the change came over HTTP.
    pub ip: Option<String>,
    /// `record_type.verb`, e.g. `deal.update`, `user.login_failed`, `import.run`.
    pub action: String,
    pub record_type: String,
    /// The record the entry is about (absent for workspace-wide changes).
    pub record_id: Option<RecordId>,
    /// The changed fields with their values before and after.
    pub changes: Vec<FieldDiff>,
    /// More about the action: an import's file, checksum and counts; the e-mail a failed sign-in tried.
    #[schema(value_type = Option<Object>)]
    pub detail: Option<Value>,
}

fn from_row(r: &AnyRow) -> R<AuditEntry> {
    let credential = text(r, "credential")?;
    Ok(AuditEntry {
        id: AuditId(i64_(r, "id")?),
        at: ts(r, "at")?,
        user_id: opt_i64(r, "user_id")?.map(UserId),
        credential: Credential::parse(&credential)
            .ok_or_else(|| sqlx::Error::Decode(format!("audit_log.credential: `{credential}`").into()))?,
        credential_id: opt_i64(r, "credential_id")?.map(RecordId),
        ip: opt_text(r, "ip")?,
        action: text(r, "action")?,
        record_type: text(r, "record_type")?,
        record_id: opt_i64(r, "record_id")?.map(RecordId),
        changes: json(r, "changes")?,
        detail: opt_text(r, "detail")?.map(|d| serde_json::from_str(&d).unwrap_or(Value::String(d))),
    })
}

impl Store {
    /// Entries matching `f`, newest first.
    pub async fn audit_log(&self, f: &AuditFilter, page: Page) -> Result<ListPage<AuditEntry>, StoreError> {
        let mut sql = Sql::new("SELECT * FROM audit_log WHERE 1 = 1");
        if let Some(u) = f.user_id {
            sql.push(" AND user_id = ").bind(u.0);
        }
        if let Some(t) = &f.record_type {
            sql.push(" AND record_type = ").bind(t.as_str());
        }
        if let Some(id) = f.record_id {
            sql.push(" AND record_id = ").bind(id.0);
        }
        if let Some(t) = f.from {
            sql.push(" AND at >= ").bind(t.0);
        }
        if let Some(t) = f.to {
            sql.push(" AND at < ").bind(t.0);
        }
        page.apply(&mut sql, "id");
        fetch_page(self.pool(), &sql, page, from_row).await
    }

    /// Appends one entry in its own transaction: for what has no other
    /// write to join (a failed sign-in).
    pub async fn record_audit(&self, actor: &Actor, e: Entry) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        append(&mut tx, actor, e).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes the entries older than `before`: the retention, and the only
    /// delete the log knows. Returns how many went.
    pub async fn prune_audit_log(&self, before: Timestamp) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let n = sqlx::query("DELETE FROM audit_log WHERE at < $1").bind(before.0).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(n.rows_affected())
    }
}

/// How many days entries are kept unless `serve` is told otherwise.
pub const DEFAULT_RETENTION_DAYS: u32 = 365;

impl Store {
    /// Deletes the entries older than `days` days before `now`.
    pub async fn prune_audit_log_older_than(&self, days: u32, now: Timestamp) -> Result<u64, StoreError> {
        self.prune_audit_log(Timestamp(now.0 - i64::from(days) * 86_400_000)).await
    }
}

/// Prunes entries older than `days` once a day, for as long as the task
/// lives (`serve` prunes once at start-up itself, then aborts this task
/// when it stops). A failed pruning is logged and tried again the next day.
pub fn prune_daily(store: Store, days: u32) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(86_400));
        // The first tick is immediate, and start-up has just pruned.
        tick.tick().await;
        loop {
            tick.tick().await;
            match store.prune_audit_log_older_than(days, Timestamp::now()).await {
                Ok(n) => tracing::info!(removed = n, days, "pruned the audit log"),
                Err(e) => tracing::warn!(error = %e, "pruning the audit log failed; trying again tomorrow"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Rec {
        name: &'static str,
        value: i64,
        version: i64,
        password_hash: &'static str,
    }

    #[test]
    fn diff_keeps_changed_fields_and_hides_secrets() {
        let a = Rec { name: "a", value: 1, version: 1, password_hash: "x" };
        let b = Rec { name: "a", value: 2, version: 2, password_hash: "y" };
        let d = diff(Some(&a), Some(&b));
        assert_eq!(d, vec![secret_changed("password_hash"), change("value", Value::from(1), Value::from(2)),]);
        assert!(diff(Some(&a), Some(&a)).is_empty());
    }
}

//! Users, browser sessions and API tokens. Secrets are never stored: the
//! server hashes passwords (argon2id) and tokens (SHA-256) before they get
//! here, and lookups are by hash.

use crate::row::*;
use crate::sql::{ListPage, Page, Sql, fetch_page};
use crate::{Actor, Store, StoreError, Tx};
use dealflow_core::model::{ApiToken, Role, User};
use dealflow_core::time::Timestamp;
use dealflow_core::{TokenId, UserId};
use sqlx::any::AnyRow;

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user: User,
    /// The session's CSRF token when signed in by cookie; `None` for API tokens.
    pub csrf_token: Option<String>,
    /// The row id of the session or token that authenticated, for the audit log.
    pub credential_id: i64,
}

/// A session to create.
pub struct NewSession {
    pub token_hash: String,
    pub csrf_token: String,
    pub expires_at: Timestamp,
}

fn user_from_row(r: &AnyRow) -> R<User> {
    Ok(User {
        id: UserId(i64_(r, "id")?),
        email: text(r, "email")?,
        name: text(r, "name")?,
        role: enum_(r, "role", Role::parse)?,
        active: bool_(r, "active")?,
        locale: opt_text(r, "locale")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        version: i64_(r, "version")?,
    })
}

fn token_from_row(r: &AnyRow) -> R<ApiToken> {
    Ok(ApiToken {
        id: TokenId(i64_(r, "id")?),
        user_id: UserId(i64_(r, "user_id")?),
        name: text(r, "name")?,
        created_at: ts(r, "created_at")?,
        last_used_at: opt_ts(r, "last_used_at")?,
        revoked_at: opt_ts(r, "revoked_at")?,
    })
}

/// Fields of a user change, already validated (password already hashed).
#[derive(Debug, Default)]
pub struct UserChange {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    pub password_hash: Option<String>,
    pub locale: Option<Option<String>>,
    /// With a new password: the SHA-256 digest of the session that made the
    /// change, which stays signed in; every other session of the user ends.
    pub keep_session: Option<String>,
    /// With a new password: the digest of the API token that made the
    /// change, which keeps working; the user's other tokens are revoked.
    pub keep_token: Option<String>,
}

/// Checks that a user id exists and is active, inside a transaction.
pub(crate) async fn check_user(tx: &mut Tx, field: &str, id: UserId) -> Result<(), StoreError> {
    let active: Option<i64> =
        sqlx::query_scalar("SELECT active FROM users WHERE id = $1").bind(id.0).fetch_optional(&mut **tx).await?;
    match active {
        None => Err(StoreError::invalid(field, format!("user {id} does not exist"))),
        Some(0) => Err(StoreError::invalid(field, format!("user {id} is deactivated"))),
        Some(_) => Ok(()),
    }
}

/// The body of [`Store::create_user`], inside the caller's transaction.
pub(crate) async fn create_user_in(
    tx: &mut Tx,
    actor: &Actor,
    email: &str,
    name: &str,
    role: Role,
    password_hash: &str,
    locale: Option<String>,
) -> Result<UserId, StoreError> {
    let id = UserId::new();
    sqlx::query(
        "INSERT INTO users (id, email, name, role, password_hash, active, locale, created_at, updated_at, version)
         VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $7, 1)",
    )
    .bind(id.0)
    .bind(email.to_string())
    .bind(name.to_string())
    .bind(role.as_str().to_string())
    .bind(password_hash.to_string())
    .bind(locale)
    .bind(actor.now.0)
    .execute(&mut **tx)
    .await
    .map_err(|e| match StoreError::from(e) {
        StoreError::Duplicate { .. } => StoreError::Duplicate {
            field: "email".into(),
            message: format!("a user with e-mail {email} already exists"),
        },
        other => other,
    })?;
    Ok(id)
}

impl Store {
    pub async fn user_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM users").fetch_one(self.pool()).await?)
    }

    pub async fn create_user(
        &self,
        actor: &Actor,
        email: &str,
        name: &str,
        role: Role,
        password_hash: &str,
        locale: Option<String>,
    ) -> Result<User, StoreError> {
        let mut tx = self.write().await?;
        let id = create_user_in(&mut tx, actor, email, name, role, password_hash, locale).await?;
        let after = crate::records::load(&mut *tx, "users", "user", id.0, user_from_row).await?;
        crate::audit::created(&mut tx, actor, "user", id.0, &after).await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn user(&self, id: UserId) -> Result<User, StoreError> {
        crate::records::load(self.pool(), "users", "user", id.0, user_from_row).await
    }

    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query("SELECT * FROM users ORDER BY name, id").fetch_all(self.pool()).await?;
        Ok(rows.iter().map(user_from_row).collect::<R<_>>()?)
    }

    /// One page of the users, newest first (the API's list).
    pub async fn users_page(&self, page: Page) -> Result<ListPage<User>, StoreError> {
        let mut sql = Sql::new("SELECT * FROM users WHERE 1 = 1");
        page.apply(&mut sql, "id");
        fetch_page(self.pool(), &sql, page, user_from_row).await
    }

    /// The user with this e-mail and its password hash, for sign-in.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<(User, String)>, StoreError> {
        let r = sqlx::query("SELECT * FROM users WHERE email = $1")
            .bind(email.trim().to_lowercase())
            .fetch_optional(self.pool())
            .await?;
        match r {
            None => Ok(None),
            Some(r) => Ok(Some((user_from_row(&r)?, text(&r, "password_hash")?))),
        }
    }

    /// Changes a user. Deactivating ends its sessions and revokes its tokens
    /// in the same transaction, so they stop working at once. A new password
    /// does the same, except for the session or token that made the change
    /// (`keep_session`, `keep_token`): whoever knew the old password or held
    /// a stolen session is signed out.
    pub async fn update_user(
        &self,
        actor: &Actor,
        id: UserId,
        version: i64,
        c: UserChange,
    ) -> Result<User, StoreError> {
        let mut tx = self.write().await?;
        let before = crate::records::load(&mut *tx, "users", "user", id.0, user_from_row).await?;
        crate::records::check_version(before.version, version)?;
        let password_changed = c.password_hash.is_some();
        let set_locale = c.locale.is_some();
        sqlx::query(
            "UPDATE users SET name = COALESCE($1, name), role = COALESCE($2, role), active = COALESCE($3, active),
             password_hash = COALESCE($4, password_hash), locale = CASE WHEN $5 = 1 THEN $6 ELSE locale END,
             updated_at = $7, version = version + 1 WHERE id = $8",
        )
        .bind(c.name)
        .bind(c.role.map(|r| r.as_str().to_string()))
        .bind(c.active.map(b))
        .bind(c.password_hash.clone())
        .bind(b(set_locale))
        .bind(c.locale.flatten())
        .bind(actor.now.0)
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        if c.active == Some(false) || c.password_hash.is_some() {
            // A digest never equals '', so an absent keeper keeps nothing.
            let keep_session = if c.active == Some(false) { None } else { c.keep_session };
            let keep_token = if c.active == Some(false) { None } else { c.keep_token };
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
                .bind(id.0)
                .bind(keep_session.unwrap_or_default())
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL AND token_hash <> $3",
            )
            .bind(actor.now.0)
            .bind(id.0)
            .bind(keep_token.unwrap_or_default())
            .execute(&mut *tx)
            .await?;
        }
        let after = crate::records::load(&mut *tx, "users", "user", id.0, user_from_row).await?;
        let mut changes = crate::audit::diff(Some(&before), Some(&after));
        if password_changed {
            changes.push(crate::audit::secret_changed("password"));
        }
        if !changes.is_empty() {
            let entry = crate::audit::Entry::new("user", "update", Some(id.0)).changes(changes);
            crate::audit::append(&mut tx, actor, entry).await?;
        }
        tx.commit().await?;
        // Role, activity and tokens may have changed: cached tokens answer no more.
        self.tokens.clear();
        Ok(after)
    }

    /// Number of active admins, so the last one cannot be demoted or deactivated.
    pub async fn active_admins(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM users WHERE role = 'admin' AND active = 1")
            .fetch_one(self.pool())
            .await?)
    }

    /// Starts a session for `user`, signed in from `ip`, with its
    /// `user.login` audit entry (made as the new session).
    pub async fn create_session(
        &self,
        user: UserId,
        s: NewSession,
        now: Timestamp,
        ip: Option<std::net::IpAddr>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let session_id = dealflow_core::ids::next_id();
        // Expired sessions are swept whenever a new one starts.
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(now.0).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO sessions (id, token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(session_id)
        .bind(s.token_hash)
        .bind(user.0)
        .bind(s.csrf_token)
        .bind(now.0)
        .bind(s.expires_at.0)
        .execute(&mut *tx)
        .await?;
        let origin = crate::Origin { credential: crate::Credential::Session, credential_id: Some(session_id), ip };
        let actor = Actor { user_id: Some(user), now, origin };
        crate::audit::append(&mut tx, &actor, crate::audit::Entry::new("user", "login", Some(user.0))).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The active user of an unexpired session.
    pub async fn session_user(&self, token_hash: &str, now: Timestamp) -> Result<Option<AuthUser>, StoreError> {
        let r = sqlx::query(
            "SELECT u.*, s.csrf_token, s.id AS session_id FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active = 1",
        )
        .bind(token_hash.to_string())
        .bind(now.0)
        .fetch_optional(self.pool())
        .await?;
        match r {
            None => Ok(None),
            Some(r) => Ok(Some(AuthUser {
                user: user_from_row(&r)?,
                csrf_token: Some(text(&r, "csrf_token")?),
                credential_id: i64_(&r, "session_id")?,
            })),
        }
    }

    /// Ends a session (sign-out, from `ip`), with its `user.logout` entry.
    pub async fn delete_session(&self, token_hash: &str, ip: Option<std::net::IpAddr>) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let found: Option<(i64, i64)> = sqlx::query_as("SELECT id, user_id FROM sessions WHERE token_hash = $1")
            .bind(token_hash.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash.to_string())
            .execute(&mut *tx)
            .await?;
        if let Some((session, user)) = found {
            let origin = crate::Origin { credential: crate::Credential::Session, credential_id: Some(session), ip };
            let actor = Actor { user_id: Some(UserId(user)), now: Timestamp::now(), origin };
            crate::audit::append(&mut tx, &actor, crate::audit::Entry::new("user", "logout", Some(user))).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn create_token(
        &self,
        actor: &Actor,
        user: UserId,
        name: &str,
        token_hash: &str,
    ) -> Result<ApiToken, StoreError> {
        let mut tx = self.write().await?;
        check_user(&mut tx, "user_id", user).await?;
        let id = TokenId::new();
        sqlx::query("INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id.0)
            .bind(user.0)
            .bind(name.to_string())
            .bind(token_hash.to_string())
            .bind(actor.now.0)
            .execute(&mut *tx)
            .await?;
        let after = crate::records::load(&mut *tx, "api_tokens", "token", id.0, token_from_row).await?;
        crate::audit::created(&mut tx, actor, "token", id.0, &after).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Tokens of one user, or of everyone when `user` is `None`.
    pub async fn tokens(&self, user: Option<UserId>) -> Result<Vec<ApiToken>, StoreError> {
        let rows = sqlx::query("SELECT * FROM api_tokens WHERE ($1 IS NULL OR user_id = $1) ORDER BY id DESC")
            .bind(user.map(|u| u.0))
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(token_from_row).collect::<R<_>>()?)
    }

    /// One page of the tokens of one user, or of everyone when `user` is
    /// `None`, newest first.
    pub async fn tokens_page(&self, user: Option<UserId>, page: Page) -> Result<ListPage<ApiToken>, StoreError> {
        let mut sql = Sql::new("SELECT * FROM api_tokens WHERE 1 = 1");
        if let Some(u) = user {
            sql.push(" AND user_id = ").bind(u.0);
        }
        page.apply(&mut sql, "id");
        fetch_page(self.pool(), &sql, page, token_from_row).await
    }

    pub async fn token(&self, id: TokenId) -> Result<ApiToken, StoreError> {
        crate::records::load(self.pool(), "api_tokens", "token", id.0, token_from_row).await
    }

    pub async fn revoke_token(&self, actor: &Actor, id: TokenId) -> Result<ApiToken, StoreError> {
        let mut tx = self.write().await?;
        let n = sqlx::query("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2")
            .bind(actor.now.0)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        if n.rows_affected() == 0 {
            return Err(StoreError::not_found("token", id));
        }
        let after = crate::records::load(&mut *tx, "api_tokens", "token", id.0, token_from_row).await?;
        if after.revoked_at == Some(actor.now) {
            crate::audit::deleted(&mut tx, actor, "token", "revoke", id.0).await?;
        }
        tx.commit().await?;
        self.tokens.clear();
        Ok(after)
    }

    /// The active user of an unrevoked token; records when it was last used
    /// (at most once a minute, to keep reads from turning into writes). A
    /// token read in the last seconds answers from the cache
    /// (`token_cache.rs`, which says how it stays current).
    pub async fn token_user(&self, token_hash: &str, now: Timestamp) -> Result<Option<AuthUser>, StoreError> {
        let (user, last) = match self.tokens.get(token_hash) {
            Some(hit) => hit,
            None => {
                let generation = self.tokens.generation();
                let r = sqlx::query(
                    "SELECT u.*, t.id AS token_id, t.last_used_at FROM api_tokens t JOIN users u ON u.id = t.user_id
                     WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.active = 1",
                )
                .bind(token_hash.to_string())
                .fetch_optional(self.pool())
                .await?;
                let Some(r) = r else { return Ok(None) };
                let user =
                    AuthUser { user: user_from_row(&r)?, csrf_token: None, credential_id: i64_(&r, "token_id")? };
                let last = opt_i64(&r, "last_used_at")?;
                self.tokens.put(token_hash, user.clone(), last, generation);
                (user, last)
            }
        };
        if last.is_none_or(|l| now.0 - l > 60_000) {
            // A write like any other: on SQLite it waits its turn in the
            // writer queue instead of meeting the busy handler under load.
            let mut tx = self.write().await?;
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now.0)
                .bind(user.credential_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            self.tokens.used(token_hash, now.0);
        }
        Ok(Some(user))
    }

    /// Moves every open deal and open activity of `from` to `to`, recording
    /// each deal's owner change in its field history. Returns (deals, activities).
    pub async fn reassign(&self, actor: &Actor, from: UserId, to: UserId) -> Result<(u64, u64), StoreError> {
        let mut tx = self.write().await?;
        if sqlx::query_scalar::<_, i64>("SELECT id FROM users WHERE id = $1")
            .bind(from.0)
            .fetch_optional(&mut *tx)
            .await?
            .is_none()
        {
            return Err(StoreError::not_found("user", from));
        }
        check_user(&mut tx, "to_user_id", to).await?;
        let deals: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM deals WHERE owner_id = $1 AND status = 'open' AND deleted_at IS NULL")
                .bind(from.0)
                .fetch_all(&mut *tx)
                .await?;
        for d in &deals {
            crate::deals::record_change(
                &mut tx,
                dealflow_core::DealId(*d),
                "owner_id",
                serde_json::json!(from.to_string()),
                serde_json::json!(to.to_string()),
                actor,
            )
            .await?;
            sqlx::query("UPDATE deals SET owner_id = $1, updated_at = $2, version = version + 1 WHERE id = $3")
                .bind(to.0)
                .bind(actor.now.0)
                .bind(*d)
                .execute(&mut *tx)
                .await?;
        }
        let acts = sqlx::query("UPDATE activities SET owner_id = $1, updated_at = $2, version = version + 1 WHERE owner_id = $3 AND done_at IS NULL")
            .bind(to.0)
            .bind(actor.now.0)
            .bind(from.0)
            .execute(&mut *tx)
            .await?;
        crate::projections::refresh_deals(&mut tx, &deals).await?;
        let detail = serde_json::json!({"to_user_id": to, "deals": deals.len(), "activities": acts.rows_affected()});
        crate::audit::append(&mut tx, actor, crate::audit::Entry::new("user", "reassign", Some(from.0)).detail(detail))
            .await?;
        tx.commit().await?;
        Ok((deals.len() as u64, acts.rows_affected()))
    }
}

impl Store {
    /// Deletes the sessions that ended before `now` (the `sessions.prune`
    /// job); returns how many. Idempotent.
    pub async fn prune_sessions(&self, now: Timestamp) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(now.0).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}

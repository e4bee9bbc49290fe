//! `/api/v1/users` and `/api/v1/tokens`: accounts (admins manage them) and
//! API tokens (shown once, stored hashed, revocable).

use super::{Page, PageQuery};
use crate::AppState;
use crate::api::auth::throttled;
use crate::auth::roles::Grant;
use crate::auth::{
    CurrentUser, credential_digests, hash_password_async, new_secret, peer_ip, sha256_hex, verify_password_async,
};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, Path, Query};
use axum::extract::State;
use axum::http::{StatusCode, request::Parts};
use dealflow_core::model::{ApiToken, MIN_PASSWORD_LEN, NewUser, Role, User, UserPatch};
use dealflow_core::validate::{email, optional_text, required_text};
use dealflow_core::{Invalid, TokenId, UserId};
use dealflow_store::UserChange;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user))
        .routes(routes!(reassign))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}

/// Checks a new password's length.
pub fn check_password(field: &str, p: &str) -> Result<(), Invalid> {
    if p.chars().count() < MIN_PASSWORD_LEN {
        Err(Invalid::one(field, format!("must be at least {MIN_PASSWORD_LEN} characters")))
    } else if p.chars().count() > 1024 {
        Err(Invalid::one(field, "is too long: at most 1024 characters"))
    } else {
        Ok(())
    }
}

/// Validates and creates a user; shared by the API and `dealflow user add`.
pub async fn add_user(st: &dealflow_store::Store, actor: &dealflow_store::Actor, n: NewUser) -> ApiResult<User> {
    let mut errs = Invalid::new();
    let mail = errs.take(email("email", &n.email));
    let name = errs.take(required_text("name", &n.name, 200));
    errs.take(check_password("password", &n.password));
    let locale = errs.take(optional_text("locale", n.locale.as_deref(), 20)).flatten();
    errs.into_result()?;
    let hash = hash_password_async(&n.password)
        .await
        .map_err(|e| ApiError::BadRequest(format!("cannot hash the password: {e}")))?;
    Ok(st.create_user(actor, &mail.unwrap_or_default(), &name.unwrap_or_default(), n.role, &hash, locale).await?)
}

/// The users, newest first, a page at a time.
#[utoipa::path(get, path = "/users", tag = "users", params(PageQuery),
    responses((status = 200, body = Page<User>), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 422, body = Problem)))]
async fn list_users(
    State(st): State<AppState>,
    _u: CurrentUser,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<User>>> {
    Ok(Json(st.store.users_page(page.page()?).await?.into()))
}

/// Invite a user with an initial password (admins).
#[utoipa::path(post, path = "/users", tag = "users", request_body = NewUser,
    responses((status = 201, body = User), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_user(
    State(st): State<AppState>,
    u: CurrentUser,
    Json(n): Json<NewUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    Ok((StatusCode::CREATED, Json(add_user(&st.store, &u.actor(), n).await?)))
}

/// Get a user.
#[utoipa::path(get, path = "/users/{id}", tag = "users", params(("id" = UserId, Path)),
    responses((status = 200, body = User), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_user(State(st): State<AppState>, _u: CurrentUser, Path(id): Path<UserId>) -> ApiResult<Json<User>> {
    Ok(Json(st.store.user(id).await?))
}

/// Change a user. Admins change anyone (role, active); a user may change
/// their own name, password and locale. Deactivating ends the user's
/// sessions and tokens at once. Changing your own password needs
/// `current_password`; a new password ends the user's other sessions and
/// revokes their other API tokens (the session or token that made the
/// change keeps working).
#[utoipa::path(patch, path = "/users/{id}", tag = "users", params(("id" = UserId, Path)), request_body = UserPatch,
    responses((status = 200, body = User), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem),
        (status = 429, body = Problem)))]
async fn update_user(
    State(st): State<AppState>,
    u: CurrentUser,
    grant: Grant,
    parts: Parts,
    Path(id): Path<UserId>,
    Json(p): Json<UserPatch>,
) -> ApiResult<Json<User>> {
    // The role matrix's rule: admins change anyone; others their own profile.
    let message = "only admins may change other users, roles or activation";
    grant.check_own(id == u.user.id, message)?;
    if grant.own_only() && (p.role.is_some() || p.active.is_some()) {
        return Err(ApiError::Forbidden(message.into()));
    }
    let target = st.store.user(id).await?;
    let demoting = target.role == Role::Admin
        && target.active
        && (p.active == Some(false) || p.role.is_some_and(|r| r != Role::Admin));
    if demoting && st.store.active_admins().await? <= 1 {
        return Err(Invalid::one("role", "this is the last active admin; make someone else admin first").into());
    }
    let mut errs = Invalid::new();
    let name = p.name.as_deref().and_then(|n| errs.take(required_text("name", n, 200)));
    if let Some(pw) = &p.password {
        errs.take(check_password("password", pw));
    }
    errs.into_result()?;
    let own = id == u.user.id;
    let (mut keep_session, mut keep_token) = (None, None);
    let password_hash = match &p.password {
        Some(pw) => {
            if own {
                check_current_password(&st, &u, p.current_password.as_deref(), &parts).await?;
                (keep_session, keep_token) = credential_digests(&parts.headers);
            }
            let hash = hash_password_async(pw).await;
            Some(hash.map_err(|e| ApiError::BadRequest(format!("cannot hash the password: {e}")))?)
        }
        None => None,
    };
    let change =
        UserChange { name, role: p.role, active: p.active, password_hash, locale: p.locale, keep_session, keep_token };
    Ok(Json(st.store.update_user(&u.actor(), id, p.version, change).await?))
}

/// Refuses a change of your own password unless `current` is the password
/// in use: a session left open or a stolen cookie must not be enough to
/// lock the owner out. Wrong guesses count toward sign-in throttling, so
/// this cannot be used to guess the password either.
async fn check_current_password(st: &AppState, u: &CurrentUser, current: Option<&str>, parts: &Parts) -> ApiResult<()> {
    let Some(current) = current else {
        return Err(Invalid::one("current_password", "send your current password to set a new one").into());
    };
    let ip = peer_ip(parts);
    let started = dealflow_core::time::Timestamp::now().0;
    st.throttle.attempt(&u.user.email, ip, started).map_err(throttled)?;
    let found = st.store.user_by_email(&u.user.email).await?;
    if !verify_password_async(current, found.as_ref().map(|(_, hash)| hash.as_str())).await {
        return Err(Invalid::one("current_password", "is not your current password").into());
    }
    st.throttle.succeeded(&u.user.email, ip, started);
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reassign {
    /// Who takes over the open deals and open activities.
    pub to_user_id: UserId,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Reassigned {
    pub deals: u64,
    pub activities: u64,
}

/// Move every open deal and open activity of a user to another (admins).
#[utoipa::path(post, path = "/users/{id}/reassign", tag = "users", params(("id" = UserId, Path)), request_body = Reassign,
    responses((status = 200, body = Reassigned), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn reassign(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<UserId>,
    Json(r): Json<Reassign>,
) -> ApiResult<Json<Reassigned>> {
    let (deals, activities) = st.store.reassign(&u.actor(), id, r.to_user_id).await?;
    Ok(Json(Reassigned { deals, activities }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for, e.g. "Zapier".
    pub name: String,
    /// Whose token (admins only; default: yourself).
    pub user_id: Option<UserId>,
}

/// A new token: the secret appears here once and is never shown again.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    pub token: ApiToken,
    /// Send as `Authorization: Bearer <secret>`.
    pub secret: String,
}

/// Creates a token and returns it with its secret; shared with the CLI.
pub async fn issue_token(
    st: &dealflow_store::Store,
    actor: &dealflow_store::Actor,
    user: UserId,
    name: &str,
) -> ApiResult<CreatedToken> {
    let name = required_text("name", name, 100)?;
    let secret = new_secret("dfl_");
    let token = st.create_token(actor, user, &name, &sha256_hex(&secret)).await?;
    Ok(CreatedToken { token, secret })
}

/// Your tokens (admins see everyone's), newest first, a page at a time.
#[utoipa::path(get, path = "/tokens", tag = "tokens", params(PageQuery),
    responses((status = 200, body = Page<ApiToken>), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 422, body = Problem)))]
async fn list_tokens(
    State(st): State<AppState>,
    u: CurrentUser,
    grant: Grant,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<ApiToken>>> {
    let who = grant.own_only().then_some(u.user.id);
    Ok(Json(st.store.tokens_page(who, page.page()?).await?.into()))
}

/// Create an API token.
#[utoipa::path(post, path = "/tokens", tag = "tokens", request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_token(
    State(st): State<AppState>,
    u: CurrentUser,
    grant: Grant,
    Json(n): Json<NewToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let user = n.user_id.unwrap_or(u.user.id);
    grant.check_own(user == u.user.id, "only admins may create tokens for other users")?;
    Ok((StatusCode::CREATED, Json(issue_token(&st.store, &u.actor(), user, &n.name).await?)))
}

/// Revoke a token; it stops working at once.
#[utoipa::path(post, path = "/tokens/{id}/revoke", tag = "tokens", params(("id" = TokenId, Path)),
    responses((status = 200, body = ApiToken), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn revoke_token(
    State(st): State<AppState>,
    u: CurrentUser,
    grant: Grant,
    Path(id): Path<TokenId>,
) -> ApiResult<Json<ApiToken>> {
    let t = st.store.token(id).await?;
    grant.check_own(t.user_id == u.user.id, "only admins may revoke other users' tokens")?;
    Ok(Json(st.store.revoke_token(&u.actor(), id).await?))
}

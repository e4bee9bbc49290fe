//! `/api/v1/auth`: sign in (session cookie + CSRF token), sign out, and who
//! am I.

use crate::AppState;
use crate::auth::{CurrentUser, SESSION_COOKIE, cookie, new_secret, peer_ip, sha256_hex, verify_password_async};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use dealflow_core::model::User;
use dealflow_core::time::Timestamp;
use dealflow_store::audit::Entry;
use dealflow_store::{Actor, Credential, NewSession, Origin};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(login)).routes(routes!(logout)).routes(routes!(me))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub email: String,
    pub password: String,
}

/// The signed-in user and the CSRF token to send with changes.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionInfo {
    pub user: User,
    /// Send in the `x-csrf-token` header with every change made with the cookie.
    pub csrf_token: Option<String>,
}

/// Sign in with e-mail and password; sets an HttpOnly session cookie.
/// After ten failures within 15 minutes for one account or from one
/// address, attempts are refused with 429 and `Retry-After` (seconds).
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = Login, security(()),
    responses((status = 200, body = SessionInfo), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 429, body = Problem)))]
async fn login(State(st): State<AppState>, parts: Parts, Json(l): Json<Login>) -> ApiResult<Response> {
    let user = match authenticate(&st, &l.email, &l.password, &parts).await? {
        Ok(user) => user,
        Err(Refusal::WrongCredentials) => return Err(ApiError::Unauthorized("wrong e-mail or password".into())),
        Err(Refusal::Deactivated) => {
            return Err(ApiError::Unauthorized("this account is deactivated; ask an admin".into()));
        }
        Err(Refusal::Throttled(retry_after)) => return Err(throttled(retry_after)),
    };
    let (cookie, csrf) = start_session(&st, &user, peer_ip(&parts)).await?;
    let mut resp = Json(SessionInfo { user, csrf_token: Some(csrf) }).into_response();
    resp.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(resp)
}

/// Why a sign-in was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    WrongCredentials,
    Deactivated,
    /// Too many recent failures; seconds until the next attempt.
    Throttled(u64),
}

/// The 429 problem for a throttled sign-in.
pub fn throttled(retry_after: u64) -> ApiError {
    ApiError::TooManyRequests {
        detail: format!("too many failed sign-ins for this account or from this address; try again in {retry_after} s"),
        retry_after,
    }
}

/// Checks an e-mail and password, for the API and the sign-in page alike:
/// throttled per account and per client address, verified off the async
/// workers, and as slow for an unknown e-mail as for a wrong password.
pub async fn authenticate(
    st: &AppState,
    email: &str,
    password: &str,
    parts: &Parts,
) -> ApiResult<Result<User, Refusal>> {
    let ip = peer_ip(parts);
    let started = Timestamp::now().0;
    if let Err(secs) = st.throttle.attempt(email, ip, started) {
        tracing::info!(?ip, "sign-in throttled");
        return Ok(Err(Refusal::Throttled(secs)));
    }
    let found = st.store.user_by_email(email).await?;
    let ok = verify_password_async(password, found.as_ref().map(|(_, hash)| hash.as_str())).await;
    let known = found.as_ref().map(|(u, _)| u.id);
    let Some((user, _)) = found.filter(|_| ok) else {
        login_failed(st, email, known, ip, "wrong_credentials").await?;
        return Ok(Err(Refusal::WrongCredentials));
    };
    st.throttle.succeeded(email, ip, started);
    if !user.active {
        login_failed(st, email, known, ip, "deactivated").await?;
        return Ok(Err(Refusal::Deactivated));
    }
    Ok(Ok(user))
}

/// Records a refused sign-in: the account's id when the e-mail is known,
/// the address, the e-mail tried and why (never the password). Throttled
/// attempts are not recorded, so a flood cannot fill the log.
async fn login_failed(
    st: &AppState,
    email: &str,
    user: Option<dealflow_core::UserId>,
    ip: Option<std::net::IpAddr>,
    reason: &str,
) -> ApiResult<()> {
    let origin = Origin { credential: Credential::Session, credential_id: None, ip };
    let actor = Actor { user_id: user, now: Timestamp::now(), origin };
    // The e-mail is stored as typed but bounded, so a huge body cannot bloat the log.
    let tried: String = email.trim().chars().take(320).collect();
    let entry = Entry::new("user", "login_failed", user.map(|u| u.0))
        .detail(serde_json::json!({"email": tried, "reason": reason}));
    st.store.record_audit(&actor, entry).await?;
    Ok(())
}

/// Creates a session for `user`, signed in from `ip` (recorded in the
/// audit log); returns the Set-Cookie value and the CSRF token.
pub async fn start_session(
    st: &AppState,
    user: &User,
    ip: Option<std::net::IpAddr>,
) -> ApiResult<(HeaderValue, String)> {
    let token = new_secret("");
    let csrf = new_secret("");
    let now = Timestamp::now();
    let days = st.config.session_days;
    st.store
        .create_session(
            user.id,
            NewSession {
                token_hash: sha256_hex(&token),
                csrf_token: csrf.clone(),
                expires_at: Timestamp(now.0 + days * 86_400_000),
            },
            now,
            ip,
        )
        .await?;
    let secure = if st.config.secure_cookies { "; Secure" } else { "" };
    let cookie = format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}", days * 86_400);
    // The token is hex, so the header value is always valid ASCII.
    let value = HeaderValue::from_str(&cookie).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok((value, csrf))
}

/// Sign out: ends the session and clears the cookie.
#[utoipa::path(post, path = "/auth/logout", tag = "auth",
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn logout(State(st): State<AppState>, u: CurrentUser, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(s) = cookie(&headers, SESSION_COOKIE) {
        st.store.delete_session(&sha256_hex(s), u.origin.ip).await?;
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("dealflow_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    Ok(resp)
}

/// The signed-in user (and, for cookie sessions, the CSRF token).
#[utoipa::path(get, path = "/auth/me", tag = "auth",
    responses((status = 200, body = SessionInfo), (status = 401, body = Problem)))]
async fn me(u: CurrentUser) -> Json<SessionInfo> {
    Json(SessionInfo { user: u.user, csrf_token: u.csrf_token })
}

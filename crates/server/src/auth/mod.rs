//! Authentication: the `CurrentUser` extractor (session cookie or bearer
//! token), CSRF for cookie-authenticated writes, the role matrix and its
//! guard (`roles`, `role_guard`), the secret handling (argon2id passwords,
//! hashed random tokens), and sign-in throttling.

pub mod role_guard;
pub mod roles;
mod secret;
mod throttle;

pub use secret::{
    constant_time_eq, hash_password, hash_password_async, new_secret, sha256_hex, verify_password,
    verify_password_async,
};
pub use throttle::{LoginThrottle, MAX_FAILURES, WINDOW_MS};

use crate::AppState;
use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::{Method, header, request::Parts};
use dealflow_core::model::User;
use dealflow_core::time::Timestamp;
use dealflow_store::{Actor, Credential, Origin};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "dealflow_session";
/// Header the page's scripts and forms send the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The signed-in user of a request. Every API handler but login takes one,
/// so a route cannot forget to require credentials.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    /// Present for cookie sessions: the token writes must echo.
    pub csrf_token: Option<String>,
    /// The session or token and the client address, for the audit log.
    pub origin: Origin,
}

impl CurrentUser {
    /// The user as the author of a write, with where the request came from.
    pub fn actor(&self) -> Actor {
        Actor::user(self.user.id).via(self.origin)
    }
}

/// The client's address as the socket peer, when the server was started
/// with connect info (`serve` does). Forwarding headers such as
/// `X-Forwarded-For` are not read: any client can send them, and there is no
/// trusted-proxy setting that would say which hop to believe.
pub fn peer_ip(parts: &Parts) -> Option<std::net::IpAddr> {
    parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip())
}

/// SHA-256 digests of the credential a request carries: (session, token).
/// A bearer token wins over a cookie, as in [`CurrentUser`].
pub fn credential_digests(headers: &axum::http::HeaderMap) -> (Option<String>, Option<String>) {
    let bearer =
        headers.get(header::AUTHORIZATION).and_then(|h| h.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    match bearer {
        Some(token) => (None, Some(sha256_hex(token.trim()))),
        None => (cookie(headers, SESSION_COOKIE).map(sha256_hex), None),
    }
}

/// Reads one cookie from the request.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, ApiError> {
        // The role guard authenticated this request already.
        if let Some(u) = parts.extensions.get::<CurrentUser>() {
            return Ok(u.clone());
        }
        let now = Timestamp::now();
        let ip = peer_ip(parts);
        if let Some(h) = parts.headers.get(header::AUTHORIZATION) {
            let token =
                h.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).map(str::trim).ok_or_else(|| {
                    ApiError::Unauthorized("the Authorization header must be `Bearer <token>`".into())
                })?;
            return match st.store.token_user(&sha256_hex(token), now).await? {
                Some(u) => {
                    let origin = Origin { credential: Credential::Token, credential_id: Some(u.credential_id), ip };
                    Ok(CurrentUser { user: u.user, csrf_token: None, origin })
                }
                None => {
                    tracing::debug!("bearer token refused");
                    Err(ApiError::Unauthorized(
                        "this API token is unknown, revoked, or belongs to a deactivated user; create a new one".into(),
                    ))
                }
            };
        }
        let Some(session) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(ApiError::Unauthorized(
                "sign in first: send a session cookie (POST /api/v1/auth/login) or `Authorization: Bearer <token>`"
                    .into(),
            ));
        };
        let Some(u) = st.store.session_user(&sha256_hex(session), now).await? else {
            tracing::debug!("session cookie refused");
            return Err(ApiError::Unauthorized("your session has expired or was ended; sign in again".into()));
        };
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            let matches = match (sent, u.csrf_token.as_deref()) {
                (Some(a), Some(b)) => constant_time_eq(a.as_bytes(), b.as_bytes()),
                _ => false,
            };
            if !matches {
                return Err(ApiError::Forbidden(format!(
                    "a change made with a session cookie must carry the session's CSRF token in the `{CSRF_HEADER}` header"
                )));
            }
        }
        let origin = Origin { credential: Credential::Session, credential_id: Some(u.credential_id), ip };
        Ok(CurrentUser { user: u.user, csrf_token: u.csrf_token, origin })
    }
}

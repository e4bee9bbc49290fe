//! `/api/v1/auth`: sign in (session cookie + CSRF token), sign out, and who
//! am I.

use crate::AppState;
use crate::auth::{CurrentUser, SESSION_COOKIE, cookie, new_secret, sha256_hex, verify_password};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dealflow_core::model::User;
use dealflow_core::time::Timestamp;
use dealflow_store::NewSession;
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
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = Login, security(()),
    responses((status = 200, body = SessionInfo), (status = 400, body = Problem), (status = 401, body = Problem)))]
async fn login(State(st): State<AppState>, Json(l): Json<Login>) -> ApiResult<Response> {
    let refused = || ApiError::Unauthorized("wrong e-mail or password".into());
    let Some((user, hash)) = st.store.user_by_email(&l.email).await? else {
        // Hash anyway so an unknown e-mail takes as long as a wrong password.
        let _ = verify_password(&l.password, "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA");
        return Err(refused());
    };
    if !verify_password(&l.password, &hash) {
        return Err(refused());
    }
    if !user.active {
        return Err(ApiError::Unauthorized("this account is deactivated; ask an admin".into()));
    }
    let (cookie, csrf) = start_session(&st, &user).await?;
    let mut resp = Json(SessionInfo { user, csrf_token: Some(csrf) }).into_response();
    resp.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(resp)
}

/// Creates a session for `user`; returns the Set-Cookie value and the CSRF token.
pub async fn start_session(st: &AppState, user: &User) -> ApiResult<(HeaderValue, String)> {
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
    let _ = u;
    if let Some(s) = cookie(&headers, SESSION_COOKIE) {
        st.store.delete_session(&sha256_hex(s)).await?;
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

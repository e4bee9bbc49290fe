//! Sign-in and sign-out pages.

use super::{PageUser, html, lang_of, safe_next};
use crate::AppState;
use crate::api::auth::{Refusal, authenticate, start_session};
use crate::auth::{SESSION_COOKIE, constant_time_eq, cookie, sha256_hex};
use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "pages/login.html")]
struct LoginPage<'a> {
    t: super::T,
    next: &'a str,
    email: &'a str,
    error: Option<&'a str>,
    asset_v: &'static str,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn page(parts: Parts, Query(q): Query<NextQuery>) -> Response {
    let t = super::T { lang: lang_of(&parts, None) };
    html(&LoginPage {
        t,
        next: safe_next(q.next.as_deref()),
        email: "",
        error: None,
        asset_v: super::assets::version(),
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

pub async fn submit(State(st): State<AppState>, parts: Parts, Form(f): Form<LoginForm>) -> Response {
    if let Err(why) = same_origin(&parts) {
        tracing::info!(why, "cross-site sign-in refused");
        let msg = format!("sign-in refused: {why}; open the sign-in page of this site and sign in there");
        return (StatusCode::FORBIDDEN, msg).into_response();
    }
    let t = super::T { lang: lang_of(&parts, None) };
    let next = safe_next(f.next.as_deref());
    let refuse = |status: StatusCode, key: &'static str| {
        let page = LoginPage { t, next, email: &f.email, error: Some(t.t(key)), asset_v: super::assets::version() };
        (status, html(&page)).into_response()
    };
    let user = match authenticate(&st, &f.email, &f.password, &parts).await {
        Ok(Ok(user)) => user,
        Ok(Err(Refusal::WrongCredentials)) => return refuse(StatusCode::UNAUTHORIZED, "login.failed"),
        Ok(Err(Refusal::Deactivated)) => return refuse(StatusCode::UNAUTHORIZED, "login.deactivated"),
        Ok(Err(Refusal::Throttled(secs))) => {
            let mut resp = refuse(StatusCode::TOO_MANY_REQUESTS, "login.throttled");
            resp.headers_mut().insert(header::RETRY_AFTER, secs.into());
            return resp;
        }
        Err(e) => return super::page_error(e),
    };
    match start_session(&st, &user, crate::auth::peer_ip(&parts)).await {
        Ok((cookie, _csrf)) => {
            let mut resp = Redirect::to(next).into_response();
            resp.headers_mut().insert(header::SET_COOKIE, cookie);
            resp
        }
        Err(e) => super::page_error(e),
    }
}

/// Refuses a sign-in posted from another site (login CSRF: a page elsewhere
/// could sign the visitor into the attacker's account). Browsers say where
/// a request comes from in `Sec-Fetch-Site`, and in `Origin` on POSTs; the
/// origin must name the host the request was sent to. Clients that send
/// neither (scripts, old browsers) are let through, since `SameSite` cookies
/// and the form's lack of side effects beyond signing in bound the harm.
fn same_origin(parts: &Parts) -> Result<(), &'static str> {
    let header = |name: &str| parts.headers.get(name).map(|v| v.to_str().unwrap_or("\u{fffd}"));
    if header("sec-fetch-site") == Some("cross-site") {
        return Err("the form was posted from another site");
    }
    let Some(origin) = header("origin") else { return Ok(()) };
    let host = parts.headers.get(header::HOST).and_then(|v| v.to_str().ok());
    // `Origin` is `scheme://host[:port]`; compare the authority with Host,
    // which carries the same host and port the browser connected to.
    let authority = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
    match (authority, host) {
        (Some(a), Some(h)) if a.eq_ignore_ascii_case(h) => Ok(()),
        _ => Err("the form was posted from another origin"),
    }
}

#[derive(Deserialize)]
pub struct LogoutForm {
    csrf: String,
}

/// Signs out; the form carries the CSRF token, since a cross-site form
/// could otherwise sign the user out.
pub async fn logout(State(st): State<AppState>, u: PageUser, parts: Parts, Form(f): Form<LogoutForm>) -> Response {
    if !constant_time_eq(f.csrf.as_bytes(), u.csrf.as_bytes()) {
        return (StatusCode::FORBIDDEN, "missing or wrong CSRF token").into_response();
    }
    if let Some(s) = cookie(&parts.headers, SESSION_COOKIE)
        && let Err(e) = st.store.delete_session(&sha256_hex(s), crate::auth::peer_ip(&parts)).await
    {
        return super::page_error(e.into());
    }
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("dealflow_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    resp
}

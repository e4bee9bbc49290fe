//! Sign-in and sign-out pages.

use super::{PageUser, html, lang_of, safe_next};
use crate::AppState;
use crate::api::auth::start_session;
use crate::auth::{SESSION_COOKIE, cookie, sha256_hex, verify_password};
use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts};
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
    let t = super::T { lang: lang_of(&parts, None) };
    let next = safe_next(f.next.as_deref());
    let refuse = |key: &'static str| {
        let page = LoginPage { t, next, email: &f.email, error: Some(t.t(key)), asset_v: super::assets::version() };
        (StatusCode::UNAUTHORIZED, html(&page)).into_response()
    };
    let found = match st.store.user_by_email(&f.email).await {
        Ok(found) => found,
        Err(e) => return super::page_error(e.into()),
    };
    let Some((user, hash)) = found else { return refuse("login.failed") };
    if !verify_password(&f.password, &hash) {
        return refuse("login.failed");
    }
    if !user.active {
        return refuse("login.deactivated");
    }
    match start_session(&st, &user).await {
        Ok((cookie, _csrf)) => {
            let mut resp = Redirect::to(next).into_response();
            resp.headers_mut().insert(header::SET_COOKIE, cookie);
            resp
        }
        Err(e) => super::page_error(e),
    }
}

#[derive(Deserialize)]
pub struct LogoutForm {
    csrf: String,
}

/// Signs out; the form carries the CSRF token, since a cross-site form
/// could otherwise sign the user out.
pub async fn logout(
    State(st): State<AppState>,
    u: PageUser,
    headers: HeaderMap,
    Form(f): Form<LogoutForm>,
) -> Response {
    if f.csrf != u.csrf {
        return (StatusCode::FORBIDDEN, "missing or wrong CSRF token").into_response();
    }
    if let Some(s) = cookie(&headers, SESSION_COOKIE)
        && let Err(e) = st.store.delete_session(&sha256_hex(s)).await
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

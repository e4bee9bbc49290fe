//! The web app: server-rendered pages (askama templates compiled into the
//! binary), a small hand-written script and stylesheet, nothing loaded from
//! elsewhere. Pages read through the store; every change the page makes goes
//! through the JSON API (`/api/v1`) with the session's CSRF token, so the
//! rules live in one place.

mod activities;
pub mod assets;
mod audit_log;
mod audits;
mod board;
mod charts;
pub mod clock;
mod deal;
mod email_words;
pub mod i18n;
mod insights;
mod integrations;
mod lists;
mod login;
mod party_pages;
mod scoring;
mod search;
mod settings;
mod steps_editor;

use crate::AppState;
use crate::auth::{SESSION_COOKIE, cookie, sha256_hex};
use crate::error::ApiError;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::{StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
pub use deal::timeline::fill;
use dealflow_core::model::User;
use dealflow_core::time::Timestamp;
use i18n::Lang;
pub use i18n::T;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/board") }))
        .route("/login", get(login::page).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/board", get(board::page))
        .route("/board/cards", get(board::cards))
        .route("/board/stats", get(board::stats))
        .merge(deal::router())
        .merge(lists::router())
        .route("/static/{file}", get(assets::serve))
        .route("/favicon.ico", get(assets::favicon))
        .merge(activities::router())
        .merge(settings::router())
        .merge(search::router())
        .merge(insights::router())
        .merge(audit_log::router())
        .merge(audits::router())
        .merge(integrations::router())
        .merge(scoring::router())
}

/// The signed-in user of a page request; anonymous visitors are sent to
/// the sign-in page and come back afterwards.
pub struct PageUser {
    pub user: User,
    pub csrf: String,
    pub t: T,
}

/// An error page inside the app's layout, with the navigation and a way
/// back to the board, in the user's language.
#[derive(askama::Template)]
#[template(path = "pages/error.html")]
struct ErrorPage<'a> {
    t: T,
    nav: &'static str,
    user: &'a User,
    csrf: &'a str,
    asset_v: &'static str,
    title: &'static str,
    detail: String,
}

impl PageUser {
    /// An error while rendering a page for a signed-in user: the problem's
    /// status, a translated heading and the detail, inside the layout.
    pub fn error(&self, e: ApiError) -> Response {
        let p = e.to_problem();
        if p.status >= 500 {
            tracing::error!(error = %e, "page failed");
        }
        let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let title = match p.status {
            404 => self.t.t("error.not_found"),
            403 => self.t.t("error.forbidden"),
            _ => self.t.t("error.title"),
        };
        let mut resp = html(&ErrorPage {
            t: self.t,
            nav: "",
            user: &self.user,
            csrf: &self.csrf,
            asset_v: assets::version(),
            title,
            detail: p.detail,
        });
        if resp.status().is_success() {
            *resp.status_mut() = status;
        }
        resp
    }
}

/// Why a page could not be shown.
pub enum PageRejection {
    Login(String),
    Error(ApiError),
}

impl IntoResponse for PageRejection {
    fn into_response(self) -> Response {
        match self {
            PageRejection::Login(next) => {
                let target = format!("/login?next={}", urlencode(&next));
                Redirect::to(&target).into_response()
            }
            PageRejection::Error(e) => page_error(e),
        }
    }
}

/// An error while rendering a page: the problem's status and detail as text.
pub fn page_error(e: ApiError) -> Response {
    let p = e.to_problem();
    if p.status >= 500 {
        tracing::error!(error = %e, "page failed");
    }
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], p.detail).into_response()
}

impl FromRequestParts<AppState> for PageUser {
    type Rejection = PageRejection;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, PageRejection> {
        let next = parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(PageRejection::Login(next));
        };
        let found = st.store.session_user(&sha256_hex(token), Timestamp::now()).await;
        match found {
            Ok(Some(u)) => {
                let t = T { lang: lang_of(parts, u.user.locale.as_deref()) };
                Ok(PageUser { csrf: u.csrf_token.unwrap_or_default(), user: u.user, t })
            }
            Ok(None) => Err(PageRejection::Login(next)),
            Err(e) => Err(PageRejection::Error(e.into())),
        }
    }
}

/// The language for a request: the user's setting, else Accept-Language.
pub fn lang_of(parts: &Parts, user_locale: Option<&str>) -> Lang {
    let accept = parts.headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    Lang::pick(user_locale, accept)
}

/// Renders an askama template as an HTML response.
pub fn html<Tpl: askama::Template>(tpl: &Tpl) -> Response {
    match tpl.render() {
        Ok(body) => ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be rendered").into_response()
        }
    }
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A redirect target after sign-in: only a path on this site, else
/// `/board`. The path must start with one `/` and use only unreserved URL
/// characters, `/?=&%+` and nothing else: browsers drop tabs and newlines
/// from a `Location` and read `\` as `/`, so `/\t/evil.example` would leave
/// the site, and a control character cannot be put in a header at all.
pub fn safe_next(next: Option<&str>) -> &str {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-._~/?=&%+".contains(&b);
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && n.bytes().all(allowed) => n,
        _ => "/board",
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn next_is_local_only() {
        assert_eq!(super::safe_next(Some("/board?x=1")), "/board?x=1");
        assert_eq!(super::safe_next(Some("/deals/12?tab=notes&a=b%20c+d")), "/deals/12?tab=notes&a=b%20c+d");
        assert_eq!(super::safe_next(Some("//evil.example")), "/board");
        assert_eq!(super::safe_next(Some("/\t/evil.example")), "/board");
        assert_eq!(super::safe_next(Some("/\\evil.example")), "/board");
        assert_eq!(super::safe_next(Some("/a\nb")), "/board");
        assert_eq!(super::safe_next(Some("/a b")), "/board");
        assert_eq!(super::safe_next(Some("https://evil.example")), "/board");
        assert_eq!(super::safe_next(None), "/board");
    }
}

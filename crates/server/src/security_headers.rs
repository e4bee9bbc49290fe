//! Security headers on every response, API and pages alike.
//!
//! The content security policy allows only this server's own scripts,
//! styles, images and connections, so markup that slips into a page cannot
//! run script, and a note's external image cannot report who read it (the
//! Markdown renderer turns such images into links). `frame-ancestors 'none'`
//! stops click-jacking. HSTS is sent only when cookies are marked `Secure`,
//! the server's sign that it is reached over HTTPS.

use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::atomic::Ordering;

/// The policy: nothing from elsewhere, no inline script or style, no
/// plugins, no framing, forms post only here.
pub const CSP: &str = "default-src 'self'; img-src 'self'; script-src 'self'; style-src 'self'; \
    object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// One year, the usual HSTS lifetime.
const HSTS: &str = "max-age=31536000";

/// Adds the headers; a handler's own value wins (none sets these today).
pub async fn add(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let https = req.headers().get("x-forwarded-proto").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    if https && !st.config.secure_cookies && !st.warned_insecure.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            "requests arrive through an HTTPS proxy (X-Forwarded-Proto: https) but session cookies are not marked \
             Secure; start the server with --secure-cookies"
        );
    }
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(header::CONTENT_SECURITY_POLICY, CSP);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "same-origin");
    set(header::X_FRAME_OPTIONS, "DENY");
    if st.config.secure_cookies {
        set(header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    resp
}

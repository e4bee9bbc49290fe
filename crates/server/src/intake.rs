//! `POST /f/{key}`: the public endpoint of an intake form, posted by a
//! browser from any site (form-encoded) or by a program (JSON). No token:
//! the form's key is the address, like a provider's ingest URL. Guarded by
//! a size limit, a per-address rate limit and a spam trap (the hidden
//! `website` field): a trapped post is answered like any other and stores
//! nothing. A billing system that sends the form's secret in `X-Form-Secret`
//! records a paid sign-up (`value` in minor units, `currency`) as won.

use crate::AppState;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Path;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use dealflow_core::currency::Currency;
use dealflow_store::{Actor, Credential, Origin, Paid};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::Mutex;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Largest submission accepted: room for every field at its longest, each
/// character percent-encoded (a 5,000-character message of 4-byte
/// characters is 60 KB on the wire).
pub const MAX_BODY: usize = 128 * 1024;
/// Submissions one address may make per minute (a family or an office
/// behind one address still gets through).
pub const PER_MINUTE: u32 = 30;
/// The spam trap's field name.
pub const TRAP: &str = "website";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(submit))
}

/// Submissions per address in the current minute, in this process.
#[derive(Default)]
pub struct RateLimit(Mutex<HashMap<IpAddr, (i64, u32)>>);

impl RateLimit {
    /// Counts one submission; `false` when the address is over the limit.
    fn allow(&self, ip: IpAddr, now_ms: i64) -> bool {
        let minute = now_ms.div_euclid(60_000);
        // A poisoned lock only means another request panicked while
        // counting; the counts are still usable.
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() > 10_000 {
            m.retain(|_, (at, _)| *at == minute);
        }
        let entry = m.entry(ip).or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        entry.1 += 1;
        entry.1 <= PER_MINUTE
    }
}

/// What a form takes (any of these; the form says which it asks for).
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct FormPost {
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    company: Option<String>,
    job_title: Option<String>,
    message: Option<String>,
    /// Leave empty: the spam trap.
    website: Option<String>,
    /// With `X-Form-Secret` only: the amount paid, in minor units.
    value: Option<String>,
    /// With `X-Form-Secret` only: its ISO 4217 currency.
    currency: Option<String>,
}

/// The submission's fields, from a form-encoded or a JSON body.
fn fields(headers: &HeaderMap, body: &[u8]) -> ApiResult<BTreeMap<String, String>> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.trim_start().to_ascii_lowercase().starts_with("application/json"));
    if !json {
        return Ok(form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect());
    }
    let raw: BTreeMap<String, serde_json::Value> = serde_json::from_slice(body).map_err(|e| {
        ApiError::BadRequest(format!("the body is not a JSON object of fields: {e}; send e.g. {{\"email\": \"…\"}}"))
    })?;
    Ok(raw
        .into_iter()
        .filter_map(|(k, v)| match v {
            serde_json::Value::String(s) => Some((k, s)),
            serde_json::Value::Number(n) => Some((k, n.to_string())),
            serde_json::Value::Bool(b) => Some((k, b.to_string())),
            _ => None,
        })
        .collect())
}

/// Whether the client wants JSON back (a program) rather than a page.
fn wants_json(headers: &HeaderMap) -> bool {
    let has = |h: header::HeaderName| {
        headers.get(h).and_then(|v| v.to_str().ok()).is_some_and(|v| v.to_ascii_lowercase().contains("json"))
    };
    has(header::CONTENT_TYPE) || has(header::ACCEPT)
}

/// The answer every accepted (or trapped) submission gets.
fn thanks(headers: &HeaderMap, message: Option<String>, redirect: Option<String>) -> Response {
    let message = message.unwrap_or_else(|| "Thank you! We will be in touch.".to_string());
    if wants_json(headers) {
        return (StatusCode::OK, axum::Json(serde_json::json!({ "ok": true, "message": message }))).into_response();
    }
    if let Some(to) = redirect {
        return Redirect::to(&to).into_response();
    }
    let safe = message.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>Thank you</title></head><body><p>{safe}</p></body></html>"
    ))
    .into_response()
}

/// Constant-time comparison of two secrets.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Sign up through an intake form (public: no token). Form-encoded (a
/// browser) or JSON (a program); the form decides which fields count, and
/// `email` is required. Creates or updates the person (by e-mail) and the
/// organization (by the e-mail's domain, free-mail domains aside), and
/// places a deal unless the person already has an open one in the form's
/// pipeline. With the form's secret in `X-Form-Secret`, a paid sign-up is
/// recorded as won. A browser is sent to the form's `redirect_url`, or
/// shown its success message.
#[utoipa::path(post, path = "/f/{key}", tag = "forms", security(()), params(("key" = String, Path)),
    request_body(content = FormPost, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Accepted (a page, or JSON when the client sends or accepts JSON)"),
        (status = 303, description = "Accepted; to the form's redirect_url"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 413, body = Problem), (status = 422, body = Problem), (status = 429, body = Problem)))]
async fn submit(State(st): State<AppState>, Path(key): Path<String>, parts: Parts, body: Bytes) -> ApiResult<Response> {
    let headers = &parts.headers;
    if body.len() > MAX_BODY {
        return Err(ApiError::TooLarge(format!("a submission may be at most {} KiB", MAX_BODY / 1024)));
    }
    let now = dealflow_core::time::Timestamp::now();
    let ip = crate::auth::peer_ip(&parts);
    if let Some(ip) = ip
        && !st.intake.allow(ip, now.0)
    {
        return Err(ApiError::TooManyRequests {
            detail: format!("more than {PER_MINUTE} sign-ups from one address in a minute; try again shortly"),
            retry_after: 60,
        });
    }
    let (form, secret) = st.store.form_by_key(key.trim()).await?;
    let fields = fields(headers, &body)?;
    if fields.get(TRAP).is_some_and(|v| !v.trim().is_empty()) {
        tracing::info!(form = %form.id, "a submission filled the spam trap; answered and dropped");
        return Ok(thanks(headers, form.success_message, form.redirect_url));
    }
    let given = headers.get("x-form-secret").map(|v| v.to_str().unwrap_or(""));
    let paid = match given {
        None => None,
        Some(g) if same(g.trim(), &secret) => Some(paid(&fields)?),
        Some(_) => {
            return Err(ApiError::Unauthorized(
                "X-Form-Secret does not match this form's secret; send the secret shown when the form was created"
                    .into(),
            ));
        }
    };
    let actor =
        Actor { user_id: None, now, origin: Origin { credential: Credential::System, credential_id: None, ip } };
    let done = st.store.submit_form(&actor, &form, &fields, paid).await?;
    Ok(thanks(headers, done.success_message, done.redirect_url))
}

/// The amount of a paid sign-up.
fn paid(fields: &BTreeMap<String, String>) -> ApiResult<Paid> {
    let mut errs = dealflow_core::Invalid::new();
    let value = match fields.get("value").map(|v| v.trim()) {
        None | Some("") => 0,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (0..=dealflow_core::currency::MAX_AMOUNT).contains(&n) => n,
            _ => {
                errs.add("value", "must be a whole number of minor units (cents), 0 or more");
                0
            }
        },
    };
    let currency = match fields.get("currency").map(|c| c.trim()).filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => errs.take(Currency::parse(c).map_err(|e| dealflow_core::Invalid::one("currency", e))),
    };
    errs.into_result()?;
    Ok(Paid { value, currency })
}

//! `POST /ingest/{connection_id}` (e-mail events) and
//! `POST /ingest/{connection_id}/inbound` (inbound replies): where e-mail
//! providers post. No bearer token: each request is verified the
//! provider's own way on the raw body (the connection holds the material),
//! and a request that does not verify is answered 401, counted in the
//! connection's status, and stores nothing. Each provider's verification
//! and payload reading is in its own file; they all produce the one event
//! vocabulary of `dealflow_store::EmailEventType`.

mod brevo;
mod fields;
mod generic;
mod inbound;
mod mailgun;
mod postmark;
pub mod sendgrid;

use crate::AppState;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Path;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use dealflow_core::ConnectionId;
use dealflow_core::time::Timestamp;
use dealflow_store::{Connection, ConnectionKeys, IncomingEvent, IngestReport, Provider};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

/// How old a signed timestamp may be (and how far ahead of our clock).
pub const MAX_AGE_SECS: i64 = 5 * 60;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(ingest)).routes(routes!(inbound::inbound))
}

/// A secret a provider may send in the address instead of a header
/// (Brevo; SendGrid Inbound Parse).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// The connection's secret, for providers that put it in the URL.
    #[param(max_length = 500)]
    pub token: Option<String>,
}

/// Why a request was refused; counted in the connection's status.
pub struct Refused(pub String);

/// Refuses with 401 after counting the failure on the connection.
async fn refuse(st: &AppState, id: ConnectionId, why: Refused) -> ApiError {
    if let Err(e) = st.store.connection_failed(id, Timestamp::now(), &why.0).await {
        tracing::warn!(error = %e, "could not count a refused ingest request");
    }
    tracing::info!(connection = %id, reason = %why.0, "ingest request refused");
    ApiError::Unauthorized(why.0)
}

/// Checks a signed unix timestamp is within five minutes of now.
fn fresh(ts: &str, now: Timestamp) -> Result<(), Refused> {
    let secs: f64 = ts.trim().parse().map_err(|_| Refused(format!("the timestamp {ts:?} is not a unix time")))?;
    let age = now.0 / 1000 - secs as i64;
    if !(-MAX_AGE_SECS..=MAX_AGE_SECS).contains(&age) {
        return Err(Refused(format!(
            "the signed timestamp is {age} s from now; requests older than {MAX_AGE_SECS} s are refused (replay)"
        )));
    }
    Ok(())
}

/// Constant-time comparison of two secrets.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// One header as text ("" when absent or not text).
fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// The events of a verified body, with the indices of unreadable ones.
pub struct Parsed {
    pub events: Vec<IncomingEvent>,
    pub report: IngestReport,
}

impl Parsed {
    fn new() -> Self {
        Parsed { events: Vec::new(), report: IngestReport::default() }
    }

    fn error(&mut self, index: usize, message: impl Into<String>) {
        self.report.errors.push(dealflow_store::IngestError { index, message: message.into() });
    }
}

/// Reads a JSON body, or says why it is not JSON.
fn json_body(body: &[u8]) -> ApiResult<serde_json::Value> {
    serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("the body is not JSON: {e}")))
}

/// Verifies and reads one request to a connection.
fn verify_and_parse(
    conn: &Connection,
    keys: &ConnectionKeys,
    parts: &Parts,
    query: &TokenQuery,
    body: &[u8],
    now: Timestamp,
) -> Result<ApiResult<Parsed>, Refused> {
    let h = &parts.headers;
    Ok(match conn.provider {
        Provider::Sendgrid => {
            sendgrid::verify(keys, h, body, now)?;
            sendgrid::events(body)
        }
        Provider::Mailgun => return mailgun::verify_and_parse(keys, body, now),
        Provider::Postmark => {
            postmark::verify(keys, h)?;
            postmark::events(body)
        }
        Provider::Brevo => {
            brevo::verify(keys, h, query)?;
            brevo::events(body)
        }
        Provider::Generic => {
            generic::verify(keys, h, body, now)?;
            generic::events(body)
        }
    })
}

/// Receive e-mail events from a provider (public: the provider's signature
/// or secret is the credential). SendGrid: a signed JSON batch of up to 128
/// events; Mailgun, Postmark, Brevo: one event; generic: a signed batch of
/// up to 1,000. Answers what was stored; an event already stored counts as
/// a duplicate and changes nothing, unreadable events are listed by index.
#[utoipa::path(post, path = "/ingest/{connection_id}", tag = "connections", security(()),
    params(("connection_id" = ConnectionId, Path), TokenQuery),
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, body = IngestReport), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)))]
async fn ingest(
    State(st): State<AppState>,
    Path(id): Path<ConnectionId>,
    crate::extract::Query(query): crate::extract::Query<TokenQuery>,
    parts: Parts,
    body: Bytes,
) -> ApiResult<axum::Json<IngestReport>> {
    let (conn, keys) = st.store.connection_keys(id).await?;
    let now = Timestamp::now();
    let parsed = match verify_and_parse(&conn, &keys, &parts, &query, &body, now) {
        Ok(p) => p?,
        Err(why) => return Err(refuse(&st, id, why).await),
    };
    // A signed Mailgun token is good once: a second use is a replay,
    // unless it is the same event redelivered (which changes nothing).
    if conn.provider == Provider::Mailgun
        && !st.store.use_ingest_token(id, &mailgun::token(&body).unwrap_or_default(), now).await?
    {
        let mut known = true;
        for ev in &parsed.events {
            known &= st.store.email_event_known(Provider::Mailgun, &ev.key()).await?;
        }
        if !known {
            return Err(refuse(&st, id, Refused("this Mailgun token was used before (replay)".into())).await);
        }
        let report = IngestReport { duplicates: parsed.events.len(), ..parsed.report };
        return Ok(axum::Json(report));
    }
    let report = st.store.ingest_events(id, now, parsed.events, parsed.report).await?;
    Ok(axum::Json(report))
}

//! Brevo transactional webhooks: one event per post, with the connection's
//! secret as `?token=` in the URL, as a bearer token, or as the password
//! of basic auth (Brevo offers each). Brevo sends no event id, so events
//! are keyed by a hash of message id, type and time (its `opened` and
//! `unique_opened` for one open thus store once).

use super::fields::{person_hint, text, time};
use super::{Parsed, Refused, TokenQuery, header, json_body, same};
use crate::error::ApiResult;
use axum::http::HeaderMap;
use dealflow_store::{ConnectionKeys, EmailEventType as T, IncomingEvent};
use serde_json::Value;

pub fn verify(keys: &ConnectionKeys, h: &HeaderMap, q: &TokenQuery) -> Result<(), Refused> {
    let want = keys.secret.as_deref().unwrap_or_default();
    let auth = header(h, "authorization");
    let given = q
        .token
        .clone()
        .or_else(|| auth.strip_prefix("Bearer ").map(str::to_string))
        .or_else(|| super::postmark::basic_auth(h).map(|(_, p)| p));
    match given {
        Some(g) if !want.is_empty() && same(g.trim().as_bytes(), want.as_bytes()) => Ok(()),
        Some(_) => Err(Refused("the token does not match this connection's secret".into())),
        None => Err(Refused("the connection's secret is required: add ?token=… to the URL, or a bearer token".into())),
    }
}

/// Our type and whether it is a privacy-proxy open.
fn kind(ev: &Value) -> Option<(T, bool)> {
    Some(match text(ev, "event")?.as_str() {
        "request" | "sent" => (T::Sent, false),
        "delivered" => (T::Delivered, false),
        "deferred" => (T::Deferred, false),
        "soft_bounce" => (T::BouncedSoft, false),
        "hard_bounce" => (T::BouncedHard, false),
        "opened" | "unique_opened" => (T::Opened, false),
        "proxy_open" | "unique_proxy_open" => (T::Opened, true),
        "click" => (T::Clicked, false),
        "spam" | "complaint" => (T::Complained, false),
        "unsubscribed" => (T::Unsubscribed, false),
        _ => return None,
    })
}

pub fn events(body: &[u8]) -> ApiResult<Parsed> {
    let ev = json_body(body)?;
    let mut out = Parsed::new();
    if !ev.is_object() {
        out.error(0, "is not an object");
        return Ok(out);
    }
    let Some((k, proxy)) = kind(&ev) else {
        out.report.ignored += 1;
        return Ok(out);
    };
    let Some(at) = ev.get("ts_event").or_else(|| ev.get("ts_epoch")).or_else(|| ev.get("date")).and_then(time) else {
        out.error(0, "`ts_event` is missing or not a time");
        return Ok(out);
    };
    // Brevo's custom header `X-Mailin-custom` arrives as text, which may
    // be JSON with our person id.
    let custom: Option<Value> = text(&ev, "X-Mailin-custom").and_then(|c| serde_json::from_str(&c).ok());
    out.events.push(IncomingEvent {
        index: 0,
        event_id: None,
        kind: k,
        at,
        email: text(&ev, "email"),
        person_hint: person_hint(custom.as_ref().and_then(|c| c.get("dealflow_person_id"))),
        message_id: text(&ev, "message-id"),
        campaign: text(&ev, "tag"),
        url: text(&ev, "link").filter(|_| k == T::Clicked),
        machine_open: proxy,
        raw: ev.clone(),
    });
    Ok(out)
}

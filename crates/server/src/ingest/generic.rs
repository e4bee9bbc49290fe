//! The generic connection: dealflow's own JSON batch, for e-mail tools we
//! do not know. Signed like our outgoing webhooks (Standard Webhooks:
//! `webhook-id`, `webhook-timestamp`, `webhook-signature`, HMAC-SHA256 of
//! `id.timestamp.body` under the connection's `whsec_` secret), so any
//! Standard Webhooks library can send it. The format is in docs/connect.md.

use super::fields::{person_hint, text, time_field, truthy};
use super::{Parsed, Refused, fresh, header, json_body, same};
use crate::error::{ApiError, ApiResult};
use axum::http::HeaderMap;
use dealflow_core::time::Timestamp;
use dealflow_store::{ConnectionKeys, EmailEventType, IncomingEvent};
use serde_json::Value;

/// Most events one generic post may hold.
pub const MAX_BATCH: usize = 1_000;

pub fn verify(keys: &ConnectionKeys, h: &HeaderMap, body: &[u8], now: Timestamp) -> Result<(), Refused> {
    let (id, ts, sigs) = (header(h, "webhook-id"), header(h, "webhook-timestamp"), header(h, "webhook-signature"));
    if id.is_empty() || ts.is_empty() || sigs.is_empty() {
        return Err(Refused("the webhook-id, webhook-timestamp and webhook-signature headers are required".into()));
    }
    fresh(ts, now)?;
    let ts_n: i64 = ts.trim().parse().map_err(|_| Refused("webhook-timestamp is not whole seconds".into()))?;
    let body = std::str::from_utf8(body).map_err(|_| Refused("the body is not UTF-8".into()))?;
    let secret = keys.secret.clone().unwrap_or_default();
    let want = crate::webhooks::sign::signature(&[secret], id, ts_n, body).map_err(Refused)?;
    if sigs.split(' ').any(|s| same(s.as_bytes(), want.as_bytes())) {
        Ok(())
    } else {
        Err(Refused("no webhook-signature verifies with this connection's secret".into()))
    }
}

pub fn events(body: &[u8]) -> ApiResult<Parsed> {
    let v = json_body(body)?;
    let list = match &v {
        Value::Array(a) => a,
        Value::Object(o) => match o.get("events") {
            Some(Value::Array(a)) => a,
            _ => return Err(ApiError::BadRequest("send {\"events\": [ … ]} or a JSON array of events".into())),
        },
        _ => return Err(ApiError::BadRequest("send {\"events\": [ … ]} or a JSON array of events".into())),
    };
    if list.len() > MAX_BATCH {
        return Err(ApiError::TooLarge(format!("a generic batch holds at most {MAX_BATCH} events")));
    }
    let mut out = Parsed::new();
    for (index, ev) in list.iter().enumerate() {
        let kind = match text(ev, "type").map(|t| EmailEventType::parse(&t)) {
            Some(Ok(k)) => k,
            Some(Err(e)) => {
                out.error(index, format!("type: {e}"));
                continue;
            }
            None => {
                out.error(index, "`type` is missing");
                continue;
            }
        };
        let at = match time_field(ev, "at") {
            Ok(t) => t,
            Err(e) => {
                out.error(index, e);
                continue;
            }
        };
        let (email, person) = (text(ev, "email"), person_hint(ev.get("person_id")));
        if email.is_none() && person.is_none() {
            out.error(index, "needs `email` or `person_id`");
            continue;
        }
        out.events.push(IncomingEvent {
            index,
            event_id: text(ev, "id"),
            kind,
            at,
            email,
            person_hint: person,
            message_id: text(ev, "message_id"),
            campaign: text(ev, "campaign"),
            url: text(ev, "url"),
            machine_open: truthy(ev, "machine_open"),
            raw: ev.clone(),
        });
    }
    Ok(out)
}

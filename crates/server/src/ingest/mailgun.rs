//! Mailgun webhooks: one event per post, `{"signature": {timestamp, token,
//! signature}, "event-data": {…}}`, where the signature is the hex
//! HMAC-SHA256 of timestamp + token under the account's HTTP webhook
//! signing key. A token is good once (the caller records it).

use super::fields::{person_hint, text, text_at, time_field};
use super::{Parsed, Refused, fresh, json_body};
use crate::error::ApiResult;
use dealflow_core::time::Timestamp;
use dealflow_store::{ConnectionKeys, EmailEventType as T, IncomingEvent};
use serde_json::Value;

/// Checks a Mailgun signature block (also used by inbound routes, whose
/// form carries the same three fields).
pub fn check(keys: &ConnectionKeys, ts: &str, token: &str, sig: &str, now: Timestamp) -> Result<(), Refused> {
    if ts.is_empty() || token.is_empty() || sig.is_empty() {
        return Err(Refused("the Mailgun signature (timestamp, token, signature) is missing".into()));
    }
    fresh(ts, now)?;
    let key = keys.signing_key.as_deref().unwrap_or_default();
    let tag = hex::decode(sig.trim()).map_err(|_| Refused("the signature is not hex".into()))?;
    let msg = format!("{ts}{token}");
    ring::hmac::verify(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.as_bytes()), msg.as_bytes(), &tag)
        .map_err(|_| Refused("the signature does not verify with this connection's signing key".into()))
}

/// The token of a signed body (to refuse its reuse).
pub fn token(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    text_at(&v, &["signature", "token"])
}

pub fn verify_and_parse(keys: &ConnectionKeys, body: &[u8], now: Timestamp) -> Result<ApiResult<Parsed>, Refused> {
    let v = match json_body(body) {
        Ok(v) => v,
        Err(_) => return Err(Refused("the body is not Mailgun's signed JSON".into())),
    };
    let s = v.get("signature").cloned().unwrap_or(Value::Null);
    let get = |k| text(&s, k).unwrap_or_default();
    check(keys, &get("timestamp"), &get("token"), &get("signature"), now)?;
    Ok(Ok(events(&v)))
}

fn kind(ev: &Value) -> Option<T> {
    Some(match text(ev, "event")?.as_str() {
        "accepted" => T::Sent,
        "delivered" => T::Delivered,
        "failed" if text(ev, "severity").as_deref() == Some("permanent") => T::BouncedHard,
        "failed" => T::BouncedSoft,
        "opened" => T::Opened,
        "clicked" => T::Clicked,
        "unsubscribed" => T::Unsubscribed,
        "complained" => T::Complained,
        _ => return None,
    })
}

fn events(v: &Value) -> Parsed {
    let mut out = Parsed::new();
    let Some(ev) = v.get("event-data").filter(|e| e.is_object()) else {
        out.error(0, "`event-data` is missing");
        return out;
    };
    let Some(k) = kind(ev) else {
        out.report.ignored += 1;
        return out;
    };
    let at = match time_field(ev, "timestamp") {
        Ok(t) => t,
        Err(e) => {
            out.error(0, e);
            return out;
        }
    };
    let vars = ev.get("user-variables");
    out.events.push(IncomingEvent {
        index: 0,
        event_id: text(ev, "id"),
        kind: k,
        at,
        email: text(ev, "recipient"),
        person_hint: person_hint(vars.and_then(|u| u.get("dealflow_person_id"))),
        message_id: text_at(ev, &["message", "headers", "message-id"]),
        campaign: ev.get("tags").and_then(|t| t.get(0)).and_then(|t| t.as_str()).map(str::to_string),
        url: text(ev, "url").filter(|_| k == T::Clicked),
        machine_open: false,
        raw: ev.clone(),
    });
    out
}

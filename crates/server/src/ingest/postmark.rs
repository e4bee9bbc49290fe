//! Postmark webhooks: one event per post, behind HTTP basic auth with the
//! user name and password chosen in the connection (Postmark puts them in
//! the webhook URL). Postmark has no event id except on bounces, so other
//! events are keyed by a hash of message id, type and time.

use super::fields::{person_hint, text, time_field};
use super::{Parsed, Refused, header, json_body, same};
use crate::error::ApiResult;
use axum::http::HeaderMap;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use dealflow_store::{ConnectionKeys, EmailEventType as T, IncomingEvent};
use serde_json::Value;

/// The user name and password of a basic `Authorization` header.
pub fn basic_auth(h: &HeaderMap) -> Option<(String, String)> {
    let v = header(h, "authorization");
    let b64 = v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic "))?;
    let text = String::from_utf8(BASE64.decode(b64.trim()).ok()?).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

pub fn verify(keys: &ConnectionKeys, h: &HeaderMap) -> Result<(), Refused> {
    let Some((u, p)) = basic_auth(h) else {
        return Err(Refused(
            "HTTP basic auth is required: put the connection's user name and password in the URL".into(),
        ));
    };
    let want_u = keys.username.as_deref().unwrap_or_default();
    let want_p = keys.password.as_deref().unwrap_or_default();
    // Both compared whole, so the time taken says nothing of which failed.
    if !(same(u.as_bytes(), want_u.as_bytes()) & same(p.as_bytes(), want_p.as_bytes())) || want_p.is_empty() {
        return Err(Refused("the basic-auth user name or password is wrong".into()));
    }
    Ok(())
}

/// Our type and the time field of a Postmark record.
fn kind(ev: &Value) -> Option<(T, &'static str)> {
    Some(match text(ev, "RecordType")?.as_str() {
        "Delivery" => (T::Delivered, "DeliveredAt"),
        "Bounce" if text(ev, "Type").as_deref() == Some("HardBounce") => (T::BouncedHard, "BouncedAt"),
        "Bounce" => (T::BouncedSoft, "BouncedAt"),
        "SpamComplaint" => (T::Complained, "BouncedAt"),
        "Open" => (T::Opened, "ReceivedAt"),
        "Click" => (T::Clicked, "ReceivedAt"),
        "SubscriptionChange" if ev.get("SuppressSending").and_then(Value::as_bool) == Some(true) => {
            (T::Unsubscribed, "ChangedAt")
        }
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
    let Some((k, at_field)) = kind(&ev) else {
        out.report.ignored += 1;
        return Ok(out);
    };
    let at = match time_field(&ev, at_field) {
        Ok(t) => t,
        Err(e) => {
            out.error(0, e);
            return Ok(out);
        }
    };
    let email = text(&ev, "Recipient").or_else(|| text(&ev, "Email"));
    // Bounces and complaints carry a numeric `ID`; other records none.
    let event_id = matches!(k, T::BouncedHard | T::BouncedSoft | T::Complained)
        .then(|| text(&ev, "ID").map(|id| format!("{}:{id}", text(&ev, "RecordType").unwrap_or_default())))
        .flatten();
    out.events.push(IncomingEvent {
        index: 0,
        event_id,
        kind: k,
        at,
        email,
        person_hint: person_hint(ev.get("Metadata").and_then(|m| m.get("dealflow_person_id"))),
        message_id: text(&ev, "MessageID"),
        campaign: text(&ev, "Tag"),
        url: text(&ev, "OriginalLink").filter(|_| k == T::Clicked),
        machine_open: false,
        raw: ev.clone(),
    });
    Ok(out)
}

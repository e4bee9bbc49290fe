//! SendGrid Event Webhook: a JSON array of up to 128 events, signed with
//! ECDSA P-256 over the timestamp header followed by the raw body. The
//! signature (`X-Twilio-Email-Event-Webhook-Signature`) is base64 DER; the
//! connection keeps the verification key as SendGrid shows it (base64 of a
//! DER public key).

use super::fields::{first_text, person_hint, text, time_field, truthy};
use super::{Parsed, Refused, fresh, header, json_body};
use crate::error::{ApiError, ApiResult};
use axum::http::HeaderMap;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use dealflow_core::time::Timestamp;
use dealflow_store::{ConnectionKeys, EmailEventType as T, IncomingEvent};

/// Most events SendGrid puts in one post.
pub const MAX_BATCH: usize = 128;
pub const SIGNATURE: &str = "x-twilio-email-event-webhook-signature";
pub const TIMESTAMP: &str = "x-twilio-email-event-webhook-timestamp";

pub fn verify(keys: &ConnectionKeys, h: &HeaderMap, body: &[u8], now: Timestamp) -> Result<(), Refused> {
    let (sig, ts) = (header(h, SIGNATURE), header(h, TIMESTAMP));
    if sig.is_empty() || ts.is_empty() {
        return Err(Refused(format!("the {SIGNATURE} and {TIMESTAMP} headers are required (turn on signed events)")));
    }
    fresh(ts, now)?;
    let key = keys.public_key.as_deref().unwrap_or_default();
    let point = dealflow_store::p256_point(key).map_err(|e| Refused(format!("the stored public_key {e}")))?;
    let der = BASE64.decode(sig.trim()).map_err(|_| Refused("the signature is not base64".into()))?;
    let mut signed = Vec::with_capacity(ts.len() + body.len());
    signed.extend_from_slice(ts.as_bytes());
    signed.extend_from_slice(body);
    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_ASN1, point)
        .verify(&signed, &der)
        .map_err(|_| Refused("the signature does not verify with this connection's public key".into()))
}

/// Our type for a SendGrid event, `None` for kinds we do not track.
fn kind(ev: &serde_json::Value) -> Option<T> {
    Some(match text(ev, "event")?.as_str() {
        "processed" => T::Sent,
        "delivered" => T::Delivered,
        "deferred" => T::Deferred,
        // SendGrid's `bounce` carries `type`: `bounce` (permanent) or
        // `blocked` (temporary).
        "bounce" if text(ev, "type").as_deref() == Some("blocked") => T::BouncedSoft,
        "bounce" => T::BouncedHard,
        "open" => T::Opened,
        "click" => T::Clicked,
        "unsubscribe" | "group_unsubscribe" => T::Unsubscribed,
        "spamreport" => T::Complained,
        _ => return None,
    })
}

/// The message id events of one message share: the RFC Message-ID where
/// given (`smtp-id`, on send-side events), else SendGrid's id up to its
/// first dot.
fn message_id(ev: &serde_json::Value) -> Option<String> {
    text(ev, "smtp-id")
        .or_else(|| text(ev, "sg_message_id").map(|m| m.split('.').next().unwrap_or_default().to_string()))
}

pub fn events(body: &[u8]) -> ApiResult<Parsed> {
    let v = json_body(body)?;
    let Some(list) = v.as_array() else {
        return Err(ApiError::BadRequest("SendGrid posts a JSON array of events".into()));
    };
    if list.len() > MAX_BATCH {
        return Err(ApiError::TooLarge(format!("a SendGrid batch holds at most {MAX_BATCH} events")));
    }
    let mut out = Parsed::new();
    for (index, ev) in list.iter().enumerate() {
        if !ev.is_object() {
            out.error(index, "is not an object");
            continue;
        }
        let Some(k) = kind(ev) else {
            out.report.ignored += 1;
            continue;
        };
        let at = match time_field(ev, "timestamp") {
            Ok(t) => t,
            Err(e) => {
                out.error(index, e);
                continue;
            }
        };
        let email = text(ev, "email");
        if email.is_none() {
            out.error(index, "`email` is missing");
            continue;
        }
        out.events.push(IncomingEvent {
            index,
            event_id: text(ev, "sg_event_id"),
            kind: k,
            at,
            email,
            person_hint: person_hint(ev.get("dealflow_person_id")),
            message_id: message_id(ev),
            campaign: text(ev, "marketing_campaign_name")
                .or_else(|| text(ev, "singlesend_name"))
                .or_else(|| first_text(ev.get("category"))),
            url: text(ev, "url").filter(|_| k == T::Clicked),
            machine_open: k == T::Opened && truthy(ev, "sg_machine_open"),
            raw: ev.clone(),
        });
    }
    Ok(out)
}

//! `POST /ingest/{connection_id}/inbound`: replies, as the providers'
//! inbound parse posts them (SendGrid Inbound Parse and Mailgun routes as
//! form posts, Postmark and Brevo inbound as JSON, generic as signed JSON).
//! Verified like the connection's events (SendGrid Inbound Parse has no
//! signature: it takes the connection's secret as `?token=`), then stored
//! once and matched by `In-Reply-To`/`References`, else by sender.

use super::fields::{text, text_at, time};
use super::{Refused, TokenQuery, header, refuse};
use crate::AppState;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Path;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::HeaderMap;
use dealflow_core::time::Timestamp;
use dealflow_core::{ConnectionId, OutreachId, PersonId, ReplyId};
use dealflow_store::{ConnectionKeys, InboundMail, Provider};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use utoipa::ToSchema;

/// What an inbound post did.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboundResult {
    /// `false` when this e-mail was received before (nothing changed).
    pub stored: bool,
    pub reply_id: Option<ReplyId>,
    pub person_id: Option<PersonId>,
    /// The outreach message the reply answers, if found.
    pub outreach_id: Option<OutreachId>,
}

/// The address in `Name <addr>` (or the text itself).
fn address(from: &str) -> String {
    match (from.rfind('<'), from.rfind('>')) {
        (Some(a), Some(b)) if a < b => from[a + 1..b].trim().to_string(),
        _ => from.trim().to_string(),
    }
}

/// A header's value in a raw header block (folded lines joined).
fn raw_header(block: &str, name: &str) -> Option<String> {
    let mut out: Option<String> = None;
    for line in block.lines() {
        if let Some(v) = out.as_mut() {
            if line.starts_with([' ', '\t']) {
                v.push(' ');
                v.push_str(line.trim());
                continue;
            }
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.trim().eq_ignore_ascii_case(name)
        {
            out = Some(v.trim().to_string());
        }
    }
    out
}

/// `In-Reply-To` first, then `References` newest first.
fn references(in_reply_to: Option<String>, refs: Option<String>) -> Vec<String> {
    let mut out: Vec<String> = in_reply_to.into_iter().collect();
    if let Some(r) = refs {
        out.extend(r.split_whitespace().rev().map(str::to_string));
    }
    out
}

/// The fields of a form post (multipart or URL-encoded).
async fn form_fields(req: Request) -> ApiResult<HashMap<String, String>> {
    let multipart = header(req.headers(), "content-type").to_ascii_lowercase().starts_with("multipart/");
    let mut out = HashMap::new();
    if multipart {
        let mut m = Multipart::from_request(req, &())
            .await
            .map_err(|e| ApiError::BadRequest(format!("the multipart body cannot be read: {e}")))?;
        while let Some(field) =
            m.next_field().await.map_err(|e| ApiError::BadRequest(format!("a multipart field cannot be read: {e}")))?
        {
            let name = field.name().unwrap_or_default().to_string();
            // Attachments (fields with a file name) are not kept.
            if field.file_name().is_some() {
                continue;
            }
            let value = field.text().await.map_err(|e| ApiError::BadRequest(format!("field {name}: {e}")))?;
            out.insert(name, value);
        }
    } else {
        let body = Bytes::from_request(req, &()).await.map_err(|e| ApiError::BadRequest(e.to_string()))?;
        out.extend(form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())));
    }
    Ok(out)
}

fn mail(from: Option<String>, subject: Option<String>, text: Option<String>, id: Option<String>) -> InboundMail {
    InboundMail {
        from: address(&from.unwrap_or_default()),
        subject: subject.unwrap_or_default(),
        text: text.unwrap_or_default(),
        message_id: id,
        references: Vec::new(),
        received_at: Timestamp::now(),
    }
}

fn token_ok(keys: &ConnectionKeys, h: &HeaderMap, q: &TokenQuery) -> Result<(), Refused> {
    super::brevo::verify(keys, h, q)
}

/// The mails of a verified inbound post.
async fn read(
    st: &AppState,
    id: ConnectionId,
    provider: Provider,
    keys: &ConnectionKeys,
    q: &TokenQuery,
    req: Request,
) -> Result<ApiResult<Vec<InboundMail>>, Refused> {
    let h = req.headers().clone();
    let now = Timestamp::now();
    match provider {
        Provider::Sendgrid | Provider::Mailgun => {
            if provider == Provider::Sendgrid {
                token_ok(keys, &h, q)?;
            }
            let f = match form_fields(req).await {
                Ok(f) => f,
                Err(e) => return Ok(Err(e)),
            };
            let get = |k: &str| f.get(k).cloned().filter(|v| !v.trim().is_empty());
            if provider == Provider::Mailgun {
                let g = |k: &str| get(k).unwrap_or_default();
                super::mailgun::check(keys, &g("timestamp"), &g("token"), &g("signature"), now)?;
                match st.store.use_ingest_token(id, &g("token"), now).await {
                    Ok(true) => {}
                    Ok(false) => return Err(Refused("this Mailgun token was used before (replay)".into())),
                    Err(e) => return Ok(Err(e.into())),
                }
                let mut m = mail(get("sender").or(get("from")), get("subject"), get("body-plain"), get("Message-Id"));
                m.references = references(get("In-Reply-To"), get("References"));
                return Ok(Ok(vec![m]));
            }
            let headers = get("headers").unwrap_or_default();
            let mut m = mail(get("from"), get("subject"), get("text"), raw_header(&headers, "Message-ID"));
            m.references = references(raw_header(&headers, "In-Reply-To"), raw_header(&headers, "References"));
            Ok(Ok(vec![m]))
        }
        Provider::Postmark | Provider::Brevo | Provider::Generic => {
            let body = match Bytes::from_request(req, &()).await {
                Ok(b) => b,
                Err(e) => return Ok(Err(ApiError::BadRequest(e.to_string()))),
            };
            match provider {
                Provider::Postmark => super::postmark::verify(keys, &h)?,
                Provider::Brevo => token_ok(keys, &h, q)?,
                _ => super::generic::verify(keys, &h, &body, now)?,
            }
            let v = match super::json_body(&body) {
                Ok(v) => v,
                Err(e) => return Ok(Err(e)),
            };
            Ok(Ok(match provider {
                Provider::Postmark => vec![postmark_mail(&v)],
                Provider::Brevo => brevo_mails(&v),
                _ => vec![generic_mail(&v)],
            }))
        }
    }
}

fn postmark_mail(v: &Value) -> InboundMail {
    let headers: HashMap<String, String> = v
        .get("Headers")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|h| Some((text(h, "Name")?.to_ascii_lowercase(), text(h, "Value")?))).collect())
        .unwrap_or_default();
    let from = text_at(v, &["FromFull", "Email"]).or_else(|| text(v, "From"));
    let message_id = headers.get("message-id").cloned().or_else(|| text(v, "MessageID"));
    let mut m = mail(from, text(v, "Subject"), text(v, "TextBody"), message_id);
    m.references = references(headers.get("in-reply-to").cloned(), headers.get("references").cloned());
    m
}

fn brevo_mails(v: &Value) -> Vec<InboundMail> {
    let items = v.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
    items
        .iter()
        .map(|i| {
            let mut m = mail(
                text_at(i, &["From", "Address"]),
                text(i, "Subject"),
                text(i, "RawTextBody"),
                text(i, "MessageId"),
            );
            m.references = references(text(i, "InReplyTo"), None);
            m
        })
        .collect()
}

fn generic_mail(v: &Value) -> InboundMail {
    let refs = match v.get("references") {
        Some(Value::Array(a)) => Some(a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" ")),
        _ => text(v, "references"),
    };
    let mut m = mail(text(v, "from"), text(v, "subject"), text(v, "text"), text(v, "message_id"));
    m.references = references(text(v, "in_reply_to"), refs);
    if let Some(t) = v.get("at").and_then(time) {
        m.received_at = t;
    }
    m
}

/// Receive a reply by the provider's inbound parse (public: verified like
/// the connection's events). Stores it once, records it on the outreach
/// message it answers (so replies and the response rate count it) or on
/// the playbook e-mail, and shows it on the person's timeline.
#[utoipa::path(post, path = "/ingest/{connection_id}/inbound", tag = "connections", security(()),
    params(("connection_id" = ConnectionId, Path), TokenQuery),
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, body = [InboundResult]), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 413, body = Problem)))]
pub async fn inbound(
    State(st): State<AppState>,
    Path(id): Path<ConnectionId>,
    crate::extract::Query(q): crate::extract::Query<TokenQuery>,
    req: Request,
) -> ApiResult<axum::Json<Vec<InboundResult>>> {
    let (conn, keys) = st.store.connection_keys(id).await?;
    let mails = match read(&st, id, conn.provider, &keys, &q, req).await {
        Ok(m) => m?,
        Err(why) => return Err(refuse(&st, id, why).await),
    };
    let mut out = Vec::new();
    for m in mails {
        if m.from.is_empty() {
            return Err(ApiError::BadRequest("the e-mail has no sender address".into()));
        }
        let r = st.store.receive_reply(id, m).await?;
        out.push(InboundResult {
            stored: r.is_some(),
            reply_id: r.as_ref().map(|r| r.id),
            person_id: r.as_ref().and_then(|r| r.person_id),
            outreach_id: r.as_ref().and_then(|r| r.outreach_id),
        });
    }
    Ok(axum::Json(out))
}

#[cfg(test)]
mod tests {
    use super::{address, raw_header, references};

    #[test]
    fn reads_addresses_and_folded_headers() {
        assert_eq!(address("Ann Lee <Ann@Example.com>"), "Ann@Example.com");
        assert_eq!(address(" ann@example.com "), "ann@example.com");
        let block = "Subject: hi\r\nReferences: <a@x>\r\n <b@x>\r\nIn-Reply-To: <b@x>\r\n";
        assert_eq!(raw_header(block, "references").as_deref(), Some("<a@x> <b@x>"));
        assert_eq!(raw_header(block, "In-Reply-To").as_deref(), Some("<b@x>"));
        let r = references(Some("<b@x>".into()), Some("<a@x> <b@x>".into()));
        assert_eq!(r, vec!["<b@x>", "<b@x>", "<a@x>"]);
    }
}

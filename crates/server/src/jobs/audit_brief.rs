//! `audit.brief`: the e-mail an owner gets when a scheduled audit is made
//! (at the start of the audit day): their flagged deals, each with its
//! flags and, when the workspace's `public_url` is set, a link; and a link
//! to their pre-review. In the owner's language. Idempotent by its job's
//! dedupe key and the Message-ID it carries.

use crate::mail::{Mail, SendError, send};
use crate::web::i18n::Lang;
use crate::web::{T, fill};
use dealflow_core::{PipelineAuditId, UserId};
use dealflow_store::{Job, Store};
use serde_json::{Value, json};

pub use dealflow_store::AUDIT_BRIEF_JOB;

fn id_of(job: &Job, key: &str) -> Result<i64, String> {
    job.payload
        .get(key)
        .and_then(|v| v.as_str().and_then(|s| s.parse().ok()).or_else(|| v.as_i64()))
        .ok_or_else(|| format!("the payload has no `{key}`"))
}

/// Sends one brief (the runner calls it; tests may call it directly).
pub async fn run(store: Store, job: Job) -> Result<Value, String> {
    let err = |e: dealflow_store::StoreError| e.to_string();
    let audit = store.audit(PipelineAuditId(id_of(&job, "audit_id")?)).await.map_err(err)?;
    let owner = UserId(id_of(&job, "owner_id")?);
    let users = store.users().await.map_err(err)?;
    let Some(user) = users.iter().find(|u| u.id == owner && u.active) else {
        return Ok(json!({"sent": false, "reason": "the owner is no longer active"}));
    };
    let (settings, pipeline) = tokio::try_join!(store.settings(), store.pipeline(audit.pipeline_id)).map_err(err)?;
    let cfg = match store.smtp_config().await.map_err(err)? {
        Ok(cfg) => cfg,
        Err(why) => return Err(why),
    };
    let t = T { lang: Lang::pick(user.locale.as_deref(), None) };
    let base = settings.mail.public_url.clone();
    let flagged: Vec<_> =
        audit.items.iter().flatten().filter(|i| i.facts.owner_id == Some(owner) && !i.facts.flags.is_empty()).collect();
    if flagged.is_empty() {
        return Ok(json!({"sent": false, "reason": "no flagged deal"}));
    }
    let time = audit
        .scheduled_for
        .map_or_else(String::new, |s| crate::web::clock::local_time(t, settings.time_zone.tz(), s.0, true));
    let n = flagged.len().to_string();
    let subject = fill(t.t("review.mail.subject"), &[("pipeline", &pipeline.name), ("time", &time), ("n", &n)]);
    let mut body =
        fill(t.t("review.mail.intro"), &[("name", &user.name), ("pipeline", &pipeline.name), ("time", &time)]);
    body.push_str("\n\n");
    for i in &flagged {
        let f = &i.facts;
        let flags: Vec<String> =
            f.flags.iter().map(|x| t.t(&format!("review.flag.{}", x.as_str())).to_string()).collect();
        body.push_str(&format!("- {}: {}\n", f.title, flags.join(", ")));
        if let Some(b) = &base {
            body.push_str(&format!("  {b}/deals/{}\n", f.deal_id));
        }
    }
    body.push('\n');
    body.push_str(&match &base {
        Some(b) => fill(t.t("review.mail.review_link"), &[("url", &format!("{b}/audits/{}?mine=1", audit.id))]),
        None => t.t("review.mail.review_here").to_string(),
    });
    body.push('\n');
    let message_id = format!("<audit-brief-{}-{}@dealflow>", audit.id, owner);
    let mail = Mail { to: &user.email, subject: &subject, body: &body, message_id: Some(&message_id) };
    match send(&cfg, &mail).await {
        Ok(()) => Ok(json!({"sent": true, "to": user.email, "deals": flagged.len()})),
        Err(SendError::Invalid(why)) => Ok(json!({"sent": false, "failed": why})),
        Err(SendError::Server(why)) => Err(why),
    }
}

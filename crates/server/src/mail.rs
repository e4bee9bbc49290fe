//! Sending e-mail over SMTP with the workspace's mail server settings
//! (lettre, over tokio; TLS by rustls). One connection per e-mail: playbook
//! e-mails are few and spread out, and a pool would hold connections the
//! server may close. The errors say what the mail server said, so the
//! checklist and the "send test e-mail" answer can show it.

use dealflow_core::model::SmtpSecurity;
use dealflow_store::SmtpConfig;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MessageBuilder};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// How long one conversation with the mail server may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// One e-mail to send.
#[derive(Debug, Clone)]
pub struct Mail<'a> {
    pub to: &'a str,
    pub subject: &'a str,
    /// Plain text.
    pub body: &'a str,
    /// `<…@…>`; a repeated send of the same e-mail carries the same one.
    pub message_id: Option<&'a str>,
}

/// Why an e-mail was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The message could not be built (a bad address): sending again will
    /// not help.
    #[error("{0}")]
    Invalid(String),
    /// The mail server could not be reached, or refused (its words).
    #[error("{0}")]
    Server(String),
}

/// Sends `mail` through the server `cfg` names.
pub async fn send(cfg: &SmtpConfig, mail: &Mail<'_>) -> Result<(), SendError> {
    let message = build(cfg, mail)?;
    let transport = transport(cfg)?;
    match transport.send(message).await {
        Ok(_) => Ok(()),
        Err(e) => Err(SendError::Server(describe(cfg, &e))),
    }
}

fn build(cfg: &SmtpConfig, mail: &Mail<'_>) -> Result<Message, SendError> {
    let from: Mailbox =
        cfg.from.parse().map_err(|e| SendError::Invalid(format!("the sender `{}` is not usable: {e}", cfg.from)))?;
    let to: Mailbox =
        mail.to.parse().map_err(|e| SendError::Invalid(format!("the address `{}` is not usable: {e}", mail.to)))?;
    let builder: MessageBuilder = Message::builder()
        .from(from)
        .to(to)
        .subject(mail.subject)
        .message_id(mail.message_id.map(str::to_string))
        .header(ContentType::TEXT_PLAIN);
    builder.body(mail.body.to_string()).map_err(|e| SendError::Invalid(format!("the e-mail cannot be built: {e}")))
}

fn transport(cfg: &SmtpConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>, SendError> {
    let tls = || {
        TlsParameters::new(cfg.host.clone())
            .map_err(|e| SendError::Server(format!("TLS for {} cannot be set up: {e}", cfg.host)))
    };
    let tls = match cfg.security {
        SmtpSecurity::None => Tls::None,
        SmtpSecurity::Starttls => Tls::Required(tls()?),
        SmtpSecurity::Tls => Tls::Wrapper(tls()?),
    };
    // The greeting names the sender's domain: without the `hostname`
    // feature lettre would say `localhost`, which some servers refuse.
    let hello = cfg.from.rsplit_once('@').map_or("localhost", |x| x.1).to_string();
    let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(cfg.host.as_str())
        .port(cfg.port)
        .tls(tls)
        .hello_name(ClientId::Domain(hello))
        .timeout(Some(SMTP_TIMEOUT));
    if let Some(user) = &cfg.username {
        b = b.credentials(Credentials::new(user.clone(), cfg.password.clone().unwrap_or_default()));
    }
    Ok(b.build())
}

/// The error in words, naming the server.
fn describe(cfg: &SmtpConfig, e: &lettre::transport::smtp::Error) -> String {
    let what = match e.status() {
        Some(code) => format!("the mail server {}:{} answered {code}", cfg.host, cfg.port),
        None => format!("the mail server {}:{} could not be reached or spoke no SMTP", cfg.host, cfg.port),
    };
    format!("{what}: {e}")
}

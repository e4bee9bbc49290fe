//! Workspace settings (one row, id 1), and the mail server's settings
//! with their password, which only the sender reads ([`SmtpConfig`]).

use crate::row::*;
use crate::{Actor, Store, StoreError, Tx};
use dealflow_core::Invalid;
use dealflow_core::currency::Currency;
use dealflow_core::model::{MAX_HOLIDAYS, MailSettings, Role, Settings, SettingsPatch, SmtpSecurity};
use dealflow_core::time::{Date, TimeZone};
use dealflow_core::validate::{email, optional_text, required_text};
use sqlx::any::AnyRow;

pub(crate) async fn insert_default(tx: &mut Tx) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO settings (id, name, time_zone, base_currency, exchange_rates, working_days, require_lost_reason, updated_at, version)
         VALUES (1, 'My company', 'UTC', 'USD', '{}', '[1,2,3,4,5]', 1, $1, 1)",
    )
    .bind(dealflow_core::time::Timestamp::now().0)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn from_row(r: &AnyRow) -> R<Settings> {
    Ok(Settings {
        name: text(r, "name")?,
        // Parsed once here, so every use has a valid zone; a stored name
        // that is not one (edited by hand) is an error, never a silent UTC.
        time_zone: TimeZone::parse(&text(r, "time_zone")?)
            .map_err(|e| sqlx::Error::Decode(format!("settings.time_zone: {e}").into()))?,
        base_currency: Currency::parse(&text(r, "base_currency")?).map_err(|e| sqlx::Error::Decode(e.into()))?,
        exchange_rates: json(r, "exchange_rates")?,
        working_days: json(r, "working_days")?,
        holidays: holidays_from(r)?,
        require_lost_reason: bool_(r, "require_lost_reason")?,
        mail: MailSettings {
            smtp_host: opt_text(r, "smtp_host")?,
            smtp_port: opt_i64(r, "smtp_port")?,
            smtp_security: enum_(r, "smtp_security", SmtpSecurity::parse)?,
            smtp_username: opt_text(r, "smtp_username")?,
            smtp_password_set: opt_text(r, "smtp_password")?.is_some_and(|p| !p.is_empty()),
            mail_from: opt_text(r, "mail_from")?,
            public_url: opt_text(r, "public_url")?,
        },
        override_roles: json(r, "override_roles")?,
        webhooks_allow_private: bool_(r, "webhooks_allow_private")?,
        updated_at: ts(r, "updated_at")?,
        version: i64_(r, "version")?,
    })
}

/// The stored days off; written by this program as ISO dates.
fn holidays_from(r: &AnyRow) -> R<Vec<Date>> {
    let texts: Vec<String> = json(r, "holidays")?;
    texts
        .iter()
        .map(|t| Date::parse_stored(t).map_err(|e| sqlx::Error::Decode(format!("settings.holidays: {e}").into())))
        .collect()
}

/// What sending an e-mail needs: the mail server, how to reach and sign in
/// to it, and the sender. Its `Debug` leaves the password out.
#[derive(Clone, PartialEq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from: String,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "(set)"))
            .field("from", &self.from)
            .finish()
    }
}

/// The mail server's settings, or what is missing for it, in words.
pub(crate) fn smtp_from_row(r: &AnyRow) -> Result<Result<SmtpConfig, String>, StoreError> {
    let s = from_row(r)?;
    let (Some(host), Some(from)) = (s.mail.smtp_host, s.mail.mail_from) else {
        return Ok(Err("no mail server is configured: set `smtp_host` and `mail_from` in the settings".into()));
    };
    let port = s.mail.smtp_port.and_then(|p| u16::try_from(p).ok()).unwrap_or(s.mail.smtp_security.default_port());
    Ok(Ok(SmtpConfig {
        host,
        port,
        security: s.mail.smtp_security,
        username: s.mail.smtp_username,
        password: opt_text(r, "smtp_password")?,
        from,
    }))
}

pub(crate) async fn load(tx: &mut Tx) -> Result<Settings, StoreError> {
    let r = sqlx::query("SELECT * FROM settings WHERE id = 1").fetch_one(&mut **tx).await?;
    Ok(from_row(&r)?)
}

impl Store {
    /// The mail server to send through, or why there is none (`Err` inside).
    pub async fn smtp_config(&self) -> Result<Result<SmtpConfig, String>, StoreError> {
        let r = sqlx::query("SELECT * FROM settings WHERE id = 1").fetch_one(self.pool()).await?;
        smtp_from_row(&r)
    }

    pub async fn settings(&self) -> Result<Settings, StoreError> {
        let r = sqlx::query("SELECT * FROM settings WHERE id = 1").fetch_one(self.pool()).await?;
        Ok(from_row(&r)?)
    }

    pub async fn update_settings(&self, actor: &Actor, p: SettingsPatch) -> Result<Settings, StoreError> {
        let mut tx = self.write().await?;
        let mut s = load(&mut tx).await?;
        let before = s.clone();
        crate::records::check_version(s.version, p.version)?;
        let mut errs = Invalid::new();
        let password = check_mail(&p, &mut s.mail, &mut errs);
        if let Some(n) = &p.name
            && let Some(n) = errs.take(required_text("name", n, 200))
        {
            s.name = n;
        }
        if let Some(tz) = &p.time_zone {
            match TimeZone::parse(tz) {
                Ok(tz) => s.time_zone = tz,
                Err(e) => errs.add("time_zone", e),
            }
        }
        if let Some(c) = p.base_currency {
            s.base_currency = c;
        }
        if let Some(rates) = p.exchange_rates {
            for (code, rate) in &rates {
                if let Err(e) = Currency::parse(code) {
                    errs.add(format!("exchange_rates.{code}"), e);
                } else if !(rate.is_finite() && *rate > 0.0) {
                    errs.add(format!("exchange_rates.{code}"), "must be a positive number");
                }
            }
            s.exchange_rates = rates.into_iter().map(|(k, v)| (k.to_ascii_uppercase(), v)).collect();
        }
        if let Some(mut days) = p.working_days {
            days.sort_unstable();
            days.dedup();
            if days.iter().any(|d| !(1..=7).contains(d)) {
                errs.add("working_days", "use ISO weekday numbers 1 (Monday) to 7 (Sunday)");
            }
            s.working_days = days;
        }
        if let Some(mut days) = p.holidays {
            days.sort_unstable();
            days.dedup();
            if days.len() > MAX_HOLIDAYS {
                errs.add("holidays", format!("at most {MAX_HOLIDAYS} days off; remove past ones"));
            }
            s.holidays = days;
        }
        if let Some(r) = p.require_lost_reason {
            s.require_lost_reason = r;
        }
        if let Some(roles) = &p.override_roles {
            s.override_roles = override_roles(roles, &mut errs);
        }
        if let Some(allow) = p.webhooks_allow_private {
            s.webhooks_allow_private = allow;
        }
        errs.into_result()?;
        let holidays: Vec<String> = s.holidays.iter().map(|d| d.to_iso()).collect();
        sqlx::query(
            "UPDATE settings SET name = $1, time_zone = $2, base_currency = $3, exchange_rates = $4,
             working_days = $5, require_lost_reason = $6, updated_at = $7, version = version + 1,
             holidays = $8, smtp_host = $9, smtp_port = $10, smtp_security = $11, smtp_username = $12,
             mail_from = $13, public_url = $14 WHERE id = 1",
        )
        .bind(s.name.clone())
        .bind(s.time_zone.name().to_string())
        .bind(s.base_currency.as_str().to_string())
        .bind(serde_json::to_string(&s.exchange_rates).unwrap_or_else(|_| "{}".into()))
        .bind(serde_json::to_string(&s.working_days).unwrap_or_else(|_| "[]".into()))
        .bind(b(s.require_lost_reason))
        .bind(actor.now.0)
        .bind(serde_json::to_string(&holidays).unwrap_or_else(|_| "[]".into()))
        .bind(s.mail.smtp_host.clone())
        .bind(s.mail.smtp_port)
        .bind(s.mail.smtp_security.as_str())
        .bind(s.mail.smtp_username.clone())
        .bind(s.mail.mail_from.clone())
        .bind(s.mail.public_url.clone())
        .execute(&mut *tx)
        .await?;
        if let Some(pw) = password {
            // A statement of its own, so no other write path carries it.
            sqlx::query("UPDATE settings SET smtp_password = $1 WHERE id = 1").bind(pw).execute(&mut *tx).await?;
        }
        if p.override_roles.is_some() {
            // Its own statement, so the playbook rules stay apart from the
            // other settings' columns.
            sqlx::query("UPDATE settings SET override_roles = $1 WHERE id = 1")
                .bind(serde_json::to_string(&s.override_roles).unwrap_or_else(|_| "[]".into()))
                .execute(&mut *tx)
                .await?;
        }
        if p.webhooks_allow_private.is_some() {
            sqlx::query("UPDATE settings SET webhooks_allow_private = $1 WHERE id = 1")
                .bind(b(s.webhooks_allow_private))
                .execute(&mut *tx)
                .await?;
        }
        let out = load(&mut tx).await?;
        crate::audit::updated(&mut tx, actor, "settings", 1, &before, &out).await?;
        tx.commit().await?;
        Ok(out)
    }
}

/// Applies and checks the SMTP part of a patch; returns the password to
/// store (`Some(None)` clears it). The audit entry sees only whether one
/// is set, since `Settings` carries no password.
fn check_mail(p: &SettingsPatch, m: &mut MailSettings, errs: &mut Invalid) -> Option<Option<String>> {
    if let Some(h) = &p.smtp_host {
        m.smtp_host = match h.as_deref().map(str::trim) {
            Some(h) if h.contains(|c: char| c.is_whitespace() || c == '/' || c == '@') => {
                errs.add("smtp_host", "write the mail server's host name or address only, e.g. `smtp.example.com`");
                None
            }
            h => errs.take(optional_text("smtp_host", h, 253)).flatten(),
        };
    }
    if let Some(port) = p.smtp_port {
        match port {
            Some(n) if !(1..=65_535).contains(&n) => {
                errs.add("smtp_port", "must be a port number from 1 to 65535 (usually 587 for starttls, 465 for tls)")
            }
            other => m.smtp_port = other,
        }
    }
    if let Some(sec) = p.smtp_security {
        m.smtp_security = sec;
    }
    if let Some(u) = &p.smtp_username {
        m.smtp_username = errs.take(optional_text("smtp_username", u.as_deref(), 254)).flatten();
    }
    if let Some(f) = &p.mail_from {
        m.mail_from = match f.as_deref().filter(|f| !f.trim().is_empty()) {
            Some(f) => errs.take(email("mail_from", f)),
            None => None,
        };
    }
    if let Some(u) = &p.public_url {
        m.public_url = match u.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            Some(u)
                if (u.starts_with("https://") || u.starts_with("http://"))
                    && u.len() <= 2_000
                    && !u.contains(|c: char| c.is_whitespace() || c.is_control()) =>
            {
                Some(u.trim_end_matches('/').to_string())
            }
            Some(_) => {
                errs.add("public_url", "write the address people open dealflow at, e.g. https://crm.example.com");
                None
            }
            None => None,
        };
    }
    let password = match &p.smtp_password {
        Some(Some(pw)) if pw.chars().count() > 1_000 || pw.contains(['\0', '\r', '\n']) => {
            errs.add("smtp_password", "must be at most 1000 characters on one line");
            None
        }
        Some(pw) => Some(pw.clone().filter(|pw| !pw.is_empty())),
        None => None,
    };
    if let Some(pw) = &password {
        m.smtp_password_set = pw.is_some();
    }
    password
}

/// The roles named in `override_roles`, each once, in the matrix's order;
/// an unknown name is an error naming it.
fn override_roles(names: &[String], errs: &mut Invalid) -> Vec<Role> {
    let mut roles = Vec::new();
    for n in names {
        match Role::parse(n) {
            Ok(r) => roles.push(r),
            Err(e) => errs.add("override_roles", format!("{e}; name the roles that may override")),
        }
    }
    Role::ALL.iter().copied().filter(|r| roles.contains(r)).collect()
}

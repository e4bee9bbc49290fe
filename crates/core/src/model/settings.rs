//! Workspace settings: one row per workspace.

use crate::currency::Currency;
use crate::patch::double_option;
use crate::text_enum;
use crate::time::{Date, TimeZone, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The most holidays a workspace keeps: a few years' worth, so a working-day
/// count stays cheap.
pub const MAX_HOLIDAYS: usize = 1_000;

text_enum!(
    /// How the connection to the mail server is protected: `none` (plain,
    /// for a relay on the same machine), `starttls` (plain, then upgraded;
    /// usually port 587) or `tls` (TLS from the first byte; usually 465).
    SmtpSecurity { None = "none", Starttls = "starttls", Tls = "tls" }
);

/// Settings every calendar- or currency-dependent feature reads.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Settings {
    pub name: String,
    /// IANA time zone, e.g. `Europe/Berlin`.
    pub time_zone: TimeZone,
    pub base_currency: Currency,
    /// Value of one unit of the keyed currency in the base currency, e.g.
    /// `{"EUR": 1.08}` with base USD.
    pub exchange_rates: BTreeMap<String, f64>,
    /// ISO weekday numbers, 1 = Monday … 7 = Sunday.
    pub working_days: Vec<u8>,
    /// The workspace's days off (ISO dates, ascending): working-day offsets
    /// of playbook due times skip them.
    pub holidays: Vec<Date>,
    /// Whether marking a deal lost needs a lost reason.
    pub require_lost_reason: bool,
    /// The mail server playbook e-mails go out through.
    #[serde(flatten)]
    pub mail: MailSettings,
    /// Roles that may move a deal on with an `override_reason` (past open
    /// playbook steps or a pipeline's "no skipping stages").
    pub override_roles: Vec<super::Role>,
    /// Whether webhook subscriptions may post to loopback, private and
    /// link-local addresses (off: a guard against server-side request
    /// forgery).
    pub webhooks_allow_private: bool,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// The SMTP settings as everyone may read them: the password is never
/// shown, only whether one is set.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MailSettings {
    /// The mail server's host name; no e-mail is sent without one.
    pub smtp_host: Option<String>,
    /// Its port; without one, the usual port of `smtp_security`.
    pub smtp_port: Option<i64>,
    pub smtp_security: SmtpSecurity,
    pub smtp_username: Option<String>,
    /// Whether a password is stored (it is written, never returned).
    pub smtp_password_set: bool,
    /// The sender address of every e-mail.
    pub mail_from: Option<String>,
    /// The address people open dealflow at (`https://crm.example.com`), for
    /// links in e-mails; without it e-mails name pages without linking.
    pub public_url: Option<String>,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            smtp_host: None,
            smtp_port: None,
            smtp_security: SmtpSecurity::Starttls,
            smtp_username: None,
            smtp_password_set: false,
            mail_from: None,
            public_url: None,
        }
    }
}

impl SmtpSecurity {
    /// The port used when none is set.
    pub fn default_port(self) -> u16 {
        match self {
            SmtpSecurity::None => 25,
            SmtpSecurity::Starttls => 587,
            SmtpSecurity::Tls => 465,
        }
    }
}

/// Body of `PATCH /api/v1/settings`. The SMTP texts and the port take
/// `null` to clear them.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    pub version: i64,
    pub name: Option<String>,
    pub time_zone: Option<String>,
    pub base_currency: Option<Currency>,
    pub exchange_rates: Option<BTreeMap<String, f64>>,
    pub working_days: Option<Vec<u8>>,
    /// Replaces the list of days off.
    pub holidays: Option<Vec<Date>>,
    pub require_lost_reason: Option<bool>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub smtp_host: Option<Option<String>>,
    /// 1–65535.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub smtp_port: Option<Option<i64>>,
    pub smtp_security: Option<SmtpSecurity>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub smtp_username: Option<Option<String>>,
    /// Stored and used to sign in to the mail server; never returned.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub smtp_password: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub mail_from: Option<Option<String>>,
    /// `http(s)://host[:port][/path]`; `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub public_url: Option<Option<String>>,
    /// Role names (`admin`, `manager`, `rep`) that may override. Read as
    /// text, so an unknown name is a 422 naming it rather than a bad body.
    #[schema(value_type = Option<Vec<super::Role>>)]
    pub override_roles: Option<Vec<String>>,
    pub webhooks_allow_private: Option<bool>,
}

/// The roles that may override when the workspace has not chosen.
pub const DEFAULT_OVERRIDE_ROLES: [super::Role; 2] = [super::Role::Admin, super::Role::Manager];

impl Settings {
    /// Whether `role` may move a deal on with an `override_reason`.
    pub fn may_override(&self, role: super::Role) -> bool {
        self.override_roles.contains(&role)
    }

    /// Who may override, in words for a refusal: "admins and managers".
    pub fn override_who(&self) -> String {
        let names: Vec<String> = self.override_roles.iter().map(|r| format!("{}s", r.as_str())).collect();
        match names.as_slice() {
            [] => "nobody (the workspace setting `override_roles` is empty)".into(),
            [one] => one.clone(),
            [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
        }
    }
}

//! Workspace settings: one row per workspace.

use crate::currency::Currency;
use crate::time::{TimeZone, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    /// Whether marking a deal lost needs a lost reason.
    pub require_lost_reason: bool,
    /// Roles that may move a deal on with an `override_reason` (past open
    /// playbook steps or a pipeline's "no skipping stages").
    pub override_roles: Vec<super::Role>,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// Body of `PATCH /api/v1/settings`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    pub version: i64,
    pub name: Option<String>,
    pub time_zone: Option<String>,
    pub base_currency: Option<Currency>,
    pub exchange_rates: Option<BTreeMap<String, f64>>,
    pub working_days: Option<Vec<u8>>,
    pub require_lost_reason: Option<bool>,
    /// Role names (`admin`, `manager`, `rep`) that may override.
    pub override_roles: Option<Vec<String>>,
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

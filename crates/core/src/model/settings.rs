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
}

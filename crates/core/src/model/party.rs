//! Organizations and people.

use crate::time::Timestamp;
use crate::{OrganizationId, PersonId, UserId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A company a deal or person belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Organization {
    pub id: OrganizationId,
    pub name: String,
    /// Web domain, lower case, e.g. `acme.com`.
    pub domain: Option<String>,
    pub industry: Option<String>,
    pub employees: Option<i64>,
    /// ISO 3166 alpha-2 code or a country name.
    pub country: Option<String>,
    pub owner_id: Option<UserId>,
    #[schema(value_type = Object)]
    pub custom: Map<String, Value>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub deleted_at: Option<Timestamp>,
    pub version: i64,
}

/// Body of `POST /api/v1/organizations`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganization {
    pub name: String,
    pub domain: Option<String>,
    pub industry: Option<String>,
    pub employees: Option<i64>,
    pub country: Option<String>,
    pub owner_id: Option<UserId>,
    #[schema(value_type = Option<Object>)]
    pub custom: Option<Map<String, Value>>,
    pub created_at: Option<Timestamp>,
}

/// Body of `PATCH /api/v1/organizations/{id}`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationPatch {
    pub version: i64,
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub domain: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub industry: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<i64>)]
    pub employees: Option<Option<i64>>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub country: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<UserId>)]
    pub owner_id: Option<Option<UserId>>,
    #[schema(value_type = Option<Object>)]
    pub custom: Option<Map<String, Value>>,
}

/// A contact person.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Person {
    pub id: PersonId,
    pub name: String,
    /// E-mail addresses, lower case; the first is the primary one.
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub job_title: Option<String>,
    pub organization_id: Option<OrganizationId>,
    pub owner_id: Option<UserId>,
    /// Where the lead came from (inbound, outbound, referral, event, …).
    pub source: Option<String>,
    /// The person asked not to be e-mailed: dealflow sends them no
    /// automatic e-mail (such a playbook step fails with this reason).
    #[serde(default)]
    pub do_not_email: bool,
    /// Why: `hard bounce`, `spam complaint`, `unsubscribed` (from the
    /// e-mail provider's events) or `set by hand`.
    #[serde(default)]
    pub do_not_email_reason: Option<String>,
    /// Since when.
    #[serde(default)]
    pub do_not_email_at: Option<Timestamp>,
    #[schema(value_type = Object)]
    pub custom: Map<String, Value>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub deleted_at: Option<Timestamp>,
    pub version: i64,
}

/// Body of `POST /api/v1/people`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    pub name: String,
    /// At most 20.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub emails: Vec<String>,
    /// At most 20.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub phones: Vec<String>,
    pub job_title: Option<String>,
    pub organization_id: Option<OrganizationId>,
    pub owner_id: Option<UserId>,
    pub source: Option<String>,
    /// The person asked not to be e-mailed (default `false`).
    #[serde(default)]
    pub do_not_email: bool,
    #[schema(value_type = Option<Object>)]
    pub custom: Option<Map<String, Value>>,
    pub created_at: Option<Timestamp>,
}

/// Body of `PATCH /api/v1/people/{id}`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonPatch {
    pub version: i64,
    pub name: Option<String>,
    /// At most 20.
    #[schema(max_items = 20)]
    pub emails: Option<Vec<String>>,
    /// At most 20.
    #[schema(max_items = 20)]
    pub phones: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub job_title: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<OrganizationId>)]
    pub organization_id: Option<Option<OrganizationId>>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<UserId>)]
    pub owner_id: Option<Option<UserId>>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub source: Option<Option<String>>,
    pub do_not_email: Option<bool>,
    #[schema(value_type = Option<Object>)]
    pub custom: Option<Map<String, Value>>,
}

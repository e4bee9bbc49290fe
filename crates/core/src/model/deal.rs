//! Deals, their stage events and field history.

use crate::currency::Currency;
use crate::text_enum;
use crate::time::{Date, Timestamp};
use crate::{DealId, EventId, FormId, OrganizationId, PersonId, PipelineId, StageId, UserId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

text_enum!(
    /// Where a deal stands overall.
    DealStatus { Open = "open", Won = "won", Lost = "lost" }
);

text_enum!(
    /// What a stage event records.
    EventKind {
        /// The deal entered `stage_id` (at creation, by a move, or by a move
        /// to another pipeline).
        Enter = "enter",
        Won = "won",
        Lost = "lost",
        /// A won or lost deal became open again, in the stage it was in.
        Reopen = "reopen"
    }
);

text_enum!(
    /// How a stage event came to be: a deal worked now (`live`), history an
    /// admin loaded with a past time (`loaded`), or a file import
    /// (`imported`).
    EventOrigin { Live = "live", Loaded = "loaded", Imported = "imported" }
);

/// A deal: a potential sale moving through a pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Deal {
    pub id: DealId,
    pub title: String,
    /// Value in minor units of `currency` (cents for USD).
    pub value: i64,
    pub currency: Currency,
    pub contract_months: Option<i64>,
    pub pipeline_id: PipelineId,
    pub stage_id: StageId,
    pub status: DealStatus,
    pub lost_reason: Option<String>,
    /// Win probability override 0–100; the stage's applies when absent.
    pub probability: Option<i64>,
    pub expected_close_date: Option<Date>,
    pub owner_id: Option<UserId>,
    pub person_id: Option<PersonId>,
    pub organization_id: Option<OrganizationId>,
    /// Where the deal came from: outbound, inbound, self-serve, referral, …
    pub source: Option<String>,
    /// The intake form that brought the deal in, if one did.
    pub form_id: Option<FormId>,
    /// Values of the workspace's custom fields for deals, by key.
    #[schema(value_type = Object)]
    pub custom: Map<String, Value>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub closed_at: Option<Timestamp>,
    /// When the deal last entered its current stage.
    pub stage_entered_at: Timestamp,
    pub deleted_at: Option<Timestamp>,
    pub version: i64,
}

/// Body of `POST /api/v1/deals`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDeal {
    pub title: String,
    /// Minor units; 0 when absent.
    #[serde(default)]
    pub value: i64,
    /// The workspace's base currency when absent.
    pub currency: Option<Currency>,
    pub contract_months: Option<i64>,
    /// The first pipeline when absent.
    pub pipeline_id: Option<PipelineId>,
    /// The pipeline's first stage when absent.
    pub stage_id: Option<StageId>,
    /// Open when absent; a deal may be loaded already won or lost (history).
    pub status: Option<DealStatus>,
    pub lost_reason: Option<String>,
    pub probability: Option<i64>,
    pub expected_close_date: Option<Date>,
    /// The caller when absent.
    pub owner_id: Option<UserId>,
    pub person_id: Option<PersonId>,
    pub organization_id: Option<OrganizationId>,
    pub source: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub custom: Option<Map<String, Value>>,
    /// Historical creation time (not in the future); now when absent.
    pub created_at: Option<Timestamp>,
    /// For a deal loaded as won or lost: when; now when absent.
    pub closed_at: Option<Timestamp>,
    /// Creates the deal past the first stage of a pipeline that allows no
    /// skipping stages; recorded on its stage events. Only roles the
    /// workspace allows may give one.
    pub override_reason: Option<String>,
}

/// Body of `PATCH /api/v1/deals/{id}`. Every stage and outcome change goes
/// through [`crate::stage_move`].
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DealPatch {
    /// The version the caller last saw; a stale one gets 409.
    pub version: i64,
    pub title: Option<String>,
    pub value: Option<i64>,
    pub currency: Option<Currency>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<i64>)]
    pub contract_months: Option<Option<i64>>,
    /// Move to another pipeline (with `stage_id` in it, or its first stage).
    pub pipeline_id: Option<PipelineId>,
    pub stage_id: Option<StageId>,
    pub status: Option<DealStatus>,
    pub lost_reason: Option<String>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<i64>)]
    pub probability: Option<Option<i64>>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<Date>)]
    pub expected_close_date: Option<Option<Date>>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<UserId>)]
    pub owner_id: Option<Option<UserId>>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<PersonId>)]
    pub person_id: Option<Option<PersonId>>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<OrganizationId>)]
    pub organization_id: Option<Option<OrganizationId>>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub source: Option<Option<String>>,
    /// Keys to set; a `null` value clears that key.
    #[schema(value_type = Option<Object>)]
    pub custom: Option<Map<String, Value>>,
    /// When this change happened (history loading); now when absent. Not in
    /// the future, and not before the deal's latest stage event.
    pub at: Option<Timestamp>,
    /// Moves the deal forward although required playbook steps of its
    /// stage are open; the stage event records the reason, who and the
    /// open steps. Only roles the workspace allows may give one.
    pub override_reason: Option<String>,
}

/// One entry of the append-only stage log.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StageEvent {
    pub id: EventId,
    pub deal_id: DealId,
    pub kind: EventKind,
    pub pipeline_id: PipelineId,
    /// The stage entered, or the stage the deal was in when won/lost/reopened.
    pub stage_id: StageId,
    /// For `enter`: the stage left, if any.
    pub from_stage_id: Option<StageId>,
    pub lost_reason: Option<String>,
    pub at: Timestamp,
    pub user_id: Option<UserId>,
    /// Set when the move went past open required playbook steps: the
    /// reason the overriding user gave.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub override_reason: Option<String>,
    /// Who overrode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub override_by: Option<UserId>,
    /// The required steps that were open when the deal moved on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub override_steps: Vec<crate::playbook::OpenStep>,
    pub origin: EventOrigin,
}

/// A recorded change of one tracked deal field.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FieldChange {
    pub deal_id: DealId,
    /// One of [`TRACKED_FIELDS`].
    pub field: String,
    /// Any JSON value: a number, a string, an id (string) or null.
    pub old_value: Value,
    /// Like `old_value`.
    pub new_value: Value,
    pub at: Timestamp,
    pub user_id: Option<UserId>,
}

/// Deal fields whose every change is kept, so any past day can be rebuilt
/// (and the deal page's timeline shows each change, a rename too).
pub const TRACKED_FIELDS: &[&str] =
    &["value", "currency", "probability", "expected_close_date", "owner_id", "person_id", "organization_id", "title"];

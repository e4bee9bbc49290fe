//! Pipelines, their stages, and lost reasons.

use crate::text_enum;
use crate::time::Timestamp;
use crate::{LostReasonId, PipelineId, StageId};
use serde::{Deserialize, Serialize};

text_enum!(
    /// The role a stage plays in the metrics (docs/metrics.md "Milestones").
    Milestone { Conversation = "conversation", Meeting = "meeting", Proposal = "proposal" }
);

/// A named, ordered sequence of stages.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Pipeline {
    pub id: PipelineId,
    pub name: String,
    pub position: i64,
    pub archived: bool,
    /// Deals start in the first stage and move forward one stage at a time
    /// (won only from the last open stage); an override excepts.
    pub no_skipping_stages: bool,
    /// Where the forecast takes a deal's win probability from.
    pub forecast_source: ForecastSource,
    /// The weekly audit's day, ISO 1 (Monday) to 7; no schedule when absent.
    pub audit_weekday: Option<i64>,
    /// The weekly audit's time, `HH:MM` in the workspace's time zone
    /// (09:00 when absent).
    pub audit_time: Option<String>,
    /// Days without contact that raise an audit item's `no_contact_14d`.
    pub audit_no_contact_days: i64,
    /// The pipeline's stages in order, archived ones included.
    pub stages: Vec<Stage>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// One step of a pipeline.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Stage {
    pub id: StageId,
    pub pipeline_id: PipelineId,
    pub name: String,
    /// Order within the pipeline; lower comes first.
    pub position: i64,
    /// Configured win probability 0–100, used by the forecast.
    pub probability: Option<i64>,
    /// Days without contact after which a deal in this stage is rotting.
    pub rotting_days: Option<i64>,
    pub milestone: Option<Milestone>,
    pub archived: bool,
    pub version: i64,
}

/// Body of `POST /api/v1/pipelines`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPipeline {
    pub name: String,
    /// Stages to create with the pipeline, in order (at least one).
    pub stages: Vec<NewStage>,
}

/// Body of `PATCH /api/v1/pipelines/{id}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PipelinePatch {
    pub version: i64,
    pub name: Option<String>,
    pub position: Option<i64>,
    pub archived: Option<bool>,
    /// Turns the "no skipping stages" rule on or off.
    pub no_skipping_stages: Option<bool>,
    pub forecast_source: Option<ForecastSource>,
    /// The weekly audit's day, 1 (Monday) to 7; `null` turns the schedule off.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<i64>)]
    pub audit_weekday: Option<Option<i64>>,
    /// `HH:MM`; `null` means 09:00.
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub audit_time: Option<Option<String>>,
    pub audit_no_contact_days: Option<i64>,
}

text_enum!(
    /// Where the forecast takes the win probability of an open deal that
    /// has none of its own: `stage` (the stage's configured probability,
    /// else its conversion over the last 365 days) or `model` (the learned
    /// win probability; `stage` while the pipeline has fewer than 30 won or
    /// 30 lost deals in the last 365 days).
    ForecastSource { Stage = "stage", Model = "model" }
);

/// Body of `POST /api/v1/pipelines/{id}/stages` (and an element of
/// [`NewPipeline::stages`]).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStage {
    pub name: String,
    /// Where to put it; the end when absent.
    pub position: Option<i64>,
    pub probability: Option<i64>,
    pub rotting_days: Option<i64>,
    pub milestone: Option<Milestone>,
}

/// Body of `PATCH /api/v1/stages/{id}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StagePatch {
    pub version: i64,
    pub name: Option<String>,
    pub position: Option<i64>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<i64>)]
    pub probability: Option<Option<i64>>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<i64>)]
    pub rotting_days: Option<Option<i64>>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<Milestone>)]
    pub milestone: Option<Option<Milestone>>,
    pub archived: Option<bool>,
}

/// A reason a deal was lost, from the admin-managed list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LostReason {
    pub id: LostReasonId,
    pub label: String,
    pub position: i64,
    pub archived: bool,
    pub version: i64,
}

/// Body of `POST /api/v1/lost-reasons`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLostReason {
    pub label: String,
    pub position: Option<i64>,
}

/// Body of `PATCH /api/v1/lost-reasons/{id}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LostReasonPatch {
    pub version: i64,
    pub label: Option<String>,
    pub position: Option<i64>,
    pub archived: Option<bool>,
}

/// The default pipeline of a new workspace: name, stages with their milestone.
pub const DEFAULT_PIPELINE: (&str, &[(&str, Option<Milestone>)]) = (
    "Sales",
    &[
        ("Cold prospect", None),
        ("Conversation started", Some(Milestone::Conversation)),
        ("Demo booked", Some(Milestone::Meeting)),
        ("Proposal sent", Some(Milestone::Proposal)),
    ],
);

/// Lost reasons a new workspace starts with.
pub const DEFAULT_LOST_REASONS: &[&str] =
    &["No budget", "Chose a competitor", "No decision / went silent", "Not a fit", "Timing"];

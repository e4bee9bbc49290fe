//! Campaign membership: a person enrolled in a campaign, by a user or by a
//! playbook's campaign step ticked on a deal, until they leave it.

use crate::time::Timestamp;
use crate::{CampaignId, DealId, PersonId, StepId, UserId};
use serde::{Deserialize, Serialize};

/// One membership of a person in a campaign, current or ended.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CampaignMember {
    pub campaign_id: CampaignId,
    pub person_id: PersonId,
    /// The person's name, so a list needs no second lookup.
    pub person_name: String,
    /// Since when the person is a member.
    pub joined_at: Timestamp,
    /// Who added the person, or ticked the step that enrolled them.
    pub joined_by: Option<UserId>,
    /// The playbook step that enrolled the person, when one did.
    pub step_id: Option<StepId>,
    /// The deal whose step enrolled the person, when one did.
    pub deal_id: Option<DealId>,
    /// When the person left the campaign; absent while a member.
    pub left_at: Option<Timestamp>,
    pub left_by: Option<UserId>,
}

/// Body of `POST /api/v1/campaigns/{id}/members`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    pub person_id: PersonId,
}

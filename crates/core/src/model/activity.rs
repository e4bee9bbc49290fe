//! Activities, notes, campaigns and outreach messages: the context around
//! deals, and the facts the activity metrics read.

use crate::text_enum;
use crate::time::Timestamp;
use crate::{ActivityId, CampaignId, DealId, NoteId, OrganizationId, OutreachId, PersonId, UserId};
use serde::{Deserialize, Serialize};

text_enum!(
    /// What kind of activity.
    ActivityKind { Call = "call", Meeting = "meeting", Email = "email", Task = "task", Linkedin = "linkedin" }
);

text_enum!(
    /// The channel an outreach message went through.
    Channel { Email = "email", Linkedin = "linkedin", Call = "call", Other = "other" }
);

text_enum!(
    /// How a reply read.
    Sentiment { Positive = "positive", Neutral = "neutral", Negative = "negative" }
);

/// A call, meeting, e-mail, task or LinkedIn touch, planned or done.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Activity {
    pub id: ActivityId,
    pub kind: ActivityKind,
    pub subject: String,
    pub due_at: Option<Timestamp>,
    /// When it was done; open while absent.
    pub done_at: Option<Timestamp>,
    pub note: Option<String>,
    pub deal_id: Option<DealId>,
    pub person_id: Option<PersonId>,
    pub organization_id: Option<OrganizationId>,
    pub owner_id: Option<UserId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// Body of `POST /api/v1/activities`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewActivity {
    pub kind: Option<ActivityKind>,
    pub subject: String,
    pub due_at: Option<Timestamp>,
    pub done_at: Option<Timestamp>,
    pub note: Option<String>,
    pub deal_id: Option<DealId>,
    pub person_id: Option<PersonId>,
    pub organization_id: Option<OrganizationId>,
    pub owner_id: Option<UserId>,
    pub created_at: Option<Timestamp>,
}

/// Body of `PATCH /api/v1/activities/{id}`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityPatch {
    pub version: i64,
    pub kind: Option<ActivityKind>,
    pub subject: Option<String>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<Timestamp>)]
    pub due_at: Option<Option<Timestamp>>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<Timestamp>)]
    pub done_at: Option<Option<Timestamp>>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<String>)]
    pub note: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<DealId>)]
    pub deal_id: Option<Option<DealId>>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<PersonId>)]
    pub person_id: Option<Option<PersonId>>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<OrganizationId>)]
    pub organization_id: Option<Option<OrganizationId>>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<UserId>)]
    pub owner_id: Option<Option<UserId>>,
}

/// A Markdown note on a deal, person or organization.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Note {
    pub id: NoteId,
    /// Markdown source; rendered safely by the web app.
    pub body: String,
    pub deal_id: Option<DealId>,
    pub person_id: Option<PersonId>,
    pub organization_id: Option<OrganizationId>,
    /// Who wrote the note; an edit by someone else does not change it.
    pub author_id: Option<UserId>,
    pub pinned: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// When the body or pin was last changed; `None` if never.
    pub edited_at: Option<Timestamp>,
    /// Who made that last change (the author or an admin).
    pub edited_by: Option<UserId>,
    pub version: i64,
}

/// Body of `POST /api/v1/notes`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    pub body: String,
    pub deal_id: Option<DealId>,
    pub person_id: Option<PersonId>,
    pub organization_id: Option<OrganizationId>,
    #[serde(default)]
    pub pinned: bool,
    pub created_at: Option<Timestamp>,
}

/// Body of `PATCH /api/v1/notes/{id}`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotePatch {
    pub version: i64,
    pub body: Option<String>,
    pub pinned: Option<bool>,
}

/// A marketing or outreach campaign messages belong to.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Campaign {
    pub id: CampaignId,
    pub name: String,
    pub channel: Option<Channel>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// Body of `POST /api/v1/campaigns`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCampaign {
    pub name: String,
    pub channel: Option<Channel>,
    pub created_at: Option<Timestamp>,
}

/// Body of `PATCH /api/v1/campaigns/{id}`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignPatch {
    pub version: i64,
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<Channel>)]
    pub channel: Option<Option<Channel>>,
}

/// One message sent to a person, and its reply when one came.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OutreachMessage {
    pub id: OutreachId,
    pub person_id: PersonId,
    pub campaign_id: Option<CampaignId>,
    pub channel: Channel,
    pub sent_at: Timestamp,
    pub replied_at: Option<Timestamp>,
    pub sentiment: Option<Sentiment>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub deleted_at: Option<Timestamp>,
    pub version: i64,
}

/// Body of `POST /api/v1/outreach`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOutreachMessage {
    pub person_id: PersonId,
    pub campaign_id: Option<CampaignId>,
    pub channel: Option<Channel>,
    /// Not in the future; now when absent.
    pub sent_at: Option<Timestamp>,
    pub replied_at: Option<Timestamp>,
    pub sentiment: Option<Sentiment>,
}

/// Body of `PATCH /api/v1/outreach/{id}` (typically: a reply arrived).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutreachPatch {
    pub version: i64,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<CampaignId>)]
    pub campaign_id: Option<Option<CampaignId>>,
    pub channel: Option<Channel>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<Timestamp>)]
    pub replied_at: Option<Option<Timestamp>>,
    #[serde(default, deserialize_with = "crate::patch::double_option")]
    #[schema(value_type = Option<Sentiment>)]
    pub sentiment: Option<Option<Sentiment>>,
}

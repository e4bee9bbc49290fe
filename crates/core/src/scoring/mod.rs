//! Lead scoring: a model of explainable rules (fit, engagement, qualifying
//! questions), the thresholds that act on the score, and the named bands.
//!
//! The score of a deal is a ledger: every change is an appended entry
//! ([`ledger::Entry`]), and the total is derived from the entries at the
//! moment asked, with decay and caps applied then ([`ledger::score`]). What
//! the ledger should hold for a deal's facts is [`eval::desired`]; the store
//! appends the difference ([`ledger::diff`]) in the transaction of the fact.
//! The thresholds fire once per crossing ([`thresholds::step`]).

pub mod calibration;
pub mod check;
pub mod eval;
pub mod ledger;
#[cfg(test)]
mod tests;
pub mod thresholds;
pub mod winmodel;

use crate::model::{ActivityKind, Sentiment};
use crate::text_enum;
use crate::{CampaignId, StageId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use check::{Refs, check_model};

text_enum!(
    /// The three groups a score is made of.
    Group { Fit = "fit", Engagement = "engagement", Question = "question" }
);

text_enum!(
    /// How a fit rule compares its field.
    FitOp {
        Eq = "eq",
        OneOf = "one_of",
        Contains = "contains",
        Between = "between",
        IsSet = "is_set",
        IsEmpty = "is_empty"
    }
);

/// Declares the engagement events: named with a dot (`outreach.sent`),
/// which `text_enum!`'s snake_case renaming cannot spell.
macro_rules! dotted_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        // Written by hand: utoipa's derive does not see a `rename` that a
        // macro passes in.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                use utoipa::openapi::schema::{ObjectBuilder, Type};
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }
        impl utoipa::ToSchema for $name {}

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

dotted_enum!(
    /// The facts an engagement rule counts.
    EngagementEvent {
        OutreachSent = "outreach.sent",
        OutreachReplied = "outreach.replied",
        EmailOpened = "email.opened",
        EmailClicked = "email.clicked",
        EmailBounced = "email.bounced",
        EmailUnsubscribed = "email.unsubscribed",
        ActivityDone = "activity.done",
        StageReached = "stage.reached",
    }
);

text_enum!(
    /// What a disqualifying score does to the deal.
    DisqualifyAction { Flag = "flag", Lose = "lose" }
);

/// One rule of a model. The fields that apply depend on `group`; the
/// others stay absent ([`check_model`] says which belong where).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable within the model's versions; given by the server when absent.
    /// A question's id is the `question_id` its answers are stored under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub group: Group,
    /// Fit: the field (`value`, `source`, `custom.<key>`, `person.<field>`,
    /// `organization.<field>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<FitOp>,
    /// Fit: what `op` compares with (`[low, high]` for `between`, a list
    /// for `one_of`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = any_value)]
    pub value: Option<serde_json::Value>,
    /// Engagement: the fact counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<EngagementEvent>,
    /// Engagement on `outreach.replied`: only replies of this sentiment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentiment: Option<Sentiment>,
    /// Engagement on `activity.done`: only activities of this kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_kind: Option<ActivityKind>,
    /// Engagement on `stage.reached`: the stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_id: Option<StageId>,
    /// Points per match (fit) or per occurrence (engagement).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<f64>,
    /// Engagement: the most (in absolute value) the rule adds, after decay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<f64>,
    /// Engagement: an occurrence counts half after this many days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub half_life_days: Option<f64>,
    /// Question: its text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    /// Question: each answer and its points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answers: Option<BTreeMap<String, f64>>,
    /// Question: asked on the deal page from this stage on (always when
    /// absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_stage_id: Option<StageId>,
}

impl Rule {
    /// The rule's id; every stored rule has one ([`check_model`]).
    pub fn id(&self) -> &str {
        self.id.as_deref().unwrap_or("")
    }
}

/// A named score band: a deal is in the band with the highest `min` at or
/// below its total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub name: String,
    pub min: f64,
}

/// What the score does when it crosses a level. Each level fires once per
/// crossing and re-arms only after the score has moved `rearm_gap` back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Below this the deal is disqualified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disqualify_below: Option<f64>,
    /// `flag` (default) marks the deal; `lose` loses it with the lost
    /// reason "Disqualified (score)".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disqualify_action: Option<DisqualifyAction>,
    /// At or above this the deal's person is nurtured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nurture_at: Option<f64>,
    /// The campaign the person is enrolled in when `nurture_at` fires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nurture_campaign_id: Option<CampaignId>,
    /// Whether `nurture_at` also makes a task for the deal's owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nurture_task: Option<bool>,
    /// How far back the score must move before a level fires again
    /// (default [`DEFAULT_REARM_GAP`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rearm_gap: Option<f64>,
    /// Per stage (by id): the score a deal needs to move forward into it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub min_score: BTreeMap<StageId, f64>,
}

impl Thresholds {
    pub fn gap(&self) -> f64 {
        self.rearm_gap.unwrap_or(DEFAULT_REARM_GAP)
    }
}

/// The default hysteresis between firing and re-arming.
pub const DEFAULT_REARM_GAP: f64 = 10.0;
/// Points of one rule or answer lie within ± this.
pub const MAX_POINTS: f64 = 1000.0;
/// The most rules a model may hold.
pub const MAX_RULES: usize = 200;
/// The longest half-life: ten years.
pub const MAX_HALF_LIFE_DAYS: f64 = 3650.0;
/// The lost reason a `lose` disqualification records.
pub const DISQUALIFIED_REASON: &str = "Disqualified (score)";

/// The body of a model as it is edited and stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelBody {
    #[serde(default)]
    pub rules: Vec<Rule>,
    #[serde(default)]
    pub thresholds: Thresholds,
    #[serde(default)]
    pub bands: Vec<Band>,
}

impl ModelBody {
    /// The rule with this id.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id() == id)
    }

    /// The band of a total: the highest `min` at or below it.
    pub fn band(&self, total: f64) -> Option<&str> {
        self.bands.iter().filter(|b| total >= b.min).max_by(|a, b| a.min.total_cmp(&b.min)).map(|b| b.name.as_str())
    }
}

/// Any JSON value: a fit rule's `value` is a text, a number, a list or
/// `[low, high]`, depending on its `op`.
fn any_value() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::Object::with_type(utoipa::openapi::schema::SchemaType::AnyValue)
}

/// Deserializes a struct only from a JSON object: serde's derive would also
/// take a list of its fields in order, which no client means.
pub fn object_only<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let v = serde_json::Value::deserialize(d)?;
    if !v.is_object() {
        return Err(serde::de::Error::custom("expected an object"));
    }
    serde_json::from_value(v).map_err(serde::de::Error::custom)
}

/// [`object_only`] for a list of objects.
pub fn objects_only<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let v = Vec::<serde_json::Value>::deserialize(d)?;
    if v.iter().any(|x| !x.is_object()) {
        return Err(serde::de::Error::custom("expected a list of objects"));
    }
    v.into_iter().map(|x| serde_json::from_value(x).map_err(serde::de::Error::custom)).collect()
}

/// [`object_only`] for an optional field (`null` is none).
pub fn opt_object_only<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => Ok(None),
        v => object_only(v).map(Some).map_err(serde::de::Error::custom),
    }
}

/// [`objects_only`] for an optional field (`null` is none).
pub fn opt_objects_only<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => Ok(None),
        v => objects_only(v).map(Some).map_err(serde::de::Error::custom),
    }
}

/// Rounds a score figure to hundredths, the precision it is shown and
/// stored with, so sums of shown figures equal shown totals.
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

//! How many of each configuration record a workspace may hold. Their lists
//! (`/pipelines`, `/custom-fields`, `/lost-reasons`) are answered whole,
//! because every page that offers a choice needs all of them; these caps
//! are what keeps those answers bounded. They are far above what a sales
//! team configures; archived records count, since the lists show them too.

/// Pipelines, archived ones included.
pub const MAX_PIPELINES: i64 = 200;
/// Stages of one pipeline.
pub const MAX_STAGES: i64 = 50;
/// Custom fields over all entities, archived ones included.
pub const MAX_CUSTOM_FIELDS: i64 = 500;
/// Lost reasons, archived ones included.
pub const MAX_LOST_REASONS: i64 = 500;

/// The refusal when a list is full: `field` names the collection.
pub fn full(field: &str, what: &str, max: i64) -> crate::Invalid {
    crate::Invalid::one(field, format!("holds at most {max} {what}; archive and reuse one instead of adding more"))
}

//! The pure domain of dealflow: identifiers, money, time, the records a
//! workspace holds, and the rules that validate them. Nothing here does I/O,
//! so every rule can be unit- and property-tested in isolation; the store and
//! the server call into this crate and never re-implement a rule.

pub mod agenda;
pub mod currency;
pub mod custom_field;
pub mod deal_change;
pub mod error;
pub mod ids;
pub mod import;
pub mod limits;
pub mod metrics;
pub mod model;
pub mod patch;
pub mod pipeline_audit;
pub mod playbook;
pub mod scoring;
pub mod stage_move;
pub mod time;
pub mod validate;

pub use error::{FieldError, Invalid};
pub use ids::*;

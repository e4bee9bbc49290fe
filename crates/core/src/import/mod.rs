//! CSV import, the pure part: reading CSV, the mapping format and its
//! checks, turning a row into typed values, and deriving a deal's stage
//! history from its dates, and recognising other CRMs' exports. The store applies the result in one transaction
//! per file; see docs/import.md.

pub mod convert;
pub mod csv;
pub mod detect;
pub mod history;
pub mod mapping;
pub mod spec;

pub use convert::{Cell, Converter, RowError, RowValues};
pub use history::{HistoryPlan, plan_history};
pub use mapping::{CustomFieldSpec, Mapping, PipelineSpec, Target};
pub use spec::{CreateMissing, FieldSpec, FieldType, Lookup, RefKind, field_type};

use chrono::format::{Item, StrftimeItems};

/// Whether a chrono format string is well formed.
fn format_ok(f: &str) -> bool {
    !f.is_empty() && !StrftimeItems::new(f).any(|i| matches!(i, Item::Error))
}

//! The insights service's error: a bad parameter (the caller can fix it),
//! a store error passed through, or "too busy" when the heavy reads are all
//! taken. The API turns these into problem documents (422, the store's own
//! status, 503 with `Retry-After`); the CLI prints them.

use dealflow_core::Invalid;
use dealflow_store::StoreError;

/// Why a question could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum InsightsError {
    /// One or more parameters are wrong; each entry names the parameter and
    /// says what to do.
    #[error("invalid parameters: {0}")]
    Invalid(#[from] Invalid),
    /// The store failed (database away, configuration, …).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Every permit for heavy reads (forecast, backtest) is in use; retry
    /// after this many seconds.
    #[error("too many forecasts are being computed; retry in {retry_after_secs} s")]
    Busy { retry_after_secs: u64 },
}

impl InsightsError {
    /// An invalid-parameter error for one parameter.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        InsightsError::Invalid(Invalid::one(field, message))
    }
}

pub type InsightsResult<T> = Result<T, InsightsError>;

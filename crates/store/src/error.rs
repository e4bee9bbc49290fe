//! The store's error type. Each variant says which HTTP status the server
//! maps it to; database internals never reach a client.

use dealflow_core::Invalid;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// 404: the record does not exist (or is deleted, where that matters).
    #[error("{what} {id} does not exist")]
    NotFound { what: &'static str, id: String },
    /// 409: the caller's version is stale; `current` is the stored one.
    #[error(
        "the record was changed by someone else (current version {current}); reload it and apply your change again"
    )]
    Conflict { current: i64 },
    /// 409: a unique value is already taken.
    #[error("{field}: {message}")]
    Duplicate { field: String, message: String },
    /// 409: the operation conflicts with the record's state (e.g. a stage
    /// still referenced by history).
    #[error("{0}")]
    InUse(String),
    /// 422: input that breaks a rule, one message per field.
    #[error("{0}")]
    Invalid(Invalid),
    /// 503: the database cannot be reached right now.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// Start-up configuration problem (bad URL, unreachable server).
    #[error("{0}")]
    Config(String),
    /// 500: anything else; logged, never shown.
    #[error("database error: {0}")]
    Db(sqlx::Error),
}

impl StoreError {
    pub fn not_found(what: &'static str, id: impl ToString) -> Self {
        Self::NotFound { what, id: id.to_string() }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid(Invalid::one(field, message))
    }

    /// A failure to connect at start-up, worded for a human.
    pub(crate) fn connect(e: sqlx::Error) -> Self {
        Self::Config(format!("cannot connect: {e}"))
    }
}

impl From<Invalid> for StoreError {
    fn from(i: Invalid) -> Self {
        Self::Invalid(i)
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        use crate::dialect::{DbFailure, classify};
        match &e {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => Self::Unavailable(e.to_string()),
            sqlx::Error::Database(db) => match classify(db.as_ref()) {
                DbFailure::Unavailable => Self::Unavailable(e.to_string()),
                DbFailure::Duplicate { field } => Self::Duplicate {
                    field: field.into(),
                    message: "this value is already taken; choose another".into(),
                },
                DbFailure::MissingReference => Self::invalid("id", "refers to a record that does not exist"),
                // Text is checked before it reaches SQL (core::validate); this
                // is the backstop for a path that missed the check.
                DbFailure::BadText => Self::invalid(
                    "value",
                    "contains a character the database cannot store (such as NUL, U+0000); remove it",
                ),
                DbFailure::Other => Self::Db(e),
            },
            _ => Self::Db(e),
        }
    }
}

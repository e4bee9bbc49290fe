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
        match &e {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => Self::Unavailable(e.to_string()),
            // PostgreSQL reports a server going away as SQLSTATE class 08
            // (connection exception) or 57P01–57P03 (shutdown, cannot
            // connect now), and a transaction it aborted to keep
            // concurrent ones consistent as 40001/40P01: in each case
            // nothing was written and the request may be retried.
            sqlx::Error::Database(db)
                if db.code().is_some_and(|c| {
                    c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03" | "40001" | "40P01")
                }) =>
            {
                Self::Unavailable(e.to_string())
            }
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::Duplicate {
                field: unique_field(db.message()),
                message: "this value is already taken; choose another".into(),
            },
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                Self::invalid("id", "refers to a record that does not exist")
            }
            _ => Self::Db(e),
        }
    }
}

/// Best-effort name of the column a unique violation is about, from the
/// engine's message (`UNIQUE constraint failed: users.email` on SQLite,
/// `… "users_email_key"` on PostgreSQL).
fn unique_field(msg: &str) -> String {
    for f in ["email", "label", "field_key", "token_hash"] {
        if msg.contains(f) {
            return f.replace("field_key", "key");
        }
    }
    "value".into()
}

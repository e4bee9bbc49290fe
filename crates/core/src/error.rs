//! Validation errors: one message per offending field, so the API can answer
//! with an RFC 9457 problem document that tells the caller exactly what to fix.

use serde::Serialize;

/// One problem with one input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The JSON field name (dotted for nested fields, e.g. `custom.budget`).
    pub field: String,
    /// What is wrong and what would be accepted instead.
    pub message: String,
    /// The record the error is about, when it is not the request's own
    /// field: the id of an open playbook step (`field: "steps"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// That record's title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// A set of field errors; empty means valid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invalid(pub Vec<FieldError>);

impl Invalid {
    pub fn new() -> Self {
        Self::default()
    }

    /// Shorthand for a single-field error.
    pub fn one(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut i = Self::new();
        i.add(field, message);
        i
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError { field: field.into(), message: message.into(), id: None, title: None });
    }

    /// An error about a record the request did not name: the open step
    /// `id` titled `title`, reported under `field`.
    pub fn add_about(&mut self, field: &str, message: String, id: String, title: String) {
        self.0.push(FieldError { field: field.into(), message, id: Some(id), title: Some(title) });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when no error was collected, so validators can end with `?`.
    pub fn into_result(self) -> Result<(), Invalid> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }

    /// Collects the error of a parse step, returning its value when it succeeded.
    pub fn take<T>(&mut self, r: Result<T, Invalid>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.extend(e.0);
                None
            }
        }
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for Invalid {}

//! The API's error type and its RFC 9457 `application/problem+json` body.
//! Every variant says its status; 5xx details are logged, never sent.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use dealflow_core::{FieldError, Invalid};
use dealflow_insights::InsightsError;
use dealflow_store::StoreError;
use serde::Serialize;

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (relative to the API).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What went wrong and what to do about it.
    pub detail: String,
    /// One entry per offending field, for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For 409 on a stale version: the version currently stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request could not be read (bad JSON, bad query string).
    #[error("{0}")]
    BadRequest(String),
    /// 401: no valid credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: signed in, but not allowed (role, or missing CSRF token).
    #[error("{0}")]
    Forbidden(String),
    /// 404
    #[error("{0}")]
    NotFound(String),
    /// 413: body too large.
    #[error("{0}")]
    TooLarge(String),
    /// 502: a server dealflow talks to (the mail server) refused or could
    /// not be reached; the detail says what it said.
    #[error("{0}")]
    BadGateway(String),
    /// 503 with `Retry-After`: a bounded resource (heavy reads) is taken.
    #[error("{message}")]
    Busy { message: String, retry_after_secs: u64 },
    /// 429: too many failed sign-ins; `retry_after` seconds until the next try.
    #[error("{detail}")]
    TooManyRequests { detail: String, retry_after: u64 },
    /// 409 and 422 come from the store; 503 when the database is away.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<InsightsError> for ApiError {
    fn from(e: InsightsError) -> Self {
        match e {
            InsightsError::Invalid(i) => i.into(),
            InsightsError::Store(s) => ApiError::Store(s),
            InsightsError::Busy { retry_after_secs } => ApiError::Busy {
                message: format!(
                    "Too many forecasts are being computed right now; retry in {retry_after_secs} seconds."
                ),
                retry_after_secs,
            },
        }
    }
}

impl From<Invalid> for ApiError {
    fn from(i: Invalid) -> Self {
        ApiError::Store(StoreError::Invalid(i))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

fn problem(status: StatusCode, kind: &str, title: &str, detail: String) -> Problem {
    Problem {
        kind: format!("/problems/{kind}"),
        title: title.to_string(),
        status: status.as_u16(),
        detail,
        errors: Vec::new(),
        current_version: None,
    }
}

impl ApiError {
    pub fn to_problem(&self) -> Problem {
        use StatusCode as S;
        match self {
            ApiError::BadRequest(m) => problem(S::BAD_REQUEST, "bad-request", "Malformed request", m.clone()),
            ApiError::Unauthorized(m) => problem(S::UNAUTHORIZED, "unauthorized", "Not signed in", m.clone()),
            ApiError::Forbidden(m) => problem(S::FORBIDDEN, "forbidden", "Not allowed", m.clone()),
            ApiError::NotFound(m) => problem(S::NOT_FOUND, "not-found", "Not found", m.clone()),
            ApiError::TooLarge(m) => problem(S::PAYLOAD_TOO_LARGE, "too-large", "Request too large", m.clone()),
            ApiError::BadGateway(m) => problem(S::BAD_GATEWAY, "upstream", "The mail server refused", m.clone()),
            ApiError::Busy { message, .. } => problem(S::SERVICE_UNAVAILABLE, "busy", "Busy", message.clone()),
            ApiError::TooManyRequests { detail, .. } => {
                problem(S::TOO_MANY_REQUESTS, "too-many-attempts", "Too many attempts", detail.clone())
            }
            ApiError::Store(e) => match e {
                StoreError::NotFound { .. } => problem(S::NOT_FOUND, "not-found", "Not found", e.to_string()),
                StoreError::Conflict { current } => {
                    let mut p = problem(S::CONFLICT, "stale-version", "Stale version", e.to_string());
                    p.current_version = Some(*current);
                    p
                }
                StoreError::Duplicate { field, message } => {
                    let mut p = problem(S::CONFLICT, "duplicate", "Already exists", format!("{field}: {message}"));
                    p.errors.push(FieldError { field: field.clone(), message: message.clone(), id: None, title: None });
                    p
                }
                StoreError::InUse(m) => problem(S::CONFLICT, "in-use", "In use", m.clone()),
                StoreError::Invalid(i) => {
                    let mut p = problem(
                        S::UNPROCESSABLE_ENTITY,
                        "validation",
                        "Invalid input",
                        format!("The request has invalid fields: {i}"),
                    );
                    p.errors = i.0.clone();
                    p
                }
                StoreError::Unavailable(_) => problem(
                    S::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Database unavailable",
                    "The database cannot be reached right now; retry in a moment. Nothing was changed.".into(),
                ),
                StoreError::Config(_) | StoreError::Db(_) => problem(
                    S::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error",
                    "Something went wrong on the server; it has been logged.".into(),
                ),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let p = self.to_problem();
        if p.status >= 500 {
            tracing::error!(error = %self, "request failed");
        } else {
            tracing::debug!(error = %self, status = p.status, "request refused");
        }
        let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&p).unwrap_or_default();
        let mut resp = (status, [(header::CONTENT_TYPE, "application/problem+json")], body).into_response();
        let retry_after = match &self {
            ApiError::Busy { retry_after_secs, .. } => Some(*retry_after_secs),
            ApiError::TooManyRequests { retry_after, .. } => Some(*retry_after),
            _ => None,
        };
        if let Some(secs) = retry_after {
            resp.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        resp
    }
}

/// Fallback for unknown routes: a problem document, not an empty 404.
pub async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no route for {}; see /api/openapi.json for the API", uri.path()))
}

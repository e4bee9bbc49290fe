//! Request extractors whose rejections are problem documents: axum's own
//! `Json`, `Query` and `Path` answer in plain text, which API clients cannot
//! parse.

use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};

/// JSON body. A number written with a zero fraction (`12.0`) is read as
/// the integer it equals, since JSON Schema's `integer` (the OpenAPI
/// document's type) counts it as one.
pub struct Json<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let axum::Json(mut body) = axum::Json::<serde_json::Value>::from_request(req, state).await?;
        integral_floats(&mut body);
        serde_path_to_error::deserialize(body).map(Json).map_err(|e| {
            ApiError::BadRequest(format!(
                "the JSON body is not valid: Failed to deserialize the JSON body into the target type: {e}"
            ))
        })
    }
}

/// Turns every float with no fractional part within the range of `i64`
/// into that integer.
fn integral_floats(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|f| n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e18) {
                // In range by the filter, so the cast is exact.
                *n = serde_json::Number::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats),
        Value::Object(map) => map.values_mut().for_each(integral_floats),
        _ => {}
    }
}

/// Query string.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// Path parameters.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::MissingJsonContentType(_) => {
                ApiError::BadRequest("send the body as JSON with `Content-Type: application/json`".into())
            }
            JsonRejection::BytesRejection(b) if b.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::TooLarge("the body is larger than 1 MiB".into())
            }
            // serde's message names the field and what it expected.
            other => ApiError::BadRequest(format!("the JSON body is not valid: {}", other.body_text())),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::BadRequest(format!("the query string is not valid: {}", r.body_text()))
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::NotFound(format!("no such record: {}", r.body_text()))
    }
}

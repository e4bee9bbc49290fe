//! One pass over the collected document that states what is true of every
//! operation alike, so sixty annotations need not repeat it (and cannot
//! forget it):
//!
//! - every error response is an RFC 9457 problem document served as
//!   `application/problem+json` (what `ApiError` sends), never `application/json`;
//! - 400 everywhere: an unknown query parameter is refused on every operation
//!   (`query_params`), and a body that is not JSON, or a query string that does
//!   not parse, is a 400 too;
//! - 401 on every operation that needs credentials, 403 on every change (a
//!   session cookie without its CSRF token; role refusals are documented by
//!   the role table's own pass), 404 where the path names a record, 413 where
//!   a body is read (the 1 MiB limit);
//! - 500 and 503 everywhere: every operation reads the database, which may be
//!   away (503) or fail (500, logged);
//! - `Retry-After` on the 503 of the heavy reads and the 429 of sign-in.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};

/// The media type of every error response.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Applies the uniform facts to every operation of `doc`.
pub fn apply(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let ops = [
            ("get", &mut item.get),
            ("post", &mut item.post),
            ("put", &mut item.put),
            ("patch", &mut item.patch),
            ("delete", &mut item.delete),
        ];
        for (method, op) in ops {
            if let Some(op) = op {
                operation(path, method, op);
            }
        }
    }
}

fn operation(path: &str, method: &str, op: &mut Operation) {
    let public = op.security.as_ref().is_some_and(|s| s.iter().any(is_empty_requirement));
    let has_path_param =
        op.parameters.iter().flatten().any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Path));
    let change = method != "get";
    let reads_body = op.request_body.is_some();
    ensure(
        op,
        400,
        "The request could not be read: an unknown query parameter, a query string or body that does not parse, or a body sent without `Content-Type: application/json`.",
    );
    if !public {
        ensure(op, 401, "No valid credentials: send `Authorization: Bearer <token>` or a session cookie.");
    }
    if change && !public {
        ensure(
            op,
            403,
            "Not allowed: a change made with a session cookie must carry the session's `x-csrf-token` header.",
        );
    }
    if op.parameters.iter().flatten().any(|p| matches!(p, RefOr::T(p) if p.name == "limit")) {
        ensure(op, 422, "A parameter is out of range (`limit` is 1–500).");
    }
    if has_path_param {
        ensure(op, 404, "No such record.");
    }
    if reads_body {
        ensure(op, 413, "The body is larger than 1 MiB.");
    }
    ensure(op, 500, "Something went wrong on the server; it has been logged.");
    ensure(op, 503, "The database cannot be reached right now; retry in a moment. Nothing was changed.");
    if path.ends_with("/forecast") {
        retry_after(op, 503, "Seconds until a forecast slot is likely free (when too many are being computed).");
    }
    if path.ends_with("/auth/login") {
        ensure(op, 429, "Too many failed sign-ins for this account or address; wait before trying again.");
        retry_after(op, 429, "Seconds until the next sign-in attempt is allowed.");
    }
    for (status, resp) in op.responses.responses.iter_mut() {
        if status.starts_with('4') || status.starts_with('5') {
            problem_content(resp);
        }
    }
}

fn is_empty_requirement(r: &utoipa::openapi::security::SecurityRequirement) -> bool {
    serde_json::to_value(r).is_ok_and(|v| v.as_object().is_some_and(|o| o.is_empty()))
}

/// Adds a problem response for `status` unless the operation documents it.
fn ensure(op: &mut Operation, status: u16, description: &str) {
    op.responses
        .responses
        .entry(status.to_string())
        .or_insert_with(|| ResponseBuilder::new().description(description).into());
}

/// Makes an error response's body a problem document, whatever the
/// annotation said its media type was.
fn problem_content(resp: &mut RefOr<Response>) {
    let RefOr::T(resp) = resp else { return };
    resp.content.clear();
    let schema = RefOr::Ref(Ref::from_schema_name("Problem"));
    resp.content.insert(PROBLEM_JSON.to_string(), ContentBuilder::new().schema(Some(schema)).into());
}

fn retry_after(op: &mut Operation, status: u16, description: &str) {
    if let Some(RefOr::T(resp)) = op.responses.responses.get_mut(&status.to_string()) {
        let schema = ObjectBuilder::new().schema_type(SchemaType::Type(Type::Integer)).minimum(Some(0)).build();
        let header = HeaderBuilder::new().schema(Some(schema)).description(Some(description)).build();
        resp.headers.insert("Retry-After".to_string(), header.into());
    }
}

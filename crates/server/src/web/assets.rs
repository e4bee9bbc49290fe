//! The stylesheet and script, embedded in the binary and served with a
//! content hash in the URL so browsers may cache them for a year.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

pub const CSS: &str = include_str!("../../static/app.css");
pub const JS: &str = include_str!("../../static/app.js");

/// Short content hash appended to asset URLs (`/static/app.css?v=…`).
pub fn version() -> &'static str {
    static V: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    V.get_or_init(|| crate::auth::sha256_hex(&format!("{CSS}{JS}"))[..10].to_string())
}

pub async fn serve(Path(file): Path<String>) -> Response {
    let (body, mime) = match file.as_str() {
        "app.css" => (CSS, "text/css; charset=utf-8"),
        "app.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return (StatusCode::NOT_FOUND, "no such file").into_response(),
    };
    ([(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, "public, max-age=31536000, immutable")], body)
        .into_response()
}

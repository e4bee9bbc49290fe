//! The stylesheet and script, embedded in the binary and served with a
//! content hash in the URL so browsers may cache them for a year.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

pub const CSS: &str = include_str!("../../static/app.css");
pub const JS: &str = include_str!("../../static/app.js");

/// Every file under `/static/`: the shared stylesheet and script, plus one
/// script or stylesheet per area of the app that only its pages load.
const FILES: &[(&str, &str)] = &[
    ("app.css", CSS),
    ("app.js", JS),
    ("deal.css", include_str!("../../static/deal.css")),
    ("deal.js", include_str!("../../static/deal.js")),
    ("deal-merge.js", include_str!("../../static/deal-merge.js")),
    ("lists.css", include_str!("../../static/lists.css")),
    ("lists.js", include_str!("../../static/lists.js")),
    ("admin.css", include_str!("../../static/admin.css")),
    ("admin.js", include_str!("../../static/admin.js")),
    ("quickadd.js", include_str!("../../static/quickadd.js")),
    ("quickadd.css", include_str!("../../static/quickadd.css")),
    ("insights.css", include_str!("../../static/insights.css")),
    ("board-steps.js", include_str!("../../static/board-steps.js")),
    ("steps.js", include_str!("../../static/steps.js")),
    ("scoring.js", include_str!("../../static/scoring.js")),
    ("scoring-form.js", include_str!("../../static/scoring-form.js")),
    ("review.js", include_str!("../../static/review.js")),
    ("review.css", include_str!("../../static/review.css")),
];

/// Short content hash appended to asset URLs (`/static/app.css?v=…`).
/// The body of a static file, by name (`app.css`).
pub fn file(name: &str) -> Option<&'static str> {
    FILES.iter().find(|(n, _)| *n == name).map(|(_, body)| *body)
}

pub fn version() -> &'static str {
    static V: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    V.get_or_init(|| {
        crate::auth::sha256_hex(&FILES.iter().map(|(_, body)| *body).collect::<String>())[..10].to_string()
    })
}

/// The site's icon, which browsers ask for on every page.
pub async fn favicon() -> Response {
    let icon: &'static [u8] = include_bytes!("../../static/favicon.ico");
    ([(header::CONTENT_TYPE, "image/x-icon"), (header::CACHE_CONTROL, "public, max-age=86400")], icon).into_response()
}

pub async fn serve(Path(file): Path<String>) -> Response {
    let Some((_, body)) = FILES.iter().find(|(name, _)| *name == file) else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let mime = if file.ends_with(".css") { "text/css; charset=utf-8" } else { "text/javascript; charset=utf-8" };
    ([(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, "public, max-age=31536000, immutable")], *body)
        .into_response()
}

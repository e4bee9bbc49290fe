//! The dealflow HTTP server: the JSON API under `/api/v1`, its OpenAPI
//! document at `/api/openapi.json`, authentication, and `/healthz`.
//!
//! Routes and their documentation come from the same registrations
//! (utoipa-axum's `OpenApiRouter`), so no route exists without an entry in
//! the document, and tests walk the document to reach every route.

pub mod api;
pub mod auth;
pub mod demo;
pub mod error;
pub mod export;
pub mod extract;
pub mod ingest;
pub mod intake;
pub mod jobs;
pub mod mail;
pub mod openapi;
pub mod query_params;
pub mod security_headers;
pub mod web;
pub mod webhooks;

/// The insights service (its own crate, below the server), under the name
/// the handlers and pages have always used.
pub use dealflow_insights as insights;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use dealflow_store::Store;
use std::sync::Arc;
use tower_http::trace::TraceLayer;

/// Server configuration that handlers read.
#[derive(Debug, Clone)]
pub struct Config {
    /// Mark the session cookie `Secure` (set when served behind HTTPS).
    pub secure_cookies: bool,
    /// How long a browser session lasts.
    pub session_days: i64,
    /// Forecasts and backtests computed at once; more wait up to
    /// `heavy_wait`, then get 503 with `Retry-After`.
    pub heavy_reads: usize,
    pub heavy_wait: std::time::Duration,
    /// Record exports read at once (each holds a database page and an
    /// encoder while it runs); more wait up to `heavy_wait`, then get 503.
    pub export_streams: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            session_days: 14,
            heavy_reads: insights::DEFAULT_HEAVY_READS,
            heavy_wait: insights::DEFAULT_HEAVY_WAIT,
            export_streams: DEFAULT_EXPORT_STREAMS,
        }
    }
}

/// Record exports run at once unless configured otherwise.
pub const DEFAULT_EXPORT_STREAMS: usize = 4;

/// Shared state of every request.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    /// The bound on concurrent forecasts and backtests, shared by the API and the pages.
    pub heavy: insights::HeavyReads,
    /// The bound on concurrent record exports.
    pub exports: insights::HeavyReads,
    /// Failed sign-ins of this process, by account and client address.
    pub throttle: Arc<auth::LoginThrottle>,
    /// Set once the HTTPS-without-secure-cookies warning has been logged.
    pub warned_insecure: Arc<std::sync::atomic::AtomicBool>,
    /// Intake-form submissions of this process, by client address.
    pub intake: Arc<intake::RateLimit>,
}

impl AppState {
    pub fn new(store: Store, config: Config) -> Self {
        let heavy = insights::HeavyReads::new(config.heavy_reads, config.heavy_wait);
        let exports = insights::HeavyReads::new(config.export_streams, config.heavy_wait);
        Self {
            store,
            config: Arc::new(config),
            heavy,
            exports,
            throttle: Arc::new(auth::LoginThrottle::new()),
            warned_insecure: Arc::default(),
            intake: Arc::default(),
        }
    }
}

/// Largest request body accepted: imports use the CLI, so 1 MiB is plenty.
const BODY_LIMIT: usize = 1024 * 1024;

/// Builds the whole application router.
pub fn app(state: AppState) -> Router {
    let (api, doc) = api::router().split_for_parts();
    let doc = Arc::new(openapi::finish(doc));
    let known = Arc::new(query_params::KnownParams::from_doc(&doc));
    let api = api.layer(axum::middleware::from_fn_with_state(known, query_params::check));
    let guard = auth::role_guard::Guard::new(state.clone(), &doc);
    let api = api.layer(axum::middleware::from_fn_with_state(guard, auth::role_guard::check));
    Router::new()
        .merge(api)
        .merge(openapi::router(doc))
        .merge(web::router())
        .route("/healthz", axum::routing::get(healthz))
        .fallback(error::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(state.clone(), security_headers::add))
        .layer(compression())
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
            }),
        )
        .with_state(state)
}

/// gzip or brotli, as the client asks, for every text response: pages,
/// styles, scripts, JSON and CSV. Level 4 of either costs a few
/// milliseconds on the largest page (the default brotli level, 11, costs
/// tens); XLSX files and images are compressed already, and small bodies
/// are not worth it.
fn compression() -> tower_http::compression::CompressionLayer<impl tower_http::compression::Predicate> {
    use tower_http::compression::predicate::{NotForContentType, Predicate as _};
    use tower_http::compression::{CompressionLayer, CompressionLevel, DefaultPredicate};
    let predicate = DefaultPredicate::new()
        .and(NotForContentType::const_new("application/vnd.openxmlformats"))
        .and(NotForContentType::const_new("application/zip"));
    CompressionLayer::new().quality(CompressionLevel::Precise(4)).compress_when(predicate)
}

/// Liveness: answers without auth while the process runs.
async fn healthz(axum::extract::State(st): axum::extract::State<AppState>) -> axum::response::Response {
    use axum::response::IntoResponse;
    match sqlx_ping(&st.store).await {
        true => (axum::http::StatusCode::OK, "ok").into_response(),
        false => (axum::http::StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response(),
    }
}

async fn sqlx_ping(store: &Store) -> bool {
    store.settings().await.is_ok()
}

/// Serves `app` on `listener` until `shutdown` resolves, then finishes the
/// requests in flight. Handlers can read the peer's socket address
/// (`ConnectInfo<SocketAddr>`), which sign-in throttling counts by.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service).with_graceful_shutdown(shutdown).await
}

//! `/api/v1/connections`: connections to e-mail providers (admins manage
//! them, managers read them), each shown with the URLs to paste into the
//! provider. The endpoints providers post to are in `ingest/`.

use super::forms::base_url;
use super::{Page, PageQuery};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Path, Query};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use dealflow_core::ConnectionId;
use dealflow_store::{Connection, ConnectionPatch, ConnectionWithSecrets, NewConnection, Provider};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_connections, create_connection)).routes(routes!(
        get_connection,
        update_connection,
        delete_connection
    ))
}

/// A connection with the addresses its provider posts to.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionOut {
    #[serde(flatten)]
    pub connection: Connection,
    /// Paste into the provider's event webhook settings.
    pub ingest_url: String,
    /// Paste into the provider's inbound parse (replies) settings.
    pub inbound_url: String,
}

/// The answer to a create or a change of material: the secrets are shown
/// this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionCreated {
    #[serde(flatten)]
    pub connection: ConnectionOut,
    /// Mailgun: the HTTP webhook signing key.
    pub signing_key: Option<String>,
    /// Postmark: the basic-auth password.
    pub password: Option<String>,
    /// Brevo and SendGrid inbound: the token (`?token=`); generic: the
    /// `whsec_…` signing secret.
    pub secret: Option<String>,
}

/// The URLs of a connection. For Postmark the basic-auth credentials go
/// into the URL the admin pastes, which the answer cannot show after the
/// create; the docs say how.
fn out(st: &AppState, headers: &HeaderMap, c: Connection) -> ConnectionOut {
    let base = format!("{}/ingest/{}", base_url(st, headers), c.id);
    let inbound = format!("{base}/inbound");
    ConnectionOut { ingest_url: base, inbound_url: inbound, connection: c }
}

fn created(st: &AppState, headers: &HeaderMap, c: ConnectionWithSecrets) -> ConnectionCreated {
    let mut out = out(st, headers, c.connection);
    // Providers that take the secret in the URL get it filled in, once.
    if let Some(s) = c.secret.as_deref().filter(|_| out.connection.provider != Provider::Generic) {
        if out.connection.provider == Provider::Brevo {
            out.ingest_url = format!("{}?token={s}", out.ingest_url);
        }
        out.inbound_url = format!("{}?token={s}", out.inbound_url);
    }
    ConnectionCreated { connection: out, signing_key: c.signing_key, password: c.password, secret: c.secret }
}

/// Connections, newest first, with their status (events received, refused
/// requests, the last failure).
#[utoipa::path(get, path = "/connections", tag = "connections", params(PageQuery),
    responses((status = 200, body = Page<ConnectionOut>), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 422, body = Problem)))]
async fn list_connections(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(pq): Query<PageQuery>,
) -> ApiResult<Json<Page<ConnectionOut>>> {
    let list = st.store.connections(pq.page()?).await?;
    let items = list.items.into_iter().map(|c| out(&st, &headers, c)).collect();
    Ok(Json(Page { items, next_cursor: list.next_cursor }))
}

/// Connect an e-mail provider (admins): `provider` and its verification
/// material — `public_key` for SendGrid (required), `signing_key` for
/// Mailgun, `username` and `password` for Postmark, `secret` for Brevo and
/// generic; what is absent is generated and shown in this answer only.
#[utoipa::path(post, path = "/connections", tag = "connections", request_body = NewConnection,
    responses((status = 201, body = ConnectionCreated), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 422, body = Problem)))]
async fn create_connection(
    State(st): State<AppState>,
    u: CurrentUser,
    headers: HeaderMap,
    Json(n): Json<NewConnection>,
) -> ApiResult<(StatusCode, Json<ConnectionCreated>)> {
    let made = st.store.create_connection(&u.actor(), n).await?;
    Ok((StatusCode::CREATED, Json(created(&st, &headers, made))))
}

/// One connection.
#[utoipa::path(get, path = "/connections/{id}", tag = "connections", params(("id" = ConnectionId, Path)),
    responses((status = 200, body = ConnectionOut), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_connection(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<ConnectionId>,
) -> ApiResult<Json<ConnectionOut>> {
    Ok(Json(out(&st, &headers, st.store.connection(id).await?)))
}

/// Change a connection (admins): its name, campaign, or material (only
/// what its provider uses); `version` is the one read.
#[utoipa::path(patch, path = "/connections/{id}", tag = "connections", params(("id" = ConnectionId, Path)),
    request_body = ConnectionPatch,
    responses((status = 200, body = ConnectionCreated), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_connection(
    State(st): State<AppState>,
    u: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<ConnectionId>,
    Json(p): Json<ConnectionPatch>,
) -> ApiResult<Json<ConnectionCreated>> {
    Ok(Json(created(&st, &headers, st.store.update_connection(&u.actor(), id, p).await?)))
}

/// Delete a connection (admins); the events it brought in stay.
#[utoipa::path(delete, path = "/connections/{id}", tag = "connections", params(("id" = ConnectionId, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn delete_connection(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<ConnectionId>,
) -> ApiResult<StatusCode> {
    st.store.delete_connection(&u.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

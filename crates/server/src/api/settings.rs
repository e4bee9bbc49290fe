//! `/api/v1/settings`: the workspace's name, time zone, base currency,
//! exchange rates, working days and lost-reason rule.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiResult, Problem};
use crate::extract::Json;
use axum::extract::State;
use dealflow_core::model::{Settings, SettingsPatch};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_settings, update_settings))
}

/// The workspace settings.
#[utoipa::path(get, path = "/settings", tag = "settings",
    responses((status = 200, body = Settings), (status = 401, body = Problem)))]
async fn get_settings(State(st): State<AppState>, _u: CurrentUser) -> ApiResult<Json<Settings>> {
    Ok(Json(st.store.settings().await?))
}

/// Change the workspace settings (admins).
#[utoipa::path(patch, path = "/settings", tag = "settings", request_body = SettingsPatch,
    responses((status = 200, body = Settings), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_settings(
    State(st): State<AppState>,
    u: CurrentUser,
    Json(p): Json<SettingsPatch>,
) -> ApiResult<Json<Settings>> {
    Ok(Json(st.store.update_settings(&u.actor(), p).await?))
}

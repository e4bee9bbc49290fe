//! E-mail over HTTP: the "send test e-mail" action of the SMTP settings
//! (admins), and "send now" for an automatic playbook e-mail that waits.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, Path};
use crate::mail::{Mail, SendError, send};
use axum::extract::State;
use dealflow_core::playbook::view::ChecklistItem;
use dealflow_core::validate::email;
use dealflow_core::{DealId, Invalid, StepId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(test_email)).routes(routes!(send_step_now))
}

/// Body of `POST /api/v1/settings/test-email`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestEmail {
    /// Where to send the test e-mail.
    pub to: String,
}

/// What a sent test e-mail answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestEmailSent {
    pub sent: bool,
    pub to: String,
}

/// Send a test e-mail now through the configured mail server (admins):
/// 200 when the server accepted it; 422 when the settings lack a server or
/// sender, or `to` is not an address; 502 with what the server said when
/// it refused or could not be reached.
#[utoipa::path(post, path = "/settings/test-email", tag = "settings", request_body = TestEmail,
    responses((status = 200, body = TestEmailSent), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem), (status = 502, body = Problem)))]
async fn test_email(
    State(st): State<AppState>,
    _u: CurrentUser,
    Json(b): Json<TestEmail>,
) -> ApiResult<Json<TestEmailSent>> {
    let to = email("to", &b.to)?;
    let cfg = match st.store.smtp_config().await? {
        Ok(cfg) => cfg,
        Err(why) => {
            let field = if st.store.settings().await?.mail.smtp_host.is_none() { "smtp_host" } else { "mail_from" };
            return Err(Invalid::one(field, why).into());
        }
    };
    let workspace = st.store.settings().await?.name;
    let body = format!(
        "This is a test e-mail from dealflow ({workspace}).\n\nThe mail server {}:{} accepted it, so playbook \
         e-mails will go out through it.\n",
        cfg.host, cfg.port
    );
    let mail = Mail { to: &to, subject: "dealflow test e-mail", body: &body, message_id: None };
    match send(&cfg, &mail).await {
        Ok(()) => Ok(Json(TestEmailSent { sent: true, to })),
        Err(SendError::Invalid(why)) => Err(Invalid::one("to", why).into()),
        Err(SendError::Server(why)) => Err(ApiError::BadGateway(why)),
    }
}

/// Send an automatic e-mail step of the deal's current stage now: one that
/// waits (its due time passed before the step existed, or it waits for a
/// meeting) or failed gets a send job due now. 409 when it was sent or
/// skipped; 422 for a step of another stage or not an automatic e-mail.
/// Answers the checklist.
#[utoipa::path(post, path = "/deals/{id}/steps/{step_id}/send", tag = "playbooks",
    params(("id" = DealId, Path), ("step_id" = StepId, Path)),
    responses((status = 200, body = Vec<ChecklistItem>), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn send_step_now(
    State(st): State<AppState>,
    u: CurrentUser,
    Path((id, step)): Path<(DealId, StepId)>,
) -> ApiResult<Json<Vec<ChecklistItem>>> {
    st.store.send_step_now(&u.actor(), id, step).await?;
    Ok(Json(st.store.deal_checklist(id).await?))
}

//! `/api/v1/forms`: intake forms for self-serve sign-ups (admins manage
//! them, managers read them), with the embeddable snippet and the recent
//! submissions. The public endpoint a form posts to is `intake.rs`.

use super::{Page, PageQuery};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Path, Query};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use dealflow_core::FormId;
use dealflow_store::{Form, FormPatch, FormSubmission, NewForm};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_forms, create_form))
        .routes(routes!(get_form, update_form, delete_form))
        .routes(routes!(list_submissions))
}

/// A form with where it posts and the HTML to embed.
#[derive(Debug, Serialize, ToSchema)]
pub struct FormOut {
    #[serde(flatten)]
    pub form: Form,
    /// The absolute URL of the public endpoint.
    pub endpoint: String,
    /// A plain HTML form to paste into a web page: it posts across origins
    /// to `endpoint` (no script, no iframe), with the spam trap hidden.
    pub snippet: String,
}

/// The answer to a create: the form, and its secret (shown once) for a
/// billing system's paid sign-ups.
#[derive(Debug, Serialize, ToSchema)]
pub struct FormCreated {
    #[serde(flatten)]
    pub form: FormOut,
    /// Send it as `X-Form-Secret` to record a paid sign-up as won.
    pub secret: String,
}

/// The server's own address as the request reached it, for links that
/// other sites use.
pub(crate) fn base_url(st: &AppState, headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let scheme = if st.config.secure_cookies { "https" } else { "http" };
    format!("{scheme}://{host}")
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The embeddable HTML of a form posting to `endpoint`.
pub fn snippet(form: &Form, endpoint: &str) -> String {
    let mut out = format!("<form method=\"post\" action=\"{}\" accept-charset=\"utf-8\">\n", escape(endpoint));
    for f in &form.fields {
        let (label, kind, auto) = match f.as_str() {
            "name" => ("Name", "text", "name"),
            "email" => ("E-mail", "email", "email"),
            "phone" => ("Phone", "tel", "tel"),
            "company" => ("Company", "text", "organization"),
            "job_title" => ("Job title", "text", "organization-title"),
            _ => ("Message", "textarea", "off"),
        };
        let required = if f == "email" { " required" } else { "" };
        if kind == "textarea" {
            out.push_str(&format!("  <label>{label} <textarea name=\"{f}\"></textarea></label>\n"));
        } else {
            out.push_str(&format!(
                "  <label>{label} <input name=\"{f}\" type=\"{kind}\" autocomplete=\"{auto}\"{required}></label>\n"
            ));
        }
    }
    // The spam trap: people never see or fill it; bots that fill every
    // field do, and their post is answered as usual and dropped.
    out.push_str(
        "  <input name=\"website\" tabindex=\"-1\" autocomplete=\"off\" aria-hidden=\"true\" \
         style=\"position:absolute;left:-10000px\">\n",
    );
    out.push_str("  <button type=\"submit\">Sign up</button>\n</form>\n");
    out
}

fn out(st: &AppState, headers: &HeaderMap, form: Form) -> FormOut {
    let endpoint = format!("{}/f/{}", base_url(st, headers), form.key);
    FormOut { snippet: snippet(&form, &endpoint), endpoint, form }
}

/// Intake forms, newest first.
#[utoipa::path(get, path = "/forms", tag = "forms", params(PageQuery),
    responses((status = 200, body = Page<FormOut>), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 422, body = Problem)))]
async fn list_forms(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(pq): Query<PageQuery>,
) -> ApiResult<Json<Page<FormOut>>> {
    let list = st.store.forms(pq.page()?).await?;
    let items = list.items.into_iter().map(|f| out(&st, &headers, f)).collect();
    Ok(Json(Page { items, next_cursor: list.next_cursor }))
}

/// Create an intake form (admins): which fields (default `name` and
/// `email`), which pipeline and stage (default its first), who owns the
/// deals (`round_robin` by default, or `fixed` with `owner_id`), and the
/// `source` they get. The answer carries the public `key`, the snippet and
/// the `secret` for paid sign-ups (shown once).
#[utoipa::path(post, path = "/forms", tag = "forms", request_body = NewForm,
    responses((status = 201, body = FormCreated), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 422, body = Problem)))]
async fn create_form(
    State(st): State<AppState>,
    u: CurrentUser,
    headers: HeaderMap,
    Json(n): Json<NewForm>,
) -> ApiResult<(StatusCode, Json<FormCreated>)> {
    let made = st.store.create_form(&u.actor(), n).await?;
    Ok((StatusCode::CREATED, Json(FormCreated { form: out(&st, &headers, made.form), secret: made.secret })))
}

/// One form, with its snippet.
#[utoipa::path(get, path = "/forms/{id}", tag = "forms", params(("id" = FormId, Path)),
    responses((status = 200, body = FormOut), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_form(State(st): State<AppState>, headers: HeaderMap, Path(id): Path<FormId>) -> ApiResult<Json<FormOut>> {
    Ok(Json(out(&st, &headers, st.store.form(id).await?)))
}

/// Change a form (admins); `version` is the one read. Its pipeline and
/// stage stay as created.
#[utoipa::path(patch, path = "/forms/{id}", tag = "forms", params(("id" = FormId, Path)), request_body = FormPatch,
    responses((status = 200, body = FormOut), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_form(
    State(st): State<AppState>,
    u: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<FormId>,
    Json(p): Json<FormPatch>,
) -> ApiResult<Json<FormOut>> {
    Ok(Json(out(&st, &headers, st.store.update_form(&u.actor(), id, p).await?)))
}

/// Delete a form (admins); the people and deals it made stay.
#[utoipa::path(delete, path = "/forms/{id}", tag = "forms", params(("id" = FormId, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn delete_form(State(st): State<AppState>, u: CurrentUser, Path(id): Path<FormId>) -> ApiResult<StatusCode> {
    st.store.delete_form(&u.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A form's accepted submissions, newest first: what each did (`created`,
/// `existing`, `paid`) and the person and deal. Spam is not kept.
#[utoipa::path(get, path = "/forms/{id}/submissions", tag = "forms", params(("id" = FormId, Path), PageQuery),
    responses((status = 200, body = Page<FormSubmission>), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn list_submissions(
    State(st): State<AppState>,
    Path(id): Path<FormId>,
    Query(pq): Query<PageQuery>,
) -> ApiResult<Json<Page<FormSubmission>>> {
    Ok(Json(st.store.form_submissions(id, pq.page()?).await?.into()))
}

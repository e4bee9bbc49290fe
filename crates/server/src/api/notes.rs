//! `/api/v1/notes`: Markdown notes on a deal, person or organization,
//! written by the caller. Only a note's author or an admin may edit or
//! delete it; an edit records its editor, and deletion is soft.

use super::{Page, PageQuery};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::auth::roles::Grant;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Path, Query};
use axum::extract::State;
use axum::http::StatusCode;
use dealflow_core::NoteId;
use dealflow_core::model::{NewNote, Note, NotePatch};
use dealflow_store::NoteFilter;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_notes, create_note)).routes(routes!(get_note, update_note, delete_note))
}

/// List notes, newest first.
#[utoipa::path(get, path = "/notes", tag = "notes", params(NoteFilter, PageQuery),
    responses((status = 200, body = Page<Note>), (status = 400, body = Problem), (status = 401, body = Problem)))]
async fn list_notes(
    State(st): State<AppState>,
    _u: CurrentUser,
    Query(f): Query<NoteFilter>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<Note>>> {
    let page = page.page()?;
    Ok(Json(st.store.list_notes(&f, page).await?.into()))
}

/// Create a note by the caller. It must link to at least one of
/// `deal_id`, `person_id` and `organization_id`.
#[utoipa::path(post, path = "/notes", tag = "notes", request_body = NewNote,
    responses((status = 201, body = Note), (status = 400, body = Problem), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn create_note(
    State(st): State<AppState>,
    u: CurrentUser,
    Json(n): Json<NewNote>,
) -> ApiResult<(StatusCode, Json<Note>)> {
    let note = st.store.create_note(&u.actor(), n).await?;
    Ok((StatusCode::CREATED, Json(note)))
}

/// Get a note.
#[utoipa::path(get, path = "/notes/{id}", tag = "notes", params(("id" = NoteId, Path)),
    responses((status = 200, body = Note), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_note(State(st): State<AppState>, _u: CurrentUser, Path(id): Path<NoteId>) -> ApiResult<Json<Note>> {
    Ok(Json(st.store.note(id).await?))
}

/// Refuses unless the caller wrote the note or is an admin: a note speaks
/// in its author's name, so nobody else may put words in it or take it away.
/// The author never changes, so checking before the write is not racy.
/// (The role matrix's rule: admins any note, others their own.)
async fn may_change(st: &AppState, u: &CurrentUser, grant: Grant, id: NoteId) -> ApiResult<()> {
    let note = st.store.note(id).await?;
    grant.check_own(note.author_id == Some(u.user.id), "only the note's author or an admin may edit or delete it")
}

/// Change a note's body or pin (its author or an admin); `version` must be
/// current. The note records who edited it and when.
#[utoipa::path(patch, path = "/notes/{id}", tag = "notes", params(("id" = NoteId, Path)), request_body = NotePatch,
    responses((status = 200, body = Note), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn update_note(
    State(st): State<AppState>,
    u: CurrentUser,
    grant: Grant,
    Path(id): Path<NoteId>,
    Json(p): Json<NotePatch>,
) -> ApiResult<Json<Note>> {
    may_change(&st, &u, grant, id).await?;
    Ok(Json(st.store.update_note(&u.actor(), id, p).await?))
}

/// Delete a note (its author or an admin). The note disappears from lists
/// and timelines; the database keeps it with who deleted it and when.
#[utoipa::path(delete, path = "/notes/{id}", tag = "notes", params(("id" = NoteId, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn delete_note(
    State(st): State<AppState>,
    u: CurrentUser,
    grant: Grant,
    Path(id): Path<NoteId>,
) -> ApiResult<StatusCode> {
    may_change(&st, &u, grant, id).await?;
    st.store.delete_note(&u.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

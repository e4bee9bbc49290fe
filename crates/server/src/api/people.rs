//! `/api/v1/people`: contact persons, with soft delete and restore.

use super::{Page, PageQuery};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Path, Query};
use axum::extract::State;
use axum::http::StatusCode;
use dealflow_core::PersonId;
use dealflow_core::model::{NewPerson, Person, PersonPatch};
use dealflow_store::PersonFilter;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_people, create_person))
        .routes(routes!(get_person, update_person, delete_person))
        .routes(routes!(restore_person))
}

/// List people, newest first.
#[utoipa::path(get, path = "/people", tag = "people", params(PersonFilter, PageQuery),
    responses((status = 200, body = Page<Person>), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 422, body = Problem)))]
async fn list_people(
    State(st): State<AppState>,
    _u: CurrentUser,
    Query(f): Query<PersonFilter>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<Person>>> {
    let page = page.page()?;
    Ok(Json(st.store.list_people(&f, page).await?.into()))
}

/// Create a person; the owner defaults to the caller and the first e-mail
/// is the primary one.
#[utoipa::path(post, path = "/people", tag = "people", request_body = NewPerson,
    responses((status = 201, body = Person), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 422, body = Problem)))]
async fn create_person(
    State(st): State<AppState>,
    u: CurrentUser,
    Json(n): Json<NewPerson>,
) -> ApiResult<(StatusCode, Json<Person>)> {
    let p = st.store.create_person(&u.actor(), n).await?;
    Ok((StatusCode::CREATED, Json(p)))
}

/// Get a person.
#[utoipa::path(get, path = "/people/{id}", tag = "people", params(("id" = PersonId, Path)),
    responses((status = 200, body = Person), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_person(State(st): State<AppState>, _u: CurrentUser, Path(id): Path<PersonId>) -> ApiResult<Json<Person>> {
    Ok(Json(st.store.person(id).await?))
}

/// Change a person; `emails` and `phones` replace the whole list and
/// `version` must be current.
#[utoipa::path(patch, path = "/people/{id}", tag = "people", params(("id" = PersonId, Path)), request_body = PersonPatch,
    responses((status = 200, body = Person), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_person(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<PersonId>,
    Json(p): Json<PersonPatch>,
) -> ApiResult<Json<Person>> {
    Ok(Json(st.store.update_person(&u.actor(), id, p).await?))
}

/// Move a person to the trash (restorable).
#[utoipa::path(delete, path = "/people/{id}", tag = "people", params(("id" = PersonId, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn delete_person(State(st): State<AppState>, u: CurrentUser, Path(id): Path<PersonId>) -> ApiResult<StatusCode> {
    st.store.delete_person(&u.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Restore a person from the trash.
#[utoipa::path(post, path = "/people/{id}/restore", tag = "people", params(("id" = PersonId, Path)),
    responses((status = 200, body = Person), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn restore_person(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<PersonId>,
) -> ApiResult<Json<Person>> {
    Ok(Json(st.store.restore_person(&u.actor(), id).await?))
}

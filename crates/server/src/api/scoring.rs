//! Lead scoring over HTTP: models (admins edit drafts and publish,
//! everyone reads), a deal's score with its ledger (now or `as_of`), its
//! qualifying questions and answers, and clearing a disqualified flag.
//! What each rule means: docs/scoring.md.

use super::{Page, PageQuery};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Path, Query};
use axum::extract::State;
use axum::http::StatusCode;
use dealflow_core::scoring::{Band, ModelBody, Rule, Thresholds};
use dealflow_core::time::Timestamp;
use dealflow_core::{DealId, ScoringModelId};
use dealflow_store::scoring::answers::{Answered, Question};
use dealflow_store::scoring::calibration::{Calibration, CalibrationQuery};
use dealflow_store::scoring::history::WinProbability;
use dealflow_store::scoring::preview::Preview;
use dealflow_store::scoring::{DealScore, NewAnswer};
use dealflow_store::{NewScoringModel, ScoringModel, ScoringModelPatch};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_models, create_model))
        .routes(routes!(get_model, update_model, delete_model))
        .routes(routes!(publish_model))
        .routes(routes!(deal_score))
        .routes(routes!(clear_disqualified))
        .routes(routes!(deal_questions))
        .routes(routes!(answer_question))
        .routes(routes!(calibration))
        .routes(routes!(preview, preview_edit))
        .routes(routes!(win_probability))
}

/// A deal's learned win probability now (naive Bayes over the pipeline's
/// deals closed in the last 365 days, features as they stood), with its
/// top three factors for and against; `enough_history: false` below 30 won
/// or 30 lost examples. See docs/scoring.md for its backtest.
#[utoipa::path(get, path = "/deals/{id}/win-probability", tag = "scoring", params(("id" = DealId, Path)),
    responses((status = 200, body = WinProbability), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn win_probability(
    State(st): State<AppState>,
    _u: CurrentUser,
    Path(id): Path<DealId>,
) -> ApiResult<Json<WinProbability>> {
    Ok(Json(st.store.win_probability(id).await?))
}

/// The model editor's live counts for the draft: over the open deals the
/// model covers (the newest 2,000; `sampled` says when there are more), how
/// many each rule matches now, and the deals per band under the draft next
/// to the published version.
#[utoipa::path(get, path = "/scoring/models/{id}/preview", tag = "scoring", params(("id" = ScoringModelId, Path)),
    responses((status = 200, body = Preview), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn preview(
    State(st): State<AppState>,
    _u: CurrentUser,
    Path(id): Path<ScoringModelId>,
) -> ApiResult<Json<Preview>> {
    Ok(Json(st.store.scoring_preview(id).await?))
}

/// The live counts of an edit of the draft not saved yet (admins, as the
/// editor changes it): the body is checked as saving would check it (422
/// naming the field), nothing is stored, and the counts are those of `GET`
/// with this body as the draft; `rules` in the body's order.
#[utoipa::path(post, path = "/scoring/models/{id}/preview", tag = "scoring", params(("id" = ScoringModelId, Path)),
    request_body = DraftEdit,
    responses((status = 200, body = Preview), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn preview_edit(
    State(st): State<AppState>,
    _u: CurrentUser,
    Path(id): Path<ScoringModelId>,
    Json(e): Json<DraftEdit>,
) -> ApiResult<Json<Preview>> {
    let body = ModelBody { rules: e.rules, thresholds: e.thresholds, bands: e.bands };
    Ok(Json(st.store.scoring_preview_of(id, Some(&body)).await?))
}

/// Body of `POST /api/v1/scoring/models/{id}/preview`: a draft as the
/// editor holds it. Objects only, as a save takes them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct DraftEdit {
    #[serde(default, deserialize_with = "dealflow_core::scoring::objects_only")]
    rules: Vec<Rule>,
    #[serde(default, deserialize_with = "dealflow_core::scoring::object_only")]
    thresholds: Thresholds,
    #[serde(default, deserialize_with = "dealflow_core::scoring::objects_only")]
    bands: Vec<Band>,
}

/// How the bands of a model did on the deals closed in a period (default
/// the last 365 days): each deal scored as of when it entered its second
/// stage, from nothing later; per band the deals, win rate, median cycle
/// and won value; and what `disqualify_below` (the model's, or the one
/// given) would have dropped. For the published version and the draft.
#[utoipa::path(get, path = "/scoring/calibration", tag = "scoring", params(CalibrationQuery),
    responses((status = 200, body = Calibration), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn calibration(
    State(st): State<AppState>,
    _u: CurrentUser,
    Query(q): Query<CalibrationQuery>,
) -> ApiResult<Json<Calibration>> {
    Ok(Json(st.store.scoring_calibration(&q, Timestamp::now()).await?))
}

/// Scoring models, newest first.
#[utoipa::path(get, path = "/scoring/models", tag = "scoring", params(PageQuery),
    responses((status = 200, body = Page<ScoringModel>), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 422, body = Problem)))]
async fn list_models(State(st): State<AppState>, Query(pq): Query<PageQuery>) -> ApiResult<Json<Page<ScoringModel>>> {
    Ok(Json(st.store.scoring_models(pq.page()?).await?.into()))
}

/// Create a model (admins): its rules, thresholds and bands become the
/// draft; nothing is scored until it is published. One model per
/// pipeline, and one without `pipeline_id` for every other pipeline.
#[utoipa::path(post, path = "/scoring/models", tag = "scoring", request_body = NewScoringModel,
    responses((status = 201, body = ScoringModel), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_model(
    State(st): State<AppState>,
    u: CurrentUser,
    Json(n): Json<NewScoringModel>,
) -> ApiResult<(StatusCode, Json<ScoringModel>)> {
    Ok((StatusCode::CREATED, Json(st.store.create_scoring_model(&u.actor(), n).await?)))
}

/// One model: its draft and its published version.
#[utoipa::path(get, path = "/scoring/models/{id}", tag = "scoring", params(("id" = ScoringModelId, Path)),
    responses((status = 200, body = ScoringModel), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_model(State(st): State<AppState>, Path(id): Path<ScoringModelId>) -> ApiResult<Json<ScoringModel>> {
    Ok(Json(st.store.scoring_model(id).await?))
}

/// Edit the draft (admins); `version` is the one read. The published
/// version keeps scoring until the draft is published.
#[utoipa::path(patch, path = "/scoring/models/{id}", tag = "scoring", params(("id" = ScoringModelId, Path)),
    request_body = ScoringModelPatch,
    responses((status = 200, body = ScoringModel), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_model(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<ScoringModelId>,
    Json(p): Json<ScoringModelPatch>,
) -> ApiResult<Json<ScoringModel>> {
    Ok(Json(st.store.update_scoring_model(&u.actor(), id, p).await?))
}

/// Delete a model (admins): its deals keep their ledgers and are no longer
/// scored.
#[utoipa::path(delete, path = "/scoring/models/{id}", tag = "scoring", params(("id" = ScoringModelId, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn delete_model(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<ScoringModelId>,
) -> ApiResult<StatusCode> {
    st.store.delete_scoring_model(&u.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Publish the draft as the next version (admins): checked again, then
/// every open deal it covers is rescored in the background (`rescore`
/// shows the progress). Earlier versions are kept.
#[utoipa::path(post, path = "/scoring/models/{id}/publish", tag = "scoring", params(("id" = ScoringModelId, Path)),
    responses((status = 200, body = ScoringModel), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn publish_model(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<ScoringModelId>,
) -> ApiResult<Json<ScoringModel>> {
    Ok(Json(st.store.publish_scoring_model(&u.actor(), id).await?))
}

/// `?as_of=` of a score.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct AsOf {
    /// The moment (RFC 3339); default now. The ledger as it stood then,
    /// decayed to then.
    as_of: Option<Timestamp>,
}

/// A deal's score: `total` (the sum of `contributions[].points_now`),
/// per group, its band, whether it is disqualified, and every ledger
/// entry with its points then and now.
#[utoipa::path(get, path = "/deals/{id}/score", tag = "scoring", params(("id" = DealId, Path), AsOf),
    responses((status = 200, body = DealScore), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn deal_score(
    State(st): State<AppState>,
    _u: CurrentUser,
    Path(id): Path<DealId>,
    Query(q): Query<AsOf>,
) -> ApiResult<Json<DealScore>> {
    if let Some(t) = q.as_of {
        t.check_not_future("as_of", Timestamp::now())?;
    }
    Ok(Json(st.store.deal_score(id, q.as_of).await?))
}

/// Body of the clear.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ClearFlag {
    /// Why the deal stays in play.
    reason: String,
}

/// Clear a deal's disqualified flag, with the reason (kept on its
/// timeline). The flag fires again only once the score has risen by the
/// re-arm gap and fallen below the level again.
#[utoipa::path(post, path = "/deals/{id}/score/clear", tag = "scoring", params(("id" = DealId, Path)),
    request_body = ClearFlag,
    responses((status = 200, body = DealScore), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn clear_disqualified(
    State(st): State<AppState>,
    u: CurrentUser,
    Path(id): Path<DealId>,
    Json(c): Json<ClearFlag>,
) -> ApiResult<Json<DealScore>> {
    Ok(Json(st.store.clear_disqualified(&u.actor(), id, &c.reason).await?))
}

/// The qualifying questions of the model that scores the deal, each with
/// its answers, current answer and history (newest first).
#[utoipa::path(get, path = "/deals/{id}/answers", tag = "scoring", params(("id" = DealId, Path)),
    responses((status = 200, body = Vec<Question>), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn deal_questions(
    State(st): State<AppState>,
    _u: CurrentUser,
    Path(id): Path<DealId>,
) -> ApiResult<Json<Vec<Question>>> {
    Ok(Json(st.store.deal_questions(id).await?))
}

/// Answer a qualifying question (`{"answer": "yes"}`): the answer is kept
/// as history and the score moves at once; the answer carries the new
/// score.
#[utoipa::path(put, path = "/deals/{id}/answers/{question_id}", tag = "scoring",
    params(("id" = DealId, Path), ("question_id" = String, Path)), request_body = NewAnswer,
    responses((status = 200, body = Answered), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn answer_question(
    State(st): State<AppState>,
    u: CurrentUser,
    Path((id, question)): Path<(DealId, String)>,
    Json(n): Json<NewAnswer>,
) -> ApiResult<Json<Answered>> {
    Ok(Json(st.store.answer_question(&u.actor(), id, &question, n).await?))
}

//! The pipeline board: a column per stage with count, total and weighted
//! value, and cards that load progressively as a column scrolls. A card
//! shows its stage's checklist progress and whether it may move forward.

use super::clock::start_of_tomorrow;
use super::{PageUser, html, page_error};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use dealflow_core::agenda::{due_state, is_rotting};
use dealflow_core::currency::Currency;
use dealflow_core::model::{Pipeline, Settings, Stage, User};
use dealflow_core::playbook::view::Progress;
use dealflow_core::time::Timestamp;
use dealflow_core::{DealId, PipelineId, StageId, UserId};
use dealflow_store::{BoardFilter, Card};
use serde::Deserialize;

/// Cards per column per request: enough to fill a tall screen; the rest
/// arrives as the column scrolls.
const PAGE: i64 = 40;

#[derive(Debug, Deserialize)]
pub struct BoardQuery {
    pipeline: Option<String>,
    owner: Option<String>,
    q: Option<String>,
}

/// One card as the template shows it.
pub struct CardView {
    pub id: String,
    pub version: i64,
    pub title: String,
    pub who: String,
    pub value: String,
    pub value_minor: i64,
    pub initials: String,
    pub owner: String,
    /// `overdue`, `today`, `later` or `none`.
    pub next: &'static str,
    pub rotting: bool,
    /// The current stage's checklist, "done/all"; empty without steps.
    pub steps: String,
    /// An open required step keeps the deal from moving forward.
    pub blocked: bool,
    /// The lead score ("47.5"), empty when no model scores the deal.
    pub score: String,
    /// Its band, or empty.
    pub band: String,
    pub disqualified: bool,
}

/// A column's statistics, written in full in the base currency.
pub struct StatsView {
    pub count: i64,
    pub total: String,
    /// Empty when nothing weights the column: its stage has no win
    /// probability and no deal in it has its own, so a sum would read as
    /// "worth nothing" (the column shows "—" with a hint instead).
    pub weighted: String,
    pub unconverted: i64,
}

pub struct ColumnView {
    pub stage: Stage,
    pub stats: StatsView,
    pub cards: Vec<CardView>,
    /// Query for the next page of this column; empty when all are shown.
    pub more: String,
}

#[derive(Template)]
#[template(path = "pages/board.html")]
struct BoardPage<'a> {
    t: super::T,
    /// Which navigation entry is current.
    nav: &'static str,
    user: &'a User,
    csrf: &'a str,
    asset_v: &'static str,
    pipelines: Vec<Pipeline>,
    pipeline: Pipeline,
    users: Vec<User>,
    owner: String,
    q: String,
    columns: Vec<ColumnView>,
    lost_reasons: Vec<String>,
    /// Whether the dialog of a blocked move offers the override.
    may_override: bool,
}

#[derive(Template)]
#[template(path = "components/cards.html")]
struct CardsFragment<'a> {
    t: super::T,
    cards: &'a [CardView],
    more: &'a str,
}

/// One column's statistics alone, which the page's script fetches after a
/// move so Total and Weighted stay right without redoing money math in JS.
#[derive(Template)]
#[template(path = "components/stats.html")]
struct StatsFragment {
    t: super::T,
    stats: StatsView,
}

fn parse_id(s: Option<&str>) -> Option<i64> {
    s.and_then(|v| v.trim().parse().ok())
}

fn initials(name: &str) -> String {
    name.split_whitespace().filter_map(|w| w.chars().next()).take(2).collect::<String>().to_uppercase()
}

fn card_view(
    t: super::T,
    c: &Card,
    stage: &Stage,
    progress: Option<&Progress>,
    tomorrow: Timestamp,
    now: Timestamp,
) -> CardView {
    let next = due_state(c.next_due_at, now, tomorrow).as_str();
    let rotting = is_rotting(stage.rotting_days, c.stage_entered_at, c.last_contact_at, now);
    let digits = Currency::parse(&c.currency).map(|cur| cur.minor_digits()).unwrap_or(2);
    let owner = c.owner.clone().unwrap_or_default();
    CardView {
        id: c.id.to_string(),
        version: c.version,
        title: c.title.clone(),
        who: c.organization.clone().or_else(|| c.person.clone()).unwrap_or_default(),
        value: t.money(c.value, &c.currency, digits),
        value_minor: c.value,
        initials: initials(&owner),
        owner,
        next,
        rotting,
        steps: progress.map(|p| format!("{}/{}", p.done, p.total)).unwrap_or_default(),
        blocked: progress.is_some_and(|p| p.blocked),
        score: c.score.map(|s| (s as f64 / 100.0).to_string()).unwrap_or_default(),
        band: c.band.clone().unwrap_or_default(),
        disqualified: c.disqualified,
    }
}

fn more_query(stage: StageId, f: &BoardFilter, cards: &[Card]) -> String {
    if (cards.len() as i64) < PAGE {
        return String::new();
    }
    let last = cards.last().map(|c| c.id.to_string()).unwrap_or_default();
    let mut q = format!("stage={stage}&before={last}");
    if let Some(o) = f.owner_id {
        q.push_str(&format!("&owner={o}"));
    }
    if let Some(s) = &f.q {
        q.push_str(&format!("&q={}", super::urlencode(s)));
    }
    q
}

pub async fn page(State(st): State<AppState>, u: PageUser, Query(q): Query<BoardQuery>) -> Response {
    match render(&st, &u, q).await {
        Ok(r) => r,
        Err(e) => u.error(e),
    }
}

async fn render(st: &AppState, u: &PageUser, q: BoardQuery) -> Result<Response, crate::error::ApiError> {
    let pipelines: Vec<Pipeline> = st.store.pipelines().await?.into_iter().filter(|p| !p.archived).collect();
    let wanted = parse_id(q.pipeline.as_deref()).map(PipelineId);
    let Some(pipeline) = pipelines.iter().find(|p| Some(p.id) == wanted).or(pipelines.first()).cloned() else {
        return Err(crate::error::ApiError::NotFound("there is no active pipeline; create one in settings".into()));
    };
    let settings = st.store.settings().await?;
    let filter = BoardFilter {
        owner_id: parse_id(q.owner.as_deref()).map(UserId),
        q: q.q.clone().filter(|s| !s.trim().is_empty()),
    };
    let totals = st.store.board_totals(pipeline.id, &filter).await?;
    let now = Timestamp::now();
    let tomorrow = start_of_tomorrow(&settings, now);
    let mut pages = Vec::new();
    for stage in pipeline.stages.iter().filter(|s| !s.archived) {
        pages.push((stage, st.store.board_cards(stage.id, &filter, None, PAGE).await?));
    }
    // One read for the checklists of every card on the board.
    let ids: Vec<DealId> = pages.iter().flat_map(|(_, cards)| cards.iter().map(|c| c.id)).collect();
    let progress = st.store.board_progress(&ids).await?;
    let columns = pages
        .into_iter()
        .map(|(stage, cards)| ColumnView {
            stage: stage.clone(),
            stats: stats_of(u.t, &settings, &totals, stage),
            more: more_query(stage.id, &filter, &cards),
            cards: cards.iter().map(|c| card_view(u.t, c, stage, progress.get(&c.id), tomorrow, now)).collect(),
        })
        .collect();
    let users = st.store.users().await?.into_iter().filter(|x| x.active).collect();
    let lost_reasons = st.store.lost_reasons().await?.into_iter().filter(|r| !r.archived).map(|r| r.label).collect();
    Ok(html(&BoardPage {
        t: u.t,
        nav: "board",
        user: &u.user,
        csrf: &u.csrf,
        asset_v: super::assets::version(),
        pipelines,
        pipeline,
        users,
        owner: filter.owner_id.map(|o| o.to_string()).unwrap_or_default(),
        q: filter.q.clone().unwrap_or_default(),
        columns,
        lost_reasons,
        may_override: settings.may_override(u.user.role),
    }))
}

/// Sums one stage's rows of the board totals in the base currency, with the
/// same conversion the metrics use, so board totals and insights agree.
fn stats_of(t: super::T, settings: &Settings, totals: &[dealflow_store::StageTotals], stage: &Stage) -> StatsView {
    let base_digits = settings.base_currency.minor_digits();
    let base = settings.base_currency.as_str();
    let rates = dealflow_store::minor_rates(&settings.base_currency, &settings.exchange_rates);
    let (mut count, mut total, mut weighted, mut unconverted) = (0, 0i64, 0i64, 0);
    for tot in totals.iter().filter(|t| t.stage_id == stage.id) {
        count += tot.count;
        match (rates.to_base(tot.value, &tot.currency), rates.to_base(tot.weighted_x100, &tot.currency)) {
            (Some(v), Some(w)) => {
                total += v;
                weighted += w;
            }
            _ => unconverted += tot.count,
        }
    }
    StatsView {
        count,
        total: t.money(total, base, base_digits),
        // Weighted sums are kept ×100 (percent probabilities); round to
        // minor units. Zero in a stage without a probability means "not
        // weighted", not "worth nothing".
        weighted: if weighted == 0 && stage.probability.is_none() {
            String::new()
        } else {
            t.money(weighted.saturating_add(50) / 100, base, base_digits)
        },
        unconverted,
    }
}

/// The column a fragment request names (its stage, read with the settings)
/// and the board's filter, as the two fragment routes read them.
async fn column(
    st: &AppState,
    stage: &str,
    owner: Option<&str>,
    q: Option<&str>,
) -> Result<(StageId, dealflow_core::model::Stage, dealflow_core::model::Settings, BoardFilter), crate::error::ApiError>
{
    let stage_id =
        StageId(parse_id(Some(stage)).ok_or_else(|| crate::error::ApiError::BadRequest("stage must be an id".into()))?);
    let stage = st.store.stage(stage_id).await?;
    let settings = st.store.settings().await?;
    let filter = BoardFilter {
        owner_id: parse_id(owner).map(UserId),
        q: q.filter(|s| !s.trim().is_empty()).map(str::to_string),
    };
    Ok((stage_id, stage, settings, filter))
}

#[derive(Debug, Deserialize)]
pub struct StatsQuery {
    stage: String,
    owner: Option<String>,
    q: Option<String>,
}

/// One column's statistics as an HTML fragment (the `.stats` paragraph's
/// content), under the same filter as the board.
pub async fn stats(State(st): State<AppState>, u: PageUser, Query(q): Query<StatsQuery>) -> Response {
    let result = async {
        let (_, stage, settings, filter) = column(&st, &q.stage, q.owner.as_deref(), q.q.as_deref()).await?;
        let totals = st.store.board_totals(stage.pipeline_id, &filter).await?;
        let stats = stats_of(u.t, &settings, &totals, &stage);
        Ok::<_, crate::error::ApiError>(html(&StatsFragment { t: u.t, stats }))
    }
    .await;
    result.unwrap_or_else(page_error)
}

#[derive(Debug, Deserialize)]
pub struct CardsQuery {
    stage: String,
    before: Option<String>,
    owner: Option<String>,
    q: Option<String>,
}

/// The next page of one column, as an HTML fragment the script appends.
pub async fn cards(State(st): State<AppState>, u: PageUser, Query(q): Query<CardsQuery>) -> Response {
    let result = async {
        let (stage_id, stage, settings, filter) = column(&st, &q.stage, q.owner.as_deref(), q.q.as_deref()).await?;
        let before = parse_id(q.before.as_deref()).map(DealId);
        let cards = st.store.board_cards(stage_id, &filter, before, PAGE).await?;
        let now = Timestamp::now();
        let tomorrow = start_of_tomorrow(&settings, now);
        let progress = st.store.board_progress(&cards.iter().map(|c| c.id).collect::<Vec<_>>()).await?;
        let views: Vec<CardView> =
            cards.iter().map(|c| card_view(u.t, c, &stage, progress.get(&c.id), tomorrow, now)).collect();
        let more = more_query(stage_id, &filter, &cards);
        Ok::<_, crate::error::ApiError>(html(&CardsFragment { t: u.t, cards: &views, more: &more }))
    }
    .await;
    result.unwrap_or_else(page_error)
}

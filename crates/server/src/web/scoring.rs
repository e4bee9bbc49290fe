//! The lead-scoring settings page: the workspace's models, and for one of
//! them the draft's rules, thresholds and bands to edit, as a form (one card
//! per rule, `static/scoring-form.js`) or as JSON, saved with its version
//! (so a concurrent edit is a conflict, not a loss), publishing, and the
//! draft's live counts: how many open deals each rule matches now, and the
//! deals per band under the draft next to the published version. Admins
//! edit; managers and reps read.

use super::{PageUser, T, html, page_error};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use dealflow_core::custom_field::Entity;
use dealflow_core::model::{Role, User};
use dealflow_core::playbook::{DEAL_FIELDS, ORGANIZATION_FIELDS, PERSON_FIELDS};
use dealflow_store::CampaignFilter;
use dealflow_store::Page;
use serde::{Deserialize, Serialize};

pub fn router() -> Router<AppState> {
    Router::new().route("/settings/scoring", get(page))
}

#[derive(Debug, Deserialize)]
pub struct Params {
    model: Option<String>,
}

pub struct ModelRow {
    pub id: String,
    pub name: String,
    pub pipeline: String,
    pub version: String,
    pub rescore: String,
    pub selected: bool,
}

pub struct RuleRow {
    pub id: String,
    pub group: String,
    pub what: String,
    pub deals: i64,
}

pub struct BandRow {
    pub band: String,
    pub draft: i64,
    pub published: String,
}

/// What the form editor offers in its selects, and the counts it starts
/// with; JSON in a data attribute of the draft.
#[derive(Serialize)]
struct Editor<'a> {
    /// Fit fields: (name, label, record: `deal`, `person`, `organization`).
    fields: Vec<(String, String, &'static str)>,
    /// Stages a rule or `min_score` may name: (id, label).
    stages: &'a [(String, String)],
    preview: &'a dealflow_store::scoring::preview::Preview,
}

#[derive(Template)]
#[template(path = "pages/scoring.html")]
struct ScoringPage<'a> {
    t: T,
    nav: &'static str,
    user: &'a User,
    csrf: &'a str,
    asset_v: &'static str,
    admin: bool,
    models: Vec<ModelRow>,
    pipelines: Vec<(String, String)>,
    /// The selected model: id, version, draft JSON, the editor's JSON.
    selected: Option<(String, i64, String, String)>,
    /// The stages a rule or threshold may name: (id, label).
    stages: Vec<(String, String)>,
    /// Campaigns a nurture level may enrol in: (id, name).
    campaigns: Vec<(String, String)>,
    rules: Vec<RuleRow>,
    bands: Vec<BandRow>,
    /// "2,000 open deals read (the newest)" and the means.
    summary: String,
}

pub async fn page(State(st): State<AppState>, u: PageUser, Query(q): Query<Params>) -> Response {
    render(&st, &u, q).await.unwrap_or_else(page_error)
}

/// A rule in words, for the counts table.
fn what(r: &dealflow_core::scoring::Rule) -> String {
    let v = |x: &Option<serde_json::Value>| x.as_ref().map(|v| v.to_string()).unwrap_or_default();
    match r.group {
        dealflow_core::scoring::Group::Fit => format!(
            "{} {} {} → {}",
            r.field.as_deref().unwrap_or(""),
            r.op.map(|o| o.as_str()).unwrap_or(""),
            v(&r.value),
            r.points.unwrap_or(0.0)
        ),
        dealflow_core::scoring::Group::Engagement => {
            format!("{} → {}", r.event.map(|e| e.as_str()).unwrap_or(""), r.points.unwrap_or(0.0))
        }
        dealflow_core::scoring::Group::Question => r.question.clone().unwrap_or_default(),
    }
}

/// Every field a fit rule may name: the built-in ones of the deal, its
/// person and its organization, then their custom fields.
async fn fit_fields(st: &AppState) -> Result<Vec<(String, String, &'static str)>, ApiError> {
    let mut out = Vec::new();
    for (record, prefix, builtins) in [
        ("deal", "", DEAL_FIELDS),
        ("person", "person.", PERSON_FIELDS),
        ("organization", "organization.", ORGANIZATION_FIELDS),
    ] {
        out.extend(builtins.iter().map(|f| (format!("{prefix}{f}"), format!("{prefix}{f}"), record)));
    }
    for c in st.store.custom_fields(None).await?.into_iter().filter(|c| !c.archived) {
        let (record, prefix) = match c.entity {
            Entity::Person => ("person", "person."),
            Entity::Organization => ("organization", "organization."),
            Entity::Deal => ("deal", ""),
        };
        out.push((format!("{prefix}custom.{}", c.key), format!("{prefix}custom.{} ({})", c.key, c.label), record));
    }
    Ok(out)
}

async fn render(st: &AppState, u: &PageUser, q: Params) -> Result<Response, ApiError> {
    let t = u.t;
    let pipelines = st.store.pipelines().await?;
    let name_of = |id: Option<dealflow_core::PipelineId>| match id {
        Some(p) => pipelines.iter().find(|x| x.id == p).map(|x| x.name.clone()).unwrap_or_default(),
        None => t.t("sc.all_pipelines").to_string(),
    };
    let list = st.store.scoring_models(Page { limit: 50, before: None }).await?.items;
    let chosen = q.model.as_deref().and_then(|m| list.iter().find(|x| x.id.to_string() == m.trim())).or(list.first());
    let models = list
        .iter()
        .map(|m| ModelRow {
            id: m.id.to_string(),
            name: m.name.clone(),
            pipeline: name_of(m.pipeline_id),
            version: m.published_version.map_or_else(|| t.t("sc.draft_only").to_string(), |v| v.to_string()),
            rescore: if m.rescore.finished { String::new() } else { format!("{}/{}", m.rescore.done, m.rescore.total) },
            selected: chosen.is_some_and(|c| c.id == m.id),
        })
        .collect();
    let (mut rules, mut bands, mut summary, mut selected) = (Vec::new(), Vec::new(), String::new(), None);
    let (mut stages, mut campaigns) = (Vec::new(), Vec::new());
    if let Some(m) = chosen {
        let p = st.store.scoring_preview(m.id).await?;
        // A model body is plain data: it always serializes.
        let draft = serde_json::to_string_pretty(&m.draft).unwrap_or_default();
        // The model's pipeline's stages; every pipeline's for a model of all.
        for pl in pipelines.iter().filter(|x| m.pipeline_id.is_none_or(|id| id == x.id) && !x.archived) {
            for s in pl.stages.iter().filter(|s| !s.archived) {
                let label = if m.pipeline_id.is_some() { s.name.clone() } else { format!("{}: {}", pl.name, s.name) };
                stages.push((s.id.to_string(), label));
            }
        }
        let list = st.store.list_campaigns(&CampaignFilter::default(), Page { limit: 200, before: None }).await?;
        campaigns = list.items.into_iter().map(|c| (c.id.to_string(), c.name)).collect();
        let editor = Editor { fields: fit_fields(st).await?, stages: &stages, preview: &p };
        let editor = serde_json::to_string(&editor).unwrap_or_default();
        selected = Some((m.id.to_string(), m.version, draft, editor));
        rules = m
            .draft
            .rules
            .iter()
            .zip(&p.rules)
            .map(|(r, c)| RuleRow {
                id: r.id().to_string(),
                group: r.group.as_str().to_string(),
                what: what(r),
                deals: c.deals,
            })
            .collect();
        bands = p
            .bands
            .iter()
            .map(|b| BandRow {
                band: b.band.clone().unwrap_or_else(|| t.t("cal.below").to_string()),
                draft: b.draft,
                published: b.published.map_or_else(|| "—".to_string(), |n| n.to_string()),
            })
            .collect();
        let mean = |x: Option<f64>| x.map_or_else(|| "—".to_string(), |v| v.to_string());
        summary = super::deal::timeline::fill(
            t.t(if p.sampled { "sc.summary_sampled" } else { "sc.summary" }),
            &[("n", &p.deals.to_string()), ("draft", &mean(p.draft_mean)), ("published", &mean(p.published_mean))],
        );
    }
    Ok(html(&ScoringPage {
        t,
        nav: "settings",
        user: &u.user,
        csrf: &u.csrf,
        asset_v: super::assets::version(),
        admin: u.user.role == Role::Admin,
        models,
        pipelines: pipelines.iter().filter(|p| !p.archived).map(|p| (p.id.to_string(), p.name.clone())).collect(),
        selected,
        stages,
        campaigns,
        rules,
        bands,
        summary,
    }))
}

#[cfg(test)]
mod tests {
    use dealflow_core::model::{ActivityKind, Sentiment};
    use dealflow_core::scoring::{EngagementEvent, FitOp};

    /// The form's selects offer every op, event, sentiment and activity
    /// type the model knows, by its real name.
    #[test]
    fn the_form_offers_every_name_of_the_model() {
        let form = include_str!("../../templates/components/scoring_rule_templates.html");
        let names = FitOp::ALL.iter().map(|o| o.as_str()).chain(EngagementEvent::ALL.iter().map(|e| e.as_str()));
        let names =
            names.chain(Sentiment::ALL.iter().map(|s| s.as_str())).chain(ActivityKind::ALL.iter().map(|k| k.as_str()));
        for name in names {
            assert!(form.contains(&format!("<option value=\"{name}\">")), "the form has no option `{name}`");
        }
    }
}

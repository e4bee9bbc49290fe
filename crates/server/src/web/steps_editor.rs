//! The step editor of one stage's playbook (admins, from settings): the
//! steps in order with their due rules in words, and one form to add or
//! change a step with each kind's own fields and a live preview of an
//! e-mail's template (`POST /api/v1/steps/preview`). It says how many
//! deals already in the stage a new step applies to. Every change goes
//! through the JSON API; its 422s are shown next to the field they name.

use super::{PageUser, T, html};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use dealflow_core::StageId;
use dealflow_core::model::{Role, Stage, User};
use dealflow_core::playbook::{Due, DueAnchor, Step, StepKind};
use dealflow_store::{CampaignFilter, Page};

/// One step as the list shows it.
pub struct StepRow {
    pub id: String,
    pub version: i64,
    pub title: String,
    pub kind_label: &'static str,
    pub required: bool,
    /// The due rule in words; empty without one.
    pub due: String,
    /// The kind's own settings in short (the field, the activity, …).
    pub detail: String,
    /// The step's JSON, which the form is filled from to edit it.
    pub json: String,
}

#[derive(Template)]
#[template(path = "pages/steps.html")]
struct StepsPage<'a> {
    t: T,
    nav: &'static str,
    user: &'a User,
    csrf: &'a str,
    asset_v: &'static str,
    stage: Stage,
    pipeline: String,
    steps: Vec<StepRow>,
    /// Open deals now in the stage: a new step applies to them.
    open_deals: i64,
    kinds: [(&'static str, &'static str); 5],
    activity_kinds: Vec<(&'static str, &'static str)>,
    campaigns: Vec<(String, String)>,
}

/// The label of a step kind in the page's language.
fn kind_label(t: T, k: StepKind) -> &'static str {
    match k {
        StepKind::Task => t.t("steps.kind.task"),
        StepKind::Email => t.t("steps.kind.email"),
        StepKind::Field => t.t("steps.kind.field"),
        StepKind::Evidence => t.t("steps.kind.evidence"),
        StepKind::Campaign => t.t("steps.kind.campaign"),
    }
}

/// A due rule in words: "2 hours before the meeting", "1 working day
/// after the stage is entered", "right after the stage is entered". The
/// page's script words the form's rule the same way, from the same keys.
pub fn due_words(t: T, due: &Due) -> String {
    let anchor = match due.anchor {
        DueAnchor::StageEntered => t.t("due.anchor.stage_entered"),
        DueAnchor::Meeting => t.t("due.anchor.meeting"),
    };
    let (n, unit) = match (due.offset_working_days, due.offset_minutes) {
        (Some(d), _) if d != 0 => (d, "day"),
        (_, Some(m)) if m != 0 && m % 60 == 0 => (m / 60, "hour"),
        (_, Some(m)) if m != 0 => (m, "minute"),
        _ => {
            return match due.anchor {
                DueAnchor::StageEntered => t.t("due.at.stage_entered").to_string(),
                DueAnchor::Meeting => t.t("due.at.meeting").to_string(),
            };
        }
    };
    let amount = match (unit, n.unsigned_abs() == 1) {
        ("day", true) => t.t("due.day"),
        ("day", false) => t.t("due.days"),
        ("hour", true) => t.t("due.hour"),
        ("hour", false) => t.t("due.hours"),
        (_, true) => t.t("due.minute"),
        (_, false) => t.t("due.minutes"),
    }
    .replace("{n}", &n.unsigned_abs().to_string());
    let rule = if n < 0 { t.t("due.before") } else { t.t("due.after") };
    rule.replace("{amount}", &amount).replace("{anchor}", anchor)
}

fn row(t: T, s: &Step, campaigns: &[(String, String)]) -> StepRow {
    let spec = &s.spec;
    let detail = match spec.kind {
        StepKind::Email => {
            let send = match spec.send {
                Some(dealflow_core::playbook::SendMode::Auto) => t.t("steps.send.auto"),
                _ => t.t("steps.send.draft"),
            };
            format!("{send}: {}", spec.template.as_ref().map(|x| x.subject.as_str()).unwrap_or_default())
        }
        StepKind::Field => {
            let cond = match (spec.op, &spec.value) {
                (Some(op), Some(v)) => format!(" {} {v}", op.as_str()),
                _ => String::new(),
            };
            format!("{}{cond}", spec.field.as_deref().unwrap_or_default())
        }
        StepKind::Evidence => {
            spec.activity_kind.map(|k| super::activities::kind_label(t, k)).unwrap_or_default().into()
        }
        StepKind::Campaign => spec
            .campaign_id
            .and_then(|c| campaigns.iter().find(|(id, _)| *id == c.to_string()).map(|(_, n)| n.clone()))
            .unwrap_or_default(),
        StepKind::Task => String::new(),
    };
    StepRow {
        id: s.id.to_string(),
        version: s.version,
        title: spec.title.clone(),
        kind_label: kind_label(t, spec.kind),
        required: spec.required,
        due: spec.due.as_ref().map(|d| due_words(t, d)).unwrap_or_default(),
        detail,
        json: serde_json::to_string(s).unwrap_or_default(),
    }
}

pub async fn page(State(st): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    if u.user.role != Role::Admin {
        return u.error(ApiError::Forbidden(u.t.t("set.forbidden").to_string()));
    }
    render(&st, &u, &id).await.unwrap_or_else(|e| u.error(e))
}

async fn render(st: &AppState, u: &PageUser, id: &str) -> Result<Response, ApiError> {
    let t = u.t;
    let id = StageId(id.trim().parse().map_err(|_| ApiError::BadRequest("the stage must be an id".into()))?);
    let stage = st.store.stage(id).await?;
    let pipeline = st.store.pipelines().await?.into_iter().find(|p| p.id == stage.pipeline_id);
    let campaigns: Vec<(String, String)> = st
        .store
        .list_campaigns(&CampaignFilter::default(), Page { limit: Page::MAX, before: None })
        .await?
        .items
        .into_iter()
        .map(|c| (c.id.to_string(), c.name))
        .collect();
    let steps = st.store.stage_steps(id).await?.iter().map(|s| row(t, s, &campaigns)).collect();
    use dealflow_core::model::ActivityKind as K;
    Ok(html(&StepsPage {
        t,
        nav: "settings",
        user: &u.user,
        csrf: &u.csrf,
        asset_v: super::assets::version(),
        pipeline: pipeline.map(|p| p.name).unwrap_or_default(),
        open_deals: st.store.open_deals_in_stage(id).await?,
        steps,
        stage,
        kinds: [StepKind::Task, StepKind::Email, StepKind::Field, StepKind::Evidence, StepKind::Campaign]
            .map(|k| (k.as_str(), kind_label(t, k))),
        activity_kinds: [K::Meeting, K::Call, K::Email, K::Task, K::Linkedin]
            .into_iter()
            .map(|k| (k.as_str(), super::activities::kind_label(t, k)))
            .collect(),
        campaigns,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::i18n::Lang;

    fn due(anchor: DueAnchor, minutes: Option<i64>, days: Option<i64>) -> Due {
        Due { anchor, offset_minutes: minutes, offset_working_days: days }
    }

    #[test]
    fn due_rules_read_as_words_in_both_languages() {
        let en = T { lang: Lang::En };
        let zh = T { lang: Lang::ZhCn };
        let day_before = due(DueAnchor::Meeting, None, Some(-1));
        assert_eq!(due_words(en, &day_before), "1 working day before the meeting");
        assert_eq!(due_words(zh, &day_before), "会议前 1 个工作日");
        let two_hours = due(DueAnchor::Meeting, Some(-120), None);
        assert_eq!(due_words(en, &two_hours), "2 hours before the meeting");
        assert_eq!(due_words(zh, &two_hours), "会议前 2 小时");
        let now = due(DueAnchor::StageEntered, Some(0), None);
        assert_eq!(due_words(en, &now), "right after the stage is entered");
        assert_eq!(due_words(zh, &now), "进入本阶段后立即");
        assert_eq!(
            due_words(en, &due(DueAnchor::StageEntered, Some(90), None)),
            "90 minutes after the stage is entered"
        );
        assert_eq!(
            due_words(en, &due(DueAnchor::StageEntered, None, Some(3))),
            "3 working days after the stage is entered"
        );
    }
}

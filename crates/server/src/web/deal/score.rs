//! The deal page's lead score: the total with its band, the disqualified
//! flag, the qualifying questions asked from the deal's stage on (answered
//! in place), and "why this score": the ledger line by line, decay written
//! out as arithmetic, so anyone can check the total by hand.

use crate::AppState;
use crate::error::ApiError;
use dealflow_core::model::{Deal, Pipeline};
use dealflow_core::scoring::Group;
use dealflow_store::StoreError;

/// One ledger line.
pub struct LineView {
    pub group: String,
    pub fact: String,
    /// "10", or "10 × 0.5^(30.0 d / 30 d) = 5" when it decayed.
    pub arithmetic: String,
}

/// A question with its answers ("yes (+30)") and which one is current.
pub struct QuestionView {
    pub id: String,
    pub question: String,
    pub options: Vec<(String, String, bool)>,
}

pub struct ScoreView {
    pub total: String,
    pub band: String,
    pub disqualified: bool,
    /// "fit 20 + engagement 5 + questions 30".
    pub sum: String,
    pub lines: Vec<LineView>,
    pub questions: Vec<QuestionView>,
}

fn num(x: f64) -> String {
    let r = (x * 100.0).round() / 100.0;
    if r == 0.0 { "0".into() } else { r.to_string() }
}

fn signed(x: f64) -> String {
    if x > 0.0 { format!("+{}", num(x)) } else { num(x) }
}

/// The view, or `None` when no published model scores the deal.
pub async fn view(
    st: &AppState,
    t: super::super::T,
    deal: &Deal,
    pipelines: &[Pipeline],
) -> Result<Option<ScoreView>, ApiError> {
    let s = match st.store.deal_score(deal.id, None).await {
        Ok(s) => s,
        Err(StoreError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let group = |g: Group| {
        t.t(match g {
            Group::Fit => "scoring.g.fit",
            Group::Engagement => "scoring.g.engagement",
            Group::Question => "scoring.g.question",
        })
        .to_string()
    };
    let lines = s
        .contributions
        .iter()
        .map(|c| {
            let arithmetic = match c.half_life_days {
                _ if c.cap => signed(c.points_now),
                Some(h) if (c.points - c.points_now).abs() >= 0.005 => {
                    let days = (s.as_of.0 - c.at.0) as f64 / 86_400_000.0;
                    format!("{} × 0.5^({days:.1} d / {} d) = {}", signed(c.points), num(h), num(c.points_now))
                }
                _ => signed(c.points_now),
            };
            let fact = if c.cap { format!("{} ({})", t.t("scoring.cap"), c.fact) } else { c.fact.clone() };
            LineView { group: group(c.group), fact, arithmetic }
        })
        .collect();
    let sum = format!(
        "{} {} + {} {} + {} {}",
        t.t("scoring.g.fit"),
        num(s.groups.fit),
        t.t("scoring.g.engagement"),
        num(s.groups.engagement),
        t.t("scoring.g.question"),
        num(s.groups.questions)
    );
    // A question shows from its stage on: the deal's stage is at or past it.
    let position = |stage| pipelines.iter().flat_map(|p| p.stages.iter()).find(|x| x.id == stage).map(|x| x.position);
    let here = position(deal.stage_id);
    let questions = st
        .store
        .deal_questions(deal.id)
        .await?
        .into_iter()
        .filter(|q| q.from_stage_id.is_none_or(|f| matches!((position(f), here), (Some(a), Some(b)) if b >= a)))
        .map(|q| QuestionView {
            id: q.question_id.clone(),
            question: q.question.clone(),
            options: q
                .answers
                .iter()
                .map(|(a, p)| (a.clone(), format!("{a} ({})", signed(*p)), q.current.as_deref() == Some(a.as_str())))
                .collect(),
        })
        .collect();
    Ok(Some(ScoreView {
        total: num(s.total),
        band: s.band.unwrap_or_default(),
        disqualified: s.disqualified,
        sum,
        lines,
        questions,
    }))
}

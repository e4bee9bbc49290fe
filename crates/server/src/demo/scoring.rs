//! The demo's lead-scoring model on the sales pipeline: fit rules on the
//! demo's industries, sizes and sources, engagement on replies and
//! meetings, and BANT-style questions; published before the deals are
//! seeded, so every deal is scored as it is worked, and some questions are
//! answered afterwards, so the deals spread over the bands and the
//! thresholds have fired on some.

use super::pick;
use dealflow_core::model::{DealStatus, NewCampaign, Pipeline};
use dealflow_core::scoring::ModelBody;
use dealflow_store::scoring::NewAnswer;
use dealflow_store::{Actor, DealFilter, NewScoringModel, Page, Store};
use rand::Rng;
use rand::rngs::StdRng;
use serde_json::json;

/// Creates and publishes the model of the sales pipeline.
pub async fn seed_model(store: &Store, sys: &Actor, sales: &Pipeline) -> anyhow::Result<()> {
    let nurture =
        store.create_campaign(sys, NewCampaign { name: "Nurture (lead score)".into(), ..Default::default() }).await?;
    let body: ModelBody = serde_json::from_value(json!({
        "rules": [
            {"id": "software", "group": "fit", "field": "organization.industry", "op": "one_of",
             "value": ["Software", "Fintech"], "points": 20},
            {"id": "mid-size", "group": "fit", "field": "organization.employees", "op": "between", "value": [200, 5000],
             "points": 15},
            {"id": "tiny", "group": "fit", "field": "organization.employees", "op": "between", "value": [0, 20],
             "points": -15},
            {"id": "referral", "group": "fit", "field": "source", "op": "eq", "value": "referral", "points": 15},
            {"id": "inbound", "group": "fit", "field": "source", "op": "eq", "value": "inbound", "points": 10},
            {"id": "replies", "group": "engagement", "event": "outreach.replied", "sentiment": "positive",
             "points": 10, "cap": 20, "half_life_days": 45},
            {"id": "meetings", "group": "engagement", "event": "activity.done", "activity_kind": "meeting",
             "points": 10, "cap": 20, "half_life_days": 60},
            {"id": "budget", "group": "question", "question": "Budget confirmed?", "answers": {"yes": 25, "no": -30},
             "from_stage_id": sales.stages.get(1).map(|s| s.id.to_string())},
            {"id": "authority", "group": "question", "question": "Talking to the decision maker?",
             "answers": {"yes": 10, "no": -10}},
            {"id": "need", "group": "question", "question": "Clear need for the product?",
             "answers": {"yes": 15, "no": -35}},
            {"id": "timeline", "group": "question", "question": "Buying within 90 days?",
             "answers": {"yes": 10, "no": -5}}
        ],
        "thresholds": {"disqualify_below": 0, "disqualify_action": "flag", "nurture_at": 55,
                       "nurture_campaign_id": nurture.id.to_string(), "rearm_gap": 10},
        "bands": [{"name": "A", "min": 60}, {"name": "B", "min": 35}, {"name": "C", "min": 0}, {"name": "D", "min": -1000}]
    }))?;
    let m = store
        .create_scoring_model(
            sys,
            NewScoringModel {
                name: "Sales qualification".into(),
                pipeline_id: Some(sales.id),
                rules: body.rules,
                thresholds: body.thresholds,
                bands: body.bands,
            },
        )
        .await?;
    store.publish_scoring_model(sys, m.id).await?;
    Ok(())
}

/// Answers the qualifying questions of some open sales deals, the way the
/// reps would on their calls: deals further on know more.
pub async fn answer_questions(store: &Store, rng: &mut StdRng, sales: &Pipeline) -> anyhow::Result<()> {
    let f = DealFilter { pipeline_id: Some(sales.id), status: Some(DealStatus::Open), ..Default::default() };
    let deals = store.list_deals(&f, Page { limit: 500, before: None }).await?.items;
    for d in deals {
        let depth = sales.stages.iter().position(|s| s.id == d.stage_id).unwrap_or(0);
        let actor = Actor { user_id: d.owner_id, ..Actor::system() };
        for q in ["budget", "authority", "need", "timeline"].iter().take(depth + 1) {
            if rng.random_range(0..3) == 0 {
                continue;
            }
            let answer = *pick(rng, &["yes", "yes", "no"]);
            store.answer_question(&actor, d.id, q, NewAnswer { answer: answer.into() }).await?;
        }
    }
    Ok(())
}

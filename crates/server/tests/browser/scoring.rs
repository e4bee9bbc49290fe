//! Lead scores in real Chromium: the board's cards carry the score with
//! its band, and on the deal page a question answered in place moves the
//! score at once, with the ledger line that explains it.

use crate::harness::{Screen, enabled, start};
use dealflow_core::model::NewDeal;
use dealflow_core::scoring::ModelBody;
use dealflow_store::{Actor, NewScoringModel};

#[tokio::test]
async fn a_question_answered_on_the_deal_page_moves_the_score() {
    if !enabled() {
        return;
    }
    let s = start(false, Screen::Desktop, "en").await;
    let actor = Actor::system();
    let pipeline = s.store.pipelines().await.expect("pipelines")[0].id;
    let body: ModelBody = serde_json::from_value(serde_json::json!({
        "rules": [{"group": "fit", "field": "source", "op": "eq", "value": "Referral", "points": 20},
                  {"id": "budget", "group": "question", "question": "Budget confirmed?", "answers": {"yes": 30, "no": -40}}],
        "bands": [{"name": "A", "min": 40}, {"name": "B", "min": 0}]
    }))
    .expect("a model");
    let model = NewScoringModel {
        name: "Qualification".into(),
        pipeline_id: Some(pipeline),
        rules: body.rules,
        thresholds: body.thresholds,
        bands: body.bands,
    };
    let model = s.store.create_scoring_model(&actor, model).await.expect("model");
    s.store.publish_scoring_model(&actor, model.id).await.expect("publish");
    let deal = NewDeal { title: "Scored deal".into(), source: Some("Referral".into()), ..Default::default() };
    let deal = s.store.create_deal(&actor, deal).await.expect("deal");

    s.login().await;
    s.wait_for(&format!(".card[data-id='{}'] .score", deal.id)).await;
    let badge =
        s.js(&format!("return document.querySelector(\".card[data-id='{}'] .score\").textContent", deal.id)).await;
    assert_eq!(badge.as_str().map(str::trim), Some("B 20"), "{badge}");

    s.goto(&format!("/deals/{}", deal.id)).await;
    s.wait_for("select[data-question=budget]").await;
    s.js("const q = document.querySelector('select[data-question=budget]'); q.value = 'yes'; \
          q.dispatchEvent(new Event('change', { bubbles: true }));")
        .await;
    s.until("return document.querySelector('.score-panel h2 .score')?.textContent.trim() === 'A 50'").await;
    let line =
        s.js("return [...document.querySelectorAll('.score-panel .why td')].map(td => td.textContent).join('|')").await;
    assert!(line.as_str().is_some_and(|l| l.contains("Budget confirmed?: yes|+30")), "{line}");
    let selected = s.js("return document.querySelector('select[data-question=budget]').value").await;
    assert_eq!(selected, "yes");
    s.close().await;
}

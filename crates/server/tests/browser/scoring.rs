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
    // The learned probability is computed when opened; a new workspace
    // has no history to learn from, and the page says so.
    s.js("document.querySelector('#win-prob summary').click()").await;
    s.until("return document.querySelector('#win-prob .out').textContent.startsWith('Not enough history')").await;
    s.close().await;
}

/// The scoring settings page: the draft's live counts, then an edit of the
/// draft saved and published from the page.
#[tokio::test]
async fn the_model_editor_counts_and_publishes_the_draft() {
    if !enabled() {
        return;
    }
    let s = start(false, Screen::Desktop, "en").await;
    let actor = Actor::system();
    let pipeline = s.store.pipelines().await.expect("pipelines")[0].id;
    for (title, source) in [("Ref one", "Referral"), ("Ref two", "Referral"), ("Cold", "Outbound")] {
        let deal = NewDeal { title: title.into(), source: Some(source.into()), ..Default::default() };
        s.store.create_deal(&actor, deal).await.expect("deal");
    }
    let body: ModelBody = serde_json::from_value(serde_json::json!({
        "rules": [{"id": "referral", "group": "fit", "field": "source", "op": "eq", "value": "Referral", "points": 20}],
        "bands": [{"name": "A", "min": 15}, {"name": "B", "min": 0}]
    }))
    .expect("a model");
    let model = NewScoringModel {
        name: "Editor".into(),
        pipeline_id: Some(pipeline),
        rules: body.rules,
        thresholds: body.thresholds,
        bands: body.bands,
    };
    let model = s.store.create_scoring_model(&actor, model).await.expect("model");

    s.login().await;
    s.goto("/settings/scoring").await;
    s.wait_for("#draft-json").await;
    let cells =
        s.js("return [...document.querySelectorAll('#h-counts ~ table td')].map(td => td.textContent).join('|')").await;
    assert!(
        cells.as_str().is_some_and(|c| c.contains("referral|fit|") && c.contains("|2")),
        "two deals match: {cells}"
    );
    // Add an outbound rule, save and publish from the page.
    s.js("const t = document.getElementById('draft-json'); const d = JSON.parse(t.value); \
          d.rules.push({id: 'cold', group: 'fit', field: 'source', op: 'eq', value: 'Outbound', points: -10}); \
          t.value = JSON.stringify(d); document.getElementById('publish').click();")
        .await;
    s.until("return document.querySelector('tr.selected td:nth-child(3)')?.textContent.trim() === '1'").await;
    let published = s.store.scoring_model(model.id).await.expect("model");
    assert_eq!(published.published_version, Some(1));
    assert_eq!(published.published.map(|b| b.rules.len()), Some(2));
    s.close().await;
}

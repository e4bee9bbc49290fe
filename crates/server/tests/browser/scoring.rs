//! Lead scores in real Chromium: the board's cards carry the score with
//! its band, and on the deal page a question answered in place moves the
//! score at once, with the ledger line that explains it.

use crate::harness::{Screen, Session, enabled, start};
use dealflow_core::model::{NewDeal, NewUser, Role};
use dealflow_core::scoring::ModelBody;
use dealflow_store::{Actor, NewScoringModel, ScoringModelPatch};
use fantoccini::Locator;
use serde_json::json;

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
    // Add an outbound rule in the JSON view, save and publish from the page.
    s.js("document.getElementById('tab-json').click(); const t = document.getElementById('draft-json'); const d = JSON.parse(t.value); \
          d.rules.push({id: 'cold', group: 'fit', field: 'source', op: 'eq', value: 'Outbound', points: -10}); \
          t.value = JSON.stringify(d); document.getElementById('publish').click();")
        .await;
    s.until("return document.querySelector('tr.selected td:nth-child(3)')?.textContent.trim() === '1'").await;
    let published = s.store.scoring_model(model.id).await.expect("model");
    assert_eq!(published.published_version, Some(1));
    assert_eq!(published.published.map(|b| b.rules.len()), Some(2));
    s.close().await;
}

/// Sets a form control of the rule card `card` (a CSS selector) as a
/// person would: the value, then the input and change events.
async fn set(s: &Session, card: &str, name: &str, value: &str) {
    s.js(&format!(
        "const el = document.querySelector(\"{card} [name={name}]\"); el.value = {value:?}; \
         el.dispatchEvent(new Event('input', {{ bubbles: true }})); el.dispatchEvent(new Event('change', {{ bubbles: true }})); return true"
    ))
    .await;
}

async fn click(s: &Session, css: &str) {
    s.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).click().await.expect("click");
}

/// A model of one rule per group, each with its id, over three deals.
async fn form_model(s: &Session) -> dealflow_core::ScoringModelId {
    let actor = Actor::system();
    let pipeline = s.store.pipelines().await.expect("pipelines")[0].id;
    for (title, source) in [("Ref one", "Referral"), ("Ref two", "Referral"), ("Cold", "Outbound")] {
        let deal = NewDeal { title: title.into(), source: Some(source.into()), ..Default::default() };
        s.store.create_deal(&actor, deal).await.expect("deal");
    }
    let body: ModelBody = serde_json::from_value(json!({
        "rules": [{"id": "referral", "group": "fit", "field": "source", "op": "eq", "value": "Referral", "points": 20},
                  {"id": "replies", "group": "engagement", "event": "outreach.replied", "sentiment": "positive", "points": 10},
                  {"id": "budget", "group": "question", "question": "Budget confirmed?", "answers": {"yes": 30, "no": -40}}],
        "bands": [{"name": "A", "min": 15}, {"name": "B", "min": 0}]
    }))
    .expect("a model");
    let model = NewScoringModel {
        name: "Form".into(),
        pipeline_id: Some(pipeline),
        rules: body.rules,
        thresholds: body.thresholds,
        bands: body.bands,
    };
    s.store.create_scoring_model(&actor, model).await.expect("model").id
}

/// The form editor: rules added per group, an existing rule edited, a
/// threshold changed; the server's 422 beside the rule's input; the JSON
/// view and back keep the edits; published, the model holds the old ids
/// and the new rules as entered; a concurrent edit is a conflict shown.
#[tokio::test]
async fn the_form_editor_adds_rules_keeps_ids_and_publishes() {
    if !enabled() {
        return;
    }
    let s = start(false, Screen::Desktop, "en").await;
    let model = form_model(&s).await;
    s.login().await;
    s.goto("/settings/scoring").await;
    s.wait_for("#draft-form .rule-card").await;
    let card = |g: &str, n: usize| format!(".rule-group[data-group={g}] .rule-card:nth-child({n})");
    let count = |c: &str| format!("return document.querySelector(\"{c} .rule-count\").textContent");
    assert_eq!(s.js(&count(&card("fit", 1))).await, json!("Open deals: 2"));
    let hidden_json = s.js("return document.getElementById('draft-json-view').hidden").await;
    assert_eq!(hidden_json, json!(true), "the form is the default view");

    // An existing rule edited, and one new rule per group.
    set(&s, &card("fit", 1), "points", "25").await;
    click(&s, ".add-rule[data-group=fit]").await;
    let fit = card("fit", 2);
    set(&s, &fit, "field", "source").await;
    set(&s, &fit, "op", "eq").await;
    set(&s, &fit, "value", "Outbound").await;
    set(&s, &fit, "points", "-10").await;
    // The live count of the new rule, once the preview answers.
    s.until(&format!("return document.querySelector(\"{fit} .rule-count\").textContent === 'Open deals: 1'")).await;

    click(&s, ".add-rule[data-group=engagement]").await;
    let eng = card("engagement", 2);
    set(&s, &eng, "event", "activity.done").await;
    let kind_shown =
        s.js(&format!("return !document.querySelector(\"{eng} [name=activity_kind]\").closest('label').hidden")).await;
    assert_eq!(kind_shown, json!(true), "activity.done takes an activity type");
    set(&s, &eng, "activity_kind", "meeting").await;
    set(&s, &eng, "points", "15").await;
    set(&s, &eng, "cap", "30").await;
    set(&s, &eng, "half_life_days", "0").await;

    click(&s, ".add-rule[data-group=question]").await;
    let q = card("question", 2);
    set(&s, &q, "question", "Timeline agreed?").await;
    set(&s, &format!("{q} .answer-row:nth-child(1)"), "answer", "yes").await;
    set(&s, &format!("{q} .answer-row:nth-child(1)"), "answer_points", "20").await;
    click(&s, &format!("{q} .add-answer")).await;
    set(&s, &format!("{q} .answer-row:nth-child(2)"), "answer", "no").await;
    set(&s, &format!("{q} .answer-row:nth-child(2)"), "answer_points", "-10").await;
    set(&s, ".thresholds", "nurture_at", "50").await;
    set(&s, ".thresholds", "disqualify_below", "-20").await;

    // A half-life of 0 is refused: the message stands beside that input.
    click(&s, "#save-draft").await;
    let err = format!("{eng} [data-err=half_life_days]");
    s.until(&format!("return !document.querySelector(\"{err}\").hidden")).await;
    let msg = s.js(&format!("return document.querySelector(\"{err}\").textContent")).await;
    assert!(msg.as_str().is_some_and(|m| m.contains("half-life")), "{msg}");
    assert_eq!(s.js("return document.getElementById('draft-error').hidden").await, json!(false));
    s.screenshot("scoring-form-error").await;

    // To JSON and back: the edits are there both ways.
    click(&s, "#tab-json").await;
    let body = s.js("return JSON.parse(document.getElementById('draft-json').value)").await;
    assert_eq!(body["rules"].as_array().map(Vec::len), Some(6), "{body}");
    assert_eq!(body["rules"][4]["half_life_days"], json!(0), "{body}");
    assert_eq!(body["rules"][5]["answers"], json!({"yes": 20, "no": -10}), "{body}");
    click(&s, "#tab-form").await;
    s.until("return !document.getElementById('draft-form').hidden").await;
    let back = s.js(&format!("return [document.querySelector(\"{q} [name=question]\").value, \
        document.querySelectorAll(\"{q} .answer-row\").length, document.querySelector(\"{eng} [name=half_life_days]\").value, \
        document.querySelector(\".thresholds [name=nurture_at]\").value]")).await;
    assert_eq!(back, json!(["Timeline agreed?", 2, "0", "50"]));

    // Fixed, saved and published.
    set(&s, &eng, "half_life_days", "14").await;
    click(&s, "#publish").await;
    s.until("return document.querySelector('tr.selected td:nth-child(3)')?.textContent.trim() === '1'").await;
    let m = s
        .client
        .execute_async(
            &format!(
                "const done = arguments[0]; fetch('/api/v1/scoring/models/{model}').then(r => r.json()).then(done)"
            ),
            vec![],
        )
        .await
        .expect("read the model");
    let rules = &m["published"]["rules"];
    let ids: Vec<&str> = rules.as_array().expect("rules").iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(ids.len(), 6, "{m}");
    assert_eq!(&ids[..3], ["referral", "replies", "budget"], "existing ids kept: {m}");
    assert!(ids[3..].iter().all(|id| !["referral", "replies", "budget"].contains(id)), "new ids given: {m}");
    assert_eq!(rules[0]["points"], json!(25), "{m}");
    assert_eq!(rules[1]["sentiment"], "positive", "untouched fields kept: {m}");
    let mut fit = rules[3].clone();
    fit.as_object_mut().map(|o| o.remove("id"));
    assert_eq!(fit, json!({"group": "fit", "field": "source", "op": "eq", "value": "Outbound", "points": -10}));
    let mut eng = rules[4].clone();
    eng.as_object_mut().map(|o| o.remove("id"));
    assert_eq!(
        eng,
        json!({"group": "engagement", "event": "activity.done", "activity_kind": "meeting", "points": 15, "cap": 30, "half_life_days": 14})
    );
    assert_eq!(rules[5]["question"], "Timeline agreed?", "{m}");
    assert_eq!(rules[5]["answers"], json!({"yes": 20, "no": -10}), "{m}");
    assert_eq!(m["published"]["thresholds"], json!({"disqualify_below": -20, "nurture_at": 50}), "{m}");
    assert_eq!(m["published"]["bands"], json!([{"name": "A", "min": 15}, {"name": "B", "min": 0}]), "{m}");

    // Someone else saves meanwhile: the form's save is a conflict, shown.
    let now = s.store.scoring_model(model).await.expect("model");
    let patch = ScoringModelPatch {
        version: now.version,
        name: Some("Renamed".into()),
        rules: None,
        thresholds: None,
        bands: None,
    };
    s.store.update_scoring_model(&Actor::system(), model, patch).await.expect("concurrent edit");
    set(&s, &card("fit", 1), "points", "30").await;
    click(&s, "#save-draft").await;
    s.until("return !document.getElementById('draft-error').hidden").await;
    let msg = s.js("return document.getElementById('draft-error').textContent").await;
    assert!(msg.as_str().is_some_and(|m| m.contains("changed by someone else")), "{msg}");
    assert_eq!(s.store.scoring_model(model).await.expect("model").draft.rules[0].points, Some(25.0));
    s.close().await;
}

/// A rep reads the form: every input disabled, nothing to add or remove.
#[tokio::test]
async fn a_rep_sees_the_form_read_only() {
    if !enabled() {
        return;
    }
    let s = start(false, Screen::Phone, "zh-CN").await;
    form_model(&s).await;
    let rep = NewUser {
        email: "rep@example.com".into(),
        name: "Rita Rep".into(),
        role: Role::Rep,
        password: "a rep password 123".into(),
        locale: None,
    };
    dealflow_server::api::users::add_user(&s.store, &Actor::system(), rep).await.expect("rep");
    s.goto("/login").await;
    s.client
        .find(Locator::Css("input[name=email]"))
        .await
        .expect("email")
        .send_keys("rep@example.com")
        .await
        .expect("t");
    s.client
        .find(Locator::Css("input[name=password]"))
        .await
        .expect("pw")
        .send_keys("a rep password 123")
        .await
        .expect("t");
    click(&s, "form button[type=submit]").await;
    s.wait_for("main .board, main .filters").await;
    s.goto("/settings/scoring").await;
    s.wait_for("#draft-form .rule-card").await;
    let state = s
        .js("const f = document.getElementById('draft-form'); const all = f.querySelectorAll('input, select, textarea'); \
             return [all.length > 10, [...all].every(i => i.disabled), \
             f.querySelectorAll('.add-rule, .remove-rule, .add-answer, .add-band').length, !!document.getElementById('save-draft')]")
        .await;
    assert_eq!(state, json!([true, true, 0, false]));
    let legend = s.js("return document.querySelector('.rule-group[data-group=fit] legend').textContent").await;
    assert_eq!(legend, json!("匹配度规则"));
    let widths = s.js("return [document.documentElement.scrollWidth, window.innerWidth]").await;
    assert_eq!(widths[0], widths[1], "the page does not scroll sideways at phone width: {widths}");
    s.screenshot("scoring-form-phone-zh").await;
    s.close().await;
}

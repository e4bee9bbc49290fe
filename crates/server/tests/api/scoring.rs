//! Lead scoring over HTTP on both engines: a published model scores open
//! deals (rescore), answers and activities move the score at once, the
//! score is the sum of its ledger, thresholds fire once per crossing,
//! `min_score` gates forward moves like a playbook step, `as_of` reads the
//! past, and bad models are refused naming the rule.

use crate::helpers::{TestApp, assert_problem, spawn_app};
use dealflow_core::time::Timestamp;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn s(v: &Value) -> String {
    v.as_str().expect("a string id").to_string()
}

/// A pipeline of three stages (no playbook) and a campaign to nurture into.
async fn setup(app: &TestApp) -> (Value, Value) {
    let body = json!({"name": "Scored", "stages": [{"name": "New"}, {"name": "Qualified"}, {"name": "Proposal"}]});
    let (st, p) = app.post("/api/v1/pipelines", body).await;
    assert_eq!(st, StatusCode::CREATED, "{p}");
    let (st, c) = app.post("/api/v1/campaigns", json!({"name": "Nurture", "channel": "email"})).await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    (p, c)
}

fn model(p: &Value, c: &Value) -> Value {
    json!({
        "name": "BANT",
        "pipeline_id": p["id"],
        "rules": [
            {"group": "fit", "field": "source", "op": "eq", "value": "Referral", "points": 20},
            {"id": "meetings", "group": "engagement", "event": "activity.done", "activity_kind": "meeting",
             "points": 15, "cap": 30, "half_life_days": 30},
            {"id": "budget", "group": "question", "question": "Budget confirmed?", "answers": {"yes": 30, "no": -40}}
        ],
        "thresholds": {"disqualify_below": 0, "nurture_at": 50, "nurture_campaign_id": c["id"], "nurture_task": true,
                       "rearm_gap": 10, "min_score": {s(&p["stages"][2]["id"]): 40}},
        "bands": [{"name": "A", "min": 60}, {"name": "B", "min": 30}, {"name": "C", "min": -1000}]
    })
}

async fn publish(app: &TestApp, id: &str) -> Value {
    let (st, m) = app.post(&format!("/api/v1/scoring/models/{id}/publish"), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{m}");
    // The rescore runs as a job; the test runs its batches itself.
    let (model, version) = (id.parse::<i64>().expect("an id"), m["published_version"].as_i64().expect("a version"));
    while let Some(_next) = app.store.rescore_batch(model, version, false, 0).await.expect("rescore") {}
    m
}

async fn score(app: &TestApp, deal: &str) -> Value {
    let (st, sc) = app.get(&format!("/api/v1/deals/{deal}/score")).await;
    assert_eq!(st, StatusCode::OK, "{sc}");
    let sum: f64 = sc["contributions"]
        .as_array()
        .expect("contributions")
        .iter()
        .map(|c| c["points_now"].as_f64().unwrap_or(0.0))
        .sum();
    let total = sc["total"].as_f64().expect("a total");
    assert!((sum - total).abs() < 0.011, "total {total} is the sum of points_now {sum}: {sc}");
    sc
}

#[tokio::test]
async fn a_published_model_scores_deals_and_facts_move_the_score_at_once() {
    let app = spawn_app().await;
    let (p, c) = setup(&app).await;
    let (st, person) = app.post("/api/v1/people", json!({"name": "Ada", "emails": ["ada@example.com"]})).await;
    assert_eq!(st, StatusCode::CREATED, "{person}");
    let early = app
        .create_deal(json!({"title": "Early", "pipeline_id": p["id"], "source": "Referral", "person_id": person["id"]}))
        .await;
    let (st, m) = app.post("/api/v1/scoring/models", model(&p, &c)).await;
    assert_eq!(st, StatusCode::CREATED, "{m}");
    assert_eq!(m["draft"]["rules"][0]["id"], "rule-1", "rules get ids: {m}");
    assert!(m["published_version"].is_null());
    let (st, _) = app.get(&format!("/api/v1/deals/{}/score", s(&early["id"]))).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "a draft scores nothing");
    let m = publish(&app, &s(&m["id"])).await;
    assert_eq!(m["published_version"], 1);
    let (_, m) = app.get(&format!("/api/v1/scoring/models/{}", s(&m["id"]))).await;
    assert_eq!(m["rescore"], json!({"done": 1, "total": 1, "finished": true}), "{m}");

    // The editor's live counts: the fit rule gives points to the one deal.
    let (st, pv) = app.get(&format!("/api/v1/scoring/models/{}/preview", s(&m["id"]))).await;
    assert_eq!(st, StatusCode::OK, "{pv}");
    assert_eq!(pv["deals"], 1, "{pv}");
    assert_eq!(pv["rules"][0], json!({"rule_id": "rule-1", "group": "fit", "deals": 1}), "{pv}");
    let band_c = pv["bands"].as_array().unwrap().iter().find(|b| b["band"] == "C").cloned().unwrap();
    assert_eq!((band_c["draft"].clone(), band_c["published"].clone()), (json!(1), json!(1)), "{pv}");
    // An edit not saved yet: counted as the draft, checked as saving checks
    // it, and nothing stored.
    let edit = json!({"rules": [{"group": "fit", "field": "source", "op": "eq", "value": "Outbound", "points": 5}]});
    let (st, pv) = app.post(&format!("/api/v1/scoring/models/{}/preview", s(&m["id"])), edit).await;
    assert_eq!(st, StatusCode::OK, "{pv}");
    assert_eq!(pv["rules"], json!([{"rule_id": "rule-1", "group": "fit", "deals": 0}]), "{pv}");
    let bad = json!({"rules": [{"group": "engagement", "event": "email.opened", "points": 1, "half_life_days": 0}]});
    let (st, e) = app.post(&format!("/api/v1/scoring/models/{}/preview", s(&m["id"])), bad).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["errors"][0]["field"], "rules[0].half_life_days", "{e}");
    let (_, same) = app.get(&format!("/api/v1/scoring/models/{}", s(&m["id"]))).await;
    assert_eq!(same["version"], m["version"], "a preview stores nothing");

    // The rescore scored the deal that was there before the model.
    let deal = s(&early["id"]);
    let sc = score(&app, &deal).await;
    assert_eq!(sc["total"], 20.0, "{sc}");
    assert_eq!(sc["band"], "C");
    assert_eq!(sc["groups"]["fit"], 20.0);

    // An answer moves it at once, and is history.
    let (st, a) = app
        .call(reqwest::Method::PUT, &format!("/api/v1/deals/{deal}/answers/budget"), Some(json!({"answer": "Yes"})))
        .await;
    assert_eq!(st, StatusCode::OK, "{a}");
    assert_eq!(a["answer"]["answer"], "yes", "canonical spelling");
    assert_eq!(a["score"]["total"], 50.0, "{a}");
    // 50 reaches the nurture level: once, with the enrolment and a task.
    let sc = score(&app, &deal).await;
    let firings: Vec<&str> = sc["firings"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert_eq!(firings, ["nurture"], "{sc}");
    let (_, members) = app.get(&format!("/api/v1/campaigns/{}/members", s(&c["id"]))).await;
    assert_eq!(members["items"].as_array().map(Vec::len), Some(1), "enrolled: {members}");
    let (_, tasks) = app.get(&format!("/api/v1/activities?deal_id={deal}")).await;
    assert!(
        tasks["items"].as_array().unwrap().iter().any(|t| t["subject"].as_str().unwrap_or("").starts_with("Nurture")),
        "{tasks}"
    );

    // A meeting done: +15, at once.
    let body = json!({"kind": "meeting", "subject": "Demo", "deal_id": deal, "done_at": Timestamp::now().to_rfc3339()});
    let (st, meeting) = app.post("/api/v1/activities", body).await;
    assert_eq!(st, StatusCode::CREATED, "{meeting}");
    let sc = score(&app, &deal).await;
    assert_eq!(sc["groups"]["engagement"], 15.0, "{sc}");
    assert_eq!(sc["band"], "A");

    // Changing the answer takes the old points back and adds the new.
    let (_, a) = app
        .call(reqwest::Method::PUT, &format!("/api/v1/deals/{deal}/answers/budget"), Some(json!({"answer": "no"})))
        .await;
    assert_eq!(a["answer"]["previous"], "yes");
    assert_eq!(a["score"]["total"], -5.0, "20 - 40 + 15: {a}");
    // Below 0: disqualified (flag), once; the nurture level re-armed (below 40).
    let sc = score(&app, &deal).await;
    assert_eq!(sc["disqualified"], true, "{sc}");
    let (_, qs) = app.get(&format!("/api/v1/deals/{deal}/answers")).await;
    assert_eq!(qs[0]["current"], "no");
    assert_eq!(qs[0]["history"].as_array().map(Vec::len), Some(2), "{qs}");

    // Each crossing fires once, each level re-arming past the gap.
    for answer in ["yes", "no", "yes", "no"] {
        app.call(
            reqwest::Method::PUT,
            &format!("/api/v1/deals/{deal}/answers/budget"),
            Some(json!({"answer": answer})),
        )
        .await;
    }
    let sc = score(&app, &deal).await;
    let kinds: Vec<&str> = sc["firings"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap()).collect();
    // yes (65) re-arms the disqualify level and fires nurture again (it
    // re-armed at -5); no (-5) disqualifies again: once per crossing.
    assert_eq!(kinds, ["nurture", "disqualify", "nurture", "disqualify", "nurture", "disqualify"], "{sc}");

    // A human clears the flag, with a reason; the timeline shows it all.
    let (st, cleared) =
        app.post(&format!("/api/v1/deals/{deal}/score/clear"), json!({"reason": "Budget comes in Q3"})).await;
    assert_eq!(st, StatusCode::OK, "{cleared}");
    assert_eq!(cleared["disqualified"], false);
    let (st, again) = app.post(&format!("/api/v1/deals/{deal}/score/clear"), json!({"reason": "again"})).await;
    assert_problem(st, &again, StatusCode::CONFLICT, None);

    // As of before the meeting, the score had no engagement.
    let before = sc["contributions"].as_array().unwrap().iter().find(|c| c["group"] == "engagement").unwrap()["at"]
        .as_str()
        .unwrap()
        .to_string();
    let t = Timestamp::parse(&before).expect("a time");
    let (st, past) = app
        .get(&format!("/api/v1/deals/{deal}/score?as_of={}", Timestamp(t.0 - 1).to_rfc3339().replace('+', "%2B")))
        .await;
    assert_eq!(st, StatusCode::OK, "{past}");
    assert_eq!(past["groups"]["engagement"], 0.0, "{past}");
}

#[tokio::test]
async fn min_score_gates_forward_moves_like_a_playbook_step() {
    let app = spawn_app().await;
    let (p, c) = setup(&app).await;
    let (_, m) = app.post("/api/v1/scoring/models", model(&p, &c)).await;
    publish(&app, &s(&m["id"])).await;
    let deal =
        app.create_deal(json!({"title": "Gated", "pipeline_id": p["id"], "stage_id": p["stages"][1]["id"]})).await;
    let id = s(&deal["id"]);
    let proposal = p["stages"][2]["id"].clone();
    let (st, refused) =
        app.patch(&format!("/api/v1/deals/{id}"), json!({"version": deal["version"], "stage_id": proposal})).await;
    assert_problem(st, &refused, StatusCode::UNPROCESSABLE_ENTITY, Some("score"));
    // Backwards is never blocked.
    let (st, back) = app
        .patch(&format!("/api/v1/deals/{id}"), json!({"version": deal["version"], "stage_id": p["stages"][0]["id"]}))
        .await;
    assert_eq!(st, StatusCode::OK, "{back}");
    // With an override the move goes ahead, and is recorded.
    let body = json!({"version": back["version"], "stage_id": proposal, "override_reason": "CEO asked"});
    let (st, moved) = app.patch(&format!("/api/v1/deals/{id}"), body).await;
    assert_eq!(st, StatusCode::OK, "{moved}");
    // Answering raises the score over the minimum: no override needed.
    let other = app
        .create_deal(
            json!({"title": "Ready", "pipeline_id": p["id"], "stage_id": p["stages"][1]["id"], "source": "Referral"}),
        )
        .await;
    let oid = s(&other["id"]);
    app.call(reqwest::Method::PUT, &format!("/api/v1/deals/{oid}/answers/budget"), Some(json!({"answer": "yes"})))
        .await;
    let (_, cur) = app.get(&format!("/api/v1/deals/{oid}")).await;
    let (st, moved) =
        app.patch(&format!("/api/v1/deals/{oid}"), json!({"version": cur["version"], "stage_id": proposal})).await;
    assert_eq!(st, StatusCode::OK, "{moved}");
}

#[tokio::test]
async fn bad_models_are_refused_naming_the_rule() {
    let app = spawn_app().await;
    let (p, c) = setup(&app).await;
    let bad = json!({"name": "Bad", "pipeline_id": p["id"], "rules": [
        {"group": "fit", "field": "organization.revenue", "op": "eq", "value": 1, "points": 5},
        {"group": "question", "question": "Budget?", "answers": {}},
        {"group": "engagement", "event": "email.opened", "points": 5, "half_life_days": 0},
        {"group": "fit", "field": "value", "op": "is_set", "points": 5000}
    ], "thresholds": {"disqualify_below": 50, "nurture_at": 20}});
    let (st, e) = app.post("/api/v1/scoring/models", bad).await;
    assert_problem(st, &e, StatusCode::UNPROCESSABLE_ENTITY, Some("rules[0].field"));
    let fields: Vec<&str> = e["errors"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    for f in ["rules[1].answers", "rules[2].half_life_days", "rules[3].points", "thresholds"] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    // A second model for the same pipeline is a conflict.
    let (_, m) = app.post("/api/v1/scoring/models", model(&p, &c)).await;
    let (st, dup) = app.post("/api/v1/scoring/models", model(&p, &c)).await;
    assert_problem(st, &dup, StatusCode::CONFLICT, None);
    // A draft whose campaign went away cannot be published.
    let (st, _) = app.delete(&format!("/api/v1/campaigns/{}", s(&c["id"]))).await;
    assert!(st.is_success(), "{st}");
    let (st, e) = app.post(&format!("/api/v1/scoring/models/{}/publish", s(&m["id"])), json!({})).await;
    assert_problem(st, &e, StatusCode::UNPROCESSABLE_ENTITY, Some("thresholds.nurture_campaign_id"));
    // A question that is not the model's, an answer that is not the question's.
    let deal = app.create_deal(json!({"title": "Q", "pipeline_id": p["id"]})).await;
    let (st, e) = app
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/deals/{}/answers/budget", s(&deal["id"])),
            Some(json!({"answer": "yes"})),
        )
        .await;
    assert_problem(st, &e, StatusCode::CONFLICT, None);
}

#[tokio::test]
async fn the_calibration_never_reads_a_fact_from_after_its_moment() {
    let app = spawn_app().await;
    let (p, c) = setup(&app).await;
    let (_, m) = app.post("/api/v1/scoring/models", model(&p, &c)).await;
    let mid = s(&m["id"]);
    publish(&app, &mid).await;
    let answer = |deal: String| {
        let app = &app;
        async move {
            let path = format!("/api/v1/deals/{deal}/answers/budget");
            let (st, a) = app.call(reqwest::Method::PUT, &path, Some(json!({"answer": "yes"}))).await;
            assert_eq!(st, StatusCode::OK, "{a}");
        }
    };
    let step = |deal: Value, body: Value| {
        let app = &app;
        async move {
            let (_, cur) = app.get(&format!("/api/v1/deals/{}", s(&deal["id"]))).await;
            let mut b = body;
            b["version"] = cur["version"].clone();
            let (st, d) = app.patch(&format!("/api/v1/deals/{}", s(&deal["id"])), b).await;
            assert_eq!(st, StatusCode::OK, "{d}");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    };
    // Answered before it entered its second stage: 30 then, band B.
    let early = app.create_deal(json!({"title": "Early", "pipeline_id": p["id"], "value": 1000})).await;
    answer(s(&early["id"])).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    step(early.clone(), json!({"stage_id": p["stages"][1]["id"]})).await;
    step(early.clone(), json!({"status": "won"})).await;
    // Answered after: the answer is a fact from after the moment.
    let late = app.create_deal(json!({"title": "Late", "pipeline_id": p["id"], "value": 5000})).await;
    step(late.clone(), json!({"stage_id": p["stages"][1]["id"]})).await;
    answer(s(&late["id"])).await;
    step(late.clone(), json!({"status": "won"})).await;
    // Closed from its first stage: no moment to score at.
    let never = app.create_deal(json!({"title": "Never", "pipeline_id": p["id"]})).await;
    step(never, json!({"status": "lost", "lost_reason": "Timing"})).await;

    let (st, cal) = app.get(&format!("/api/v1/scoring/calibration?model_id={mid}&disqualify_below=10")).await;
    assert_eq!(st, StatusCode::OK, "{cal}");
    assert_eq!(cal["deals"], 3, "{cal}");
    let report = &cal["published"];
    assert_eq!(report["unscored"], 1, "{cal}");
    let band = |name: &str| report["bands"].as_array().unwrap().iter().find(|b| b["band"] == name).cloned().unwrap();
    assert_eq!(band("B")["deals"], 1, "only the early answer counts: {cal}");
    assert_eq!(band("B")["won_value"], 1000, "{cal}");
    assert_eq!(band("C")["deals"], 1, "{cal}");
    assert_eq!(band("C")["win_rate"], 1.0, "{cal}");
    assert_eq!(
        report["what_if"],
        json!({"disqualify_below": 10.0, "dropped": 1, "dropped_won": 1, "dropped_won_value": 5000})
    );
    assert!(cal["draft"].is_null(), "the draft is the published version: {cal}");
}

/// The calibration reads its deals' facts many at once: a meeting with a
/// person counts for each of that person's deals whose moment came after
/// it, a meeting on a deal for that deal only, and a meeting after both
/// moments for neither.
#[tokio::test]
async fn the_calibration_gives_each_deal_its_own_facts_up_to_its_own_moment() {
    let app = spawn_app().await;
    let (p, _) = setup(&app).await;
    let body = json!({"name": "Meetings", "pipeline_id": p["id"], "rules": [
        {"group": "engagement", "event": "activity.done", "activity_kind": "meeting", "points": 15, "cap": 30}
    ], "bands": [{"name": "A", "min": 60}, {"name": "B", "min": 30}, {"name": "C", "min": -1000}]});
    let (st, m) = app.post("/api/v1/scoring/models", body).await;
    assert_eq!(st, StatusCode::CREATED, "{m}");
    let mid = s(&m["id"]);
    publish(&app, &mid).await;
    let (st, person) = app.post("/api/v1/people", json!({"name": "Pat Shared"})).await;
    assert_eq!(st, StatusCode::CREATED, "{person}");
    let meeting = |on: Value| {
        let app = &app;
        async move {
            let mut body = json!({"kind": "meeting", "subject": "Talk", "done_at": Timestamp::now().to_rfc3339()});
            body.as_object_mut().expect("an object").extend(on.as_object().expect("an object").clone());
            let (st, a) = app.post("/api/v1/activities", body).await;
            assert_eq!(st, StatusCode::CREATED, "{a}");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    };
    let step = |deal: &Value, body: Value| {
        let (app, id) = (&app, s(&deal["id"]));
        async move {
            let (_, cur) = app.get(&format!("/api/v1/deals/{id}")).await;
            let mut b = body;
            b["version"] = cur["version"].clone();
            let (st, d) = app.patch(&format!("/api/v1/deals/{id}"), b).await;
            assert_eq!(st, StatusCode::OK, "{d}");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    };
    let deal = |title: &str, value: i64| {
        app.create_deal(json!({"title": title, "pipeline_id": p["id"], "value": value, "person_id": person["id"]}))
    };
    let (first, second) = (deal("First", 100).await, deal("Second", 200).await);
    meeting(json!({"person_id": person["id"]})).await;
    step(&first, json!({"stage_id": p["stages"][1]["id"]})).await;
    meeting(json!({"deal_id": second["id"]})).await;
    step(&second, json!({"stage_id": p["stages"][1]["id"]})).await;
    meeting(json!({"person_id": person["id"]})).await;
    step(&first, json!({"status": "won"})).await;
    step(&second, json!({"status": "won"})).await;

    let (st, cal) = app.get(&format!("/api/v1/scoring/calibration?model_id={mid}&disqualify_below=20")).await;
    assert_eq!(st, StatusCode::OK, "{cal}");
    let report = &cal["published"];
    let band = |name: &str| report["bands"].as_array().unwrap().iter().find(|b| b["band"] == name).cloned().unwrap();
    assert_eq!(band("B")["won_value"], 200, "the second deal: the person's meeting and its own (30): {cal}");
    assert_eq!(band("C")["won_value"], 100, "the first deal: only the person's first meeting (15): {cal}");
    assert_eq!(
        report["what_if"],
        json!({"disqualify_below": 20.0, "dropped": 1, "dropped_won": 1, "dropped_won_value": 100})
    );
}

/// Decay alone can carry a score below a level: the hourly sweep finds it
/// and fires; with `disqualify_action: lose` the deal is lost, through the
/// job runner, with the lost reason "Disqualified (score)".
#[tokio::test]
async fn decay_crossing_a_level_fires_and_lose_loses_the_deal() {
    let app = spawn_app().await;
    let (p, _) = setup(&app).await;
    let body = json!({"name": "Decay", "pipeline_id": p["id"], "rules": [
        {"group": "engagement", "event": "activity.done", "points": 10, "half_life_days": 1}
    ], "thresholds": {"disqualify_below": 5, "disqualify_action": "lose"}});
    let (st, m) = app.post("/api/v1/scoring/models", body).await;
    assert_eq!(st, StatusCode::CREATED, "{m}");
    publish(&app, &s(&m["id"])).await;
    let deal = app.create_deal(json!({"title": "Fading", "pipeline_id": p["id"]})).await;
    let id = s(&deal["id"]);
    // A call half a day ago: 10 × 0.5^0.5 ≈ 7.07, above 5. (Created first:
    // a new deal scores 0, below 5, so it would fire at once.)
    let half_day_ago = Timestamp(Timestamp::now().0 - 43_200_000).to_rfc3339();
    let call =
        json!({"kind": "call", "subject": "Intro", "deal_id": id, "done_at": half_day_ago, "created_at": half_day_ago});
    let (st, a) = app.post("/api/v1/activities", call).await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    let sc = score(&app, &id).await;
    // The deal was created at 0 (below 5): that fired once already; the
    // call re-armed nothing (7.07 < 5 + 10), so nothing fires again here.
    let fired = sc["firings"].as_array().unwrap().len();
    assert!((sc["total"].as_f64().unwrap() - 7.07).abs() < 0.011, "{sc}");

    // Two days on, decay has carried it to 1.77: the sweep re-reads it.
    let later = Timestamp(Timestamp::now().0 + 2 * 86_400_000);
    let swept = app.store.sweep_score_decay(later).await.expect("sweep");
    assert!(swept >= 1, "the sweep reads decaying scores");
    let sc = score(&app, &id).await;
    assert_eq!(sc["firings"].as_array().unwrap().len(), fired, "still below: no second firing without re-arming");

    // A deal that starts above the level and decays below it fires once.
    let other = app.create_deal(json!({"title": "Warm", "pipeline_id": p["id"]})).await;
    let oid = s(&other["id"]);
    let (_, before) = app.get(&format!("/api/v1/deals/{oid}/score")).await;
    let base = before["firings"].as_array().unwrap().len();
    let now = Timestamp::now().to_rfc3339();
    let meeting = json!({"kind": "meeting", "subject": "Demo", "deal_id": oid, "done_at": now});
    app.post("/api/v1/activities", meeting.clone()).await;
    app.post("/api/v1/activities", json!({"kind": "call", "subject": "Follow-up", "deal_id": oid, "done_at": now}))
        .await;
    // 20 now: re-armed (≥ 5 + 10). Three days on: 2.5, below 5: it fires.
    app.store.sweep_score_decay(Timestamp(Timestamp::now().0 + 3 * 86_400_000)).await.expect("sweep");
    // The sweep ran "three days on", so its firing is dated then: read the
    // deal's firings whole (the score's list stops at its moment).
    let after = app.store.score_firings(dealflow_core::DealId(oid.parse().unwrap())).await.expect("firings");
    let kinds: Vec<&str> = after[base..].iter().map(|f| f.kind.as_str()).collect();
    assert_eq!(kinds, ["disqualify"], "{after:?}");
    // `lose`: the job runner loses the deal, with the reason.
    let _runner = crate::mail::quick_runner(&app);
    for _ in 0..100 {
        let (_, d) = app.get(&format!("/api/v1/deals/{oid}")).await;
        if d["status"] == "lost" {
            assert_eq!(d["lost_reason"], "Disqualified (score)");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the deal was not lost");
}

/// Deals filter by band (the API, the export and the list page share the
/// filter) and the list page sorts by score, unscored deals last.
#[tokio::test]
async fn deals_filter_by_band_and_sort_by_score() {
    let app = spawn_app().await;
    let (p, c) = setup(&app).await;
    let (_, m) = app.post("/api/v1/scoring/models", model(&p, &c)).await;
    publish(&app, &s(&m["id"])).await;
    let referral = app.create_deal(json!({"title": "Referral", "pipeline_id": p["id"], "source": "Referral"})).await;
    let plain = app.create_deal(json!({"title": "Plain", "pipeline_id": p["id"]})).await;
    let elsewhere = app.create_deal(json!({"title": "Unscored"})).await;
    let path = format!("/api/v1/deals/{}/answers/budget", s(&referral["id"]));
    app.call(reqwest::Method::PUT, &path, Some(json!({"answer": "yes"}))).await;
    let (st, a) = app.get("/api/v1/deals?band=B").await;
    assert_eq!(st, StatusCode::OK, "{a}");
    let titles: Vec<&str> = a["items"].as_array().unwrap().iter().map(|d| d["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Referral"], "50 is band B: {a}");

    let f = dealflow_store::DealFilter::default();
    let q = dealflow_store::ListQuery { sort: dealflow_store::SortKey::Score, desc: true, ..Default::default() };
    let rows = app.store.deal_rows(&f, &q).await.expect("rows").items;
    let order: Vec<&str> = rows.iter().map(|r| r.title.as_str()).collect();
    assert_eq!(order, ["Referral", "Plain", "Unscored"], "{rows:?}");
    assert_eq!(rows[0].score, Some(5000));
    assert_eq!(rows[0].band.as_deref(), Some("B"));
    assert!(rows[2].score.is_none());
    let _ = (plain, elsewhere);
}

/// The learned win probability of a deal: on the demo's year of closed
/// deals a probability with at most three factors each way; in a new
/// workspace "not enough history", with the counts.
#[tokio::test]
async fn a_deal_has_a_learned_win_probability_with_its_factors() {
    let app = spawn_app().await;
    let fresh = app.create_deal(json!({"title": "New"})).await;
    let (st, w) = app.get(&format!("/api/v1/deals/{}/win-probability", s(&fresh["id"]))).await;
    assert_eq!(st, StatusCode::OK, "{w}");
    assert_eq!(w["enough_history"], false, "{w}");
    assert!(w["prediction"].is_null());

    dealflow_server::demo::ensure(&app.store, None).await.expect("demo workspace");
    let (_, pipelines) = app.get("/api/v1/pipelines").await;
    let sales = pipelines.as_array().unwrap().iter().find(|p| p["name"] == "Sales").cloned().expect("the demo's Sales");
    let (_, open) = app.get(&format!("/api/v1/deals?pipeline_id={}&status=open&limit=1", s(&sales["id"]))).await;
    let deal = s(&open["items"][0]["id"]);
    let (st, w) = app.get(&format!("/api/v1/deals/{deal}/win-probability")).await;
    assert_eq!(st, StatusCode::OK, "{w}");
    assert_eq!(w["enough_history"], true, "{w}");
    let p_learned = w["prediction"]["probability"].as_f64().expect("a probability");
    assert!(p_learned > 0.0 && p_learned < 1.0, "{w}");
    for side in ["for_win", "against"] {
        assert!(w["prediction"][side].as_array().is_some_and(|f| f.len() <= 3), "{w}");
    }
    assert!(w["won"].as_u64() >= Some(30) && w["lost"].as_u64() >= Some(30), "{w}");

    // Off by default: the forecast takes the stage's probability.
    let forecast = format!("/api/v1/forecast?pipeline_id={}", s(&sales["id"]));
    let (_, f) = app.get(&forecast).await;
    assert_ne!(f["deal_probability"][&deal]["source"], "model", "{}", f["deal_probability"][&deal]);
    // Switched on for the pipeline, the deal's forecast probability is its
    // learned one (a deal's own probability would still come first).
    let (st, p) = app
        .patch(
            &format!("/api/v1/pipelines/{}", s(&sales["id"])),
            json!({"version": sales["version"], "forecast_source": "model"}),
        )
        .await;
    assert_eq!((st, &p["forecast_source"]), (StatusCode::OK, &json!("model")), "{p}");
    let (_, f) = app.get(&forecast).await;
    let mine = &f["deal_probability"][&deal];
    assert_eq!(mine["source"], "model", "{mine}");
    assert!((mine["p"].as_f64().unwrap() - 100.0 * p_learned).abs() < 1e-6, "{mine} against {p_learned}");
    let (st, bad) = app
        .patch(
            &format!("/api/v1/pipelines/{}", s(&sales["id"])),
            json!({"version": p["version"], "forecast_source": "guess"}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}");
    assert!(s(&bad["detail"]).contains("forecast_source"), "{bad}");
}

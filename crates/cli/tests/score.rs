//! `dealflow score explain` run as the built binary: the ledger line by
//! line, a decayed line with its arithmetic, the groups summing to the
//! total; `--json` is the API's answer; an unscored deal is an error that
//! says why.

use dealflow_core::model::{ActivityKind, NewActivity, NewDeal, NewPipeline, NewStage};
use dealflow_core::scoring::ModelBody;
use dealflow_core::time::Timestamp;
use dealflow_store::{Actor, NewScoringModel};
use serde_json::Value;
use std::process::Command;

const DAY: i64 = 86_400_000;

fn dealflow(db: &str, args: &[&str]) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dealflow"));
    c.env("DEALFLOW_DATABASE_URL", db).env("RUST_LOG", "warn").args(args);
    c.output().expect("run dealflow")
}

#[test]
fn score_explain_prints_the_ledger_with_its_arithmetic() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let db = rt.block_on(dealflow_store::testing::test_database()).unwrap();
    let (scored, unscored) = rt.block_on(async {
        let store = db.open().await.unwrap();
        let actor = Actor::system();
        let pipelines = store.pipelines().await.unwrap();
        let body: ModelBody = serde_json::from_value(serde_json::json!({
            "rules": [{"group": "fit", "field": "source", "op": "eq", "value": "Referral", "points": 20},
                      {"id": "meetings", "group": "engagement", "event": "activity.done", "activity_kind": "meeting",
                       "points": 10, "half_life_days": 30}],
            "bands": [{"name": "A", "min": 20}]
        }))
        .unwrap();
        let model = NewScoringModel {
            name: "Fit".into(),
            pipeline_id: Some(pipelines[0].id),
            rules: body.rules,
            thresholds: body.thresholds,
            bands: body.bands,
        };
        let model = store.create_scoring_model(&actor, model).await.unwrap();
        store.publish_scoring_model(&actor, model.id).await.unwrap();
        let deal = NewDeal { title: "Acme".into(), source: Some("Referral".into()), ..Default::default() };
        let deal = store.create_deal(&actor, deal).await.unwrap();
        // A meeting a half-life ago: worth 5 of its 10 now.
        let done = Timestamp(Timestamp::now().0 - 30 * DAY);
        let meeting = NewActivity {
            kind: Some(ActivityKind::Meeting),
            subject: "Demo".into(),
            done_at: Some(done),
            created_at: Some(done),
            deal_id: Some(deal.id),
            ..Default::default()
        };
        store.create_activity(&actor, meeting).await.unwrap();
        let stage =
            NewStage { name: "Open".into(), position: None, probability: None, rotting_days: None, milestone: None };
        let unscored =
            store.create_pipeline(&actor, NewPipeline { name: "Other".into(), stages: vec![stage] }).await.unwrap();
        let other = NewDeal { title: "Elsewhere".into(), pipeline_id: Some(unscored.id), ..Default::default() };
        let other = store.create_deal(&actor, other).await.unwrap();
        store.close().await;
        (deal.id.to_string(), other.id.to_string())
    });

    let out = dealflow(&db.url, &["score", "explain", &scored]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("score 25 (band A)"), "{text}");
    assert!(text.contains("+20") && text.contains("source = Referral"), "{text}");
    assert!(text.contains("10 × 0.5^(30.0 d / 30 d) = 5"), "decay as arithmetic: {text}");
    assert!(text.contains("fit 20 + engagement 5 + questions 0 = 25"), "{text}");

    let out = dealflow(&db.url, &["score", "explain", &scored, "--json"]);
    let json: Value = serde_json::from_slice(&out.stdout).expect("--json is JSON");
    assert_eq!(json["total"], 25.0);
    assert_eq!(json["contributions"].as_array().map(Vec::len), Some(2));

    let out = dealflow(&db.url, &["score", "explain", &unscored]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no published scoring model"), "{out:?}");
}

//! `dealflow metrics`, `forecast` and `plan` run as the built binary on a
//! small seeded workspace: the JSON carries docs/metrics.md's keys, the tables
//! read well, and the planner takes its target in major units.

use dealflow_core::model::*;
use dealflow_core::time::Timestamp;
use dealflow_store::{Actor, Store};
use serde_json::Value;
use std::process::Command;

const DAY: i64 = 86_400_000;

fn dealflow(db: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dealflow"));
    c.env("DEALFLOW_DATABASE_URL", db).env("RUST_LOG", "warn");
    c
}

/// Two closed deals that went through the milestones, one open deal, and
/// three outreach messages, all in the last 60 days.
async fn seed(store: &Store) {
    let now = Timestamp::now().0;
    let actor = Actor::system();
    let at = |days_ago: i64| Some(Timestamp(now - days_ago * DAY));
    let s = store.settings().await.unwrap();
    let patch = SettingsPatch {
        version: s.version,
        name: None,
        time_zone: None,
        base_currency: None,
        exchange_rates: None,
        working_days: None,
        require_lost_reason: Some(false),
        override_roles: None,
    };
    store.update_settings(&actor, patch).await.unwrap();
    store.create_user(&actor, "rep@example.com", "Rep", Role::Rep, "x", None).await.unwrap();
    let pipeline = store.pipelines().await.unwrap().remove(0);
    let st: Vec<_> = pipeline.stages.iter().map(|s| s.id).collect();

    let deal = |title: &str, days_ago: i64| NewDeal {
        title: title.into(),
        value: 1_000_000,
        created_at: at(days_ago),
        ..Default::default()
    };
    let mut won = store.create_deal(&actor, deal("Won", 60)).await.unwrap();
    for (stage, days) in [(st[1], 50), (st[2], 40), (st[3], 30)] {
        let p = DealPatch { version: won.version, stage_id: Some(stage), at: at(days), ..Default::default() };
        won = store.update_deal(&actor, won.id, p).await.unwrap();
    }
    let p = DealPatch { version: won.version, status: Some(DealStatus::Won), at: at(10), ..Default::default() };
    store.update_deal(&actor, won.id, p).await.unwrap();

    let mut lost = store.create_deal(&actor, deal("Lost", 50)).await.unwrap();
    let p = DealPatch { version: lost.version, stage_id: Some(st[2]), at: at(45), ..Default::default() };
    lost = store.update_deal(&actor, lost.id, p).await.unwrap();
    let p = DealPatch { version: lost.version, status: Some(DealStatus::Lost), at: at(20), ..Default::default() };
    store.update_deal(&actor, lost.id, p).await.unwrap();
    store.create_deal(&actor, deal("Open", 5)).await.unwrap();

    for (name, days, reply) in [("Ann", 55, true), ("Bob", 54, false), ("Ann", 40, false)] {
        let person =
            match store.list_people(&Default::default(), dealflow_store::Page { limit: 50, before: None }).await {
                Ok(page) => page.items.into_iter().find(|p| p.name == name),
                Err(e) => panic!("{e}"),
            };
        let person = match person {
            Some(p) => p,
            None => store.create_person(&actor, NewPerson { name: name.into(), ..Default::default() }).await.unwrap(),
        };
        let m = NewOutreachMessage {
            person_id: person.id,
            sent_at: at(days),
            replied_at: if reply { at(days - 1) } else { None },
            sentiment: reply.then_some(Sentiment::Positive),
            ..Default::default()
        };
        store.create_outreach(&actor, m).await.unwrap();
    }
}

fn run(db: &str, args: &[&str]) -> String {
    let out = dealflow(db).args(args).output().expect("run dealflow");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 output")
}

#[test]
fn metrics_forecast_and_plan_commands() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let db = rt.block_on(dealflow_store::testing::test_database()).unwrap();
    rt.block_on(async {
        let store = db.open().await.unwrap();
        seed(&store).await;
        store.close().await;
    });

    let json: Value = serde_json::from_str(&run(&db.url, &["metrics", "--json"])).expect("metrics --json is JSON");
    for key in [
        "outreach_sent",
        "replies",
        "response_rate",
        "positive_reply_rate",
        "prospects_contacted",
        "meetings_booked",
        "meeting_booking_rate",
        "proposals_sent",
        "deals_won",
        "deals_lost",
        "won_value",
        "win_rate",
        "pipeline_deals",
        "close_rate",
        "close_rate_vs_contacted",
        "close_rate_vs_meetings",
        "close_rate_vs_proposals",
        "avg_deal_value",
        "acv",
        "sales_cycle_days",
        "open_deals",
        "sales_velocity",
    ] {
        assert!(json.get(key).is_some(), "missing {key}: {json}");
    }
    assert_eq!(json["deals_won"], 1, "{json}");
    assert_eq!(json["deals_lost"], 1, "{json}");
    assert_eq!(json["outreach_sent"], 3, "{json}");
    assert_eq!(json["win_rate"], 50.0, "{json}");
    assert_eq!(json["currency"], "USD");

    let table = run(&db.url, &["metrics"]);
    assert!(table.lines().any(|l| l.starts_with("won_value") && l.ends_with("10,000.00 USD")), "{table}");
    let empty = run(&db.url, &["metrics", "--from", "2020-01-01", "--to", "2020-02-01"]);
    assert!(empty.lines().any(|l| l.starts_with("win_rate") && l.ends_with('—')), "null shows as —: {empty}");

    let owned = run(&db.url, &["metrics", "--owner", "rep@example.com", "--json"]);
    let owned: Value = serde_json::from_str(&owned).unwrap();
    assert_eq!(owned["deals_won"], 0, "the rep owns no deal: {owned}");
    assert_eq!(owned["outreach_workspace_wide"], true);

    let plan = run(&db.url, &["plan", "--target", "40000", "--weeks", "13"]);
    assert!(plan.contains("Plan: 40,000.00 USD in 13 weeks"), "{plan}");
    // ceil(40,000.00 / 10,000.00 average) = 4 wins.
    assert!(plan.lines().any(|l| l.starts_with("wins") && l.split_whitespace().nth(1) == Some("4")), "{plan}");
    assert!(plan.lines().any(|l| l.starts_with("outreach messages")), "{plan}");
    let pj: Value = serde_json::from_str(&run(&db.url, &["plan", "--target", "40000", "--weeks", "13", "--json"]))
        .expect("plan --json is JSON");
    assert_eq!(pj["target_minor"], 4_000_000);
    assert_eq!(pj["wins"], 4);

    let forecast = run(&db.url, &["forecast"]);
    assert!(forecast.contains("weighted pipeline"), "{forecast}");
    let today = chrono::Utc::now().date_naive();
    let from = (today - chrono::Days::new(45)).to_string();
    let bt = run(&db.url, &["forecast", "--backtest", "--from", &from, "--to", &today.to_string(), "--step", "1month"]);
    assert_eq!(bt.lines().count(), 3, "a header and one line per month: {bt}");

    let out = dealflow(&db.url).args(["plan", "--target", "40000", "--weeks", "0"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("weeks"), "{}", String::from_utf8_lossy(&out.stderr));
}

//! `dealflow audit start` and `dealflow audit show` run as the built
//! binary: the audit covers the pipeline's open deals, the text walks them
//! stage by stage with the three answers, `--json` is the API's answer, and
//! an unknown pipeline is an error that says so.

use dealflow_core::model::NewDeal;
use dealflow_store::Actor;
use serde_json::Value;
use std::process::Command;

fn dealflow(db: &str, args: &[&str]) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dealflow"));
    c.env("DEALFLOW_DATABASE_URL", db).env("RUST_LOG", "warn").args(args);
    c.output().expect("run dealflow")
}

#[test]
fn audit_start_and_show_walk_the_open_deals() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let db = rt.block_on(dealflow_store::testing::test_database()).unwrap();
    let pipeline = rt.block_on(async {
        let store = db.open().await.unwrap();
        for title in ["Acme", "Globex"] {
            let d = NewDeal { title: title.into(), ..NewDeal::default() };
            store.create_deal(&Actor::system(), d).await.unwrap();
        }
        let name = store.pipelines().await.unwrap()[0].name.clone();
        store.close().await;
        name
    });
    let url = db.url.clone();

    let out = dealflow(&url, &["audit", "start", "--pipeline", &pipeline, "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let a: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(a["progress"]["total"], 2, "{a}");
    let id = a["id"].as_str().unwrap().to_string();

    let out = dealflow(&url, &["audit", "show", &id]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    for want in [
        "Acme",
        "Globex",
        "last contact:",
        "qualified: unknown",
        "next action: none",
        "no_next_action",
        "0 of 2 decided",
    ] {
        assert!(text.contains(want), "`{want}` missing from:\n{text}");
    }
    let out = dealflow(&url, &["audit", "show", &id, "--json"]);
    let shown: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(shown["items"].as_array().map(Vec::len), Some(2));

    let out = dealflow(&url, &["audit", "start", "--pipeline", "Nope"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no pipeline named or numbered `Nope`"));
}

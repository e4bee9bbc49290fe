//! Playbook compliance in `GET /api/v1/metrics/stages` and on the
//! Insights page, against figures counted by hand.

use crate::helpers::{TestApp, spawn_app};
use dealflow_core::time::Timestamp;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn s(v: &Value) -> String {
    v.as_str().expect("a string id").to_string()
}

async fn ok(app: &TestApp, path: &str, body: Value) -> Value {
    let (st, v) = app.post(path, body).await;
    assert!(st.is_success(), "{path}: {st} {v}");
    v
}

async fn patch(app: &TestApp, deal: &Value, body: Value) -> Value {
    let (st, v) = app.patch(&format!("/api/v1/deals/{}", s(&deal["id"])), body).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v
}

/// Stage 1 carries a task due an hour after entry and a field step. Four
/// deals leave it forward: d1 with its task done at once (on time), d2
/// entered three hours ago (its task done now, late), d3 moved on with an
/// override, d4 won there after coming back from stage 2 (on time). d5
/// left forward too but is in the trash; d4's move back is no exit. So
/// stage 1: 4 exits, 3 complete (75 %), 2 on time (50 %); stage 2: none.
#[tokio::test]
async fn stage_figures_count_complete_and_on_time_exits() {
    let app = spawn_app().await;
    let p = app.default_pipeline().await;
    let st: Vec<String> = (0..4).map(|i| s(&p["stages"][i]["id"])).collect();
    let task = ok(
        &app,
        &format!("/api/v1/stages/{}/steps", st[1]),
        json!({"title": "Call", "kind": "task", "due": {"anchor": "stage_entered", "offset_minutes": 60}}),
    )
    .await;
    ok(
        &app,
        &format!("/api/v1/stages/{}/steps", st[1]),
        json!({"title": "Close date", "kind": "field", "field": "expected_close_date"}),
    )
    .await;
    let deal = |title: &str, stage: &str, extra: Value| {
        let mut b = json!({"title": title, "value": 100, "currency": "EUR", "stage_id": stage,
            "expected_close_date": "2030-01-01"});
        if let (Some(b), Some(x)) = (b.as_object_mut(), extra.as_object()) {
            b.extend(x.clone());
        }
        b
    };
    let tick = |d: &Value| format!("/api/v1/deals/{}/steps/{}/done", s(&d["id"]), s(&task["id"]));

    let d1 = app.create_deal(deal("d1", &st[1], json!({}))).await;
    ok(&app, &tick(&d1), json!({})).await;
    patch(&app, &d1, json!({"version": d1["version"], "stage_id": st[2]})).await;

    let three_hours_ago = Timestamp(Timestamp::now().0 - 3 * 3_600_000).to_rfc3339();
    let d2 = app.create_deal(deal("d2", &st[1], json!({"created_at": three_hours_ago}))).await;
    ok(&app, &tick(&d2), json!({})).await;
    patch(&app, &d2, json!({"version": d2["version"], "stage_id": st[2]})).await;

    let d3 = app.create_deal(json!({"title": "d3", "value": 100, "currency": "EUR", "stage_id": st[1]})).await;
    patch(&app, &d3, json!({"version": d3["version"], "stage_id": st[3], "override_reason": "Customer asked"})).await;

    let d4 = app.create_deal(deal("d4", &st[2], json!({}))).await;
    let d4 = patch(&app, &d4, json!({"version": d4["version"], "stage_id": st[1]})).await;
    ok(&app, &tick(&d4), json!({})).await;
    patch(&app, &d4, json!({"version": d4["version"], "status": "won"})).await;

    let d5 = app.create_deal(deal("d5", &st[1], json!({}))).await;
    ok(&app, &tick(&d5), json!({})).await;
    patch(&app, &d5, json!({"version": d5["version"], "stage_id": st[2]})).await;
    let (code, _) = app.delete(&format!("/api/v1/deals/{}", s(&d5["id"]))).await;
    assert_eq!(code, StatusCode::NO_CONTENT);

    let (code, r) = app.get("/api/v1/metrics/stages").await;
    assert_eq!(code, StatusCode::OK, "{r}");
    let row = |id: &str| r["stages"].as_array().and_then(|a| a.iter().find(|x| x["stage_id"] == id)).cloned();
    let s1 = row(&st[1]).expect("stage 1's row");
    assert_eq!(s1["left_forward"], 4, "{s1}");
    assert_eq!(s1["playbook_complete"], 3, "{s1}");
    assert_eq!(s1["playbook_complete_rate"], 75.0, "{s1}");
    assert_eq!(s1["playbook_on_time"], 2, "{s1}");
    assert_eq!(s1["playbook_on_time_rate"], 50.0, "{s1}");
    let s2 = row(&st[2]).expect("stage 2's row");
    assert_eq!(s2["left_forward"], 0, "{s2}");
    assert!(s2["playbook_complete_rate"].is_null(), "{s2}");
    let by_owner = r["overrides_by_owner"].as_array().expect("overrides_by_owner");
    assert_eq!(by_owner.len(), 1, "{r}");
    assert_eq!(by_owner[0]["owner_id"], d3["owner_id"], "{r}");
    assert_eq!(by_owner[0]["overrides"], 1, "{r}");
    if d3["owner_id"].is_string() {
        assert_eq!(by_owner[0]["owner"], "Ada Admin", "{r}");
    }

    // An owner slice without deals counts nothing.
    let body = json!({"email": "r@example.com", "name": "Rep", "role": "rep", "password": "a password 123"});
    let rep = ok(&app, "/api/v1/users", body).await;
    let (_, r) = app.get(&format!("/api/v1/metrics/stages?owner_id={}", s(&rep["id"]))).await;
    assert_eq!(row_of(&r, &st[1])["left_forward"], 0, "{r}");
    assert_eq!(r["overrides_by_owner"], json!([]), "{r}");

    // The Insights page shows the table in both languages.
    let browser = reqwest::Client::builder().cookie_store(true).build().expect("client");
    let login = browser
        .post(format!("{}/login", app.base))
        .form(&[("email", "admin@example.com"), ("password", "correct horse battery"), ("next", "/board")])
        .send()
        .await
        .expect("sign in");
    assert!(login.status().is_success());
    let html = browser.get(format!("{}/insights", app.base)).send().await.expect("page").text().await.expect("body");
    assert!(html.contains("Playbook compliance"), "{html}");
    assert!(html.contains("3 (75"), "stage 1's complete exits: {html}");
    assert!(html.contains("Overrides per owner"), "{html}");
    let zh = browser
        .get(format!("{}/insights", app.base))
        .header("accept-language", "zh-CN")
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("body");
    assert!(zh.contains("检查清单执行情况"), "{zh}");
}

fn row_of(r: &Value, stage: &str) -> Value {
    r["stages"].as_array().and_then(|a| a.iter().find(|x| x["stage_id"] == stage)).cloned().unwrap_or(Value::Null)
}

//! The web pages' playbook reads over HTTP, on both engines: the board's
//! card progress (task, field and evidence steps at once), the activities
//! page's playbook mark and the step editor's count of deals in the stage.

use crate::helpers::spawn_app;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn board_activities_and_step_editor_read_the_playbook() {
    let app = spawn_app().await;
    let p = app.default_pipeline().await;
    let stage = p["stages"][0]["id"].as_str().expect("stage").to_string();
    for body in [
        json!({"title": "Call", "kind": "task"}),
        json!({"title": "Close date", "kind": "field", "field": "expected_close_date"}),
        json!({"title": "Met", "kind": "evidence", "activity_kind": "meeting", "required": false}),
    ] {
        let (st, v) = app.post(&format!("/api/v1/stages/{stage}/steps"), body).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
    let open = app.create_deal(json!({"title": "Open one"})).await;
    let done = app.create_deal(json!({"title": "Done one", "expected_close_date": "2027-01-31"})).await;
    let (_, items) = app.get(&format!("/api/v1/deals/{}/steps", done["id"].as_str().expect("id"))).await;
    let call = items[0]["step_id"].as_str().expect("step").to_string();
    let (st, v) =
        app.post(&format!("/api/v1/deals/{}/steps/{call}/done", done["id"].as_str().expect("id")), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = app
        .post(
            "/api/v1/activities",
            json!({"kind": "meeting", "subject": "Met", "deal_id": done["id"], "done_at": "2026-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");

    let c = reqwest::Client::builder().cookie_store(true).build().expect("client");
    let r = c
        .post(format!("{}/login", app.base))
        .form(&[("email", "admin@example.com"), ("password", "correct horse battery"), ("next", "/board")])
        .send()
        .await
        .expect("sign in");
    assert_eq!(r.status(), StatusCode::OK);
    let board = c.get(format!("{}/board", app.base)).send().await.expect("board").text().await.expect("text");
    let card = |id: &serde_json::Value| {
        let at = board.find(&format!("data-id=\"{}\"", id.as_str().expect("id"))).expect("the card");
        board[..at]
            .rfind("<article")
            .map(|start| board[start..].split("</article>").next().unwrap_or_default().to_string())
    };
    let open_card = card(&open["id"]).expect("open card");
    assert!(open_card.contains("card blocked") && open_card.contains(">0/3<"), "{open_card}");
    // The meeting's `done_at` lies before the deal entered the stage, so
    // the evidence step is still open: 2 of 3, and it is optional.
    let done_card = card(&done["id"]).expect("done card");
    assert!(!done_card.contains("card blocked") && done_card.contains(">2/3<"), "{done_card}");

    let acts = c.get(format!("{}/activities?scope=all", app.base)).send().await.expect("acts").text().await.expect("t");
    assert!(acts.contains("class=\"kind playbook\"") && acts.contains(": Call\""), "the step's task is marked: {acts}");
    let editor = c
        .get(format!("{}/settings/stages/{stage}/steps", app.base))
        .send()
        .await
        .expect("editor")
        .text()
        .await
        .expect("t");
    assert!(editor.contains("<strong>2</strong>"), "two open deals in the stage");
    assert!(editor.contains("Close date") && editor.contains("expected_close_date"));
}

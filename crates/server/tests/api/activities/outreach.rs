//! Campaigns and outreach messages over HTTP: channel defaults, reply
//! rules, filters, trash and restore.

use super::{HOUR, at, created, id, ids};
use crate::helpers::{assert_problem, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn campaigns_and_outreach_replies() {
    let app = spawn_app().await;
    let person = created(&app, "/api/v1/people", json!({"name": "Pat Reply"})).await;
    let campaign = created(&app, "/api/v1/campaigns", json!({"name": "Spring", "channel": "linkedin"})).await;
    let (s, p) = app.post("/api/v1/campaigns", json!({"name": " "})).await;
    assert_problem(s, &p, StatusCode::UNPROCESSABLE_ENTITY, Some("name"));
    let (s, p) = app.post("/api/v1/campaigns", json!({"name": "x", "channel": "fax"})).await;
    assert_problem(s, &p, StatusCode::BAD_REQUEST, None);

    let sent_at = at(-2 * HOUR);
    let m = created(
        &app,
        "/api/v1/outreach",
        json!({"person_id": person["id"], "campaign_id": campaign["id"], "sent_at": sent_at}),
    )
    .await;
    assert_eq!(m["channel"], "linkedin", "the campaign's channel is the default");
    assert!(m["replied_at"].is_null());

    let cases: Vec<(Value, StatusCode, Option<&str>)> = vec![
        (
            json!({"person_id": person["id"], "sent_at": at(24 * HOUR)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("sent_at"),
        ),
        (
            json!({"person_id": person["id"], "sent_at": sent_at, "replied_at": at(-3 * HOUR)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("replied_at"),
        ),
        (
            json!({"person_id": person["id"], "sentiment": "positive"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("sentiment"),
        ),
        (json!({"person_id": "12345"}), StatusCode::UNPROCESSABLE_ENTITY, Some("person_id")),
        (
            json!({"person_id": person["id"], "campaign_id": "12345"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("campaign_id"),
        ),
        (json!({"person_id": person["id"], "channel": "fax"}), StatusCode::BAD_REQUEST, None),
        (json!({"campaign_id": campaign["id"]}), StatusCode::BAD_REQUEST, None),
    ];
    for (body, want, field) in cases {
        let (s, p) = app.post("/api/v1/outreach", body).await;
        assert_problem(s, &p, want, field);
    }
    assert_eq!(ids(&app, "/api/v1/outreach").await, [id(&m)], "refused creates store nothing");

    // The reply arrives.
    let url = format!("/api/v1/outreach/{}", id(&m));
    let cases: Vec<(Value, StatusCode, Option<&str>)> = vec![
        (json!({"version": 1, "replied_at": at(-3 * HOUR)}), StatusCode::UNPROCESSABLE_ENTITY, Some("replied_at")),
        (json!({"version": 1, "replied_at": at(24 * HOUR)}), StatusCode::UNPROCESSABLE_ENTITY, Some("replied_at")),
        (json!({"version": 1, "sentiment": "neutral"}), StatusCode::UNPROCESSABLE_ENTITY, Some("sentiment")),
        (json!({"version": 1, "sentiment": "meh"}), StatusCode::BAD_REQUEST, None),
        (json!({"version": 7, "replied_at": at(-HOUR)}), StatusCode::CONFLICT, None),
    ];
    for (body, want, field) in cases {
        let (s, p) = app.patch(&url, body).await;
        assert_problem(s, &p, want, field);
        if want == StatusCode::CONFLICT {
            assert_eq!(p["current_version"], 1, "{p}");
        }
    }
    let (_, after) = app.get(&url).await;
    assert_eq!(after, m, "nothing changed after refused writes");
    let (s, r) = app.patch(&url, json!({"version": 1, "replied_at": at(-HOUR), "sentiment": "positive"})).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!((&r["sentiment"], &r["version"]), (&json!("positive"), &json!(2)));
    assert_eq!(ids(&app, "/api/v1/outreach?replied=true&channel=linkedin").await, [id(&m)]);
    assert!(ids(&app, "/api/v1/outreach?replied=false").await.is_empty());
    let since = format!("/api/v1/outreach?sent_after={}", at(-HOUR)).replace('+', "%2B");
    assert!(ids(&app, &since).await.is_empty());

    // Trash and restore; the campaign cannot go while it has messages.
    let (s, _) = app.delete(&url).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, p) = app.get(&url).await;
    assert_problem(s, &p, StatusCode::NOT_FOUND, None);
    assert_eq!(ids(&app, "/api/v1/outreach?deleted=true").await, [id(&m)]);
    let campaign_url = format!("/api/v1/campaigns/{}", id(&campaign));
    let (s, p) = app.delete(&campaign_url).await;
    assert_problem(s, &p, StatusCode::CONFLICT, None);
    let (s, restored) = app.post(&format!("{url}/restore"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{restored}");
    assert!(restored["deleted_at"].is_null());
    assert_eq!(ids(&app, &format!("/api/v1/outreach?campaign_id={}", id(&campaign))).await, [id(&m)]);

    let (s, c) = app.patch(&campaign_url, json!({"version": 1, "name": "Spring '25", "channel": null})).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert!(c["channel"].is_null());
    let (s, p) = app.patch(&campaign_url, json!({"version": 1, "name": "Stale"})).await;
    assert_problem(s, &p, StatusCode::CONFLICT, None);
    assert_eq!(p["current_version"], 2);
    let other = created(&app, "/api/v1/campaigns", json!({"name": "Autumn"})).await;
    assert_eq!(ids(&app, "/api/v1/campaigns?q=autu").await, [id(&other)]);
    let (s, _) = app.delete(&format!("/api/v1/campaigns/{}", id(&other))).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
}

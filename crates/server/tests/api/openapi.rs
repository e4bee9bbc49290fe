//! The OpenAPI document: served without auth, and every operation in it
//! refuses a request without credentials (except sign-in).

use crate::helpers::spawn_app;
use reqwest::{Method, StatusCode};

#[tokio::test]
async fn every_operation_requires_credentials() {
    let app = spawn_app().await;
    let (s, doc) = app.call_as(None, Method::GET, "/api/openapi.json", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{}", doc["openapi"]);
    let paths = doc["paths"].as_object().expect("paths");
    let mut checked = 0;
    for (path, item) in paths {
        // Any id works: auth is checked before the record is looked up.
        let url = path.replace("{id}", "1");
        for (method, op) in item.as_object().expect("path item") {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let public = op["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.as_object().is_some_and(|o| o.is_empty())));
            if public {
                // Sign-in, the intake forms' endpoint (sites post to it)
                // and the ingest endpoints (e-mail providers post to them,
                // verified by their signature or secret): public by design.
                let by_design =
                    ["/api/v1/auth/login", "/f/{key}", "/ingest/{connection_id}", "/ingest/{connection_id}/inbound"];
                assert!(by_design.contains(&path.as_str()), "{path} may not be public");
                continue;
            }
            let body = matches!(m, Method::POST | Method::PATCH | Method::PUT).then(|| serde_json::json!({}));
            let (s, p) = app.call_as(None, m.clone(), &url, body).await;
            assert_eq!(s, StatusCode::UNAUTHORIZED, "{m} {path} without credentials answered {s}: {p}");
            assert_eq!(p["status"], 401, "{m} {path}: problem document expected");
            let (s, _) = app.call_as(Some("dfl_not_a_token"), m.clone(), &url, None).await;
            assert_eq!(s, StatusCode::UNAUTHORIZED, "{m} {path} with a bad token answered {s}");
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} operations found");
    let (s, _) = app.call_as(None, Method::GET, "/healthz", None).await;
    assert_eq!(s, StatusCode::OK);
}

/// Every `$ref` in the document points at something it defines.
#[tokio::test]
async fn every_reference_resolves() {
    let app = spawn_app().await;
    let (s, doc) = app.call_as(None, Method::GET, "/api/openapi.json", None).await;
    assert_eq!(s, StatusCode::OK);
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(refs.len() > 50, "only {} references found", refs.len());
    let dangling: Vec<&String> =
        refs.iter().filter(|r| r.strip_prefix('#').and_then(|p| doc.pointer(p)).is_none()).collect();
    assert!(dangling.is_empty(), "references to nothing: {dangling:?}");
}

fn collect_refs(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::String(r)) = map.get("$ref") {
                out.push(r.clone());
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// Errors are documented as what the server sends: problem documents,
/// `application/problem+json`; every authenticated operation documents 401
/// and every operation 400 (unknown query parameters are refused).
#[tokio::test]
async fn error_responses_are_problem_documents() {
    let app = spawn_app().await;
    let (_, doc) = app.call_as(None, Method::GET, "/api/openapi.json", None).await;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let responses = op["responses"].as_object().expect("responses");
            assert!(responses.contains_key("400"), "{method} {path} lacks 400");
            if path != "/api/v1/auth/login" {
                assert!(responses.contains_key("401"), "{method} {path} lacks 401");
            }
            for (status, r) in responses.iter().filter(|(s, _)| s.starts_with('4') || s.starts_with('5')) {
                let types: Vec<&String> = r["content"].as_object().expect("error content").keys().collect();
                assert_eq!(types, ["application/problem+json"], "{method} {path} {status}");
            }
        }
    }
}

//! Responses are compressed with gzip or brotli when the client asks, and
//! decode to the same page; a client that asks for neither gets plain text.

use crate::helpers::*;
use std::io::Read;

async fn fetch(app: &TestApp, path: &str, accept: Option<&str>) -> (Option<String>, Vec<u8>) {
    let c = reqwest::Client::new();
    let mut req = c.get(format!("{}{path}", app.base));
    if let Some(a) = accept {
        req = req.header("accept-encoding", a);
    }
    let r = req.send().await.unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    let enc = r.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_string());
    (enc, r.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn pages_styles_and_json_are_compressed_when_asked() {
    let app = spawn_app().await;
    for path in ["/login", "/static/app.css", "/api/openapi.json"] {
        let (plain_enc, plain) = fetch(&app, path, None).await;
        assert_eq!(plain_enc, None, "{path}: compressed without being asked");

        let (enc, gz) = fetch(&app, path, Some("gzip")).await;
        assert_eq!(enc.as_deref(), Some("gzip"), "{path}");
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut out).unwrap();
        assert_eq!(out, plain, "{path}: gzip decodes to the page");
        assert!(gz.len() < plain.len(), "{path}: gzip is smaller");

        let (enc, br) = fetch(&app, path, Some("br, gzip")).await;
        assert_eq!(enc.as_deref(), Some("br"), "{path}: brotli preferred when offered");
        let mut out = Vec::new();
        brotli::Decompressor::new(&br[..], 4096).read_to_end(&mut out).unwrap();
        assert_eq!(out, plain, "{path}: brotli decodes to the page");
    }
}

#[tokio::test]
async fn a_streamed_export_decodes_whole_when_compressed() {
    let app = spawn_app().await;
    for i in 0..30 {
        app.create_deal(serde_json::json!({"title": format!("Compressed deal {i}"), "value": 1000 + i})).await;
    }
    for path in ["/api/v1/deals/export?format=csv", "/api/v1/audit-log/export"] {
        let plain =
            reqwest::Client::new().get(format!("{}{path}", app.base)).bearer_auth(&app.token).send().await.unwrap();
        assert!(plain.status().is_success(), "{path}: {}", plain.status());
        let plain = plain.bytes().await.unwrap().to_vec();
        let r = reqwest::Client::new()
            .get(format!("{}{path}", app.base))
            .bearer_auth(&app.token)
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers().get("content-encoding").map(|v| v.to_str().unwrap()), Some("gzip"), "{path}");
        let gz = r.bytes().await.unwrap();
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        // The audit log grows as the test reads it (exports are audited), so
        // compare what both must hold rather than the bytes.
        assert!(text.lines().count() >= 31, "{path}: every row arrives: {text}");
        assert_eq!(text.lines().next(), String::from_utf8(plain).unwrap().lines().next(), "{path}: same header");
    }
}

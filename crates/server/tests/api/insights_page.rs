//! The insights page (`/insights`) over HTTP, on the demo workspace: KPI
//! tiles that equal `/api/v1/metrics` for the same period, server-drawn SVG
//! charts with their numbers, escaping, the goal planner, goals, bad
//! parameters shown as a message, and the sign-in redirect.

use crate::helpers::{TestApp, spawn_app};
use chrono::{Days, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

async fn signed_in(app: &TestApp) -> reqwest::Client {
    let c = browser();
    let r = c
        .post(format!("{}/login", app.base))
        .form(&[("email", "admin@example.com"), ("password", "correct horse battery"), ("next", "/insights")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    c
}

/// The page's status and HTML, with askama's `&#38;` read back as `&amp;`.
async fn get(app: &TestApp, c: &reqwest::Client, path: &str) -> (StatusCode, String) {
    let r = c.get(format!("{}{path}", app.base)).send().await.unwrap();
    (r.status(), r.text().await.unwrap().replace("&#38;", "&amp;"))
}

async fn demo_app() -> TestApp {
    let app = spawn_app().await;
    dealflow_server::demo::ensure(&app.store, None).await.expect("demo workspace");
    app
}

/// The period of the last 90 days through today (UTC, as the demo's zone).
fn period() -> (String, String) {
    let to = Utc::now().date_naive() + Days::new(1);
    ((to - Days::new(90)).to_string(), to.to_string())
}

/// The text of the `tile-value` of the tile `key`.
fn tile(html: &str, key: &str) -> String {
    let start = html.find(&format!(r#"data-kpi="{key}""#)).unwrap_or_else(|| panic!("tile {key} missing"));
    let rest = &html[start..];
    let v = rest.split(r#"class="tile-value">"#).nth(1).and_then(|s| s.split('<').next()).expect("tile value");
    v.to_string()
}

fn delta(html: &str, key: &str) -> String {
    let start = html.find(&format!(r#"data-kpi="{key}""#)).expect("tile");
    let rest = &html[start..];
    rest.split(r#"class="tile-delta"#)
        .nth(1)
        .and_then(|s| s.split('>').nth(1))
        .and_then(|s| s.split('<').next())
        .expect("delta")
        .to_string()
}

fn pct(v: &Value) -> String {
    v.as_f64().map_or_else(|| "—".to_string(), |v| format!("{v:.1}%"))
}

/// Whole major units with thousands separators, as the page groups them.
fn grouped(minor: f64) -> String {
    let n = (minor / 100.0).round() as i64;
    let s = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[tokio::test]
async fn insights_page_tiles_equal_the_metrics_api() {
    let app = demo_app().await;
    let c = signed_in(&app).await;
    let (from, to) = period();
    let (s, html) = get(&app, &c, &format!("/insights?from={from}&to={to}")).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    let (s, m) = app.get(&format!("/api/v1/metrics?from={from}&to={to}")).await;
    assert_eq!(s, StatusCode::OK, "{m}");
    assert!(m["deals_won"].as_u64().unwrap() > 0, "the demo has wins in the last 90 days: {m}");

    for key in ["response_rate", "meeting_booking_rate", "win_rate", "close_rate"] {
        assert_eq!(tile(&html, key), pct(&m[key]), "{key}");
    }
    assert!(
        tile(&html, "won_value").contains(&grouped(m["won_value"].as_f64().unwrap())),
        "{}",
        tile(&html, "won_value")
    );
    assert!(tile(&html, "acv").contains(&grouped(m["acv"].as_f64().unwrap())));
    assert!(tile(&html, "sales_velocity").contains(&grouped(m["sales_velocity"].as_f64().unwrap())));
    assert_eq!(tile(&html, "sales_cycle_days"), format!("{:.1} d", m["sales_cycle_days"].as_f64().unwrap()));

    // The change against the previous 90 days, computed by the API too.
    let prev_from = (chrono::NaiveDate::parse_from_str(&from, "%Y-%m-%d").unwrap() - Days::new(90)).to_string();
    let (_, p) = app.get(&format!("/api/v1/metrics?from={prev_from}&to={from}")).await;
    let d = delta(&html, "win_rate");
    match (m["win_rate"].as_f64(), p["win_rate"].as_f64()) {
        (Some(a), Some(b)) if (a - b).abs() > 1e-9 => {
            let arrow = if a > b { "▲" } else { "▼" };
            assert_eq!(d, format!("{arrow} {:.1} pp", (a - b).abs()));
        }
        (Some(_), Some(_)) => assert!(d.starts_with('=')),
        _ => assert_eq!(d, "—"),
    }

    // Server-drawn charts, each with its numbers one click away.
    let charts = html.matches(r#"<svg class="chart""#).count();
    assert!(charts >= 5, "funnel, conversion, time in stage, forecast months and range: {charts}");
    assert!(html.contains(r#"viewBox="0 0 420 "#));
    assert!(html.matches(r#"<details class="numbers">"#).count() >= 5);
    assert!(!html.contains("NaN") && !html.contains("inf\""));
    for id in ["funnel-0", "conversion-0", "cycle-0", "forecast-months", "forecast-range"] {
        assert!(html.contains(&format!(r#"id="{id}""#)), "{id}");
    }
    // The velocity formula shows its four inputs.
    assert!(html.contains(r#"class="formula""#));
    assert!(html.contains(&format!("<strong>{}</strong>", m["open_deals"])));

    // Export links carry the period.
    assert!(html.contains(&format!("/api/v1/metrics/export?format=csv&amp;from={from}&amp;to={to}")), "export link");
    assert!(html.contains(&format!("/api/v1/metrics/stages/export?format=xlsx&amp;from={from}&amp;to={to}")));
    let r = c.get(format!("{}/api/v1/metrics/export?format=csv&from={from}&to={to}", app.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "the export works with the session cookie");

    // The nav marks the page.
    assert!(html.contains(r#"<a href="/insights" aria-current="page">Insights</a>"#));
}

#[tokio::test]
async fn insights_page_defaults_slices_and_chinese() {
    let app = demo_app().await;
    let c = signed_in(&app).await;
    let (s, html) = get(&app, &c, "/insights").await;
    assert_eq!(s, StatusCode::OK);
    // The default is the 90 days through today, written into the form.
    let (from, to) = period();
    assert!(html.contains(&format!(r#"name="from" value="{from}""#)), "default from");
    assert!(html.contains(&format!(r#"name="to" value="{to}""#)), "default to");

    // A pipeline and owner slice agrees with the API's slice.
    let pipeline = app.default_pipeline().await;
    let pid = pipeline["id"].as_str().unwrap();
    let (_, users) = app.get("/api/v1/users").await;
    let users = users.get("items").cloned().unwrap_or(users);
    let owner = users.as_array().unwrap().iter().find(|u| u["email"] != "admin@example.com").expect("a rep")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, html) = get(&app, &c, &format!("/insights?from={from}&to={to}&pipeline={pid}&owner={owner}")).await;
    assert_eq!(s, StatusCode::OK);
    let (_, m) = app.get(&format!("/api/v1/metrics?from={from}&to={to}&pipeline_id={pid}&owner_id={owner}")).await;
    assert_eq!(tile(&html, "win_rate"), pct(&m["win_rate"]));
    assert!(html.contains("workspace-wide"), "outreach under a slice is said to be workspace-wide");
    assert!(html.contains(&format!("&amp;pipeline_id={pid}&amp;owner_id={owner}")));

    // Chinese.
    let r = c.get(format!("{}/insights", app.base)).header("accept-language", "zh-CN").send().await.unwrap();
    let zh = r.text().await.unwrap();
    assert!(zh.contains("关键指标") && zh.contains("洞察") && zh.contains("查看数据"));
}

#[tokio::test]
async fn insights_page_escapes_names() {
    let app = spawn_app().await;
    let (s, p) = app
        .post(
            "/api/v1/pipelines",
            json!({"name": "<Pipe&'\">", "stages": [{"name": "<img src=x onerror=alert(1)>"}, {"name": "B"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    app.create_deal(json!({"title": "T", "pipeline_id": p["id"], "value": 1000})).await;
    let c = signed_in(&app).await;
    let (s, html) = get(&app, &c, "/insights").await;
    assert_eq!(s, StatusCode::OK);
    assert!(!html.contains("<img src=x"), "stage names are escaped");
    assert!(!html.contains("<Pipe&"), "pipeline names are escaped");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;") || html.contains("&#60;img src=x"));
    // Nothing won yet: the empty charts say so instead of drawing nothing.
    assert!(html.contains(r#"class="chart-empty""#));
}

#[tokio::test]
async fn insights_page_planner_and_goals() {
    let app = demo_app().await;
    let (from, to) = period();
    let (s, g) =
        app.post("/api/v1/goals", json!({"metric": "won_value", "target": 10_000_000, "from": from, "to": to})).await;
    assert_eq!(s, StatusCode::CREATED, "{g}");
    let c = signed_in(&app).await;
    let (s, html) = get(&app, &c, &format!("/insights?from={from}&to={to}&target=50000&weeks=13")).await;
    assert_eq!(s, StatusCode::OK);
    // The goal, with its progress as the API computes it.
    let percent = g["progress"]["percent"].as_f64().unwrap();
    assert!(html.contains(r#"class="goal""#) && html.contains("Won value"));
    assert!(html.contains(&format!(r#"<span class="goal-pct">{percent:.0}%</span>"#)), "goal percent {percent}");
    assert!(html.contains(r#"class="chart progress""#));

    // The planner's result beside the current pace, as `/planner` gives it.
    let (s, plan) = app.get("/api/v1/planner?target=5000000&weeks=13").await;
    assert_eq!(s, StatusCode::OK, "{plan}");
    assert!(html.contains(r#"id="planner""#), "planner chart");
    assert!(html.contains("Needed per week") && html.contains("Current pace per week"));
    let wins = plan["wins"].as_u64().expect("demo has wins");
    let per_week = plan["per_week"]["wins"].as_f64().unwrap();
    let row = format!("<th scope=\"row\">Wins</th><td>{wins}</td><td>{per_week:.1}</td>");
    assert!(html.contains(&row), "wins row {row}");
    assert!(html.contains(r#"name="target" value="50000""#));

    // A bad target is a message beside the form, not an error page.
    let (s, html) = get(&app, &c, &format!("/insights?from={from}&to={to}&target=lots&weeks=0")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains(r#"class="plan-error error""#) && html.contains("e.g. 50000") && html.contains("1 to 520"));
}

#[tokio::test]
async fn insights_page_bad_parameters_are_a_message() {
    let app = spawn_app().await;
    let c = signed_in(&app).await;
    for (path, says) in [
        ("/insights?from=2026-13-45&to=2026-02-01", "The start date is not a date we can use"),
        ("/insights?from=2026-03-01&to=2026-02-01", "The start date must come before the end date."),
        ("/insights?from=yesterday", "The start date is not a date we can use"),
        ("/insights?pipeline=999999", "does not exist"),
        ("/insights?owner=999999", "does not exist"),
    ] {
        let (s, html) = get(&app, &c, path).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert!(html.contains(r#"class="ins-error error" role="alert""#), "{path}");
        assert_eq!(html.matches(says).count(), 1, "{path}: {says}, once");
        assert!(!html.contains("[from, to)"), "{path}: in words");
        assert!(html.contains("<form class=\"ins-filters\""), "the form stays to fix it");
        assert!(!html.contains(r#"<svg class="chart""#));
    }
    // A malicious parameter comes back escaped.
    let (_, html) = get(&app, &c, "/insights?from=%3Cscript%3Ex").await;
    assert!(!html.contains("<script>x"));
}

#[tokio::test]
async fn insights_page_extreme_dates_are_a_message_not_a_panic() {
    let app = spawn_app().await;
    let c = signed_in(&app).await;
    for (path, field) in [
        ("/insights?from=-262143-01-01", "from"),
        ("/insights?to=-262143-01-01", "to"),
        ("/insights?from=-262143-01-01&to=%2B262142-12-31", "from"),
        ("/insights?to=%2B262142-12-31", "to"),
        ("/insights?from=0000-01-01&to=2026-01-01", "from"),
        ("/insights?from=2026-01-01&to=9999-12-31", "to"),
        ("/insights?from=1899-12-31&to=2026-01-01", "from"),
    ] {
        let (s, html) = get(&app, &c, path).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert!(html.contains(r#"class="ins-error error" role="alert""#), "{path}");
        let names = if field == "from" { "The start date" } else { "The end date" };
        assert!(html.contains(names), "{path} names {field}");
        assert!(html.contains("1900") || html.contains("not a date"), "{path} says what to write");
    }
    // The edges of the range are usable periods.
    let (s, html) = get(&app, &c, "/insights?from=1900-01-01&to=2999-12-31").await;
    assert_eq!(s, StatusCode::OK, "{html}");
}

#[tokio::test]
async fn insights_page_needs_a_session() {
    let app = spawn_app().await;
    let r = browser().get(format!("{}/insights?from=2026-01-01", app.base)).send().await.unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let to = r.headers()["location"].to_str().unwrap();
    assert!(to.starts_with("/login?next=/insights"), "{to}");
}

#[tokio::test]
async fn insights_page_list_exports_carry_filters() {
    let app = spawn_app().await;
    let c = signed_in(&app).await;
    let pid = app.default_pipeline().await["id"].as_str().unwrap().to_string();
    let (s, html) = get(&app, &c, &format!("/deals?pipeline={pid}&status=open&q=a%20b")).await;
    assert_eq!(s, StatusCode::OK);
    let want = format!("/api/v1/deals/export?format=csv&amp;pipeline_id={pid}&amp;status=open&amp;q=a%20b");
    assert!(html.contains(&want), "{want}");
    assert!(html.contains("/api/v1/deals/export?format=xlsx"));
    let (_, html) = get(&app, &c, "/people").await;
    assert!(html.contains(r#"href="/api/v1/people/export?format=csv""#));
    let (_, html) = get(&app, &c, "/organizations").await;
    assert!(html.contains(r#"href="/api/v1/organizations/export?format=xlsx""#));
    let r = c.get(format!("{}/api/v1/deals/export?format=csv&pipeline_id={pid}&status=open", app.base)).send().await;
    assert_eq!(r.unwrap().status(), StatusCode::OK);
}

/// The demo's scoring model is calibrated on the page over the page's
/// period, with the figures of `/api/v1/scoring/calibration`.
#[tokio::test]
async fn insights_page_shows_the_lead_score_calibration() {
    let app = demo_app().await;
    let c = signed_in(&app).await;
    let (from, to) = period();
    let (s, html) = get(&app, &c, &format!("/insights?from={from}&to={to}")).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("name=\"calibrate\" value=\"1\""), "asked for, not computed on every load: {html}");
    let (s, html) = get(&app, &c, &format!("/insights?from={from}&to={to}&calibrate=1")).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    let (_, models) = app.get("/api/v1/scoring/models").await;
    let model = models["items"][0]["id"].as_str().expect("the demo's model").to_string();
    let q = format!("/api/v1/scoring/calibration?model_id={model}&from={from}T00:00:00Z&to={to}T00:00:00Z");
    let (s, cal) = app.get(&q).await;
    assert_eq!(s, StatusCode::OK, "{cal}");
    assert!(cal["deals"].as_i64().unwrap() > 0, "the demo closed deals in the period: {cal}");
    assert!(html.contains("Lead-score calibration"), "{html}");
    assert!(html.contains(&format!("closed deals: {}", cal["deals"])), "{html}");
    let band_a = cal["published"]["bands"].as_array().unwrap().iter().find(|b| b["band"] == "A").cloned().unwrap();
    assert!(html.contains(&format!("<td>A</td><td class=\"num\">{}</td>", band_a["deals"])), "{html}");
}

/// The demo's weekly audits on Insights: last week's, signed off, and this
/// week's, open, each with the hygiene counted when it was taken; the
/// meeting page of this week's audit compares with last week's.
#[tokio::test]
async fn insights_page_shows_hygiene_per_audit_and_the_demo_has_audits() {
    let app = demo_app().await;
    let c = signed_in(&app).await;
    let (_, audits) = app.get("/api/v1/audits").await;
    let audits = audits.as_array().expect("a list").clone();
    assert_eq!(audits.len(), 2, "{audits:?}");
    assert_eq!((&audits[0]["status"], &audits[1]["status"]), (&json!("open"), &json!("signed_off")));
    assert_eq!(audits[0]["previous_id"], audits[1]["id"]);
    let h = &audits[0]["hygiene"];
    let pct = |n: &Value| format!("{:.0}%", 100.0 * n.as_f64().unwrap() / h["open"].as_f64().unwrap());
    let (s, html) = get(&app, &c, "/insights").await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("Pipeline hygiene"), "{html}");
    let row = html.split(&format!("/audits/{}\"", audits[0]["id"].as_str().unwrap())).nth(1).expect("this week's row");
    let row = row.split("</tr>").next().unwrap();
    for want in [pct(&h["with_next_action"]), pct(&h["contacted_14d"]), pct(&h["rotting"])] {
        assert!(row.contains(&format!("<td>{want}</td>")), "{want} not in {row}");
    }
    let (s, meeting) = get(&app, &c, &format!("/audits/{}", audits[0]["id"].as_str().unwrap())).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        meeting.contains("Last audit&#39;s next action") || meeting.contains("Last audit's next action"),
        "the kept deals' next actions are checked"
    );
    let zh = c.get(format!("{}/audits", app.base)).header("accept-language", "zh-CN").send().await.unwrap();
    let zh = zh.text().await.unwrap();
    assert!(zh.contains("销售流程审查"), "{zh}");
}

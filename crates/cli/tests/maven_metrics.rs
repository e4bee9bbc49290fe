//! The Maven data set's metrics (docs/metrics.md "The Maven data set"): the real
//! files imported by `examples/maven/import.sh` with the built binary into a
//! fresh test database, then `dealflow metrics --json` (and the stage
//! figures the API serves) compared with figures computed here,
//! independently, from `sales_pipeline.csv` with plain Rust and the `csv`
//! crate. Nothing from dealflow computes the expected figures.
//!
//! How docs/metrics.md reads on the CSV (the same readings as
//! `examples/maven/check.py`, which prints these figures for a human):
//! - Instants: a date in the file and a period bound both mean midnight of
//!   that day in the workspace time zone (the mapping names none, so the
//!   import uses the workspace's; a fresh workspace is in UTC, and the second
//!   test uses a UTC−5 one); a period is `[from, to)`.
//! - `created_at` is `engage_date` ("where nothing earlier is known": the
//!   export knows nothing earlier); `closed_at` is `close_date`; the value of
//!   a won deal is `close_value` whole USD, i.e. ×100 in cents (minor units).
//! - Prospecting rows (open, no `engage_date`, no date at all) have no known
//!   creation time: the import creates them "now" (docs/import.md), so they
//!   lie after every past period and count in no figure here, not even
//!   `pipeline_deals` or `open_deals`.
//! - Engaging rows are open deals created at `engage_date`.
//! - Reaching a stage: a Won/Lost row reached Engaging when it has an
//!   `engage_date` (it entered Engaging then). Every closed row has one (the
//!   test checks it); were one missing, the import would create the deal in
//!   Engaging at its close, so it would still have reached Engaging. A won
//!   deal reaches every stage anyway, and entering Engaging reaches the
//!   earlier Prospecting, so for both stages `stage_conversion` is won ÷
//!   (won + lost) over deals closed in the period.
//! - `acv`: the export has no contract length, so every won deal counts as
//!   one year and `acv` equals `avg_deal_value`.
//! - `sales_cycle_days`: mean of `close_date − engage_date` in days over
//!   deals won in the period.
//! - `pipeline_deals`: `engage_date < to` and (still open, or
//!   `close_date ≥ from`).
//! - `open_deals`: the state at the instant `to`: `engage_date < to` and not
//!   closed before `to` (a deal closed exactly at `to` is still open then).
//! - No outreach in the export: outreach counts are 0 and their rates null.

#[path = "support/maven.rs"]
mod maven;
use dealflow_core::time::Timestamp;
use dealflow_insights::{self as insights, MetricsQuery};
use dealflow_store::testing::{TestDb, test_database};
use maven::maven_dir;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const DAY_MS: i64 = 86_400_000;

/// One row of `sales_pipeline.csv`, as the file has it.
#[derive(Debug)]
struct Row {
    stage: String,
    engage: Option<i64>,
    close: Option<i64>,
    close_value: Option<i64>,
}

/// Midnight UTC of a `YYYY-MM-DD` day, in Unix milliseconds.
fn midnight_utc(day: &str) -> i64 {
    let d = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap_or_else(|e| panic!("date {day:?}: {e}"));
    d.and_time(chrono::NaiveTime::MIN).and_utc().timestamp_millis()
}

fn read_rows(path: &Path) -> Vec<Row> {
    let mut reader = csv::Reader::from_path(path).expect("open sales_pipeline.csv");
    let header = reader.headers().expect("header").clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    let (stage, engage, close, value) = (col("deal_stage"), col("engage_date"), col("close_date"), col("close_value"));
    let date = |s: &str| (!s.is_empty()).then(|| midnight_utc(s));
    reader
        .records()
        .map(|r| {
            let r = r.expect("csv record");
            Row {
                stage: r[stage].to_string(),
                engage: date(&r[engage]),
                close: date(&r[close]),
                close_value: (!r[value].is_empty()).then(|| r[value].parse().expect("close_value")),
            }
        })
        .collect()
}

/// The figures docs/metrics.md gives for `[from, to)`, from the CSV alone.
#[derive(Debug)]
struct Expected {
    deals_won: u64,
    deals_lost: u64,
    won_value: i64,
    win_rate: Option<f64>,
    pipeline_deals: u64,
    close_rate: Option<f64>,
    avg_deal_value: Option<f64>,
    acv: Option<f64>,
    sales_cycle_days: Option<f64>,
    open_deals: u64,
    sales_velocity: Option<f64>,
    /// Deals closed in P that reached Engaging, and the won among them.
    engaging_closed: u64,
    engaging_won: u64,
}

fn pct(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64 * 100.0)
}

fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

fn expected(rows: &[Row], from: i64, to: i64) -> Expected {
    let (mut won, mut lost) = (0u64, 0u64);
    let mut values: Vec<i64> = Vec::new();
    let mut cycles: Vec<f64> = Vec::new();
    let (mut pipeline, mut open_at_to) = (0u64, 0u64);
    let (mut engaging_closed, mut engaging_won) = (0u64, 0u64);
    for r in rows {
        // Prospecting: no known creation time (see the module comment).
        let Some(created) = r.engage else { continue };
        let closed_in_p = r.close.is_some_and(|c| from <= c && c < to);
        if closed_in_p {
            // It has an engage_date, so it entered Engaging.
            engaging_closed += 1;
            match r.stage.as_str() {
                "Won" => {
                    won += 1;
                    engaging_won += 1;
                    values.push(r.close_value.expect("won value") * 100);
                    cycles.push((r.close.expect("closed") - created) as f64 / DAY_MS as f64);
                }
                "Lost" => lost += 1,
                other => panic!("a {other} row with a close_date"),
            }
        }
        if created < to && r.close.is_none_or(|c| c >= from) {
            pipeline += 1;
        }
        if created < to && r.close.is_none_or(|c| c >= to) {
            open_at_to += 1;
        }
    }
    let as_f64: Vec<f64> = values.iter().map(|v| *v as f64).collect();
    let win_rate = pct(won, won + lost);
    let avg_deal_value = mean(&as_f64);
    let sales_cycle_days = mean(&cycles);
    let sales_velocity = match (avg_deal_value, win_rate, sales_cycle_days) {
        (Some(a), Some(w), Some(c)) if c != 0.0 => Some(open_at_to as f64 * a * (w / 100.0) / c),
        _ => None,
    };
    Expected {
        deals_won: won,
        deals_lost: lost,
        won_value: values.iter().sum(),
        win_rate,
        pipeline_deals: pipeline,
        close_rate: pct(won, pipeline),
        avg_deal_value,
        // No contract_months: one year each, value / 1.
        acv: mean(&as_f64.iter().map(|v| v / 1.0).collect::<Vec<_>>()),
        sales_cycle_days,
        open_deals: open_at_to,
        sales_velocity,
        engaging_closed,
        engaging_won,
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "stdout: {}\nstderr: {}", text(&out.stdout), text(&out.stderr));
    text(&out.stdout)
}

/// `examples/maven/import.sh DB DIR` with the built binary first on PATH.
fn import(db: &TestDb, dir: &Path) -> String {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_dealflow"));
    let bin_dir = bin.parent().expect("binary folder");
    let path = std::env::join_paths(
        std::iter::once(bin_dir.to_path_buf())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .expect("PATH");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/maven/import.sh");
    let out = Command::new("bash")
        .arg(script)
        .arg(&db.url)
        .arg(dir)
        .env("PATH", path)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run import.sh");
    ok(&out)
}

fn metrics_json(db: &TestDb, from: &str, to: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_dealflow"))
        .args(["--database", &db.url, "metrics", "--from", from, "--to", to, "--json"])
        .env("RUST_LOG", "warn")
        .output()
        .expect("run dealflow metrics");
    serde_json::from_str(&ok(&out)).expect("metrics JSON")
}

fn int(json: &Value, key: &str) -> i64 {
    json[key].as_i64().unwrap_or_else(|| panic!("{key} is not an integer: {}", json[key]))
}

/// A float figure: null exactly when `want` is `None`, else within 1e-9
/// relative.
fn assert_float(label: &str, got: &Value, want: Option<f64>) {
    match (got.as_f64(), want) {
        (None, None) if got.is_null() => {}
        (Some(g), Some(w)) => {
            let tol = 1e-9 * w.abs().max(1e-300);
            assert!((g - w).abs() <= tol, "{label}: dealflow {g}, independent {w}");
        }
        _ => panic!("{label}: dealflow {got}, independent {want:?}"),
    }
}

fn check_period(rt: &tokio::runtime::Runtime, db: &TestDb, rows: &[Row], from: &str, to: &str) {
    let want = expected(rows, midnight_utc(from), midnight_utc(to));
    let got = metrics_json(db, from, to);
    let label = |k: &str| format!("{from}..{to} {k}");
    eprintln!("{from}..{to}: independent {want:?}");
    eprintln!("{from}..{to}: dealflow {got}");
    assert_eq!(got["period"]["time_zone"], "UTC");
    assert_eq!(got["currency"], "USD");
    for (k, w) in [
        ("deals_won", want.deals_won),
        ("deals_lost", want.deals_lost),
        ("pipeline_deals", want.pipeline_deals),
        ("open_deals", want.open_deals),
        ("outreach_sent", 0),
        ("unconverted", 0),
    ] {
        assert_eq!(int(&got, k), w as i64, "{}", label(k));
    }
    assert_eq!(int(&got, "won_value"), want.won_value, "{}", label("won_value"));
    for (k, w) in [
        ("win_rate", want.win_rate),
        ("close_rate", want.close_rate),
        ("avg_deal_value", want.avg_deal_value),
        ("acv", want.acv),
        ("sales_cycle_days", want.sales_cycle_days),
        ("sales_velocity", want.sales_velocity),
        ("response_rate", None),
        ("close_rate_vs_contacted", None),
    ] {
        assert_float(&label(k), &got[k], w);
    }

    // Stage figures: the function `GET /metrics/stages` serves.
    let store = rt.block_on(db.open()).expect("open");
    let date = |s: &str| dealflow_core::time::Date::parse(s).expect("the test writes valid dates");
    let q = MetricsQuery { from: Some(date(from)), to: Some(date(to)), ..Default::default() };
    let report = rt.block_on(insights::stages(&store, &q, Timestamp::now())).expect("stage metrics");
    rt.block_on(store.close());
    let stage = |name: &str| {
        report
            .stages
            .iter()
            .find(|s| s.pipeline == "Maven" && s.name == name)
            .unwrap_or_else(|| panic!("no Maven stage {name}"))
    };
    // Prospecting comes before Engaging, so the same deals reached it.
    for name in ["Engaging", "Prospecting"] {
        let f = &stage(name).figures;
        eprintln!("{from}..{to}: dealflow {name} {}/{} = {:?}", f.won_reached, f.closed_reached, f.stage_conversion);
        assert_eq!((f.closed_reached, f.won_reached), (want.engaging_closed, want.engaging_won), "{name}");
        let c = &label(&format!("stage_conversion[{name}]"));
        assert_float(c, &serde_json::json!(f.stage_conversion), pct(want.engaging_won, want.engaging_closed));
    }
}

#[test]
fn maven_metrics_match_the_csv() {
    let dir = maven_dir();
    let rows = read_rows(&dir.join("sales_pipeline.csv"));
    assert_eq!(rows.len(), 8800);
    // The readings above rely on these shapes of the export.
    for r in &rows {
        match r.stage.as_str() {
            "Won" | "Lost" => assert!(r.engage.is_some() && r.close.is_some() && r.close_value.is_some(), "{r:?}"),
            "Engaging" => assert!(r.engage.is_some() && r.close.is_none(), "{r:?}"),
            "Prospecting" => assert!(r.engage.is_none() && r.close.is_none(), "{r:?}"),
            other => panic!("unknown deal_stage {other}"),
        }
    }

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    let db = rt.block_on(test_database()).expect("test database");
    let out = import(&db, &dir);
    assert!(out.contains("8800 rows: 8800 created") && out.contains(" 0 rejected"), "{out}");

    // The whole data set, then two quarters: 2017-04-01 (the exclusive end)
    // has 19 closes and 35 engages, and 2017-07-01 and 2017-10-01 both have
    // closes, so an off-by-one at either bound shows.
    for (from, to) in [("2016-10-01", "2018-01-01"), ("2017-01-01", "2017-04-01"), ("2017-07-01", "2017-10-01")] {
        check_period(&rt, &db, &rows, from, to);
    }
    // The bounds really are exercised.
    let on = |day: &str| rows.iter().filter(|r| r.close == Some(midnight_utc(day))).count();
    assert!(on("2017-04-01") > 0 && on("2017-07-01") > 0 && on("2017-10-01") > 0);

    // The learned win probability's backtest runs on the same import and
    // prints its figures for both methods (docs/scoring.md reports them).
    let out = Command::new(env!("CARGO_BIN_EXE_dealflow"))
        .args(["--database", &db.url, "model", "evaluate", "--pipeline", "Maven", "--json"])
        .env("RUST_LOG", "warn")
        .output()
        .expect("run model evaluate");
    let e: Value = serde_json::from_str(&ok(&out)).expect("model evaluate --json is JSON");
    let points = e["points"].as_array().expect("points");
    assert_eq!(points.len(), 13, "monthly points over the last year of closes: {e}");
    assert!(points.iter().filter(|p| p["trained_on"].as_u64() > Some(0)).count() >= 6, "{e}");
    for key in ["brier_model", "brier_stage", "log_loss_model", "log_loss_stage"] {
        assert!(e[key].as_f64().is_some_and(|v| v > 0.0 && v < 1.0), "{key}: {e}");
    }
    assert!(e["improvement"].as_f64().is_some(), "{e}");
    let text = Command::new(env!("CARGO_BIN_EXE_dealflow"))
        .args(["--database", &db.url, "model", "evaluate", "--pipeline", "Maven"])
        .env("RUST_LOG", "warn")
        .output()
        .expect("run model evaluate");
    let text = ok(&text);
    assert!(text.contains("Brier score") && text.contains("lower than stage-weighted"), "{text}");
}

/// In a workspace whose time zone is not UTC, a period bound is midnight
/// there, and so must be the export's dates (a calendar day of the same
/// business), or a deal closed on the first day of a quarter lands in the
/// previous one. America/Bogota is UTC−5 all year (no DST since 1993): every
/// instant shifts by the same 5 hours, so the figures equal the UTC ones
/// computed above, day for day.
#[test]
fn maven_dates_follow_the_workspace_time_zone() {
    let dir = maven_dir();
    let rows = read_rows(&dir.join("sales_pipeline.csv"));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    let db = rt.block_on(test_database()).expect("test database");
    let store = rt.block_on(db.open()).expect("open");
    let s = rt.block_on(store.settings()).expect("settings");
    let patch = dealflow_core::model::SettingsPatch {
        version: s.version,
        name: None,
        time_zone: Some("America/Bogota".into()),
        base_currency: None,
        exchange_rates: None,
        working_days: None,
        require_lost_reason: None,
        ..Default::default()
    };
    rt.block_on(store.update_settings(&dealflow_store::Actor::system(), patch)).expect("time zone");
    rt.block_on(store.close());
    import(&db, &dir);
    for (from, to) in [("2017-01-01", "2017-04-01"), ("2017-07-01", "2017-10-01")] {
        let want = expected(&rows, midnight_utc(from), midnight_utc(to));
        let got = metrics_json(&db, from, to);
        assert_eq!(got["period"]["time_zone"], "America/Bogota");
        for (k, w) in [
            ("deals_won", want.deals_won as i64),
            ("deals_lost", want.deals_lost as i64),
            ("won_value", want.won_value),
            ("pipeline_deals", want.pipeline_deals as i64),
            ("open_deals", want.open_deals as i64),
        ] {
            assert_eq!(int(&got, k), w, "{from}..{to} {k} in America/Bogota");
        }
        assert_float(&format!("{from}..{to} sales_cycle_days"), &got["sales_cycle_days"], want.sales_cycle_days);
    }
}

//! The printed summary of `dealflow bench metrics`.

use super::{compare, day, machine, max, median, mib};
use dealflow_core::metrics::Period;
use dealflow_store::generate::GenReport;
use serde_json::Value;

/// What one benchmark run measured.
pub(super) struct Summary<'a> {
    pub report: &'a GenReport,
    pub db_bytes: u64,
    pub cold: Period,
    pub warm: &'a [Period],
    /// The cold processes' JSON, first run first.
    pub colds: &'a [Value],
    /// Load and engine milliseconds of the replay, and the figures it got differently.
    pub replay: Option<(f64, f64, Vec<String>)>,
    pub duck: Option<anyhow::Result<Value>>,
}

/// Prints the comparison table and the checks beside it.
pub(super) fn print(s: &Summary<'_>) {
    let Summary { report, db_bytes, cold, warm, colds, replay, duck } = s;
    let (cold, db_bytes) = (*cold, *db_bytes);
    let cold_ms: Vec<f64> = colds.iter().map(|v| v["total_ms"].as_f64().unwrap_or(f64::NAN)).collect();
    let c0 = &colds[0];
    let totals: Vec<f64> =
        c0["warm_ms"].as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default();
    println!();
    println!("dealflow bench metrics: machine {}", machine());
    println!(
        "workspace: {} deals, {} stage events, {} people, {} outreach messages, {} users; SQLite file {:.0} MiB",
        report.deals,
        report.events,
        report.people,
        report.messages,
        report.users,
        db_bytes as f64 / 1024.0 / 1024.0
    );
    println!(
        "question: every activity and stage metric of [{} .. {}) (cold) / {} other 90-day periods (warm), no slice",
        day(cold.from),
        day(cold.to),
        warm.len()
    );
    println!();
    println!("{:<44} {:>12} {:>12} {:>10}", "figure", "dealflow", "DuckDB", "ratio");
    let row = |name: &str, df: f64, dk: Option<f64>, unit: &str| {
        let (d, r) = match dk {
            Some(x) if x.is_finite() => (format!("{x:.0} {unit}"), format!("{:.2}", df / x)),
            _ => ("—".to_string(), "—".to_string()),
        };
        println!("{name:<44} {:>12} {d:>12} {r:>10}", format!("{df:.0} {unit}"));
    };
    let dk = duck.as_ref().and_then(|d| d.as_ref().ok());
    let dk_f = |k: &str| dk.and_then(|d| d[k].as_f64());
    let dk_warm: Option<Vec<f64>> =
        dk.and_then(|d| d["warm_ms"].as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()));
    row("cold, fresh process (first run)", cold_ms[0], dk_f("cold_ms"), "ms");
    if cold_ms.len() > 1 {
        println!(
            "{:<44} {:>12}",
            "  all cold runs",
            cold_ms.iter().map(|x| format!("{x:.0}")).collect::<Vec<_>>().join(" / ")
        );
    }
    println!(
        "{:<44} {:>12}",
        "  of which opening the store",
        format!("{:.0} ms", c0["open_ms"].as_f64().unwrap_or(0.0))
    );
    row("warm median (same process, other periods)", median(&totals), dk_warm.as_deref().map(median), "ms");
    row("warm max", max(&totals), dk_warm.as_deref().map(max), "ms");
    let series = |k: &str| -> Vec<f64> {
        c0[k].as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default()
    };
    for (name, k) in [
        ("  warm, periods 7 h off the day bounds", "warm_shifted_ms"),
        ("  warm, sliced by one owner (rows, no sums)", "warm_owner_ms"),
    ] {
        let v = series(k);
        println!("{name:<44} {:>12}", format!("{:.0} / {:.0} ms", median(&v), max(&v)));
    }
    println!("{:<44} {:>12}", "", "median / max");
    if let Some((load, engine, same)) = &replay {
        println!(
            "{:<44} {:>12}",
            "replay instead (load all facts / engine)",
            format!("{:.0} / {:.0} ms", load, engine)
        );
        println!(
            "{:<44} {:>12}",
            "  replay gives the same figures",
            if same.is_empty() { "yes".to_string() } else { format!("NO: {same:?}") }
        );
    }
    println!(
        "{:<44} {:>12} {:>12}",
        "peak memory, cold + warm process (VmHWM)",
        mib(c0["peak_rss_kib"].as_u64()),
        dk.and_then(|d| d["peak_rss_kb"].as_u64()).map_or("—".into(), |k| mib(Some(k)))
    );
    match &duck {
        None => println!("DuckDB: skipped (--no-duckdb)"),
        Some(Err(e)) => println!("DuckDB: not measured: {e:#}"),
        Some(Ok(d)) => {
            println!(
                "DuckDB {} ({} threads): SQL reproduces the metric test vectors: {}{}",
                d["duckdb_version"].as_str().unwrap_or("?"),
                d["threads"],
                d["vectors_ok"].as_str().unwrap_or("?"),
                d["load_s"].as_f64().map_or(String::new(), |s| format!("; facts loaded into DuckDB in {s:.1} s")),
            );
            let diffs = compare(&c0["figures"], d);
            if diffs.is_empty() {
                println!("same figures as dealflow for the cold period: yes (every activity and stage figure)");
            } else {
                println!("same figures as dealflow for the cold period: NO, {} differ:", diffs.len());
                for x in diffs.iter().take(20) {
                    println!("  {x}");
                }
            }
        }
    }
    println!("ratio = dealflow / DuckDB (below 1.0: dealflow is faster). A benchmark: figures, not pass/fail.");
}

//! One file is one transaction, however large: `dealflow import` refused
//! by `--strict` at row 900 of 1,000, or killed with SIGKILL in the middle
//! of a file, leaves nothing of the file behind; the rows the batches write
//! agree with their stage logs and the metric projections with a rebuild.
//! Runs the built binary on a fresh test database (SQLite, or PostgreSQL
//! when DEALFLOW_TEST_DATABASE says so), with Maven-shaped files made here
//! from the shipped data set.

#[path = "support/maven.rs"]
mod maven;
use dealflow_store::testing::{TestDb, test_database};
use dealflow_store::{DealFilter, Page, Store};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime")
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/maven")
}

fn dealflow(db: &TestDb) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dealflow"));
    c.args(["--database", &db.url]).env("RUST_LOG", "warn");
    c
}

fn import(db: &TestDb, entity: &str, file: &Path, extra: &[&str]) -> Output {
    dealflow(db)
        .args(["import", entity])
        .arg(file)
        .arg("--mapping")
        .arg(examples().join(format!("{entity}.json")))
        .args(extra)
        .output()
        .expect("run dealflow import")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A fresh database with the Maven accounts imported.
fn with_accounts(rt: &tokio::runtime::Runtime) -> TestDb {
    let db = rt.block_on(test_database()).expect("test database");
    let out = import(&db, "organizations", &maven::maven_dir().join("accounts.csv"), &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    db
}

/// `rows` rows of the shipped Maven pipeline, over and over, each with an
/// id of its own; `edit(i, cells)` may change data row `i` (0-based).
fn maven_file(dir: &Path, rows: usize, edit: impl Fn(usize, &mut Vec<String>)) -> PathBuf {
    let source = std::fs::read_to_string(maven::maven_dir().join("sales_pipeline.csv")).expect("read the Maven file");
    let mut lines = source.lines();
    let mut out = format!("{}\n", lines.next().expect("a header"));
    let data: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    for i in 0..rows {
        let mut cells: Vec<String> = data[i % data.len()].split(',').map(str::to_string).collect();
        cells[0] = format!("T{i:07}");
        edit(i, &mut cells);
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    let path = dir.join(format!("deals-{rows}.csv"));
    std::fs::write(&path, out).expect("write the file");
    path
}

/// Every deal, live or not.
async fn deal_count(store: &Store) -> usize {
    let mut n = 0;
    for deleted in [false, true] {
        let mut page = Page { limit: 500, before: None };
        loop {
            let filter = DealFilter { deleted, ..Default::default() };
            let p = store.list_deals(&filter, page).await.expect("list deals");
            n += p.items.len();
            match p.next_cursor {
                Some(c) => page.before = Some(c.parse().expect("a cursor")),
                None => break,
            }
        }
    }
    n
}

/// Nothing of a deals file is in the workspace: no deal, no owner it
/// created, no deal custom field or pipeline its mapping asked for, no
/// audit entry beyond the accounts import.
async fn nothing_of_the_file(store: &Store) {
    assert_eq!(deal_count(store).await, 0, "deals were kept");
    assert!(store.users().await.expect("users").is_empty(), "owners created by the file were kept");
    let fields = store.custom_fields(Some(dealflow_core::custom_field::Entity::Deal)).await.expect("fields");
    assert!(fields.is_empty(), "the file's custom field was kept: {fields:?}");
    let pipelines = store.pipelines().await.expect("pipelines");
    assert!(!pipelines.iter().any(|p| p.name == "Maven"), "the file's pipeline was kept");
    let log = store.audit_log(&Default::default(), Page { limit: 500, before: None }).await.expect("audit").items;
    assert_eq!(log.len(), 1, "only the accounts import is logged: {log:?}");
}

/// The deal rows agree with their stage logs and the projections with a rebuild.
async fn consistent(store: &Store) {
    let report = store.check_consistency().await.expect("check consistency");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert!(report.deals > 0 && report.projection_rows > 0, "{report:?}");
}

#[test]
fn a_strict_import_refused_at_row_900_of_1000_leaves_nothing() {
    let rt = rt();
    let db = with_accounts(&rt);
    let dir = tempfile::tempdir().expect("a temporary folder");
    // Data row 500 has a value that is no number (refused when converted);
    // data row 900 a title the deal decision refuses (a control character),
    // long after the first batches of good rows.
    let file = maven_file(dir.path(), 1_000, |i, cells| match i {
        499 => {
            cells[4] = "Won".into();
            cells[7] = "abc".into();
        }
        899 => cells[0] = "BAD\u{7}ID".into(),
        _ => {}
    });
    let out = import(&db, "deals", &file, &["--strict"]);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(err.contains("row 501: close_value"), "{err}");
    assert!(err.contains("row 901: ") && err.contains("control character"), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");
    let store = rt.block_on(db.open()).expect("open");
    rt.block_on(nothing_of_the_file(&store));

    // Without --strict the two rows are skipped and the rest kept.
    let out = import(&db, "deals", &file, &[]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("1000 rows: 998 created, 0 updated, 0 unchanged, 2 rejected"), "{stdout}");
    assert_eq!(rt.block_on(deal_count(&store)), 998);
    rt.block_on(consistent(&store));

    // Again: every deal is found by its id, nothing is created twice.
    let out = import(&db, "deals", &file, &[]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("0 created, 0 updated, 998 unchanged, 2 rejected"), "{stdout}");
    assert_eq!(rt.block_on(deal_count(&store)), 998);
    rt.block_on(store.close());
}

#[test]
fn a_row_repeating_an_id_updates_the_deal_an_earlier_row_made() {
    let rt = rt();
    let db = with_accounts(&rt);
    let dir = tempfile::tempdir().expect("a temporary folder");
    // Row 3000 repeats row 10's id (in another batch), row 12 repeats row 11's
    // (in the same batch); both move their deal on to Won.
    let file = maven_file(dir.path(), 3_000, |i, cells| {
        let repeat = match i {
            2_999 => Some(10),
            12 => Some(11),
            10 | 11 => {
                cells[4] = "Engaging".into();
                cells[6].clear();
                cells[7].clear();
                None
            }
            _ => None,
        };
        if let Some(of) = repeat {
            cells[0] = format!("T{of:07}");
            cells[4] = "Won".into();
            cells[5] = "2017-01-02".into();
            cells[6] = "2017-03-04".into();
            cells[7] = "1000".into();
        }
    });
    let out = import(&db, "deals", &file, &[]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("3000 rows: 2998 created, 2 updated, 0 unchanged, 0 rejected"), "{stdout}");
    let store = rt.block_on(db.open()).expect("open");
    assert_eq!(rt.block_on(deal_count(&store)), 2_998);
    let page = Page { limit: 500, before: None };
    for id in ["T0000010", "T0000011"] {
        let filter = DealFilter { q: Some(id.into()), ..Default::default() };
        let deals = rt.block_on(store.list_deals(&filter, page)).expect("deals").items;
        assert_eq!(deals.len(), 1, "{id}: {deals:?}");
        assert_eq!(deals[0].status, dealflow_core::model::DealStatus::Won, "{id}");
        assert_eq!(deals[0].value, 100_000, "{id}");
    }
    rt.block_on(consistent(&store));
    rt.block_on(store.close());
}

/// A log line without terminal colour codes (`ESC [ … m`).
fn plain(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|c| *c == 'm');
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn an_import_killed_mid_file_leaves_nothing() {
    let rt = rt();
    let db = with_accounts(&rt);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = maven_file(dir.path(), 60_000, |_, _| {});
    let mut child = dealflow(&db)
        .env("RUST_LOG", "warn,dealflow_store::import=debug")
        .env("NO_COLOR", "1")
        .args(["import", "deals"])
        .arg(&file)
        .arg("--mapping")
        .arg(examples().join("deals.json"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn dealflow import");
    // The import logs each batch it writes: wait for 10,000 deals written
    // (inside the file's transaction, which is far from done), then kill.
    let stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let started = Instant::now();
    let mut written = 0;
    for line in stderr.lines() {
        let line = plain(&line.expect("read stderr"));
        if let Some(n) = line.split("created=").nth(1).and_then(|r| r.split_whitespace().next()) {
            written = n.parse().unwrap_or(0);
        }
        if written >= 10_000 || started.elapsed() > Duration::from_secs(120) {
            break;
        }
    }
    assert!(written >= 10_000, "the import never logged 10,000 deals written");
    assert!(child.try_wait().expect("poll the import").is_none(), "the import finished before the kill");
    // SAFETY: `kill` with the pid of a child we own and a valid signal.
    let rc = unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    assert_eq!(rc, 0, "kill the import");
    let status = child.wait().expect("wait for the import");
    assert!(!status.success(), "the import was killed: {status}");

    let store = rt.block_on(db.open()).expect("open after the kill");
    rt.block_on(nothing_of_the_file(&store));
    if let Some(lines) = rt.block_on(store.sqlite_integrity_check()).expect("integrity check") {
        assert_eq!(lines, ["ok"], "the SQLite file is damaged");
    }
    rt.block_on(store.close());
    // The database is usable: the same file imports whole.
    let out = import(&db, "deals", &file, &[]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("60000 rows: 60000 created"), "{stdout}\n{}", text(&out.stderr));
}

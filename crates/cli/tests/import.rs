//! `dealflow import` end to end: the built binary on a fresh test database
//! (SQLite, or PostgreSQL when DEALFLOW_TEST_DATABASE says so) with small
//! fixtures, then the real Maven files with the shipped mappings, checked
//! against counts computed here from the CSV with plain Rust.

#[path = "support/maven.rs"]
mod maven;
use dealflow_core::model::{Deal, DealStatus};
use dealflow_store::testing::{TestDb, test_database};
use dealflow_store::{DealFilter, Page, Store};
use maven::maven_dir;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime")
}

fn fresh(rt: &tokio::runtime::Runtime) -> TestDb {
    rt.block_on(test_database()).expect("test database")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import").join(name)
}

fn import(db: &TestDb, entity: &str, file: &Path, mapping: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dealflow"))
        .args(["--database", &db.url, "import", entity])
        .arg(file)
        .arg("--mapping")
        .arg(mapping)
        .args(extra)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run dealflow import")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "stdout: {}\nstderr: {}", text(&out.stdout), text(&out.stderr));
    text(&out.stdout)
}

/// Every live deal, through the store's own paging.
async fn all_deals(store: &Store) -> Vec<Deal> {
    let mut out = Vec::new();
    let mut page = Page { limit: 500, before: None };
    loop {
        let p = store.list_deals(&DealFilter::default(), page).await.expect("list deals");
        out.extend(p.items);
        match p.next_cursor {
            Some(c) => page.before = Some(c.parse().expect("cursor")),
            None => return out,
        }
    }
}

fn by_title<'a>(deals: &'a [Deal], prefix: &str) -> &'a Deal {
    deals.iter().find(|d| d.title.starts_with(prefix)).unwrap_or_else(|| panic!("no deal {prefix}"))
}

fn load_fixtures(db: &TestDb) {
    let out = import(db, "organizations", &fixture("orgs.csv"), &fixture("orgs.json"), &[]);
    assert!(ok(&out).contains("2 created"));
}

#[test]
fn import_reimport_and_update() {
    let rt = rt();
    let db = fresh(&rt);
    load_fixtures(&db);
    let deals_json = fixture("deals.json");
    let out = ok(&import(&db, "deals", &fixture("deals.csv"), &deals_json, &[]));
    assert!(out.contains("4 rows: 4 created, 0 updated, 0 unchanged, 0 rejected"), "{out}");
    assert!(out.contains("created 2 users"), "{out}");

    let store = rt.block_on(db.open()).expect("open");
    let deals = rt.block_on(all_deals(&store));
    assert_eq!(deals.len(), 4);
    let d1 = by_title(&deals, "D-1");
    assert_eq!((d1.status, d1.value), (DealStatus::Won, 12_000));
    assert_eq!(d1.created_at.to_rfc3339(), "2025-01-10T00:00:00.000Z");
    assert_eq!(d1.closed_at.map(|t| t.to_rfc3339()).as_deref(), Some("2025-02-01T00:00:00.000Z"));
    assert_eq!(rt.block_on(store.deal_events(d1.id)).expect("events").len(), 3, "Demo, Proposal, won");
    let d2 = by_title(&deals, "D-2");
    assert_eq!(d2.custom["product"], "Pro", "value map fixed the spelling");
    assert_eq!(d2.lost_reason.as_deref(), Some("Not recorded"));
    let d3 = by_title(&deals, "D-3");
    assert_eq!((d3.status, d3.value, d3.organization_id), (DealStatus::Open, 25_050, None), "list price fallback");
    let d4 = by_title(&deals, "D-4");
    assert!(d4.created_at.0 > d1.created_at.0, "no date: created at import time");
    let users = rt.block_on(store.users()).expect("users");
    assert_eq!(users.len(), 2);
    assert!(users.iter().any(|u| u.email == "ann.lee@fixture.example"));
    let orgs = rt.block_on(store.list_organizations(&Default::default(), Page::default())).expect("orgs").items;
    let acme = orgs.iter().find(|o| o.name == "Acme Corp").expect("acme");
    assert_eq!((acme.domain.as_deref(), acme.industry.as_deref()), (Some("acme.com"), Some("technology")));
    assert_eq!(d1.organization_id, Some(acme.id));

    // The same file again changes nothing.
    let out = ok(&import(&db, "deals", &fixture("deals.csv"), &deals_json, &[]));
    assert!(out.contains("0 created, 0 updated, 4 unchanged"), "{out}");
    let out = ok(&import(&db, "organizations", &fixture("orgs.csv"), &fixture("orgs.json"), &[]));
    assert!(out.contains("0 created, 0 updated, 2 unchanged"), "{out}");

    // A newer export: D-1's value changed, D-3 was won, D-5 is new.
    let out = ok(&import(&db, "deals", &fixture("deals_v2.csv"), &deals_json, &[]));
    assert!(out.contains("5 rows: 1 created, 2 updated, 2 unchanged"), "{out}");
    let deals = rt.block_on(all_deals(&store));
    assert_eq!(deals.len(), 5, "no duplicates");
    assert_eq!(by_title(&deals, "D-1").value, 15_000);
    let d3 = by_title(&deals, "D-3");
    assert_eq!((d3.status, d3.value), (DealStatus::Won, 30_000));
    assert_eq!(d3.closed_at.map(|t| t.to_rfc3339()).as_deref(), Some("2025-04-02T00:00:00.000Z"));
    assert_eq!(rt.block_on(store.users()).expect("users").len(), 3);
    rt.block_on(store.close());
}

#[test]
fn broken_rows_are_reported_and_leave_nothing_behind() {
    let rt = rt();
    let db = fresh(&rt);
    load_fixtures(&db);
    let mapping = fixture("deals.json");
    let broken = fixture("deals_broken.csv");

    // --strict: the whole file is refused, the reasons listed.
    let out = import(&db, "deals", &broken, &mapping, &["--strict"]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("row 3: amount: \"abc\" is not a number"), "{err}");
    assert!(err.contains("row 4: account: no organization matches \"Nope Inc\""), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");
    let store = rt.block_on(db.open()).expect("open");
    assert!(rt.block_on(all_deals(&store)).is_empty());
    assert!(rt.block_on(store.users()).expect("users").is_empty(), "owners created for the file are gone too");
    assert!(rt.block_on(store.custom_fields(None)).expect("fields").is_empty());

    // Default: bad rows are skipped; the owner row 4 created before failing is rolled back with it.
    let out = import(&db, "deals", &broken, &mapping, &[]);
    let stdout = ok(&out);
    assert!(stdout.contains("4 rows: 2 created, 0 updated, 0 unchanged, 2 rejected"), "{stdout}");
    let err = text(&out.stderr);
    assert_eq!(err.lines().filter(|l| l.starts_with("row ")).count(), 2, "{err}");
    let deals = rt.block_on(all_deals(&store));
    let mut titles: Vec<&str> = deals.iter().map(|d| d.title.as_str()).collect();
    titles.sort();
    assert_eq!(titles, ["B-1 Basic", "B-4 Pro"]);
    let users = rt.block_on(store.users()).expect("users");
    assert!(!users.iter().any(|u| u.name == "Ghost Agent"), "half a row was kept");
    rt.block_on(store.close());
}

#[test]
fn dry_run_changes_nothing() {
    let rt = rt();
    let db = fresh(&rt);
    load_fixtures(&db);
    let out = ok(&import(&db, "deals", &fixture("deals.csv"), &fixture("deals.json"), &["--dry-run"]));
    assert!(out.contains("4 would be created"), "{out}");
    assert!(out.contains("dry run: nothing was saved"), "{out}");
    let store = rt.block_on(db.open()).expect("open");
    assert!(rt.block_on(all_deals(&store)).is_empty());
    assert!(rt.block_on(store.users()).expect("users").is_empty());
    assert!(rt.block_on(store.custom_fields(None)).expect("fields").is_empty());
    assert!(!rt.block_on(store.pipelines()).expect("pipelines").iter().any(|p| p.name == "Fixture"));
    rt.block_on(store.close());
}

#[test]
fn a_mapping_for_another_entity_or_with_typos_is_refused() {
    let rt = rt();
    let db = fresh(&rt);
    let out = import(&db, "people", &fixture("orgs.csv"), &fixture("orgs.json"), &[]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("is for organizations, not people"));
    let out = import(&db, "deals", &fixture("orgs.csv"), &fixture("deals.json"), &[]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("column `id` is not in the file"), "{}", text(&out.stderr));
}

#[test]
fn malformed_lines_are_rejected_in_the_dry_run_and_the_import() {
    let rt = rt();
    let db = fresh(&rt);
    load_fixtures(&db);
    let (file, mapping) = (fixture("deals_malformed.csv"), fixture("deals.json"));
    let expect_rejections = |out: &Output| {
        let stdout = ok(out);
        assert!(stdout.contains("3 rows: 1 ") && stdout.contains(" 2 rejected"), "{stdout}");
        let err = text(&out.stderr);
        assert!(err.contains("row 3: csv: has 4 cells but the header has 9 columns"), "{err}");
        assert!(err.contains("row 4: csv: a quote (`\"`) opened in this row is never closed"), "{err}");
    };
    expect_rejections(&import(&db, "deals", &file, &mapping, &["--dry-run"]));
    let store = rt.block_on(db.open()).expect("open");
    assert!(rt.block_on(all_deals(&store)).is_empty(), "the dry run kept nothing");
    expect_rejections(&import(&db, "deals", &file, &mapping, &[]));
    let titles: Vec<String> = rt.block_on(all_deals(&store)).into_iter().map(|d| d.title).collect();
    assert_eq!(titles, ["M-1 Basic"], "no deal from a broken line");
    rt.block_on(store.close());
}

#[test]
fn a_header_that_does_not_fit_the_mapping_is_refused_before_any_row() {
    let rt = rt();
    let db = fresh(&rt);
    for extra in [&["--dry-run"][..], &[]] {
        let out = import(&db, "deals", &fixture("orgs.csv"), &fixture("deals.json"), extra);
        assert!(!out.status.success(), "{extra:?}");
        let err = text(&out.stderr);
        assert!(err.contains("column `agent` is not in the file; it has: "), "{err}");
        assert!(!err.lines().any(|l| l.starts_with("row ")), "no row was read: {err}");
    }
    let store = rt.block_on(db.open()).expect("open");
    assert!(!rt.block_on(store.pipelines()).expect("pipelines").iter().any(|p| p.name == "Fixture"));
    assert!(rt.block_on(store.custom_fields(None)).expect("fields").is_empty());
    rt.block_on(store.close());
}

/// Counts of a CSV column's values, with a tiny split that is enough for
/// the Maven files (they have no quoted commas).
fn column_counts(path: &Path, column: &str) -> std::collections::BTreeMap<String, usize> {
    let data = std::fs::read_to_string(path).expect("read csv");
    let mut lines = data.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let i = header.iter().position(|h| *h == column).expect("column");
    let mut out = std::collections::BTreeMap::new();
    for l in lines.filter(|l| !l.is_empty()) {
        *out.entry(l.split(',').nth(i).unwrap_or("").to_string()).or_insert(0) += 1;
    }
    out
}

#[test]
fn maven_data_set_imports_with_the_shipped_mappings() {
    let dir = maven_dir();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/maven");
    let rt = rt();
    let db = fresh(&rt);
    ok(&import(&db, "organizations", &dir.join("accounts.csv"), &examples.join("organizations.json"), &[]));
    let out = ok(&import(&db, "deals", &dir.join("sales_pipeline.csv"), &examples.join("deals.json"), &[]));
    assert!(out.contains(" 0 rejected"), "{out}");

    let stages = column_counts(&dir.join("sales_pipeline.csv"), "deal_stage");
    let agents = column_counts(&dir.join("sales_pipeline.csv"), "sales_agent");
    let store = rt.block_on(db.open()).expect("open");
    let deals = rt.block_on(all_deals(&store));
    let count = |s: DealStatus| deals.iter().filter(|d| d.status == s).count();
    assert_eq!(deals.len(), stages.values().sum::<usize>());
    assert_eq!(count(DealStatus::Won), stages["Won"]);
    assert_eq!(count(DealStatus::Lost), stages["Lost"]);
    assert_eq!(count(DealStatus::Open), stages["Prospecting"] + stages["Engaging"]);
    assert_eq!(rt.block_on(store.users()).expect("users").len(), agents.len());

    // Won value: the sum of close_value over won rows, in cents.
    let data = std::fs::read_to_string(dir.join("sales_pipeline.csv")).expect("read");
    let won_cents: i64 = data
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|c| c.get(4) == Some(&"Won"))
        .map(|c| c[7].parse::<i64>().expect("close_value") * 100)
        .sum();
    let imported: i64 = deals.iter().filter(|d| d.status == DealStatus::Won).map(|d| d.value).sum();
    assert_eq!(imported, won_cents);
    assert!(deals.iter().all(|d| d.custom.get("product").is_some_and(|p| p != "GTXPro")));

    // Again: nothing new.
    let out = ok(&import(&db, "deals", &dir.join("sales_pipeline.csv"), &examples.join("deals.json"), &[]));
    assert!(out.contains("0 created, 0 updated"), "{out}");
    rt.block_on(store.close());
}

/// The audit entries of `store`, newest first.
fn audit(rt: &tokio::runtime::Runtime, store: &Store) -> Vec<dealflow_store::AuditEntry> {
    let page = Page { limit: 500, before: None };
    rt.block_on(store.audit_log(&Default::default(), page)).expect("read the audit log").items
}

#[test]
fn an_import_is_one_audit_entry_with_the_file_checksum_and_counts() {
    let rt = rt();
    let db = fresh(&rt);
    load_fixtures(&db);
    let store = rt.block_on(db.open()).expect("open");
    let log = audit(&rt, &store);
    assert_eq!(log.len(), 1, "one entry for the file, none per row: {log:?}");
    let e = &log[0];
    assert_eq!((e.action.as_str(), e.record_type.as_str(), e.record_id), ("import.run", "import", None));
    assert_eq!(e.credential, dealflow_store::Credential::Cli);
    let d = e.detail.as_ref().expect("detail");
    let bytes = std::fs::read(fixture("orgs.csv")).expect("read the fixture");
    let sum = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
    assert_eq!(d["file"], "orgs.csv");
    assert_eq!(d["sha256"], sum.as_str());
    assert_eq!(d["entity"], "organizations");
    assert_eq!((d["rows"].as_u64(), d["created"].as_u64(), d["rejected"].as_u64()), (Some(2), Some(2), Some(0)));

    // A strict import that rolls back, and a dry run, leave no entry.
    let out = import(&db, "deals", &fixture("deals_broken.csv"), &fixture("deals.json"), &["--strict"]);
    assert!(!out.status.success());
    ok(&import(&db, "deals", &fixture("deals.csv"), &fixture("deals.json"), &["--dry-run"]));
    assert_eq!(audit(&rt, &store).len(), 1, "nothing kept, nothing logged");
}

/// Imports place deals where the file says, past open required playbook
/// steps, and give an open deal the checklist of the stage it ends in only.
#[test]
fn imports_place_deals_without_the_playbook_gate() {
    let rt = rt();
    let db = fresh(&rt);
    load_fixtures(&db);
    let deals_json = fixture("deals.json");
    ok(&import(&db, "deals", &fixture("deals.csv"), &deals_json, &[]));
    // Every stage (the file's pipeline included) now has a required step.
    let store = rt.block_on(db.open()).expect("open");
    let system = dealflow_store::Actor::system();
    for p in rt.block_on(store.pipelines()).expect("pipelines") {
        for s in p.stages {
            let body = serde_json::json!({"title": format!("Do {}", s.name), "kind": "task",
                "due": {"anchor": "stage_entered", "offset_minutes": 60}});
            let spec = serde_json::from_value(body).expect("a step");
            rt.block_on(store.create_step(&system, s.id, spec)).expect("a step");
            let mail = serde_json::json!({"title": "Mail", "kind": "email", "send": "auto", "required": false,
                "template": {"subject": "Hi", "body": "Hello {{person.name}}"},
                "due": {"anchor": "stage_entered", "offset_minutes": 0}});
            rt.block_on(store.create_step(&system, s.id, serde_json::from_value(mail).expect("a step")))
                .expect("a step");
        }
    }
    let started = dealflow_core::time::Timestamp::now();
    let out = ok(&import(&db, "deals", &fixture("deals_v2.csv"), &deals_json, &[]));
    assert!(out.contains("1 created, 2 updated"), "{out}");
    // D-3 won past its stages' steps, D-5 placed past the first stage's.
    assert!(out.contains("2 deals placed past required playbook steps"), "{out}");
    let deals = rt.block_on(all_deals(&store));
    assert_eq!(by_title(&deals, "D-3").status, DealStatus::Won, "won past an open required step");
    let d5 = by_title(&deals, "D-5");
    let list = rt.block_on(store.deal_checklist(d5.id)).expect("a checklist");
    assert_eq!(list.len(), 2, "{list:?}");
    assert!(list[0].activity_id.is_some(), "the open deal got its current stage's task");
    // Imports send no e-mail: the automatic one waits for the next entry.
    assert_eq!((list[1].job_id.as_ref(), list[1].email_state), (None, None), "{list:?}");
    assert!(list[1].reason.as_deref().is_some_and(|r| r.contains("import")), "{list:?}");
    let mails = dealflow_store::JobFilter { kind: Some("playbook.email".into()), ..Default::default() };
    let jobs = rt.block_on(store.jobs(&mails, Page::default())).expect("jobs").items;
    assert!(jobs.is_empty(), "no send job scheduled by an import: {jobs:?}");
    let filter = dealflow_store::ActivityFilter { deal_id: Some(d5.id), ..Default::default() };
    let tasks = rt.block_on(store.list_activities(&filter, Page::default())).expect("activities").items;
    assert_eq!(tasks.len(), 1, "no tasks for the stages it passed: {tasks:?}");
    // No task for the past: its due time counts from the import, not from
    // the file's stage date.
    let due = tasks[0].due_at.expect("a due time");
    assert!(due.0 >= started.0 + 3_600_000, "due from now: {due:?}");
    let events = rt.block_on(store.deal_events_page(d5.id, None, 500)).expect("events").items;
    assert!(!events.is_empty());
    for e in &events {
        assert_eq!(e.origin, dealflow_core::model::EventOrigin::Imported, "{e:?}");
    }
    rt.block_on(store.close());
}

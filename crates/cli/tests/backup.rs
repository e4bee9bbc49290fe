//! `dealflow backup` and `dealflow restore` end to end, on the engine under
//! test: writers keep creating and moving deals while the backup runs; the
//! backup is internally consistent (deal rows agree with their stage logs,
//! projections with a rebuild); restoring it into an empty database lists
//! the same rows and checksums; and the refusals are one clear line.

use dealflow_core::model::{DealPatch, NewDeal, NewNote};
use dealflow_store::testing::{TestDb, test_database};
use dealflow_store::{Actor, PoolSettings, Store};
use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> Self {
        let p = std::env::temp_dir().join(format!("dealflow-cli-backup-{}", dealflow_core::ids::next_id()));
        std::fs::create_dir_all(&p).expect("create temp dir");
        Self(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn dealflow(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dealflow"))
        .env("RUST_LOG", "warn")
        .arg("--database")
        .arg(db)
        .args(args)
        .output()
        .expect("run dealflow")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The table listing of a backup or restore: table → (rows, checksum).
fn listing(out: &Output) -> BTreeMap<String, (u64, String)> {
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    let mut tables = BTreeMap::new();
    for line in stdout.lines().filter(|l| l.contains(" sha256 ")) {
        let w: Vec<&str> = line.split_whitespace().collect();
        assert_eq!((w.len(), w[2], w[3], w[5]), (6, "rows", "sha256", "ok"), "{line}");
        tables.insert(w[0].to_string(), (w[1].parse().expect("a row count"), w[4].to_string()));
    }
    assert_eq!(tables.len(), 20, "every table listed: {stdout}");
    tables
}

/// Creates deals, moves them through the stages and adds notes until told
/// to stop; returns how many writes succeeded. Version conflicts cannot
/// happen (each writer owns its deals), so every error fails the test.
async fn writer(store: Store, stop: Arc<AtomicBool>, done: Arc<AtomicU64>, seed: usize) {
    let actor = Actor::system();
    let stages = store.pipelines().await.expect("pipelines")[0].stages.clone();
    let mut i = seed;
    while !stop.load(Ordering::Relaxed) {
        let title = format!("Backup writer {seed} deal {i}");
        let deal = store.create_deal(&actor, NewDeal { title, value: 1_000, ..Default::default() }).await;
        let deal = deal.expect("create a deal");
        let stage = stages[(i % (stages.len() - 1)) + 1].id;
        let patch = DealPatch { version: deal.version, stage_id: Some(stage), ..Default::default() };
        store.update_deal(&actor, deal.id, patch).await.expect("move a deal");
        let note = NewNote { body: format!("note {i}"), deal_id: Some(deal.id), ..Default::default() };
        store.create_note(&actor, note).await.expect("add a note");
        done.fetch_add(3, Ordering::Relaxed);
        i += 7;
    }
}

async fn consistent(store: &Store, what: &str) -> u64 {
    let report = store.check_consistency().await.expect("check consistency");
    assert!(report.problems.is_empty(), "{what}: {:#?}", report.problems);
    report.deals
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backup_while_writing_restores_with_identical_checksums() {
    let started = Instant::now();
    let source: TestDb = test_database().await.expect("source database");
    let store = source.open().await.expect("open the source");
    // Enough rows that the backup takes a while beside the writers.
    let actor = Actor::system();
    for i in 0..200 {
        let title = format!("Seed deal {i}");
        store.create_deal(&actor, NewDeal { title, ..Default::default() }).await.expect("seed a deal");
    }
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let writers: Vec<_> = (0..3).map(|w| tokio::spawn(writer(store.clone(), stop.clone(), done.clone(), w))).collect();
    // Let the writers get going, so the backup starts among them.
    while done.load(Ordering::Relaxed) < 30 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let dir = TempDir::new();
    let file = dir.0.join("backup.db");
    let file_arg = file.display().to_string();
    let before = done.load(Ordering::Relaxed);
    let url = source.url.clone();
    let fa = file_arg.clone();
    let out = tokio::task::spawn_blocking(move || dealflow(&url, &["backup", &fa])).await.expect("backup");
    let during = done.load(Ordering::Relaxed) - before;
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.expect("a writer");
    }
    let backed_up = listing(&out);
    assert!(during > 0, "writes went on while the backup ran");
    assert!(text(&out.stdout).contains("backed up and verified"), "{}", text(&out.stdout));

    // The backup is one consistent point in time: between the seed and all
    // that the writers did, and its derived data agrees with its source.
    let copy = Store::open(&format!("sqlite:{file_arg}"), &PoolSettings::default()).await.expect("open the backup");
    let deals = consistent(&copy, "the backup").await;
    copy.close().await;
    assert_eq!(backed_up["deals"].0, deals);
    assert!(deals > 200, "the backup holds the seed and some written deals: {deals}");
    consistent(&store, "the source").await;
    store.close().await;

    let target = test_database().await.expect("target database");
    let url = target.url.clone();
    let out = tokio::task::spawn_blocking(move || dealflow(&url, &["restore", &file_arg])).await.expect("restore");
    assert!(text(&out.stdout).contains("restored and verified"), "{}", text(&out.stdout));
    assert_eq!(listing(&out), backed_up, "the restore lists the backup's rows and checksums");
    let restored = target.open().await.expect("open the restored database");
    assert_eq!(consistent(&restored, "the restored workspace").await, deals);
    restored.close().await;
    eprintln!(
        "backup/restore while writing: {during} writes during the backup, {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test]
async fn backup_and_restore_refuse_with_one_clear_line() {
    let source = test_database().await.expect("source database");
    let store = source.open().await.expect("open");
    let actor = Actor::system();
    store.create_deal(&actor, NewDeal { title: "Kept".into(), ..Default::default() }).await.expect("a deal");
    let dir = TempDir::new();
    let file = dir.0.join("b.db").display().to_string();
    let url = source.url.clone();
    let refused = |out: Output, words: &[&str]| {
        assert!(!out.status.success(), "{}", text(&out.stdout));
        let err = text(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "one clear line: {err}");
        assert!(words.iter().all(|w| err.contains(w)), "{words:?} in {err}");
    };
    let run = |db: String, args: Vec<String>| {
        tokio::task::spawn_blocking(move || dealflow(&db, &args.iter().map(String::as_str).collect::<Vec<_>>()))
    };
    let out = run(url.clone(), vec!["backup".into(), file.clone()]).await.expect("backup");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let first = listing(&out);
    let out = run(url.clone(), vec!["backup".into(), file.clone()]).await.expect("backup again");
    refused(out, &["already exists", "--force"]);
    store.create_deal(&actor, NewDeal { title: "Later".into(), ..Default::default() }).await.expect("a deal");
    let out = run(url.clone(), vec!["backup".into(), file.clone(), "--force".into()]).await.expect("forced");
    assert_eq!(listing(&out)["deals"].0, first["deals"].0 + 1, "--force replaced the file");
    // No partial file is left beside the backup.
    let names: Vec<String> = std::fs::read_dir(&dir.0)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into())
        .collect();
    assert_eq!(names, ["b.db"]);

    // The source holds deals, so restoring into it is refused, unchanged.
    let out = run(url.clone(), vec!["restore".into(), file.clone()]).await.expect("restore");
    refused(out, &["not empty", "2 deals", "empty one"]);
    let missing = dir.0.join("missing.db").display().to_string();
    let out = run(url.clone(), vec!["restore".into(), missing.clone()]).await.expect("restore");
    refused(out, &["no backup at"]);
    assert!(!std::path::Path::new(&missing).exists(), "a missing backup is not created");
    let junk = dir.0.join("junk.txt");
    std::fs::write(&junk, "not a database, but long enough to have a header of sorts").expect("write junk");
    let out = run(url.clone(), vec!["restore".into(), junk.display().to_string()]).await.expect("restore");
    refused(out, &["not a dealflow backup"]);
    // The refused restore left the source as it was.
    assert_eq!(consistent(&store, "the source after a refused restore").await, 2);
    store.close().await;
}

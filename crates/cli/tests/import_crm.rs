//! Exports of other CRMs imported without a mapping: the built binary
//! recognises Pipedrive, HubSpot and Salesforce files (fixtures written from
//! the column names these products document), shows the mapping it proposes,
//! saves it on request, and imports organizations, people and deals with
//! their stages, outcomes and dates; importing again changes nothing.

use dealflow_core::model::{DealStatus, Role};
use dealflow_store::testing::{TestDb, test_database};
use dealflow_store::{Actor, DealFilter, Page, Store};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/crm").join(name)
}

fn import(db: &TestDb, entity: &str, file: &str, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dealflow"))
        .args(["--database", &db.url, "import", entity])
        .arg(fixture(file))
        .args(extra)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run dealflow import")
}

fn ok(out: &Output) -> (String, String) {
    let (so, se) =
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
    assert!(out.status.success(), "stdout: {so}\nstderr: {se}");
    (so, se)
}

/// A fresh database with the owner the fixtures name.
fn workspace(rt: &tokio::runtime::Runtime) -> (TestDb, Store) {
    let db = rt.block_on(test_database()).expect("test database");
    let store: Store = rt.block_on(db.open()).expect("open");
    rt.block_on(store.create_user(&Actor::system(), "ada@example.com", "Ada Admin", Role::Admin, "!", None))
        .expect("owner");
    (db, store)
}

#[test]
fn each_crms_export_is_recognised_and_imported_once() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let crms = [
        ("Pipedrive", "pipedrive_organizations.csv", "pipedrive_people.csv", "pipedrive_deals.csv"),
        ("HubSpot", "hubspot_companies.csv", "hubspot_contacts.csv", "hubspot_deals.csv"),
        ("Salesforce", "salesforce_accounts.csv", "salesforce_contacts.csv", "salesforce_opportunities.csv"),
    ];
    for (crm, orgs, people, deals) in crms {
        let (db, store) = workspace(&rt);
        for (entity, file) in [("organizations", orgs), ("people", people), ("deals", deals)] {
            let (out, err) = ok(&import(&db, entity, file, &[]));
            assert!(err.contains(&format!("recognised a {crm} export of {entity}")), "{err}");
            assert!(out.contains("0 rejected"), "{crm} {entity}: {out}\n{err}");
            // The same file again: found by its external ids, nothing new.
            let (again, _) = ok(&import(&db, entity, file, &[]));
            assert!(again.contains("0 created") && again.contains("0 rejected"), "{crm} {entity} again: {again}");
        }
        let list = rt.block_on(store.list_deals(&DealFilter::default(), Page { limit: 50, before: None }));
        let all = list.expect("deals").items;
        assert_eq!(all.len(), 4, "{crm}");
        let count = |s: DealStatus| all.iter().filter(|d| d.status == s).count();
        assert_eq!((count(DealStatus::Open), count(DealStatus::Won), count(DealStatus::Lost)), (2, 1, 1), "{crm}");
        assert!(all.iter().all(|d| d.organization_id.is_some() && d.owner_id.is_some()), "{crm}: {all:?}");
        // An open deal's close date is its expected one; a closed deal's is
        // when it closed.
        let open = all.iter().filter(|d| d.status == DealStatus::Open);
        assert!(open.clone().all(|d| d.closed_at.is_none()), "{crm}");
        if crm != "Pipedrive" {
            assert!(open.clone().all(|d| d.expected_close_date.is_some()), "{crm}: {all:?}");
        }
        assert!(all.iter().filter(|d| d.status != DealStatus::Open).all(|d| d.closed_at.is_some()), "{crm}");
        let pipelines = rt.block_on(store.pipelines()).expect("pipelines");
        assert!(pipelines.len() >= 2, "{crm}: the file's pipeline was created");
    }
}

#[test]
fn the_proposal_is_shown_in_a_dry_run_saved_and_usable_as_a_mapping() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let (db, store) = workspace(&rt);
    let dir = tempfile::tempdir().expect("temp dir");
    let saved = dir.path().join("hubspot.json");
    let saved_arg = saved.to_string_lossy().into_owned();
    let (out, err) = ok(&import(&db, "deals", "hubspot_deals.csv", &["--dry-run", "--save-mapping", &saved_arg]));
    assert!(err.contains("\"Deal Stage\"") && err.contains("\"close_date\""), "the mapping is shown: {err}");
    assert!(out.contains("would be"), "{out}");
    let none = rt.block_on(store.list_deals(&DealFilter::default(), Page { limit: 5, before: None }));
    assert!(none.expect("deals").items.is_empty(), "a dry run keeps nothing");
    let (out, _) = ok(&import(&db, "deals", "hubspot_deals.csv", &["--mapping", &saved_arg]));
    assert!(out.contains("4 created"), "{out}");

    let unknown = import(&db, "people", "hubspot_deals.csv", &[]);
    assert!(!unknown.status.success());
    let err = String::from_utf8_lossy(&unknown.stderr);
    assert!(err.contains("give a --mapping") && err.contains("Deal Name"), "{err}");
}

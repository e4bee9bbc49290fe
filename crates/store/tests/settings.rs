//! The workspace time zone is parsed once, when the settings load: a valid
//! one reaches every use as a `TimeZone`, and a stored name that is not a
//! zone (edited by hand in the database) is a clear error at load instead
//! of a silent fallback to UTC.

use dealflow_core::model::SettingsPatch;
use dealflow_core::time::TimeZone;
use dealflow_store::{Actor, StoreError};

#[tokio::test]
async fn the_time_zone_is_parsed_when_the_settings_load() {
    let db = dealflow_store::testing::test_database().await.expect("test database");
    let store = db.open().await.expect("open");
    assert_eq!(store.settings().await.expect("settings").time_zone, TimeZone::UTC);

    let patch = |version, zone: &str| SettingsPatch {
        version,
        name: None,
        time_zone: Some(zone.to_string()),
        base_currency: None,
        exchange_rates: None,
        working_days: None,
        require_lost_reason: None,
        override_roles: None,
    };
    let s = store.update_settings(&Actor::system(), patch(1, "Europe/Berlin")).await.expect("a real zone");
    assert_eq!(s.time_zone.name(), "Europe/Berlin");
    match store.update_settings(&Actor::system(), patch(s.version, "Mars/Olympus")).await {
        Err(StoreError::Invalid(i)) => assert_eq!(i.0[0].field, "time_zone", "{i}"),
        other => panic!("an unknown zone must be refused naming the field: {other:?}"),
    }

    sqlx::query("UPDATE settings SET time_zone = 'Mars/Olympus'").execute(store.pool()).await.expect("edit by hand");
    let err = store.settings().await.expect_err("an invalid stored zone must not load as UTC");
    let msg = err.to_string();
    assert!(msg.contains("time_zone") && msg.contains("Mars/Olympus"), "{msg}");
}

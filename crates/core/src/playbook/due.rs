//! A step's due time: its anchor (the moment the deal entered the stage, or
//! its next meeting) moved by an offset in minutes, or in working days of
//! the workspace. Working days keep the anchor's local time of day, so "one
//! working day before a Monday 10:00 meeting" is the Friday before at 10:00,
//! across daylight-saving changes too. The workspace's holidays are not
//! working days.

use super::Due;
use crate::model::Settings;
use crate::time::{Date, Timestamp};
use chrono::{Datelike, TimeZone as _};

/// When a step with rule `due` falls due, counted from `anchor`.
pub fn due_at(due: &Due, anchor: Timestamp, settings: &Settings) -> Timestamp {
    if let Some(m) = due.offset_minutes {
        return Timestamp(anchor.0 + m * 60_000);
    }
    let days = due.offset_working_days.unwrap_or(0);
    if days == 0 {
        return anchor;
    }
    let tz = settings.time_zone.tz();
    let Some(start) = chrono::DateTime::from_timestamp_millis(anchor.0) else { return anchor };
    let local = start.with_timezone(&tz).naive_local();
    let working = |d: chrono::NaiveDate| {
        let wd = d.weekday().number_from_monday() as u8;
        // A workspace without working days counts every day, rather than
        // never finding one.
        let weekday = settings.working_days.is_empty() || settings.working_days.contains(&wd);
        weekday && !settings.holidays.contains(&Date(d))
    };
    let step = if days > 0 { 1 } else { -1 };
    let mut date = local.date();
    let mut left = days.abs();
    // At most a year of working days (checked on save); a few years of
    // calendar days bound the walk even if the settings name odd weekdays
    // or the holidays cover whole months.
    let mut guard = 0;
    while left > 0 && guard < 4 * 366 {
        date += chrono::Duration::days(step);
        guard += 1;
        if working(date) {
            left -= 1;
        }
    }
    let target = date.and_time(local.time());
    // A local time skipped by a DST change moves on to the first that exists.
    (0..=180)
        .find_map(|m| tz.from_local_datetime(&(target + chrono::Duration::minutes(m))).earliest())
        .map_or(anchor, |t| Timestamp(t.timestamp_millis()))
}

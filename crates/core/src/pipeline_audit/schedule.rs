//! The weekly slot of a pipeline's scheduled audit. The slot is the
//! meeting's time; its audit is made from the start of that day (local
//! midnight), so owners can review their deals before the meeting.

use crate::time::{TimeZone, Timestamp};
use chrono::{Datelike, Days, NaiveTime, TimeZone as _};

/// The latest weekly slot whose day has begun at `now`: ISO `weekday`
/// (1 = Monday) at `time` (`HH:MM`, 09:00 when absent or unreadable) in
/// `tz`; on the audit day itself that is the coming meeting. `None` for a
/// weekday outside 1–7.
pub fn latest_slot(weekday: i64, time: Option<&str>, tz: TimeZone, now: Timestamp) -> Option<Timestamp> {
    if !(1..=7).contains(&weekday) {
        return None;
    }
    let at = time.and_then(|t| NaiveTime::parse_from_str(t, "%H:%M").ok()).unwrap_or(NaiveTime::from_hms_opt(9, 0, 0)?);
    let local = chrono::DateTime::from_timestamp_millis(now.0)?.with_timezone(&tz.tz());
    let back = (i64::from(local.weekday().number_from_monday()) - weekday).rem_euclid(7);
    let day = local.date_naive().checked_sub_days(Days::new(back as u64))?;
    let slot = |d: chrono::NaiveDate| {
        // A time skipped by a DST change falls to the first one after it.
        tz.tz().from_local_datetime(&d.and_time(at)).earliest().map(|t| t.timestamp_millis()).unwrap_or(tz.midnight(d))
    };
    Some(Timestamp(slot(day)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    #[test]
    fn the_slot_is_this_weeks_once_its_time_has_come() {
        let tz = TimeZone(chrono_tz::Europe::Berlin);
        // 2026-12-07 is a Monday; 09:00 in Berlin is 08:00 UTC.
        let monday_nine = at("2026-12-07T08:00:00Z");
        assert_eq!(latest_slot(1, Some("09:00"), tz, at("2026-12-07T08:00:00Z")), Some(monday_nine));
        assert_eq!(latest_slot(1, Some("09:00"), tz, at("2026-12-09T12:00:00Z")), Some(monday_nine));
        // On the morning of the audit day: the coming meeting.
        assert_eq!(latest_slot(1, None, tz, at("2026-12-07T05:00:00Z")), Some(monday_nine));
        // The Sunday before (Berlin): last Monday's.
        assert_eq!(latest_slot(1, None, tz, at("2026-12-06T22:59:00Z")), Some(at("2026-11-30T08:00:00Z")));
        // Sunday's slot seen on the Monday after.
        assert_eq!(latest_slot(7, Some("18:30"), tz, at("2026-12-07T08:00:00Z")), Some(at("2026-12-06T17:30:00Z")));
        assert_eq!(latest_slot(8, None, tz, monday_nine), None);
    }
}

//! The workspace's calendar: "today" and local times in the workspace time
//! zone (`settings.time_zone`), shared by the pages that group or show
//! times.

use chrono::TimeZone;
use dealflow_core::model::Settings;
use dealflow_core::time::Timestamp;

pub const DAY_MS: i64 = 86_400_000;

/// The workspace's time zone (valid since the settings loaded).
pub fn zone(settings: &Settings) -> chrono_tz::Tz {
    settings.time_zone.tz()
}

/// Start of today in the workspace's time zone, as Unix ms.
pub fn start_of_today(settings: &Settings, now: Timestamp) -> i64 {
    let tz = zone(settings);
    let local = tz.timestamp_millis_opt(now.0).single().map(|d| d.date_naive());
    local
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|m| tz.from_local_datetime(&m).earliest())
        .map(|d| d.timestamp_millis())
        .unwrap_or(now.0 - now.0.rem_euclid(DAY_MS))
}

/// Start of tomorrow in the workspace's time zone: the end of "today" for
/// the due-time rules (`dealflow_core::agenda`), correct on days that a
/// clock change makes 23 or 25 hours long.
pub fn start_of_tomorrow(settings: &Settings, now: Timestamp) -> Timestamp {
    let tz = zone(settings);
    let next = tz.timestamp_millis_opt(now.0).single().and_then(|d| d.date_naive().succ_opt());
    next.and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|m| tz.from_local_datetime(&m).earliest())
        .map(|d| Timestamp(d.timestamp_millis()))
        .unwrap_or(Timestamp(start_of_today(settings, now).saturating_add(DAY_MS)))
}

/// A moment as the timelines and the deal page show it: the locale's long
/// date with the time, in the workspace's zone: `Mar 1, 2026 14:30` /
/// `2026年3月1日 14:30`.
pub fn long_time(t: super::T, tz: chrono_tz::Tz, ms: i64) -> String {
    let Some(d) = tz.timestamp_millis_opt(ms).single() else { return String::new() };
    match t.lang {
        super::i18n::Lang::En => d.format("%b %-d, %Y %H:%M").to_string(),
        super::i18n::Lang::ZhCn => d.format("%Y年%-m月%-d日 %H:%M").to_string(),
    }
}

/// A calendar date (no time of day) in the same long form: `Jun 30, 2030`
/// / `2030年6月30日`.
pub fn long_date(t: super::T, d: chrono::NaiveDate) -> String {
    match t.lang {
        super::i18n::Lang::En => d.format("%b %-d, %Y").to_string(),
        super::i18n::Lang::ZhCn => d.format("%Y年%-m月%-d日").to_string(),
    }
}

/// A local date and time for people: `Mar 1 14:30` / `3月1日 14:30`, or only
/// `14:30` when `time_only`.
pub fn local_time(t: super::T, tz: chrono_tz::Tz, ms: i64, time_only: bool) -> String {
    let Some(local) = tz.timestamp_millis_opt(ms).single().map(|d| d.naive_local()) else { return String::new() };
    let clock = local.format("%H:%M").to_string();
    if time_only {
        return clock;
    }
    // `short_date` formats a UTC instant; the local wall time read as UTC
    // gives the local calendar date.
    format!("{} {clock}", t.short_date(local.and_utc().timestamp_millis()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn today_starts_at_local_midnight() {
        let mut s = Settings {
            name: "x".into(),
            time_zone: dealflow_core::time::TimeZone::parse("Asia/Shanghai").unwrap(),
            base_currency: dealflow_core::currency::Currency::parse("USD").unwrap(),
            exchange_rates: Default::default(),
            working_days: vec![1, 2, 3, 4, 5],
            require_lost_reason: true,
            holidays: Vec::new(),
            mail: Default::default(),
            override_roles: dealflow_core::model::DEFAULT_OVERRIDE_ROLES.to_vec(),
            webhooks_allow_private: false,
            updated_at: Timestamp(0),
            version: 1,
        };
        // 2026-03-01T20:00:00Z is 04:00 on 2 March in Shanghai.
        let now = Timestamp::parse("2026-03-01T20:00:00Z").unwrap();
        assert_eq!(start_of_today(&s, now), Timestamp::parse("2026-03-01T16:00:00Z").unwrap().0);
        assert_eq!(start_of_tomorrow(&s, now), Timestamp::parse("2026-03-02T16:00:00Z").unwrap());
        s.time_zone = dealflow_core::time::TimeZone::UTC;
        assert_eq!(start_of_today(&s, now), Timestamp::parse("2026-03-01T00:00:00Z").unwrap().0);
        let t = super::super::T { lang: super::super::i18n::Lang::En };
        assert_eq!(local_time(t, zone(&s), now.0, false), "Mar 1 20:00");
    }
}

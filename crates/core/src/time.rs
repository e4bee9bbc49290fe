//! Time as the store keeps it: UTC instants in Unix milliseconds, calendar
//! dates as `YYYY-MM-DD`. In JSON an instant is an RFC 3339 string. The
//! workspace's calendar is a [`TimeZone`], parsed once when the settings
//! load, so no use site re-parses a name or falls back to UTC.

use crate::Invalid;
use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, TimeZone as _, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A UTC instant with millisecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        Self(Utc::now().timestamp_millis())
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        DateTime::parse_from_rfc3339(s.trim())
            .map(|d| Self(d.timestamp_millis()))
            .map_err(|_| format!("`{s}` is not an RFC 3339 time; write it like 2026-03-01T09:30:00Z"))
    }

    pub fn to_rfc3339(self) -> String {
        DateTime::<Utc>::from_timestamp_millis(self.0)
            .map(|d| d.to_rfc3339_opts(SecondsFormat::Millis, true))
            .unwrap_or_default()
    }

    /// A time given by a caller for history (created_at, closed_at, event
    /// times) may lie in the past but not in the future; a minute of clock
    /// skew is tolerated.
    pub fn check_not_future(self, field: &str, now: Timestamp) -> Result<Self, Invalid> {
        if self.0 > now.0 + 60_000 {
            Err(Invalid::one(field, "lies in the future; a historical time must be now or earlier"))
        } else if self.0 < 0 {
            Err(Invalid::one(field, "lies before 1970; use a later time"))
        } else {
            Ok(self)
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .into()
    }
}
impl utoipa::ToSchema for Timestamp {}

/// `serialize_with` for a field kept as Unix milliseconds (for arithmetic)
/// that the API shows like every other instant: RFC 3339, as [`Timestamp`].
pub fn ms_as_rfc3339<S: Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
    Timestamp(*ms).serialize(s)
}

/// [`ms_as_rfc3339`] for an optional instant (`null` when absent).
pub fn opt_ms_as_rfc3339<S: Serializer>(ms: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    ms.map(Timestamp).serialize(s)
}

/// The years a date given by a caller may have. Every date a CRM records
/// (close dates, periods, goals, birthdays in custom fields) lies well
/// inside; outside it, date arithmetic (a period's previous period, a
/// forecast's months) could leave chrono's range and panic.
pub const DATE_YEARS: std::ops::RangeInclusive<i32> = 1900..=2999;

/// A calendar date, `YYYY-MM-DD`, in the years [`DATE_YEARS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub NaiveDate);

impl Date {
    /// A date given by a caller: `YYYY-MM-DD` in the years [`DATE_YEARS`].
    pub fn parse(s: &str) -> Result<Self, String> {
        let d = Self::parse_stored(s)?;
        if DATE_YEARS.contains(&d.0.year()) {
            Ok(d)
        } else {
            Err(format!(
                "`{s}` lies outside the years {}–{}; use a date in that range",
                DATE_YEARS.start(),
                DATE_YEARS.end()
            ))
        }
    }

    /// A date read back from storage: any valid `YYYY-MM-DD`, so rows
    /// written before the year range existed still load.
    pub fn parse_stored(s: &str) -> Result<Self, String> {
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .map(Self)
            .map_err(|_| format!("`{s}` is not a date; write it as YYYY-MM-DD"))
    }

    pub fn to_iso(self) -> String {
        self.0.format("%Y-%m-%d").to_string()
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_iso())
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for Date {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        // The pattern states the accepted years (`DATE_YEARS`), 1900–2999.
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
            .pattern(Some("^(19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}$"))
            .into()
    }
}
impl utoipa::ToSchema for Date {}

/// An IANA time zone (`Europe/Berlin`), valid by construction. In JSON
/// and in the database it is its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TimeZone(pub chrono_tz::Tz);

impl TimeZone {
    pub const UTC: TimeZone = TimeZone(chrono_tz::Tz::UTC);

    pub fn parse(s: &str) -> Result<Self, String> {
        s.trim()
            .parse::<chrono_tz::Tz>()
            .map(TimeZone)
            .map_err(|_| format!("`{s}` is not an IANA time zone such as Europe/Berlin or Asia/Shanghai"))
    }

    /// The IANA name.
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The zone for chrono's conversions.
    pub fn tz(self) -> chrono_tz::Tz {
        self.0
    }

    /// Midnight at the start of `date` in this zone, as Unix milliseconds:
    /// what a date means as a period bound. Where a DST change skips
    /// midnight, the day starts at the first local time that exists; where
    /// midnight happens twice, at the earlier one.
    pub fn midnight(self, date: NaiveDate) -> i64 {
        let start = date.and_time(chrono::NaiveTime::MIN);
        // Gaps are at most a few hours: step a minute at a time until the
        // local time exists.
        (0..=24 * 60)
            .find_map(|m| self.0.from_local_datetime(&(start + chrono::Duration::minutes(m))).earliest())
            .map_or_else(|| start.and_utc().timestamp_millis(), |t| t.timestamp_millis())
    }
}

impl std::fmt::Display for TimeZone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for TimeZone {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for TimeZone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for TimeZone {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("IANA time zone name, e.g. `Europe/Berlin`"))
            .into()
    }
}
impl utoipa::ToSchema for TimeZone {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let t = Timestamp::parse("2026-03-01T09:30:00Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-03-01T09:30:00.000Z");
        assert!(Timestamp::parse("yesterday").is_err());
        assert!(Date::parse("2026-02-30").is_err());
        assert_eq!(Date::parse("2026-02-28").unwrap().to_iso(), "2026-02-28");
    }

    #[test]
    fn milliseconds_serialize_as_instants() {
        #[derive(Serialize)]
        struct T {
            #[serde(serialize_with = "ms_as_rfc3339")]
            at: i64,
            #[serde(serialize_with = "opt_ms_as_rfc3339")]
            maybe: Option<i64>,
            #[serde(serialize_with = "opt_ms_as_rfc3339")]
            none: Option<i64>,
        }
        let v = serde_json::to_value(T { at: 0, maybe: Some(1_000), none: None }).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"at": "1970-01-01T00:00:00.000Z", "maybe": "1970-01-01T00:00:01.000Z", "none": null})
        );
    }

    #[test]
    fn time_zones_parse_once_and_give_local_midnights() {
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(TimeZone::UTC.midnight(day("2026-01-01")), 1_767_225_600_000);
        // Berlin is UTC+1 in winter: its midnight is 23:00 UTC the day before.
        let berlin = TimeZone::parse("Europe/Berlin").unwrap();
        assert_eq!(berlin.midnight(day("2026-01-01")), 1_767_225_600_000 - 3_600_000);
        // Santiago skips midnight when DST starts (2025-09-07): the day starts at 01:00.
        let santiago = TimeZone::parse(" America/Santiago ").unwrap();
        let utc_midnight = day("2025-09-07").and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_millis();
        assert_eq!(santiago.midnight(day("2025-09-07")), utc_midnight + 4 * 3_600_000);
        assert!(TimeZone::parse("Mars/Olympus").unwrap_err().contains("Mars/Olympus"));
        assert_eq!(serde_json::to_value(berlin).unwrap(), "Europe/Berlin");
        assert!(serde_json::from_value::<TimeZone>(serde_json::json!("Nowhere")).is_err());
    }

    #[test]
    fn dates_keep_to_the_year_range() {
        for bad in ["-262143-01-01", "+262142-12-31", "0000-01-01", "1899-12-31", "3000-01-01", "262143-01-01"] {
            let e = Date::parse(bad).unwrap_err();
            assert!(e.contains("1900") || e.contains("YYYY-MM-DD"), "{bad}: {e}");
            assert!(serde_json::from_str::<Date>(&format!("\"{bad}\"")).is_err(), "{bad}");
        }
        assert_eq!(Date::parse("1900-01-01").unwrap().to_iso(), "1900-01-01");
        assert_eq!(Date::parse("2999-12-31").unwrap().to_iso(), "2999-12-31");
        assert!(Date::parse("1899-12-31").unwrap_err().contains("1900–2999"));
        // Stored rows from before the range still read.
        assert_eq!(Date::parse_stored("1850-06-01").unwrap().to_iso(), "1850-06-01");
    }

    #[test]
    fn future_refused() {
        let now = Timestamp(1_000_000_000);
        assert!(Timestamp(now.0 + 3_600_000).check_not_future("x", now).is_err());
        assert!(Timestamp(now.0 - 3_600_000).check_not_future("x", now).is_ok());
    }
}

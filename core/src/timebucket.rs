//! Time buckets aligned like TimescaleDB's `time_bucket` default.
//!
//! Origin is Monday 2000-01-03 00:00 UTC. A bucket of width `w` containing `t` starts at
//! `origin + floor((t - origin) / w) * w`. All values are UTC; internally we compute on
//! microseconds since the Unix epoch (the SQLite storage unit).

use chrono::{DateTime, Duration, TimeZone, Utc};

/// Microseconds since the Unix epoch of the bucket origin, 2000-01-03 00:00:00 UTC.
pub const ORIGIN_MICROS: i64 = 946_857_600_000_000;

/// Microseconds in one second.
pub const MICROS_PER_SECOND: i64 = 1_000_000;

/// Converts an instant to microseconds since the Unix epoch.
pub fn to_micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// Converts microseconds since the Unix epoch to an instant.
pub fn from_micros(us: i64) -> DateTime<Utc> {
    Utc.timestamp_micros(us).single().unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Start of the origin-aligned bucket of `width` that contains `t`.
pub fn bucket_start(t: DateTime<Utc>, width: Duration) -> DateTime<Utc> {
    from_micros(bucket_start_micros(to_micros(t), width_micros(width)))
}

/// [`bucket_start`] on raw microseconds (floor division, correct before the origin too).
pub fn bucket_start_micros(t: i64, width: i64) -> i64 {
    t - (t - ORIGIN_MICROS).rem_euclid(width)
}

/// A width as microseconds.
pub fn width_micros(width: Duration) -> i64 {
    width.num_microseconds().unwrap_or(i64::MAX)
}

/// Floors `t` to a multiple of `width` counted from the origin (same as [`bucket_start`]);
/// named for the spec's `floor_minute`, `floor_quarter`, … helpers.
pub fn floor(t: DateTime<Utc>, width: Duration) -> DateTime<Utc> {
    bucket_start(t, width)
}

/// Formats a bucket label the way graphs show it: `YYYY-MM-DD HH:MM` (UTC).
pub fn label(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::parse_instant;

    fn t(s: &str) -> DateTime<Utc> {
        parse_instant(s).expect("valid instant")
    }

    #[test]
    fn origin_is_monday_2000_01_03() {
        assert_eq!(from_micros(ORIGIN_MICROS), t("2000-01-03T00:00:00Z"));
    }

    #[test]
    fn buckets_align_to_origin() {
        // 15 minutes: plain quarter floor.
        assert_eq!(bucket_start(t("2024-06-15T12:34:56Z"), Duration::minutes(15)), t("2024-06-15T12:30:00Z"));
        // 2 days: 2024-06-15 is a Saturday; days since origin are counted in pairs.
        let two_days = bucket_start(t("2024-06-15T12:00:00Z"), Duration::days(2));
        let days = (two_days - t("2000-01-03T00:00:00Z")).num_days();
        assert_eq!(days % 2, 0);
        assert!(two_days <= t("2024-06-15T12:00:00Z") && t("2024-06-15T12:00:00Z") < two_days + Duration::days(2));
        // 14 days: a Monday, every second week from the origin.
        let fortnight = bucket_start(t("2024-06-15T12:00:00Z"), Duration::days(14));
        assert_eq!(fortnight, t("2024-06-03T00:00:00Z"));
        // before the origin floor division still rounds down
        assert_eq!(bucket_start(t("1999-12-31T23:59:00Z"), Duration::days(1)), t("1999-12-31T00:00:00Z"));
    }

    #[test]
    fn labels_are_minutes() {
        assert_eq!(label(t("2024-06-15T12:30:00Z")), "2024-06-15 12:30");
    }
}

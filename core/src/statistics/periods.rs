//! Display periods (1h … 1y): ranges, buckets, windows, source tables, cache and refresh
//! parameters, exactly as statistics.md's "Display periods" table.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::model::Level;
use crate::error::{Error, Result};
use crate::timebucket::{bucket_start, floor};

/// A display period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Period {
    /// Last hour, 1-minute buckets from raw data.
    #[serde(rename = "1h")]
    Hour,
    /// Last 6 hours, 15-minute buckets from quarterly data.
    #[serde(rename = "6h")]
    SixHours,
    /// Last day, 30-minute buckets from quarterly data.
    #[serde(rename = "1d")]
    Day,
    /// Last week, 3-hour buckets from hourly data.
    #[serde(rename = "1w")]
    Week,
    /// Last 30 days, daily buckets.
    #[serde(rename = "1m")]
    Month,
    /// Last 90 days, 2-day buckets.
    #[serde(rename = "3m")]
    ThreeMonths,
    /// Last 378 days, 14-day buckets.
    #[serde(rename = "1y")]
    Year,
}

/// The job queue a computation goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CacheQueue {
    /// Quick computations (1h, 6h, 1d).
    QuickCache,
    /// Slow computations (1w, 1m, 3m, 1y).
    SlowCache,
}

/// A resource computation window: `start ≤ time < end` (W) or `< end − 5 min` (W5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DisplayWindow {
    /// `floor(now − range)`.
    pub start: DateTime<Utc>,
    /// `floor(now)`.
    pub finish: DateTime<Utc>,
}

impl DisplayWindow {
    /// Upper bound of the window: `finish` for W, `finish − 5 min` for W5.
    pub fn upper(&self, five_minute_cut: bool) -> DateTime<Utc> {
        if five_minute_cut { self.finish - Duration::minutes(5) } else { self.finish }
    }
}

impl Period {
    /// All periods, shortest first.
    pub const ALL: [Period; 7] =
        [Period::Hour, Period::SixHours, Period::Day, Period::Week, Period::Month, Period::ThreeMonths, Period::Year];

    /// Handle: `1h`, `6h`, `1d`, `1w`, `1m`, `3m`, `1y`.
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Hour => "1h",
            Period::SixHours => "6h",
            Period::Day => "1d",
            Period::Week => "1w",
            Period::Month => "1m",
            Period::ThreeMonths => "3m",
            Period::Year => "1y",
        }
    }

    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            Period::Hour => "Hour",
            Period::SixHours => "6 Hours",
            Period::Day => "Day",
            Period::Week => "Week",
            Period::Month => "Month",
            Period::ThreeMonths => "3 Months",
            Period::Year => "Year",
        }
    }

    /// How far back the period reaches.
    pub fn range(self) -> Duration {
        match self {
            Period::Hour => Duration::hours(1),
            Period::SixHours => Duration::hours(6),
            Period::Day => Duration::days(1),
            Period::Week => Duration::days(7),
            Period::Month => Duration::days(30),
            Period::ThreeMonths => Duration::days(90),
            Period::Year => Duration::days(378),
        }
    }

    /// Graph bucket width.
    pub fn bucket(self) -> Duration {
        match self {
            Period::Hour => Duration::minutes(1),
            Period::SixHours => Duration::minutes(15),
            Period::Day => Duration::minutes(30),
            Period::Week => Duration::hours(3),
            Period::Month => Duration::days(1),
            Period::ThreeMonths => Duration::days(2),
            Period::Year => Duration::days(14),
        }
    }

    /// The unit window bounds are floored to.
    pub fn window_floor(self) -> Duration {
        match self {
            Period::Hour => Duration::minutes(1),
            Period::SixHours => Duration::minutes(15),
            Period::Day => Duration::minutes(30),
            Period::Week => Duration::hours(3),
            Period::Month | Period::ThreeMonths | Period::Year => Duration::days(1),
        }
    }

    /// The table level the period reads.
    pub fn source(self) -> Level {
        match self {
            Period::Hour => Level::Raw,
            Period::SixHours | Period::Day => Level::Quarterly,
            Period::Week => Level::Hourly,
            Period::Month | Period::ThreeMonths | Period::Year => Level::Daily,
        }
    }

    /// Aggregation precisions the period's source depends on (transitively).
    pub fn depends_on(self) -> &'static [super::Precision] {
        use super::Precision::*;
        match self.source() {
            Level::Raw => &[],
            Level::Quarterly => &[Quarterly],
            Level::Hourly => &[Quarterly, Hourly],
            Level::Daily => &[Quarterly, Hourly, Daily],
        }
    }

    /// Cache TTL of a computed resource.
    pub fn cache_ttl(self) -> Duration {
        Duration::seconds(match self {
            Period::Hour => 300,
            Period::SixHours => 1500,
            Period::Day => 3000,
            Period::Week => 14_400,
            Period::Month | Period::ThreeMonths | Period::Year => 90_000,
        })
    }

    /// How often the period is refreshed: once per window-floor unit (the spec's table has
    /// the same value in both columns for every period).
    pub fn refresh_every(self) -> Duration {
        self.window_floor()
    }

    /// Delay after a refresh boundary before computing (lets aggregations finish first).
    pub fn start_delay(self) -> Duration {
        Duration::seconds(match self {
            Period::Hour => 0,
            Period::SixHours | Period::Day => 185,
            Period::Week => 195,
            Period::Month | Period::ThreeMonths | Period::Year => 205,
        })
    }

    /// Queue for the period's computations.
    pub fn queue(self) -> CacheQueue {
        match self {
            Period::Hour | Period::SixHours | Period::Day => CacheQueue::QuickCache,
            _ => CacheQueue::SlowCache,
        }
    }

    /// `Cache-Control: max-age` the HTTP API sends (1h 30 s, 6h 120 s, others 300 s).
    pub fn user_cache_ttl(self) -> u32 {
        match self {
            Period::Hour => 30,
            Period::SixHours => 120,
            _ => 300,
        }
    }

    /// The computation window at `now`.
    pub fn window(self, now: DateTime<Utc>) -> DisplayWindow {
        DisplayWindow { start: floor(now - self.range(), self.window_floor()), finish: floor(now, self.window_floor()) }
    }

    /// When the refresh timeout set at `now` expires: next refresh boundary + start delay.
    pub fn refresh_timeout_at(self, now: DateTime<Utc>) -> DateTime<Utc> {
        floor(now, self.refresh_every()) + self.refresh_every() + self.start_delay()
    }

    /// Bucket starts from `bucket_of(start)` while before `upper`.
    pub fn buckets(self, window: &DisplayWindow, five_minute_cut: bool) -> Vec<DateTime<Utc>> {
        let upper = window.upper(five_minute_cut);
        let mut b = bucket_start(window.start, self.bucket());
        let mut out = Vec::new();
        while b < upper {
            out.push(b);
            b += self.bucket();
        }
        out
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Period {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Period::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| Error::InvalidArgument(format!("unknown period `{s}`; valid: 1h, 6h, 1d, 1w, 1m, 3m, 1y")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::parse_instant;

    #[test]
    fn point_counts_match_the_spec() {
        let now = parse_instant("2024-06-15T12:40:00Z").expect("instant");
        let count = |p: Period, cut: bool| p.buckets(&p.window(now), cut).len();
        assert_eq!(count(Period::Hour, true), 55);
        assert_eq!(count(Period::Hour, false), 60);
        assert_eq!(count(Period::SixHours, true), 24);
        assert_eq!(count(Period::Day, true), 48);
        assert_eq!(count(Period::Week, true), 56);
        assert_eq!(count(Period::Month, true), 30);
        assert!((45..=46).contains(&count(Period::ThreeMonths, true)));
        assert!((27..=28).contains(&count(Period::Year, true)));
    }
}

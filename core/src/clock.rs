//! The injectable clock.
//!
//! Every period window, aggregation window, cache TTL decision and relative time asks this
//! clock. `--now <RFC3339>` / `VANTAGE_NOW` pin it, which makes results reproducible.

use chrono::{DateTime, Utc};

/// A source of "now": the system clock or a pinned instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The real wall clock.
    System,
    /// Always returns the same instant.
    Fixed(DateTime<Utc>),
}

impl Clock {
    /// A clock pinned to `now` when given, the system clock otherwise.
    pub fn from_option(now: Option<DateTime<Utc>>) -> Self {
        now.map_or(Clock::System, Clock::Fixed)
    }

    /// The current instant according to this clock.
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Fixed(t) => *t,
        }
    }
}

/// Parses an RFC 3339 instant (`2024-06-15T12:40:00Z`), converting any offset to UTC.
pub fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("`{text}` is not an RFC 3339 date-time ({e}); example: 2024-06-15T12:40:00Z"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_is_fixed_and_offsets_become_utc() {
        let t = parse_instant("2024-06-15T14:40:00+02:00").expect("valid");
        assert_eq!(t.to_rfc3339(), "2024-06-15T12:40:00+00:00");
        assert_eq!(Clock::Fixed(t).now(), t);
        assert!(parse_instant("yesterday").is_err());
    }
}

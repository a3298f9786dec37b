//! Shared by the fuzz targets (each includes it with `#[path]`).
#![allow(dead_code)]

use std::path::PathBuf;

use chrono::{DateTime, Datelike, Utc};

/// The pinned "now" of every target: 2024-06-15T12:40:30Z.
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_718_455_230, 0).expect("valid instant")
}

/// Whether `t` can be written as RFC 3339 (four-digit year) and so read back.
pub fn writable(t: &DateTime<Utc>) -> bool {
    (0..=9999).contains(&t.year())
}

/// A scratch file of this process (the parsers that only open paths read it).
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vantage-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir.join(name)
}

/// The invariants of every Sentinel report the readers accept: a count in range, an
/// upper-case two-letter country, texts within their limit.
pub fn check_report(report: &vantage_core::statistics::Report) {
    use vantage_core::statistics::Report;
    use vantage_core::statistics::ingest::{MAX_RAW_COUNT, MAX_TEXT_BYTES};
    match report {
        Report::Incident(i) => {
            assert!((1..=MAX_RAW_COUNT).contains(&i.raw_count));
            if let Some(c) = &i.country {
                assert!(c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()), "country {c:?}");
            }
        }
        Report::Password(p) => {
            assert!((1..=MAX_RAW_COUNT).contains(&p.raw_count));
            assert!(p.username.len() <= MAX_TEXT_BYTES && p.password.len() <= MAX_TEXT_BYTES);
        }
        Report::Port(p) => assert!((1..=MAX_RAW_COUNT).contains(&p.raw_count)),
    }
}

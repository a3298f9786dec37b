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

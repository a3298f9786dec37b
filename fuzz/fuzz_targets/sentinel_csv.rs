//! Sentinel reports as CSV with a header (`statistics::ingest::read_reports`, `Format::Csv`):
//! whatever the bytes, every accepted report keeps the limits, every rejection names a line
//! inside the input, and rejections come in line order.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use vantage_core::statistics::ingest::{Format, read_reports};

fuzz_target!(|data: &[u8]| {
    // an upper bound on the lines (a lone CR may end a record too)
    let lines = data.iter().filter(|&&b| b == b'\n' || b == b'\r').count() as u64 + 1;
    let mut last_line = 0;
    read_reports(data, Format::Csv, "fuzz.csv", |row| {
        match &row {
            Ok(report) => common::check_report(report),
            Err((line, reason)) => {
                assert!(!reason.is_empty());
                assert!((1..=lines).contains(line), "line {line} of {lines}: {reason}");
                assert!(*line >= last_line, "line {line} after {last_line}: {reason}");
                last_line = *line;
            }
        }
        true
    })
    .expect("a byte slice has no I/O error");
});

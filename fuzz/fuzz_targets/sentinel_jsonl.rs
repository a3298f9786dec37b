//! Sentinel incident / password / port reports as JSON Lines: `statistics::ingest::parse_json_report`
//! line by line, then the whole input through the import's reader `read_reports`, which must
//! agree with it line for line.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use vantage_core::statistics::ingest::{Format, parse_json_report, read_reports};

fuzz_target!(|data: &[u8]| {
    let mut expected = Vec::new();
    for line in data.split(|&b| b == b'\n') {
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        match parse_json_report(line) {
            Ok(report) => {
                common::check_report(&report);
                expected.push(true);
            }
            Err(reason) => {
                assert!(!reason.is_empty());
                expected.push(false);
            }
        }
    }
    let mut seen = Vec::new();
    let mut last_line = 0;
    read_reports(data, Format::JsonLines, "fuzz", |row| {
        if let Err((line, reason)) = &row {
            assert!(*line > last_line && !reason.is_empty(), "line {line} after {last_line}: {reason}");
            last_line = *line;
        }
        seen.push(row.is_ok());
        true
    })
    .expect("a byte slice has no I/O error");
    assert_eq!(seen, expected, "the reader and the line parser disagree");
});

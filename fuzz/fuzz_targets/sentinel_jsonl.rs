//! Sentinel incident / password / port reports as JSON Lines: `statistics::ingest::parse_json_report`
//! (the CSV reader `parse_csv` of that module is private: not reachable without a store).
#![no_main]

use libfuzzer_sys::fuzz_target;
use vantage_core::statistics::Report;
use vantage_core::statistics::ingest::{MAX_RAW_COUNT, MAX_TEXT_BYTES, parse_json_report};

fuzz_target!(|data: &[u8]| {
    for line in data.split(|&b| b == b'\n') {
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        match parse_json_report(line) {
            Ok(Report::Incident(i)) => {
                assert!((1..=MAX_RAW_COUNT).contains(&i.raw_count));
                if let Some(c) = &i.country {
                    assert!(c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()), "country {c:?}");
                }
            }
            Ok(Report::Password(p)) => {
                assert!((1..=MAX_RAW_COUNT).contains(&p.raw_count));
                assert!(p.username.len() <= MAX_TEXT_BYTES && p.password.len() <= MAX_TEXT_BYTES);
            }
            Ok(Report::Port(p)) => assert!((1..=MAX_RAW_COUNT).contains(&p.raw_count)),
            Err(reason) => assert!(!reason.is_empty()),
        }
    }
});

//! Flow records: `flows::parse::FlowReader` over nfdump CSV, Zeek conn.log TSV and JSON lines.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vantage_core::flows::parse::FlowReader;

fuzz_target!(|data: &[u8]| {
    // BufRead::lines: a final line without a newline counts too
    let lines = data.split(|&b| b == b'\n').count() as u64 - u64::from(data.is_empty() || data.ends_with(b"\n"));
    let mut previous = 0;
    for item in FlowReader::new(data) {
        if let Err(bad) = item {
            assert!(bad.line >= 1 && bad.line <= lines.max(1), "line {} of {lines}", bad.line);
            assert!(bad.line >= previous, "line {} after {previous}", bad.line);
            assert!(!bad.reason.is_empty());
            previous = bad.line;
        }
    }
});

//! Leaked-password lists: `passwords::import::parse` (plaintext and HIBP `SHA1:COUNT`, the
//! format as `detect` guesses it and both forced).
#![no_main]

use libfuzzer_sys::fuzz_target;
use vantage_core::passwords::import::{Format, detect, parse};
use vantage_core::progress::NoProgress;

fuzz_target!(|data: &[u8]| {
    let detected = detect(&String::from_utf8_lossy(data));
    // what BufRead::split(b'\n') yields: no empty piece after a final newline
    let lines = data.split(|&b| b == b'\n').count() - usize::from(data.is_empty() || data.ends_with(b"\n"));
    for format in [detected, Format::Plain, Format::Hibp] {
        let parsed = parse(data, format, None, &NoProgress).expect("reading a slice cannot fail");
        assert_eq!(parsed.lines, lines);
        let mut previous = 0;
        for e in &parsed.errors {
            assert!(e.line > previous && e.line <= lines, "line {} of {lines} (after {previous})", e.line);
            assert!(!e.reason.is_empty());
            previous = e.line;
        }
        let mut hashes: Vec<&str> = parsed.rows.iter().map(|r| r.hash.as_str()).collect();
        for r in &parsed.rows {
            assert!(r.hash.len() == 40 && r.hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "hash {:?}", r.hash);
            assert!(r.count >= 1);
        }
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), parsed.rows.len(), "a hash is listed twice");
    }
});

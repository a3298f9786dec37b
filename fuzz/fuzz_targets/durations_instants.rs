//! Durations, sizes, limits and instants: `pcap::request::{parse_duration, parse_size,
//! parse_time, parse_limit}`, `clock::parse_instant`, `events::parse::parse_time`,
//! `statistics::ingest::parse_time`; every accepted value must read back from its own text.
#![no_main]

#[path = "common.rs"]
mod common;

use chrono::{DateTime, SecondsFormat, Utc};
use libfuzzer_sys::fuzz_target;
use vantage_core::pcap::request::{TimeSpec, parse_duration, parse_limit, parse_size, parse_time};

fn instant_round_trip(what: &str, text: &str, parsed: Result<DateTime<Utc>, String>, parse: fn(&str) -> Result<DateTime<Utc>, String>) {
    if let Ok(t) = parsed
        && common::writable(&t)
    {
        let written = t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
        assert_eq!(parse(&written), Ok(t), "{what}: {text:?} → {written:?} does not read back");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(d) = parse_duration(text) {
        let written = format!("{}.{:09}s", d.as_secs(), d.subsec_nanos());
        assert_eq!(parse_duration(&written), Ok(d), "{text:?} → {written:?}");
        assert_eq!(parse_time(&format!("{written} ago")), Ok(TimeSpec::Ago(d)));
    }
    if let Ok(n) = parse_size(text) {
        assert_eq!(parse_size(&n.to_string()), Ok(n));
        assert_eq!(parse_size(&format!("{n}B")), Ok(n));
    }
    if let Ok(n) = parse_limit(text) {
        assert!(n > 0);
    }
    match parse_time(text) {
        Ok(TimeSpec::At(t)) if common::writable(&t) => {
            let written = t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
            assert_eq!(parse_time(&written), Ok(TimeSpec::At(t)), "{text:?} → {written:?}");
        }
        Ok(TimeSpec::Ago(d)) => assert_eq!(parse_duration(&format!("{}.{:09}", d.as_secs(), d.subsec_nanos())), Ok(d)),
        _ => {}
    }
    instant_round_trip("clock", text, vantage_core::clock::parse_instant(text), vantage_core::clock::parse_instant);
    instant_round_trip("events", text, vantage_core::events::parse::parse_time(text), vantage_core::events::parse::parse_time);
    instant_round_trip("statistics", text, vantage_core::statistics::ingest::parse_time(text), vantage_core::statistics::ingest::parse_time);
});

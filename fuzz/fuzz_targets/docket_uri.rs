//! Docket URL clauses (`Clauses::from_uri` + `build`) and analyst text (`Request::from_text`).
#![no_main]

#[path = "common.rs"]
mod common;

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use vantage_core::pcap::request::{Clauses, Request, RequestError, RequestSettings, Weights, query_id};
use vantage_core::pcap::steno;

fn check(text: &str, built: Result<Request, RequestError>) {
    match built {
        Ok(r) => {
            assert_eq!(r.id, query_id(&r.query));
            assert!(r.start < r.end, "{text:?}: empty window {} .. {}", r.start, r.end);
            if let Err(e) = steno::parse(&r.query) {
                panic!("{text:?}: the built query {:?} is not valid Stenographer: {e}", r.query);
            }
        }
        Err(e) => {
            assert_eq!(e.status, 400);
            assert!(!e.message.is_empty());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let weighted = RequestSettings {
        time_window: 3600,
        long_ago: Duration::from_secs(7 * 86_400),
        weight: Some(Weights::new(1 << 40, 20 << 30, 24.0)),
    };
    for settings in [RequestSettings::default(), weighted] {
        check(text, Clauses::from_uri(text).and_then(|c| c.build(&settings, common::now())));
        check(text, Request::from_text(text, &settings, common::now()));
    }
});

//! Stenographer query text: `pcap::steno::parse` and the raw Docket form `Request::raw`.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use vantage_core::pcap::request::{Request, RequestSettings, query_id};
use vantage_core::pcap::steno;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match steno::parse(text) {
        Ok(expr) => {
            let canonical = expr.to_string();
            assert_eq!(steno::parse(&canonical).as_ref(), Ok(&expr), "canonical {canonical:?} of {text:?} does not reparse to the same query");
        }
        Err(e) => {
            assert!(e.position <= text.len() && text.is_char_boundary(e.position), "error position {} outside {text:?}", e.position);
            assert!(e.to_string().starts_with(&format!("at byte {}:", e.position)), "{e}");
        }
    }
    match Request::raw(text, &RequestSettings::default(), common::now()) {
        Ok(r) => {
            assert_eq!(r.id, query_id(&r.query));
            let reparsed = steno::parse(&r.query).unwrap_or_else(|e| panic!("query {:?} of {text:?} is refused: {e}", r.query));
            assert_eq!(reparsed.to_string(), r.query, "the query sent is not canonical");
        }
        Err(e) => assert_eq!(e.status, 400),
    }
});

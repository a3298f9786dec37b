//! HTTP API bodies as the routes read them: the pcap form route (`POST /api/`: JSON through
//! `Clauses::from_json`, else `application/x-www-form-urlencoded` through `Clauses::from_form`,
//! then `build`), the password routes' JSON object with its `hash` prefix
//! (`passwords::prefix`), `pcap::api::split_list`, and serde_json into the API's serde types
//! (`pcap::request::Request`, `dynfw::message::Message`).
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use vantage_core::pcap::request::{Clauses, Request, RequestError, RequestSettings, query_id};
use vantage_core::pcap::steno;

fn check(built: Result<Request, RequestError>) {
    match built {
        Ok(r) => {
            assert_eq!(r.id, query_id(&r.query));
            assert!(steno::parse(&r.query).is_ok(), "built query {:?} is not valid Stenographer", r.query);
            let mut sensors = r.sensors.clone();
            sensors.sort();
            sensors.dedup();
            assert_eq!(sensors.len(), r.sensors.len(), "a sensor is listed twice");
        }
        Err(e) => assert_eq!(e.status, 400),
    }
}

fuzz_target!(|data: &[u8]| {
    let settings = RequestSettings::default();
    let json = serde_json::from_slice::<Value>(data);
    if let Ok(value) = &json {
        check(Clauses::from_json(value).and_then(|c| c.build(&settings, common::now())));
        if let Some(Value::String(hash)) = value.as_object().and_then(|o| o.get("hash")) {
            for (min, max) in [(5, 40), (5, 5)] {
                if let Ok(p) = vantage_core::passwords::prefix(hash, min, max) {
                    assert!((min..=max).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "prefix {p:?}");
                }
            }
        }
    }
    check(Clauses::from_form(url::form_urlencoded::parse(data)).and_then(|c| c.build(&settings, common::now())));
    if let Ok(text) = std::str::from_utf8(data) {
        for item in vantage_core::pcap::api::split_list(text) {
            assert!(!item.is_empty() && !item.contains([',', ';', '+', '\t', ' ']));
        }
    }
    if let Ok(r) = serde_json::from_slice::<Request>(data) {
        let again: Request = serde_json::from_str(&serde_json::to_string(&r).expect("serializes")).expect("reads back");
        assert_eq!(again, r);
    }
    if let Ok(m) = serde_json::from_slice::<vantage_core::dynfw::message::Message>(data) {
        let again: vantage_core::dynfw::message::Message = serde_json::from_str(&serde_json::to_string(&m).expect("serializes")).expect("reads back");
        assert_eq!(again, m);
    }
});

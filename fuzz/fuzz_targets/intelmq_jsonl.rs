//! IntelMQ events as JSON Lines: `events::parse::parse_line`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vantage_core::events::model::Field;
use vantage_core::events::parse::parse_line;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for line in text.lines() {
        match parse_line(line) {
            Ok(event) => assert_eq!(event.values.len(), Field::ALL.len()),
            Err(errors) => {
                assert!(!errors.is_empty());
                for e in errors {
                    if let Some(field) = &e.field {
                        assert!(Field::ALL.iter().any(|f| f.name() == field), "unknown field {field:?}");
                    }
                    assert!(!e.reason.is_empty());
                }
            }
        }
    }
});

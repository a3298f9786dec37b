//! Unit tests of the report parsers.

use super::*;
use crate::statistics::model::{Action, Protocol, Trap};

#[test]
fn json_incident_with_defaults() {
    let r = parse_json_report(br#"{"time":"2024-06-15T12:34:56Z","sn":"0000000000000001","device_token":"abc","trap":"minipot_ftp","action":"connect","ip":"192.0.2.1/32","country":"cz"}"#)
        .expect("valid");
    let Report::Incident(i) = r else { panic!("kind inferred from keys") };
    assert_eq!(i.raw_count, 1);
    assert_eq!(i.trap, Trap::MinipotFtp);
    assert_eq!(i.action, Action::Connect);
    assert_eq!(i.ip.to_string(), "192.0.2.1");
    assert_eq!(i.country.as_deref(), Some("CZ"));
}

#[test]
fn json_errors_name_the_field() {
    let cases: &[(&[u8], &str)] = &[
        (br#"{"time":"2024-06-15T12:34:56Z","sn":"1","device_token":"a","trap":"ssh","action":"connect","ip":"1.2.3.4"}"#, "trap: `ssh`"),
        (br#"{"time":"yesterday","username":"u","password":"p"}"#, "time: `yesterday`"),
        (br#"{"time":"2024-06-15T12:34:56Z","port":70000,"protocol":"TCP"}"#, "port: 70000"),
        (br#"{"time":"2024-06-15T12:34:56Z","port":22}"#, "missing field `protocol`"),
        (br#"{"time":"2024-06-15T12:34:56Z","sn":"1","device_token":"a","trap":"fwlogs","action":"connect","ip":"10.0.0.0/8"}"#, "ip: `10.0.0.0/8` is a network"),
        (br#"{"time":"2024-06-15T12:34:56Z","raw_count":0,"username":"u","password":"p"}"#, "raw_count: must be between 1 and 1000000000 (got 0)"),
        (br#"{"time":"2024-06-15T12:34:56Z"}"#, "cannot tell the report kind"),
        (br#"{"time": "#, "invalid JSON"),
    ];
    for (line, expected) in cases {
        let err = parse_json_report(line).expect_err("must be rejected");
        assert!(err.contains(expected), "{err} should contain {expected}");
    }
}

#[test]
fn times_in_all_accepted_forms() {
    let expected = parse_time("2024-06-15T12:34:56Z").expect("rfc3339");
    for t in ["2024-06-15 12:34:56+00", "2024-06-15 14:34:56+02:00", "2024-06-15 12:34:56", "2024-06-15T12:34:56.000Z"] {
        assert_eq!(parse_time(t), Ok(expected), "{t}");
    }
    let r = parse_json_report(br#"{"kind":"port","time":1718454896,"port":"22","protocol":"UDP"}"#).expect("epoch");
    assert_eq!(r, Report::Port(PortScan { time: expected, raw_count: 1, port: 22, protocol: Protocol::Udp }));
}

#[test]
fn csv_layout_from_header_any_order() {
    let header = csv::StringRecord::from(vec!["protocol", "port", "time"]);
    let layout = CsvLayout::from_header(&header).expect("ports header");
    let rec = csv::StringRecord::from(vec!["TCP", "443", "2024-06-15T00:00:00Z"]);
    let Ok(Report::Port(p)) = layout.parse(&rec) else { panic!("port row") };
    assert_eq!((p.port, p.protocol, p.raw_count), (443, Protocol::Tcp, 1));
    let bad = CsvLayout::from_header(&csv::StringRecord::from(vec!["time", "trap", "action"])).err();
    assert_eq!(bad.as_deref(), Some("header: missing column `sn`"));
}

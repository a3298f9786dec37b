//! Properties of the parsers (issue 18, item 2; the same parsers have cargo-fuzz targets in
//! `fuzz/`, run by `scripts/fuzz.sh`): no parser panics on arbitrary input, a refused input's
//! error says where (line, column, byte offset, field or file), and what the crate writes its
//! parsers read back unchanged (durations, sizes, instants, pcap/pcapng → reader → merge
//! writer → reader, DynFW msgpack encode → decode, Sentinel and IntelMQ JSON lines, nfdump
//! CSV, HIBP lists). The Stenographer display/re-parse round trip and its never-panics
//! property are in `pcap_query.rs` and not repeated here.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use proptest::prelude::*;
use serde_json::json;
use vantage_core::config::{Config, Overrides};
use vantage_core::dynfw::message::{self, Delta, Event, FrameError, List, Message, Sign};
use vantage_core::events::model::Field;
use vantage_core::flows::parse::FlowReader;
use vantage_core::packets::reader::{PacketReader, Timestamp};
use vantage_core::passwords::import::{Format, parse as parse_passwords};
use vantage_core::pcap::merge::merge_files;
use vantage_core::pcap::request::{Clauses, Request, RequestSettings, TimeSpec, parse_duration, parse_size, parse_time, query_id};
use vantage_core::pcap::steno;
use vantage_core::progress::NoProgress;
use vantage_core::statistics::Report;
use vantage_core::statistics::ingest::parse_json_report;
use vantage_tests::t;

const NOW: &str = "2024-06-15T12:40:30Z";

fn config() -> ProptestConfig {
    // no regression files written next to the test (a failure prints its minimal input)
    ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() }
}

// ---------------------------------------------------------------- generators

fn ipv4() -> impl Strategy<Value = IpAddr> {
    any::<[u8; 4]>().prop_map(|o| IpAddr::V4(Ipv4Addr::from(o)))
}

fn ip() -> impl Strategy<Value = IpAddr> {
    // IPv4-mapped IPv6 addresses read back as IPv4 (steno::parse_ip), so plain IPv6 avoids ::ffff:0:0/96
    prop_oneof![ipv4(), any::<[u16; 8]>().prop_filter("not IPv4-mapped", |s| Ipv6Addr::from(*s).to_ipv4_mapped().is_none()).prop_map(|s| IpAddr::V6(Ipv6Addr::from(s)))]
}

/// An instant of years 0000–9999 to the nanosecond (what RFC 3339 can write).
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (-62_167_219_200i64..=253_402_300_799, 0u32..1_000_000_000).prop_map(|(s, n)| DateTime::from_timestamp(s, n).expect("in range"))
}

/// A path of Docket URL clauses, some of them broken.
fn uri_path() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        Just("host".to_string()),
        ip().prop_map(|i| i.to_string()),
        Just("net".to_string()),
        (ipv4(), 0u8..=33).prop_map(|(i, l)| format!("{i}/{l}")),
        Just("255.255.0.0".to_string()),
        Just("port".to_string()),
        (0u32..70_000).prop_map(|p| p.to_string()),
        Just("proto".to_string()),
        Just("tcp".to_string()),
        Just("UDP".to_string()),
        Just("icmp".to_string()),
        Just("after".to_string()),
        Just("before".to_string()),
        (1u32..100_000, prop::sample::select(vec!["s", "m", "h", "d", "w", "ms"])).prop_map(|(n, u)| format!("{n}{u}")),
        Just("ago".to_string()),
        Just("2024-06-15T12:00:00Z".to_string()),
        Just("2024-06-14".to_string()),
        Just("ignore-weight".to_string()),
        Just("".to_string()),
        "[a-z0-9.:]{1,6}",
    ];
    prop::collection::vec(word, 0..10).prop_map(|w| w.join("/"))
}

// ---------------------------------------------------------------- test writers

/// A classic pcap: `(ts_sec, fraction, data, extra original bytes)` records, link type 1.
fn classic_pcap(big_endian: bool, nanos: bool, packets: &[(u32, u32, Vec<u8>, u32)]) -> Vec<u8> {
    let w = |v: u32| if big_endian { v.to_be_bytes() } else { v.to_le_bytes() };
    let w16 = |v: u16| if big_endian { v.to_be_bytes() } else { v.to_le_bytes() };
    let mut out = Vec::new();
    out.extend(w(if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 }));
    out.extend(w16(2));
    out.extend(w16(4));
    out.extend([0; 8]);
    out.extend(w(65_535));
    out.extend(w(1));
    for (secs, frac, data, extra) in packets {
        out.extend(w(*secs));
        out.extend(w(*frac));
        out.extend(w(data.len() as u32));
        out.extend(w(data.len() as u32 + extra));
        out.extend(data);
    }
    out
}

/// A pcapng section with one Ethernet interface (`if_tsresol` 10^-`resolution`) and an
/// Enhanced Packet Block per `(64-bit time stamp in units, data, extra original bytes)`.
fn pcapng(resolution: u8, packets: &[(u64, Vec<u8>, u32)]) -> Vec<u8> {
    fn block(out: &mut Vec<u8>, kind: u32, body: &[u8]) {
        let len = 12 + body.len().div_ceil(4) * 4;
        out.extend(kind.to_le_bytes());
        out.extend((len as u32).to_le_bytes());
        out.extend(body);
        out.resize(out.len() + (4 - body.len() % 4) % 4, 0);
        out.extend((len as u32).to_le_bytes());
    }
    let mut out = Vec::new();
    let mut shb = 0x1A2B_3C4Du32.to_le_bytes().to_vec();
    shb.extend(1u16.to_le_bytes());
    shb.extend(0u16.to_le_bytes());
    shb.extend((-1i64).to_le_bytes());
    block(&mut out, 0x0A0D_0D0A, &shb);
    let mut idb = 1u16.to_le_bytes().to_vec();
    idb.extend(0u16.to_le_bytes());
    idb.extend(0u32.to_le_bytes());
    idb.extend([9, 0, 1, 0, resolution, 0, 0, 0]); // if_tsresol
    idb.extend([0, 0, 0, 0]); // opt_endofopt
    block(&mut out, 1, &idb);
    for (units, data, extra) in packets {
        let mut epb = 0u32.to_le_bytes().to_vec();
        epb.extend(((units >> 32) as u32).to_le_bytes());
        epb.extend((*units as u32).to_le_bytes());
        epb.extend((data.len() as u32).to_le_bytes());
        epb.extend((data.len() as u32 + extra).to_le_bytes());
        epb.extend(data);
        epb.resize(epb.len().div_ceil(4) * 4, 0);
        block(&mut out, 6, &epb);
    }
    out
}

/// `(time stamp, original length, bytes)` of every packet, and how the reading ended.
type Read = (Vec<(Option<Timestamp>, u32, Vec<u8>)>, Result<(), String>);

fn read_all(path: &Path) -> Read {
    let mut reader = match PacketReader::open(path) {
        Ok(r) => r,
        Err(e) => return (Vec::new(), Err(e.to_string())),
    };
    let mut packets = Vec::new();
    loop {
        match reader.next_packet() {
            Ok(Some(p)) => packets.push((p.ts, p.origlen, p.data.to_vec())),
            Ok(None) => return (packets, Ok(())),
            Err(e) => return (packets, Err(e.to_string())),
        }
    }
}

fn nfdump_line(f: &(DateTime<Utc>, u32, IpAddr, IpAddr, u16, u16, &str, i64, i64)) -> String {
    let (ts, td_ms, sa, da, sp, dp, pr, ipkt, ibyt) = f;
    format!("{},{},{}.{:03},{sa},{da},{sp},{dp},{pr},......S.,0,0,{ipkt},{ibyt},0,0,0,0", ts.format("%Y-%m-%d %H:%M:%S%.3f"), ts.format("%Y-%m-%d %H:%M:%S"), td_ms / 1000, td_ms % 1000)
}

proptest! {
    #![proptest_config(config())]

    // ------------------------------------------------------------ Stenographer, Docket

    #[test]
    fn steno_errors_point_at_a_char_boundary_inside_the_query(text in prop_oneof![any::<String>(), "[a-z0-9 ().:/&|]{0,40}"]) {
        if let Err(e) = steno::parse(&text) {
            prop_assert!(e.position <= text.len() && text.is_char_boundary(e.position), "{e} in {text:?}");
            prop_assert!(e.to_string().starts_with(&format!("at byte {}: expected ", e.position)), "{e}");
            prop_assert!(!e.found.is_empty() && !e.expected.is_empty());
        }
    }

    #[test]
    fn docket_uri_builds_canonical_valid_queries_or_names_the_clause(path in prop_oneof![uri_path(), any::<String>()]) {
        let built = Clauses::from_uri(&path).and_then(|c| c.build(&RequestSettings::default(), t(NOW)));
        match built {
            Ok(r) => {
                prop_assert_eq!(&r.id, &query_id(&r.query));
                prop_assert!(r.start < r.end, "{path:?}: {} .. {}", r.start, r.end);
                let expr = steno::parse(&r.query);
                prop_assert!(expr.is_ok(), "{path:?} → {:?}: {:?}", r.query, expr);
                if !r.query.contains(" mask ") {
                    // the raw form of the built query is the same query and job
                    let raw = Request::raw(&r.query, &RequestSettings::default(), t(NOW)).expect("the built query is a valid raw query");
                    prop_assert_eq!(&raw.query, &r.query);
                    prop_assert_eq!(raw.id, r.id);
                    prop_assert_eq!((raw.start, raw.end), (r.start, r.end));
                }
            }
            Err(e) => {
                prop_assert_eq!(e.status, 400);
                if e.message.starts_with("Unrecognized clause in URI: ") {
                    let word = e.message.trim_start_matches("Unrecognized clause in URI: ");
                    prop_assert!(path.split('/').any(|s| s.trim() == word), "{} names no segment of {path:?}", e.message);
                }
            }
        }
    }

    #[test]
    fn form_errors_name_the_field(key in prop::sample::select(vec!["host", "net", "port", "proto", "proto-name", "before", "after", "before-ago", "after-ago", "ignore-weight", "Steno-Limit-Packets"]), value in "[a-z0-9.:/-][a-z0-9 .:/-]{0,11}") {
        if let Err(e) = Clauses::from_form([(key, value.as_str())]) {
            prop_assert!(e.message.starts_with(&format!("{key}: ")), "{}", e.message);
        }
    }

    // ------------------------------------------------------------ durations, sizes, instants

    #[test]
    fn durations_read_back_from_their_parts(w in 0u64..1000, d in 0u64..1000, h in 0u64..1000, m in 0u64..1000, s in 0u64..1000, ms in 0u64..1000, us in 0u64..1000, spaced in any::<bool>()) {
        let text = [(w, "w"), (d, "d"), (h, "h"), (m, "m"), (s, "s"), (ms, "ms"), (us, "us")].iter().map(|(n, u)| format!("{n}{u}")).collect::<Vec<_>>().join(if spaced { " " } else { "" });
        let want = Duration::from_micros(us) + Duration::from_millis(ms) + Duration::from_secs(s + 60 * m + 3600 * h + 86_400 * d + 604_800 * w);
        prop_assert_eq!(parse_duration(&text), Ok(want));
        prop_assert_eq!(parse_time(&format!("{text} ago")), Ok(TimeSpec::Ago(want)));
        let decimal = format!("{}.{:09}", want.as_secs(), want.subsec_nanos());
        prop_assert_eq!(parse_duration(&decimal), Ok(want));
    }

    #[test]
    fn durations_and_sizes_never_panic_and_quote_a_refused_input(text in prop_oneof![any::<String>(), "[0-9. a-zA-Z]{0,16}"]) {
        if let Err(e) = parse_duration(&text) {
            prop_assert!(e.contains(&format!("`{text}`")), "{e}");
        }
        if let Err(e) = parse_size(&text) {
            prop_assert!(e.contains(&format!("`{text}`")), "{e}");
        }
        if let Ok(TimeSpec::At(at)) = parse_time(&text) {
            prop_assert!((0..=9999).contains(&chrono::Datelike::year(&at)) || text.trim().starts_with(['+', '-']), "{text:?} → {at}");
        }
    }

    #[test]
    fn sizes_read_back(n in 0u64..(1 << 40), unit in prop::sample::select(vec![("", 0u32), ("B", 0), ("K", 1), ("kb", 1), ("MiB", 2), ("G", 3)])) {
        let (suffix, power) = unit;
        let text = format!("{n}{suffix}");
        prop_assert_eq!(parse_size(&text).ok(), n.checked_mul(1024u64.pow(power)));
    }

    #[test]
    fn instants_read_back_from_rfc3339_with_any_offset(at in instant(), offset_minutes in -1439i32..=1439) {
        let offset = FixedOffset::east_opt(offset_minutes * 60).expect("offset");
        let local = at.with_timezone(&offset);
        prop_assume!((0..=9999).contains(&chrono::Datelike::year(&local)));
        let text = local.to_rfc3339_opts(SecondsFormat::AutoSi, false);
        prop_assert_eq!(vantage_core::clock::parse_instant(&text), Ok(at));
        prop_assert_eq!(vantage_core::statistics::ingest::parse_time(&text), Ok(at));
        prop_assert_eq!(parse_time(&text), Ok(TimeSpec::At(at)));
        if chrono::Datelike::year(&at) >= 1 {
            prop_assert_eq!(vantage_core::events::parse::parse_time(&text), Ok(at));
        }
    }

    // ------------------------------------------------------------ pcap / pcapng

    #[test]
    fn classic_pcap_reads_back_and_survives_the_merge(
        big_endian in any::<bool>(),
        nanos in any::<bool>(),
        records in prop::collection::vec((any::<u32>(), any::<u32>(), prop::collection::vec(any::<u8>(), 0..80), 0u32..100), 0..12),
    ) {
        let units = if nanos { 1_000_000_000 } else { 1_000_000 };
        let records: Vec<_> = records.into_iter().map(|(s, f, d, e)| (s, f % units, d, e)).collect();
        let dir = tempfile::tempdir().expect("tempdir");
        let (input, merged) = (dir.path().join("in.pcap"), dir.path().join("merged.pcap"));
        std::fs::write(&input, classic_pcap(big_endian, nanos, &records)).expect("write");
        let (packets, end) = read_all(&input);
        prop_assert_eq!(end, Ok(()));
        let want: Vec<_> = records.iter().map(|(s, f, d, e)| {
            let nsecs = if nanos { *f } else { f * 1000 };
            (Some(Timestamp { secs: i64::from(*s), nsecs }), d.len() as u32 + e, d.clone())
        }).collect();
        prop_assert_eq!(&packets, &want);
        if !records.is_empty() {
            merge_files(std::slice::from_ref(&input), &merged).expect("merges");
            let (again, end) = read_all(&merged);
            prop_assert_eq!(end, Ok(()));
            let truncated: Vec<_> = want.into_iter().map(|(ts, o, d)| (ts.map(|t| Timestamp { nsecs: t.nsecs / 1000 * 1000, ..t }), o, d)).collect();
            prop_assert_eq!(again, truncated);
        }
    }

    #[test]
    fn pcapng_reads_back_at_its_resolution(resolution in prop::sample::select(vec![3u8, 6, 9]), records in prop::collection::vec((0u64..(1 << 52), prop::collection::vec(any::<u8>(), 0..80), 0u32..100), 1..8)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("in.pcapng");
        std::fs::write(&input, pcapng(resolution, &records)).expect("write");
        let (packets, end) = read_all(&input);
        prop_assert_eq!(end, Ok(()));
        let per_sec = 10u64.pow(u32::from(resolution));
        let want: Vec<_> = records.iter().map(|(u, d, e)| {
            let ts = Timestamp { secs: (u / per_sec) as i64, nsecs: ((u % per_sec) * (1_000_000_000 / per_sec)) as u32 };
            (Some(ts), d.len() as u32 + e, d.clone())
        }).collect();
        prop_assert_eq!(packets, want);
    }

    #[test]
    fn a_cut_capture_yields_a_prefix_then_an_error_naming_the_file(
        ng in any::<bool>(),
        records in prop::collection::vec((0u32..2_000_000_000, prop::collection::vec(any::<u8>(), 0..60)), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let bytes = if ng {
            pcapng(6, &records.iter().map(|(s, d)| (u64::from(*s) * 1_000_000, d.clone(), 0)).collect::<Vec<_>>())
        } else {
            classic_pcap(false, false, &records.iter().map(|(s, d)| (*s, 0, d.clone(), 0)).collect::<Vec<_>>())
        };
        let cut = cut.index(bytes.len());
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("cut.pcap");
        std::fs::write(&input, &bytes[..cut]).expect("write");
        let (packets, end) = read_all(&input);
        let full = read_all(&{ let p = dir.path().join("full.pcap"); std::fs::write(&p, &bytes).expect("write"); p }).0;
        prop_assert!(packets.len() <= full.len() && packets[..] == full[..packets.len()], "not a prefix");
        if let Err(e) = end {
            prop_assert!(e.contains(&input.display().to_string()), "{e} does not name the file");
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_packet_reader(bytes in prop_oneof![prop::collection::vec(any::<u8>(), 0..200), (any::<bool>(), prop::collection::vec(any::<u8>(), 0..200)).prop_map(|(ng, tail)| {
        let mut head = if ng { pcapng(6, &[]) } else { classic_pcap(false, false, &[]) };
        head.extend(tail);
        head
    })]) {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("any.pcap");
        std::fs::write(&input, &bytes).expect("write");
        let mut reader = match PacketReader::open(&input) {
            Ok(r) => r,
            Err(e) => {
                prop_assert!(e.to_string().contains(&input.display().to_string()), "{e}");
                return Ok(());
            }
        };
        for _ in 0..1000 {
            match reader.next_packet() {
                Ok(Some(p)) => { let _ = vantage_core::packets::decode::decode(&p); }
                Ok(None) => break,
                Err(e) => {
                    prop_assert!(e.to_string().contains(&input.display().to_string()), "{e}");
                    break;
                }
            }
        }
    }

    // ------------------------------------------------------------ DynFW msgpack

    #[test]
    fn dynfw_messages_survive_encode_decode(
        kind in 0u8..3,
        serial in any::<u64>(),
        ips in prop::collection::vec(ip(), 0..20),
        ts in proptest::option::of(any::<i64>()),
        version in proptest::option::of(any::<u32>()),
        positive in any::<bool>(),
        event in "[a-z_]{0,20}|\\PC{0,10}",
    ) {
        let first = ips.first().copied().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let m = match kind {
            0 => Message::List(List { serial, list: ips, ts, version }),
            1 => Message::Delta(Delta { serial, delta: if positive { Sign::Positive } else { Sign::Negative }, ip: first, ts }),
            _ => Message::Event(Event { event, ip: first, ts }),
        };
        let frames = message::encode(&m);
        prop_assert_eq!(message::decode(&frames), Ok(m.clone()));
        // a third frame is ignored; a cut body is refused, naming the topic
        prop_assert_eq!(message::decode(&[frames[0].clone(), frames[1].clone(), b"x".to_vec()]), Ok(m));
        let topic = String::from_utf8(frames[0].clone()).expect("topic");
        for cut in 0..frames[1].len() {
            match message::decode(&[frames[0].clone(), frames[1][..cut].to_vec()]) {
                Err(FrameError::Malformed { topic: t, reason }) => { prop_assert_eq!(&t, &topic); prop_assert!(!reason.is_empty()); }
                other => prop_assert!(false, "a body cut at {cut} of {} gave {other:?}", frames[1].len()),
            }
        }
    }

    #[test]
    fn dynfw_arbitrary_bodies_are_typed_errors(topic in prop_oneof![Just("dynfw/list".to_string()), Just("dynfw/delta".to_string()), Just("dynfw/event".to_string()), "[a-z/]{0,12}"], body in prop::collection::vec(any::<u8>(), 0..64)) {
        match message::decode(&[topic.as_bytes(), &body[..]]) {
            Ok(m) => prop_assert_eq!(message::decode(&message::encode(&m)), Ok(m)),
            Err(FrameError::FrameCount(n)) => prop_assert!(false, "two frames counted as {n}"),
            Err(FrameError::UnknownTopic(t)) => prop_assert_eq!(t, topic),
            Err(FrameError::Malformed { topic: t, .. }) => prop_assert_eq!(t, topic),
        }
    }

    // ------------------------------------------------------------ Sentinel reports

    #[test]
    fn sentinel_reports_read_back_from_json(at in (0i64..4_000_000_000).prop_map(|s| DateTime::from_timestamp(s, 0).expect("t")), raw_count in 1i64..=1_000_000_000, username in "\\PC{0,30}", password in "\\PC{0,30}", port in any::<u16>(), seconds in any::<bool>()) {
        let time = if seconds { json!(at.timestamp()) } else { json!(at.to_rfc3339()) };
        let line = serde_json::to_vec(&json!({"kind": "password", "time": time, "raw_count": raw_count, "username": username, "password": password})).expect("json");
        match parse_json_report(&line) {
            Ok(Report::Password(p)) => prop_assert_eq!((p.time, p.raw_count, p.username, p.password), (at, raw_count, username, password)),
            other => prop_assert!(false, "{other:?}"),
        }
        let line = serde_json::to_vec(&json!({"time": at.to_rfc3339(), "port": port, "protocol": "TCP"})).expect("json");
        match parse_json_report(&line) {
            Ok(Report::Port(p)) => prop_assert_eq!((p.time, p.raw_count, p.port), (at, 1, port)),
            other => prop_assert!(false, "{other:?}"),
        }
    }

    #[test]
    fn sentinel_report_errors_name_the_field(drop in prop::sample::select(vec!["time", "sn", "device_token", "trap", "action", "ip"]), junk in prop::collection::vec(any::<u8>(), 0..40)) {
        let mut incident = json!({"time": "2024-06-15T12:34:56Z", "sn": "A1", "device_token": "tok-a", "trap": "minipot_telnet", "action": "login", "ip": "192.0.2.1"});
        incident.as_object_mut().expect("object").remove(drop);
        let e = parse_json_report(&serde_json::to_vec(&incident).expect("json")).expect_err("a required field is missing");
        prop_assert!(e.contains(&format!("`{drop}`")), "{e}");
        let _ = parse_json_report(&junk);
    }

    // ------------------------------------------------------------ IntelMQ events

    #[test]
    fn intelmq_errors_name_exactly_the_broken_fields(ip in ip(), port in 0u32..=65535, bad_port in 65_536u32..1_000_000, break_port in any::<bool>(), junk in "\\PC{0,30}") {
        let mut event = json!({"time.source": "2024-06-15T12:00:00+00:00", "source.ip": ip.to_string(), "source.port": port, "classification.type": "blacklist", "feed.name": "x"});
        if break_port {
            event["source.port"] = json!(bad_port);
        }
        match parse_line_json(&event) {
            Ok(e) => { prop_assert!(!break_port); prop_assert_eq!(e.values.len(), Field::ALL.len()); }
            Err(errors) => {
                prop_assert!(break_port, "{errors:?}");
                let fields: Vec<Option<&str>> = errors.iter().map(|e| e.field.as_deref()).collect();
                prop_assert_eq!(fields, vec![Some("source.port")]);
            }
        }
        if let Err(errors) = vantage_core::events::parse::parse_line(&junk) {
            prop_assert!(!errors.is_empty());
        }
    }

    // ------------------------------------------------------------ flows

    #[test]
    fn nfdump_csv_reads_back_and_bad_lines_are_numbered(
        flows in prop::collection::vec((instant().prop_filter("nfdump years", |t| chrono::Datelike::year(t) >= 1970), 0u32..10_000_000, ip(), ip(), any::<u16>(), any::<u16>(), prop::sample::select(vec!["TCP", "UDP", "ICMP"]), 0i64..i64::MAX / 2, 0i64..i64::MAX / 2), 0..10),
        bad_at in any::<prop::sample::Index>(),
        junk in "[^\n\r]{0,30}",
    ) {
        let header = "ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out";
        let mut lines: Vec<String> = flows.iter().map(nfdump_line).collect();
        let bad = if lines.is_empty() { None } else { Some(bad_at.index(lines.len())) };
        if let Some(i) = bad {
            lines[i] = format!("x{junk}"); // a start time cannot begin with x
        }
        let text = format!("{header}\n{}\nSummary\nflows,bytes\n1,2\n", lines.join("\n"));
        let read: Vec<_> = FlowReader::new(text.as_bytes()).collect();
        prop_assert_eq!(read.len(), flows.len());
        for (i, (got, want)) in read.iter().zip(&flows).enumerate() {
            if Some(i) == bad {
                let e = got.as_ref().expect_err("the broken line");
                prop_assert_eq!(e.line, i as u64 + 2);
                continue;
            }
            let f = got.as_ref().expect("a valid line");
            let ts = DateTime::from_timestamp_millis(want.0.timestamp_millis()).expect("ms");
            prop_assert_eq!((f.treceived, f.sip, f.dip, f.sport, f.dport, f.proto.as_str(), f.ipkt, f.ibyt), (ts, want.2, want.3, want.4, want.5, want.6, want.7, want.8));
            prop_assert!((f.tdur - f64::from(want.1) / 1000.0).abs() < 1e-9);
        }
    }

    #[test]
    fn flow_reader_never_panics_and_numbers_lines_in_order(lines in prop::collection::vec(prop_oneof![
        Just("#separator \\x09".to_string()),
        Just("#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tduration\torig_pkts".to_string()),
        Just("ts,sa,da,sp,dp,pr,ipkt".to_string()),
        "[0-9.,\t:a-f-]{0,40}",
        "\\{\"ts\":[0-9.]{1,12},\"id.orig_h\":\"[0-9.]{1,15}\",\"id.resp_h\":\"10.0.0.1\"\\}",
        any::<String>().prop_map(|s| s.replace(['\n', '\r'], "")),
    ], 0..12)) {
        let text = lines.join("\n");
        let mut previous = 0;
        for item in FlowReader::new(text.as_bytes()) {
            if let Err(e) = item {
                prop_assert!(e.line > previous && e.line as usize <= lines.len(), "line {} after {previous} of {}", e.line, lines.len());
                prop_assert!(!lines[e.line as usize - 1].trim().is_empty(), "a blank line is rejected");
                previous = e.line;
            }
        }
    }

    // ------------------------------------------------------------ password lists

    #[test]
    fn hibp_lists_read_back_merged(entries in prop::collection::vec(("[0-9a-f]{40}", 1i64..1_000_000, any::<bool>()), 0..20), crlf in any::<bool>()) {
        let text: String = entries.iter().map(|(h, c, upper)| format!("{}:{c}{}", if *upper { h.to_ascii_uppercase() } else { h.clone() }, if crlf { "\r\n" } else { "\n" })).collect();
        let parsed = parse_passwords(text.as_bytes(), Format::Hibp, None, &NoProgress).expect("parses");
        prop_assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        prop_assert_eq!(parsed.lines, entries.len());
        let mut want: BTreeMap<String, i64> = BTreeMap::new();
        for (h, c, _) in &entries {
            *want.entry(h.clone()).or_default() += c;
        }
        let got: BTreeMap<String, i64> = parsed.rows.iter().map(|r| (r.hash.clone(), r.count)).collect();
        prop_assert_eq!(got.len(), parsed.rows.len(), "a hash is listed twice");
        prop_assert_eq!(got, want);
    }

    #[test]
    fn password_list_errors_name_their_lines(lines in prop::collection::vec(prop_oneof![
        "[a-zA-Z0-9]{1,12}",
        "[a-z]{1,8}\t[0-9-]{1,4}",
        "[0-9a-fA-F]{40}:[0-9]{0,3}",
        "[a-z]{1,4}\t[a-z]{1,4}",
        Just("x".repeat(1025)),
        any::<String>().prop_map(|s| s.replace('\n', "")),
    ], 0..20), format in prop::sample::select(vec![Format::Plain, Format::Hibp])) {
        let text = lines.join("\n");
        let parsed = parse_passwords(text.as_bytes(), format, None, &NoProgress).expect("parses");
        let mut previous = 0;
        for e in &parsed.errors {
            prop_assert!(e.line > previous && e.line <= lines.len(), "line {} of {}", e.line, lines.len());
            let line = lines[e.line - 1].trim_end_matches('\r');
            prop_assert!(!line.is_empty(), "an empty line is an error");
            if format == Format::Plain && line.len() > 1024 && !line.contains('\t') {
                prop_assert!(e.reason.contains("longer than"), "{}", e.reason);
            }
            previous = e.line;
        }
        for r in &parsed.rows {
            prop_assert!(r.count >= 1 && r.hash.len() == 40);
        }
    }

    // ------------------------------------------------------------ vantage.toml

    #[test]
    fn config_errors_give_the_line_and_column(good in prop::sample::subsequence(vec!["now = \"2024-06-15T12:40:00Z\"", "# a comment", "", "data_dir = \"/tmp/x\"", "[pcap]\ntime_window = 60"], 0..=5), indent in 0usize..4, typo in "[a-z]{3,8}_[a-z]{2,6}") {
        prop_assume!(!["database_url", "redis_url", "data_dir", "geoip_dir"].contains(&typo.as_str()));
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("vantage.toml");
        // the unknown key goes before any table so that it is a top-level key
        let text = format!("{}{typo} = 1\n{}\n", " ".repeat(indent), good.join("\n"));
        std::fs::write(&path, &text).expect("write");
        let overrides = Overrides { config_file: Some(path.clone()), data_dir: Some(dir.path().to_path_buf()), ..Overrides::default() };
        let result = Config::load(overrides).and_then(|c| c.check_keys(vantage_core::deployment::SECTIONS));
        let e = result.expect_err("unknown key").to_string();
        prop_assert!(e.contains(&format!("{}:1:{}: unknown field `{typo}`", path.display(), indent + 1)), "{e}");
    }
}

fn parse_line_json(value: &serde_json::Value) -> Result<vantage_core::events::model::Event, Vec<vantage_core::events::parse::FieldError>> {
    vantage_core::events::parse::parse_line(&value.to_string())
}

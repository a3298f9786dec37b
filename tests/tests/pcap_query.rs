//! Docket requests and Stenographer queries (pcap.md, "Requests" and "Query language"), with
//! the clock pinned at 2024-06-15T12:40:30Z and TIME_WINDOW 60 s, so qt = 12:40:00 and the
//! default window is 2024-06-14T12:38:00Z .. 2024-06-15T12:43:00Z (24 h back, +60 s, ±120 s).

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use serde_json::json;
use vantage_core::pcap::request::{Clauses, Request, RequestError, RequestSettings, Weights, query_id};
use vantage_core::pcap::steno::{self, Expr, Time};
use vantage_tests::t;

const NOW: &str = "2024-06-15T12:40:30Z";
const DEFAULT_WINDOW: &str = "after 2024-06-14T12:38:00Z and before 2024-06-15T12:43:00Z";

fn build(clauses: &Clauses) -> Result<Request, RequestError> {
    clauses.build(&RequestSettings::default(), t(NOW))
}

fn uri(path: &str) -> Request {
    build(&Clauses::from_uri(path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn uri_err(path: &str) -> String {
    match Clauses::from_uri(path).and_then(|c| build(&c)) {
        Ok(r) => panic!("{path} should be rejected, got {}", r.query),
        Err(e) => {
            assert_eq!(e.status, 400, "{path}");
            e.message
        }
    }
}

fn form(pairs: &[(&str, &str)]) -> Result<Request, RequestError> {
    Clauses::from_form(pairs.iter().copied()).and_then(|c| build(&c))
}

fn json(body: serde_json::Value) -> Result<Request, RequestError> {
    Clauses::from_json(&body).and_then(|c| build(&c))
}

/// The query's time clauses.
fn window(request: &Request) -> String {
    let at = request.query.find("after ").expect("after clause");
    request.query[at..].to_string()
}

#[test]
fn defaults_and_the_documented_example() {
    let r = uri("host/1.2.3.4/port/80");
    assert_eq!(r.query, format!("host 1.2.3.4 and port 80 and {DEFAULT_WINDOW}"));
    // python3 -c 'import hashlib; print(hashlib.md5(b"host 1.2.3.4 and port 80 and after 2024-06-14T12:38:00Z and before 2024-06-15T12:43:00Z").hexdigest())'
    assert_eq!(r.id, "76f3fb285fbb81c22b2e3f41fac32cbe");
    assert_eq!((r.start, r.end), (t("2024-06-14T12:38:00Z"), t("2024-06-15T12:43:00Z")));
    assert_eq!((r.limit_packets, r.limit_bytes, r.sensors.len(), r.ignore_weight), (None, None, 0, false));

    // the default window alone (a clause-less `/api/uri/` is refused, see uri_errors)
    let empty = build(&Clauses::default()).expect("the default window");
    assert_eq!(empty.query, DEFAULT_WINDOW);
    assert_eq!(empty.id, "2d150be91f3cfa7191d21b811f5dbdf9");
    assert_eq!(query_id(DEFAULT_WINDOW), "2d150be91f3cfa7191d21b811f5dbdf9");

    // Anywhere in the same minute gives the same window, hence the same id.
    for now in ["2024-06-15T12:40:00Z", "2024-06-15T12:40:59.999Z"] {
        assert_eq!(Clauses::from_uri("host/1.2.3.4/port/80").and_then(|c| c.build(&RequestSettings::default(), t(now))), Ok(r.clone()));
    }
    let next_minute = Clauses::from_uri("host/1.2.3.4/port/80").and_then(|c| c.build(&RequestSettings::default(), t("2024-06-15T12:41:00Z")));
    assert_ne!(next_minute.expect("valid").id, r.id);
}

#[test]
fn each_clause_kind() {
    for (path, clauses) in [
        ("host/1.2.3.4", "host 1.2.3.4"),
        ("host/2001:DB8::1", "host 2001:db8::1"),
        ("host/::ffff:10.1.2.3", "host 10.1.2.3"),
        ("net/10.0.0.0/8", "net 10.0.0.0/8"),
        ("net/10.1.0.0/255.255.0.0", "net 10.1.0.0 mask 255.255.0.0"),
        ("net/2001:db8::/32", "net 2001:db8::/32"),
        ("port/443", "port 443"),
        ("proto/47", "ip proto 47"),
        ("tcp", "tcp"),
        ("udp", "udp"),
        ("icmp", "icmp"),
        ("tcp/icmp/udp", "udp"),
        ("proto/6/tcp", "ip proto 6 and tcp"),
    ] {
        assert_eq!(uri(path).query, format!("{clauses} and {DEFAULT_WINDOW}"), "{path}");
    }
    let r = uri("ignore-weight/host/1.2.3.4");
    assert!(r.ignore_weight);
    assert_eq!(r.query, format!("host 1.2.3.4 and {DEFAULT_WINDOW}"));
}

#[test]
fn order_sorting_and_repeats() {
    let expected = format!(
        "host 10.0.0.10 and host 10.0.0.2 and host 9.9.9.9 and host ::1 and net 10.0.0.0/8 and net 192.168.0.0 mask 255.255.0.0 \
         and port 22 and port 80 and port 443 and port 8080 and ip proto 6 and tcp and {DEFAULT_WINDOW}"
    );
    let path = "tcp/port/8080/proto/6/host/9.9.9.9/net/192.168.0.0/255.255.0.0/port/80/host/::1/port/443/host/10.0.0.2/net/10.0.0.0/8/port/22/host/10.0.0.10";
    assert_eq!(uri(path).query, expected);
    // Numeric port order in the POST form too (Docket sorted them as text there), and the same id.
    let pairs = [
        ("port", "8080"),
        ("port", "80"),
        ("port", "443"),
        ("port", "22"),
        ("host", "10.0.0.10"),
        ("host", "::1"),
        ("host", "10.0.0.2"),
        ("host", "9.9.9.9"),
        ("net", "10.0.0.0/8"),
        ("net", "192.168.0.0 mask 255.255.0.0"),
        ("proto", "6"),
        ("proto-name", "TCP"),
    ];
    let posted = form(&pairs).expect("valid form");
    assert_eq!((posted.query.as_str(), posted.id.as_str()), (expected.as_str(), uri(path).id.as_str()));
    let body = json!({"port": [8080, "80", 443, 22], "host": ["10.0.0.10", "::1", "10.0.0.2", "9.9.9.9"],
        "net": ["192.168.0.0/255.255.0.0", "10.0.0.0/8"], "proto": 6, "proto-name": "tcp"});
    assert_eq!(json(body).expect("valid json").query, expected);

    // Equal clauses are emitted once; v4-mapped and plain IPv4 are equal.
    assert_eq!(uri("host/1.2.3.4/host/::ffff:1.2.3.4/port/80/port/080").query, format!("host 1.2.3.4 and port 80 and {DEFAULT_WINDOW}"));
}

#[test]
fn time_forms() {
    for (path, times) in [
        // after D: start = win(qt - D) - 120 s.
        ("after/5m", "after 2024-06-15T12:33:00Z and before 2024-06-15T12:43:00Z"),
        ("after/1h30m", "after 2024-06-15T11:08:00Z and before 2024-06-15T12:43:00Z"),
        ("after/3.5h", "after 2024-06-15T09:08:00Z and before 2024-06-15T12:43:00Z"),
        ("after/2h ago", "after 2024-06-15T10:38:00Z and before 2024-06-15T12:43:00Z"),
        ("after/2h/ago", "after 2024-06-15T10:38:00Z and before 2024-06-15T12:43:00Z"),
        ("after/90", "after 2024-06-15T12:36:00Z and before 2024-06-15T12:43:00Z"),
        ("after/30s", "after 2024-06-15T12:37:00Z and before 2024-06-15T12:43:00Z"),
        // ms = milliseconds (Docket read minutes): 12:40:00 - 1.5 s floors to 12:39.
        ("after/1500ms", "after 2024-06-15T12:37:00Z and before 2024-06-15T12:43:00Z"),
        ("after/1500000us", "after 2024-06-15T12:37:00Z and before 2024-06-15T12:43:00Z"),
        ("after/1d", "after 2024-06-14T12:38:00Z and before 2024-06-15T12:43:00Z"),
        ("after/1w", "after 2024-06-08T12:38:00Z and before 2024-06-15T12:43:00Z"),
        // before D: end = win(qt - D) + TW + 120 s.
        ("before/10m", "after 2024-06-14T12:38:00Z and before 2024-06-15T12:33:00Z"),
        // after T: start = win(T); offsets are converted to UTC.
        ("after/2024-06-15T10:00:30+02:00", "after 2024-06-15T07:58:00Z and before 2024-06-15T12:43:00Z"),
        ("after/2024-06-15T08:00:30Z", "after 2024-06-15T07:58:00Z and before 2024-06-15T12:43:00Z"),
        ("after/2024-06-15 03:00:30-05:00", "after 2024-06-15T07:58:00Z and before 2024-06-15T12:43:00Z"),
        ("after/2024-06-15T08:00", "after 2024-06-15T07:58:00Z and before 2024-06-15T12:43:00Z"),
        // before T: end = win(T) + TW; a date is midnight UTC.
        ("before/2024-06-15", "after 2024-06-14T12:38:00Z and before 2024-06-15T00:03:00Z"),
        ("after/2024-06-14/before/2024-06-14T23:59:59.9Z", "after 2024-06-13T23:58:00Z and before 2024-06-15T00:02:00Z"),
        // The last value wins.
        ("after/5m/after/10m", "after 2024-06-15T12:28:00Z and before 2024-06-15T12:43:00Z"),
    ] {
        assert_eq!(window(&uri(path)), times, "{path}");
    }
}

#[test]
fn form_time_fields() {
    let times = |pairs: &[(&str, &str)]| window(&form(pairs).unwrap_or_else(|e| panic!("{pairs:?}: {e}")));
    // before-ago D: end = win(qt - D), without the extra window that `before D` adds.
    assert_eq!(times(&[("before-ago", "10m")]), "after 2024-06-14T12:38:00Z and before 2024-06-15T12:32:00Z");
    assert_eq!(times(&[("before", "10m")]), "after 2024-06-14T12:38:00Z and before 2024-06-15T12:33:00Z");
    assert_eq!(times(&[("after-ago", "5m")]), times(&[("after", "5m")]));
    assert_eq!(times(&[("after-ago", "5m ago")]), times(&[("after", "5m ago")]));
    // `after` beats `after-ago` and `before` beats `before-ago`, whatever the order (as in Docket).
    assert_eq!(times(&[("after", "5m"), ("after-ago", "1h")]), "after 2024-06-15T12:33:00Z and before 2024-06-15T12:43:00Z");
    assert_eq!(times(&[("before", "2024-06-15T12:00:00Z"), ("before-ago", "1h")]), "after 2024-06-14T12:38:00Z and before 2024-06-15T12:03:00Z");
}

#[test]
fn time_window_and_long_ago_settings() {
    let settings = RequestSettings { time_window: 300, long_ago: std::time::Duration::from_secs(3600), weight: None };
    let r = Clauses::from_uri("host/1.2.3.4").and_then(|c| c.build(&settings, t(NOW))).expect("valid");
    // qt = 12:40 (a multiple of 5 min); start = qt - 1 h; end = qt + 60 s.
    assert_eq!(window(&r), "after 2024-06-15T11:38:00Z and before 2024-06-15T12:43:00Z");
    let r = Clauses::from_uri("after/7m/before/2m").and_then(|c| c.build(&settings, t(NOW))).expect("valid");
    // start = win(12:33) = 12:30; end = win(12:38) + 5 min = 12:40.
    assert_eq!(window(&r), "after 2024-06-15T12:28:00Z and before 2024-06-15T12:42:00Z");
}

#[test]
fn form_and_json_fields() {
    let r = form(&[
        ("host", "1.2.3.4"),
        ("Steno-Limit-Packets", "1000"),
        ("steno-limit-bytes", "1048576"),
        ("sensor", "alpha"),
        ("sensor", "beta"),
        ("sensor", "alpha"),
        ("ignore-weight", "true"),
        ("port", ""),
    ])
    .expect("valid");
    assert_eq!(r.query, format!("host 1.2.3.4 and {DEFAULT_WINDOW}"));
    assert_eq!(
        (r.limit_packets, r.limit_bytes, r.sensors.clone(), r.ignore_weight),
        (Some(1000), Some(1_048_576), vec!["alpha".to_string(), "beta".to_string()], true)
    );

    let j = json(json!({"host": "1.2.3.4", "Steno-Limit-Packets": 1000, "steno-limit-bytes": "1048576",
        "sensor": ["alpha", "beta"], "ignore-weight": true, "port": null, "net": []}))
    .expect("valid");
    assert_eq!(j, r);
    assert!(!json(json!({"host": "1.2.3.4", "ignore-weight": "no"})).expect("valid").ignore_weight);

    // Headers go through `apply`, like fields; field names are case-insensitive.
    let mut clauses = Clauses::from_form([("HOST", "1.2.3.4")]).expect("valid");
    clauses.apply("steno-limit-packets", "5").expect("header");
    assert_eq!(build(&clauses).expect("valid").limit_packets, Some(5));
}

#[test]
fn weight_rejection_and_ignore_weight() {
    // 1 TiB per 24 h, threshold 1 GiB.
    let settings = RequestSettings { weight: Some(Weights::new(1 << 40, 1 << 30, 24.0)), ..RequestSettings::default() };
    let request = |path: &str| Clauses::from_uri(path).and_then(|c| c.build(&settings, t(NOW)));
    // No selector, default window (86,460 s unpadded): w = 2^40 × 86460 / 86400, rounded up.
    assert_eq!(Clauses::default().build(&settings, t(NOW)).expect_err("too heavy").message, "Request parameters exceed weight: 1100275177518/1073741824");
    // Two hosts, one net, three ports: divisor 2×50 + 2 + 3×100 = 402.
    let heavy = "host/1.1.1.1/host/2.2.2.2/net/10.0.0.0/8/port/1/port/2/port/3";
    assert_eq!(request(heavy).expect_err("too heavy").message, "Request parameters exceed weight: 2737002930/1073741824");
    assert!(request(&format!("{heavy}/ignore-weight")).expect("ignored").ignore_weight);
    // One host and one port over 1 h (3,660 s): w ≈ 310,510,228 < 1 GiB.
    assert!(request("host/1.2.3.4/port/80/after/1h").is_ok());
    // Only `w > threshold` is rejected: a threshold equal to w passes.
    let exact = RequestSettings { weight: Some(Weights::new(86_400, 86_460, 24.0)), ..RequestSettings::default() };
    assert!(Clauses::default().build(&exact, t(NOW)).is_ok());
    let json_ignore = Clauses::from_json(&json!({"ignore-weight": "1"})).expect("valid");
    assert!(json_ignore.build(&settings, t(NOW)).is_ok());
}

#[test]
fn uri_errors() {
    for (path, message) in [
        ("hosts/1.2.3.4", "Unrecognized clause in URI: hosts"),
        ("host/1.2.3.4/ago", "Unrecognized clause in URI: ago"),
        ("host", "Incomplete HOST clause"),
        ("Host//", "Incomplete HOST clause"),
        ("net", "Incomplete NET clause"),
        ("net/10.0.0.0", "Incomplete NET clause"),
        ("port", "Incomplete PORT clause"),
        ("proto", "Incomplete PROTO clause"),
        ("before", "Incomplete BEFORE clause"),
        ("tcp/after", "Incomplete AFTER clause"),
        ("host/1.2.3", "host: `1.2.3` is not an IPv4 or IPv6 address"),
        ("host/example.com", "host: `example.com` is not an IPv4 or IPv6 address"),
        ("port/0", "port: `0` is not a port number 1-65535"),
        ("port/65536", "port: `65536` is not a port number 1-65535"),
        ("port/http", "port: `http` is not a port number 1-65535"),
        ("proto/0", "proto: `0` is not a protocol number 1-255"),
        ("proto/256", "proto: `256` is not a protocol number 1-255"),
        ("net/10.0.0.0/33", "net: `10.0.0.0/33` is not a network (prefix length must be 0-32); use ADDR/LEN, ADDR/MASK or ADDR MASK"),
        (
            "net/10.0.0.0/255.0.255.0",
            "net: `10.0.0.0/255.0.255.0` is not a network (`255.0.255.0` is not a contiguous mask); use ADDR/LEN, ADDR/MASK or ADDR MASK",
        ),
        (
            "net/2001:db8::/255.255.0.0",
            "net: `2001:db8::/255.255.0.0` is not a network (a dotted mask needs an IPv4 address and an IPv4 mask); use ADDR/LEN, ADDR/MASK or ADDR MASK",
        ),
        (
            "after/yesterday",
            "after: `yesterday` is neither a duration (e.g. 5m, 1h30m, 2h ago, 3.5h) nor an ISO-8601 time (e.g. 2024-06-15T12:40:00Z) or date (2024-06-15)",
        ),
        (
            "before/5x",
            "before: `5x` is neither a duration (e.g. 5m, 1h30m, 2h ago, 3.5h) nor an ISO-8601 time (e.g. 2024-06-15T12:40:00Z) or date (2024-06-15)",
        ),
        ("before/5x/ago", "before: `5x` is not a duration (unknown unit `x`: use us, ms, s, m, h, d or w); examples: 5m, 1h30m, 3.5h, 500ms, 90 (seconds)"),
        ("after/5m/before/10m", "Empty time window: start 2024-06-15T12:35:00Z is not before end 2024-06-15T12:31:00Z"),
        ("after/2024-06-16", "Empty time window: start 2024-06-16T00:00:00Z is not before end 2024-06-15T12:41:00Z"),
        ("after/300000000w", OUT_OF_RANGE),
        // the padded window must stay within RFC 3339's four-digit years
        ("before/9999-12-31T23:59:59Z", OUT_OF_RANGE),
        ("after/9999-12-31T23:50:00Z/before/9999-12-31T23:57:59Z", OUT_OF_RANGE),
        ("after/0000-01-01T00:00:00Z", OUT_OF_RANGE),
        ("after/0000-01-01T00:01:59Z/before/0000-01-01T00:30:00Z", OUT_OF_RANGE),
        ("", "Empty request: give at least one clause (host, net, port, proto, tcp, udp, icmp, before, after, ...)"),
        ("//", "Empty request: give at least one clause (host, net, port, proto, tcp, udp, icmp, before, after, ...)"),
    ] {
        assert_eq!(uri_err(path), message, "{path}");
    }
    // An equal start and end is empty too: after 5m (12:35) and before-ago 5m (12:35).
    assert_eq!(
        form(&[("after", "5m"), ("before-ago", "5m")]).expect_err("empty").message,
        "Empty time window: start 2024-06-15T12:35:00Z is not before end 2024-06-15T12:35:00Z"
    );
}

const OUT_OF_RANGE: &str =
    "The requested time window is outside the representable range of dates (0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z, including 120 s of padding)";

/// The last windows that still fit the calendar build queries the query parser accepts.
#[test]
fn windows_at_the_ends_of_the_calendar_are_valid_queries() {
    for (path, window) in [
        ("after/9999-12-31T23:50:00Z/before/9999-12-31T23:56:59Z", "after 9999-12-31T23:48:00Z and before 9999-12-31T23:59:00Z"),
        ("after/0000-01-01T00:02:00Z/before/0000-01-01T00:30:00Z", "after 0000-01-01T00:00:00Z and before 0000-01-01T00:33:00Z"),
    ] {
        let r = uri(path);
        assert_eq!(r.query, window, "{path}");
        steno::parse(&r.query).unwrap_or_else(|e| panic!("{path}: {} is refused by the parser: {e}", r.query));
    }
}

#[test]
fn form_and_json_errors() {
    for (result, message) in [
        (form(&[]), "Empty request: give at least one field (host, net, port, proto, before, after, ...)"),
        (form(&[("host", " "), ("port", "")]), "Empty request: give at least one field (host, net, port, proto, before, after, ...)"),
        (json(json!({})), "Empty request: give at least one field (host, net, port, proto, before, after, ...)"),
        (form(&[("host", "1.2.3.4"), ("hostname", "x")]), "Unknown field: hostname"),
        (json(json!({"host": "1.2.3.4", "sensors": null})), "Unknown field: sensors"),
        (json(json!(["host", "1.2.3.4"])), "Request body must be a JSON object"),
        (json(json!({"host": {"ip": "1.2.3.4"}})), "host: expected a string, number, boolean or a list of them"),
        (json(json!({"port": [[80]]})), "port: expected a string, number, boolean or a list of them"),
        (json(json!({"port": 80.5})), "port: `80.5` is not a port number 1-65535"),
        (json(json!({"host": true})), "host: `true` is not an IPv4 or IPv6 address"),
        (form(&[("proto-name", "sctp")]), "proto-name: `sctp` is not tcp, udp or icmp"),
        (form(&[("ignore-weight", "maybe")]), "ignore-weight: `maybe` is not true or false"),
        (form(&[("Steno-Limit-Packets", "0")]), "Steno-Limit-Packets: `0` is not a positive integer"),
        (form(&[("Steno-Limit-Bytes", "1MB")]), "Steno-Limit-Bytes: `1MB` is not a positive integer"),
        (
            form(&[("after-ago", "2024-06-15")]),
            "after-ago: `2024-06-15` is not a duration (`2024` needs a unit: us, ms, s, m, h, d or w); examples: 5m, 1h30m, 3.5h, 500ms, 90 (seconds)",
        ),
        (form(&[("before-ago", "")]), "Empty request: give at least one field (host, net, port, proto, before, after, ...)"),
    ] {
        assert_eq!(result.map(|r| r.query).expect_err(message).message, message);
    }
}

#[test]
fn empty_segments_and_case_insensitive_keywords() {
    let expected = format!("host 1.2.3.4 and port 80 and tcp and {}", window(&uri("after/5m")));
    for path in [
        "//host//1.2.3.4///port/80/tcp/after/5m/",
        "HOST/1.2.3.4/Port/80/TCP/After/5M/IGNORE-WEIGHT",
        "host/1.2.3.4/port/80/tcp/after/5m/AGO",
        "/ host / 1.2.3.4 /port/80/tcp/after/5m",
    ] {
        assert_eq!(uri(path).query, expected, "{path}");
    }
}

#[test]
fn built_queries_are_valid_stenographer_queries() {
    let r = uri("host/::1/net/10.0.0.0/255.0.0.0/net/2001:db8::/48/port/53/proto/17/udp/after/2024-06-15T08:00:00.5Z");
    let expr = steno::parse(&r.query).expect("Stenographer accepts the built query");
    assert_eq!(steno::parse(&expr.to_string()), Ok(expr));
}

#[test]
fn stenographer_queries_accepted() {
    for (query, canonical) in [
        ("host 1.2.3.4", "host 1.2.3.4"),
        ("host ::ffff:1.2.3.4", "host 1.2.3.4"),
        ("host fe80::1", "host fe80::1"),
        ("net 1.2.3.4/8", "net 1.2.3.4/8"),
        ("net 1.2.3.4 mask 255.255.254.0", "net 1.2.3.4/23"),
        ("net ::ffff:10.0.0.0/8", "net 10.0.0.0/8"),
        ("net 2001:db8::/128 and net 0.0.0.0/0", "net 2001:db8::/128 and net 0.0.0.0/0"),
        ("port 0 or port 65535", "port 0 or port 65535"),
        ("ip proto 0 || ip proto 255", "ip proto 0 or ip proto 255"),
        ("vlan 0 && mpls 0", "vlan 0 and mpls 0"),
        ("(port 80 or (host 1.2.3.4 and ip proto 6) or port 7)", "port 80 or (host 1.2.3.4 and ip proto 6) or port 7"),
        ("udp and port 514 or tcp and port 80", "udp and port 514 or tcp and port 80"),
        ("(udp && port 514) or (tcp and port 80)", "udp and port 514 or (tcp and port 80)"),
        ("after 2h ago and before 30m ago", "after 2h ago and before 30m ago"),
        ("after 2024-06-15T12:00:00-02:00", "after 2024-06-15T14:00:00Z"),
        ("  tcp\tand\n(icmp)  ", "tcp and icmp"),
    ] {
        let expr = steno::parse(query).unwrap_or_else(|e| panic!("{query}: {e}"));
        assert_eq!(expr.to_string(), canonical, "{query}");
        assert_eq!(steno::parse(canonical), Ok(expr), "{canonical}");
    }
}

#[test]
fn stenographer_precedence_is_equal_and_left_associative() {
    let p = |q: &str| steno::parse(q).expect(q);
    assert_eq!(p("tcp or udp and port 53"), p("(tcp or udp) and port 53"));
    assert_ne!(p("tcp or udp and port 53"), p("tcp or (udp and port 53)"));
    assert_eq!(p("tcp and udp or port 53"), p("(tcp and udp) or port 53"));
    let Expr::And(left, right) = p("tcp or udp and port 53") else { panic!("and at the top") };
    assert_eq!((*left, *right), (Expr::Or(Box::new(Expr::Tcp), Box::new(Expr::Udp)), Expr::Port(53)));
    assert_eq!(p("host ::ffff:1.2.3.4"), Expr::Host(IpAddr::from([1, 2, 3, 4])));
    assert_eq!(p("after 90m ago"), Expr::After(Time::MinutesAgo(90)));
}

#[test]
fn stenographer_queries_rejected() {
    for (query, position, expected, found) in [
        ("", 0, "a primitive (host, net, port, ip proto, tcp, udp, icmp, vlan, mpls, before, after) or `(`", "end of query"),
        ("host 1.2.3", 5, "an IPv4 or IPv6 address", "`1.2.3`"),
        ("host", 4, "an IPv4 or IPv6 address", "end of query"),
        ("net 1.2.3.4/44", 12, "a prefix length 0-32", "`44`"),
        ("net 2001:db8::/129", 15, "a prefix length 0-128", "`129`"),
        ("net ::ffff:10.0.0.0/104", 20, "a prefix length 0-32", "`104`"),
        ("net 1.2.3.4 mask 255.0.255.0", 17, "a contiguous IPv4 mask such as 255.255.255.0", "`255.0.255.0`"),
        ("net 1.2.3.4 mask 24", 17, "a contiguous IPv4 mask such as 255.255.255.0", "`24`"),
        ("net 1.2.3.4 mask ffff::", 17, "a contiguous IPv4 mask such as 255.255.255.0", "`ffff::`"),
        ("net 2001:db8:: mask 255.0.0.0", 4, "IP/N (the `mask` form is IPv4 only)", "`2001:db8::`"),
        ("net 1.2.3.4", 11, "`mask`", "end of query"),
        ("net 1.2.3.4 / 24", 12, "`mask`", "`/`"),
        ("port 8 and port 77777", 16, "a port number 0-65535", "`77777`"),
        ("port 77777 and port 8", 5, "a port number 0-65535", "`77777`"),
        ("port -1", 5, "a port number 0-65535", "`-1`"),
        ("ip proto 256", 9, "a protocol number 0-255", "`256`"),
        ("ip 6", 3, "`proto`", "`6`"),
        ("protocol 6", 0, "a primitive (host, net, port, ip proto, tcp, udp, icmp, vlan, mpls, before, after) or `(`", "`protocol`"),
        ("vlan 4096", 5, "a VLAN id 0-4095", "`4096`"),
        ("mpls 1048576", 5, "an MPLS label 0-1048575", "`1048576`"),
        ("tcp and", 7, "a primitive (host, net, port, ip proto, tcp, udp, icmp, vlan, mpls, before, after) or `(`", "end of query"),
        ("tcp or or udp", 7, "a primitive (host, net, port, ip proto, tcp, udp, icmp, vlan, mpls, before, after) or `(`", "`or`"),
        ("and tcp", 0, "a primitive (host, net, port, ip proto, tcp, udp, icmp, vlan, mpls, before, after) or `(`", "`and`"),
        ("tcp udp", 4, "`and`, `or`, `&&`, `||` or end of query", "`udp`"),
        ("(tcp or udp", 11, "`and`, `or`, `&&`, `||` or `)`", "end of query"),
        ("tcp or udp)", 10, "`and`, `or`, `&&`, `||` or end of query", "`)`"),
        ("()", 1, "a primitive (host, net, port, ip proto, tcp, udp, icmp, vlan, mpls, before, after) or `(`", "`)`"),
        ("tcp | udp", 4, "`||`", "`|`"),
        ("TCP", 0, "a primitive (host, net, port, ip proto, tcp, udp, icmp, vlan, mpls, before, after) or `(`", "`TCP`"),
        ("after 2h", 8, "`ago`", "end of query"),
        ("after 1h30m ago", 6, "an RFC 3339 time (2024-06-15T12:40:00Z) or `<int>h ago` / `<int>m ago`", "`1h30m`"),
        ("after 1.5h ago", 6, "an RFC 3339 time (2024-06-15T12:40:00Z) or `<int>h ago` / `<int>m ago`", "`1.5h`"),
        ("before 2024-06-15", 7, "an RFC 3339 time (2024-06-15T12:40:00Z) or `<int>h ago` / `<int>m ago`", "`2024-06-15`"),
        ("before 2024-06-15t12:40:00z", 7, "an RFC 3339 time (2024-06-15T12:40:00Z) or `<int>h ago` / `<int>m ago`", "`2024-06-15t12:40:00z`"),
        ("before 2016-12-31T23:59:60Z", 7, "an RFC 3339 time (2024-06-15T12:40:00Z) or `<int>h ago` / `<int>m ago`", "`2016-12-31T23:59:60Z`"),
        ("after 153722868m ago", 6, "at most 2562047h or 153722867m", "`153722868m`"),
    ] {
        let e = steno::parse(query).expect_err(query);
        assert_eq!((e.position, e.expected.as_str(), e.found.as_str()), (position, expected, found), "{query}");
    }
    assert_eq!(
        RequestError::from(steno::parse("tcp and").expect_err("trailing")).message,
        "Invalid Stenographer query: at byte 7: expected a primitive (host, net, port, ip proto, tcp, udp, icmp, vlan, mpls, before, after) or `(`, found end of query"
    );
}

fn primitive() -> impl Strategy<Value = Expr> {
    let v6 = || {
        any::<[u16; 8]>().prop_map(|mut s| {
            s[0] |= 1; // never IPv4-mapped, which would be an IPv4 address
            IpAddr::from(s)
        })
    };
    let time = prop_oneof![
        (0i64..253_402_300_800, 0u32..1_000_000_000).prop_map(|(s, n)| Time::At(DateTime::<Utc>::from_timestamp(s, n).expect("year 1970-9999"))),
        (0u64..=153_722_867).prop_map(Time::MinutesAgo),
    ];
    prop_oneof![
        any::<[u8; 4]>().prop_map(|o| Expr::Host(IpAddr::from(o))),
        v6().prop_map(Expr::Host),
        (any::<[u8; 4]>(), 0u8..=32).prop_map(|(o, prefix)| Expr::Net { addr: IpAddr::from(o), prefix }),
        (v6(), 0u8..=128).prop_map(|(addr, prefix)| Expr::Net { addr, prefix }),
        any::<u16>().prop_map(Expr::Port),
        any::<u8>().prop_map(Expr::Proto),
        Just(Expr::Tcp),
        Just(Expr::Udp),
        Just(Expr::Icmp),
        (0u16..=4095).prop_map(Expr::Vlan),
        (0u32..=1_048_575).prop_map(Expr::Mpls),
        time.clone().prop_map(Expr::Before),
        time.prop_map(Expr::After),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    primitive().prop_recursive(5, 40, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner).prop_map(|(a, b)| Expr::Or(Box::new(a), Box::new(b))),
        ]
    })
}

/// Queries made of the language's own words, mostly near-valid.
fn token_soup() -> impl Strategy<Value = String> {
    let words = vec![
        "host",
        "1.2.3.4",
        "::ffff:1.2.3.4",
        "fe80::1",
        "(",
        ")",
        "and",
        "or",
        "&&",
        "||",
        "&",
        "net",
        "10.0.0.0/8",
        "mask",
        "255.0.0.0",
        "port",
        "80",
        "70000",
        "ip",
        "proto",
        "tcp",
        "udp",
        "icmp",
        "vlan",
        "mpls",
        "before",
        "after",
        "2h",
        "5m",
        "ago",
        "2024-06-15T12:40:00Z",
    ];
    prop::collection::vec(prop::sample::select(words), 0..14).prop_map(|w| w.join(" "))
}

proptest! {
    #[test]
    fn display_reparses_to_the_same_expr(e in expr()) {
        prop_assert_eq!(steno::parse(&e.to_string()), Ok(e));
    }

    #[test]
    fn parsing_never_panics_and_is_idempotent(text in prop_oneof![token_soup(), any::<String>()]) {
        if let Ok(e) = steno::parse(&text) {
            prop_assert_eq!(steno::parse(&e.to_string()), Ok(e));
        }
    }

    #[test]
    fn clause_order_does_not_change_the_id(hosts in prop::collection::vec(any::<[u8; 4]>(), 0..5), ports in prop::collection::vec(1u16..=65535, 0..5)) {
        let mut pairs: Vec<(String, String)> = hosts.iter().map(|o| ("host".to_string(), IpAddr::from(*o).to_string())).collect();
        pairs.extend(ports.iter().map(|p| ("port".to_string(), p.to_string())));
        pairs.push(("after".into(), "1h".into()));
        let forward = Clauses::from_form(pairs.clone()).and_then(|c| build(&c)).expect("valid");
        pairs.reverse();
        let backward = Clauses::from_form(pairs).and_then(|c| build(&c)).expect("valid");
        prop_assert_eq!(&forward, &backward);
        prop_assert_eq!(query_id(&forward.query), forward.id.clone());
        prop_assert!(steno::parse(&forward.query).is_ok());
    }
}

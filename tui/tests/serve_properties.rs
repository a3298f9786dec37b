//! A schemathesis-style run over every route of `vantage serve` (issue 18): each route's path
//! and query parameters (and the JSON / text bodies of the POST routes) filled with generated
//! values — plausible ones, boundary numbers, dates at the calendar's ends, traversal, NUL,
//! non-UTF-8 percent escapes, long strings — against one real server on the embedded default.
//! Whatever the input: no 5xx (but the honest 503 of a capture request to a deployment
//! without Stenographer sensors), and every error is a JSON `{"error": "…"}`. A fixed seed.

use std::process::Stdio;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use vantage_tests::process::{self, Killed, free_port, get, http, until};

const NOW: &str = "2024-06-15T12:40:00Z";

/// One route: method, path template (`{}` = a generated value, percent-encoded), and
/// whether the body is generated (`Some(json)`: a JSON object of generated values, else text).
struct Route {
    method: &'static str,
    template: &'static str,
    body: Option<bool>,
}

const fn route(method: &'static str, template: &'static str, body: Option<bool>) -> Route {
    Route { method, template, body }
}

const ROUTES: &[Route] = &[
    route("GET", "/api/resource?name={}&period={}&ip={}&password={}&token={}", None),
    route("GET", "/range/{}", None),
    route("POST", "/passcheck/apiv1/", Some(true)),
    route("POST", "/api/leaked", Some(true)),
    route("GET", "/api/flows/status", None),
    route("GET", "/api/flows/suspicious?date={}&ip={}&limit={}", None),
    route("GET", "/api/flows/edges?date={}&ip={}", None),
    route("GET", "/api/flows/chords?date={}&ip={}", None),
    route("GET", "/api/flows/threat?date={}&ip={}", None),
    route("GET", "/api/flows/storyboard?date={}&ip={}", None),
    route("GET", "/api/flows/ingest-summary?from={}&to={}", None),
    route("GET", "/api/flows/beacons?date={}&limit={}", None),
    route("GET", "/api/flows/score?date={}&window_days={}&limit={}", None),
    route("GET", "/api/ip/{}?from={}&to={}", None),
    route("GET", "/api/uri/{}/{}", None),
    route("GET", "/api/raw/{}", None),
    route("POST", "/api/query", Some(false)),
    route("POST", "/api", Some(true)),
    route("GET", "/api/status/{}", None),
    route("GET", "/api/ids/{}", None),
    route("GET", "/api/urls/{}", None),
    route("GET", "/api/stats/{}", None),
    route("GET", "/api/jobs?{}={}", None),
    route("POST", "/api/cancel/{}", None),
    route("GET", "/results/{}/{}", None),
    route("GET", "/greylist/archive/{}/{}", None),
    route("GET", "/metrics?{}={}", None),
];

/// Values a client might send: plausible ones, their edges, and hostile text.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        prop::sample::select(vec![
            "1y", "1h", "3m", "attackers_by_country_graph", "selected_attacker_incidents_graph", "192.0.2.1", "2001:db8::1",
            "192.0.2.0/24", "AS64500", "2024-06-14", "2024-02-30", "0000-01-01", "9999-12-31", "+275760-09-13", "-1", "0",
            "18446744073709551616", "1e308", "NaN", "host", "net", "port", "after", "before", "2024-06-15T12:00:00Z",
            "5BAA6", "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8", "merged.pcap", "..", "../..", "%", "%FF", "\u{0}",
            "00000000000000000000000000000000", "true", "null", "[]", "{}",
        ])
        .prop_map(str::to_string),
        "[ -~]{1,40}",
        "\\PC{1,20}",
        (1usize..4000).prop_map(|n| "9".repeat(n)),
    ]
}

/// `text` percent-encoded for a path segment or query value, except the two values that
/// are sent raw: an undecodable escape (`%FF`) and a bare `%` (a request target with other
/// raw bytes is refused by the HTTP parser before any route sees it).
fn encode(text: &str) -> String {
    if text == "%" || text == "%FF" {
        return text.to_string();
    }
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

fn fill(template: &str, values: &[String]) -> String {
    let mut out = String::new();
    let mut parts = template.split("{}");
    out.push_str(parts.next().unwrap_or_default());
    for (part, v) in parts.zip(values.iter().cycle()) {
        out.push_str(&encode(v));
        out.push_str(part);
    }
    out
}

fn body_of(json: bool, values: &[String]) -> Vec<u8> {
    if !json {
        return values.join(" ").into_bytes();
    }
    let keys = ["msg_type", "hash", "host", "port", "after", "before", "net", "Sensors", "query"];
    let object: serde_json::Map<String, serde_json::Value> = keys
        .iter()
        .zip(values)
        .map(|(k, v)| (k.to_string(), v.parse::<i64>().map_or_else(|_| serde_json::Value::from(v.as_str()), serde_json::Value::from)))
        .collect();
    serde_json::Value::Object(object).to_string().into_bytes()
}

#[test]
fn no_route_answers_5xx_or_a_non_json_error_whatever_its_parameters() {
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut command = process::vantage(
        env!("CARGO_BIN_EXE_vantage"),
        NOW,
        &["--data-dir", dir.path().to_str().expect("utf8"), "serve", "--listen", &listen, "--password-rate", "0"],
    );
    let _server = Killed(command.stderr(Stdio::null()).spawn().expect("serve"));
    until(Duration::from_secs(30), "server", || get(port, "/healthz").filter(|r| r.0 == 200));
    let sent = std::cell::Cell::new(0usize);
    for route in ROUTES {
        // a runner per route: one runner counts its cases over all its runs
        // a fixed seed: CI sends exactly the cases a local run sends
        let config = Config { cases: 128, failure_persistence: None, ..Config::default() };
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha))
            .run(&prop::collection::vec(value(), 9), |values| {
                let path = fill(route.template, &values);
                let body = route.body.map(|json| body_of(json, &values)).unwrap_or_default();
                let (status, head, answer) = http(port, route.method, &path, &[], &body).ok_or_else(|| TestCaseError::fail(format!("{path}: no answer")))?;
                sent.set(sent.get() + 1);
                let text = String::from_utf8_lossy(&answer);
                // this deployment has no Stenographer sensor: a valid capture request is
                // honestly 503 (the only 5xx allowed), with its JSON reason
                let no_sensors = status == 503 && text.contains("no Stenographer sensors configured");
                prop_assert!(status < 500 || no_sensors, "{} {path}: {status} {text}", route.method);
                if status >= 400 {
                    prop_assert!(head.contains("content-type: application/json"), "{} {path}: {status} {head}", route.method);
                    let error: serde_json::Value = serde_json::from_slice(&answer).map_err(|e| TestCaseError::fail(format!("{path}: {e}: {text}")))?;
                    prop_assert!(error["error"].as_str().is_some_and(|e| !e.is_empty()), "{path}: {text}");
                }
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{} {}: {e}", route.method, route.template));
    }
    assert_eq!(sent.get(), ROUTES.len() * 128, "every case was sent");
    eprintln!("{} requests over {} routes", sent.get(), ROUTES.len());
    assert_eq!(get(port, "/healthz").map(|r| r.0), Some(200), "the server is still healthy");
}

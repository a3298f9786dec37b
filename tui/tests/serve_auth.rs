//! `vantage serve`'s security settings end to end (issue 18, quality.md "Security"): API
//! tokens made by `vantage token add` are required on every route but `/healthz`; the
//! password rate limit is shared by two `serve` processes on one Redis; a listen address
//! beyond loopback needs `--public`; every answer carries the security headers; a body over
//! the default limit is a 413 on a route that sets no limit of its own.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use vantage_tests::process::{self, Killed, RedisServer, free_port, get, http, until};

const NOW: &str = "2024-06-15T12:40:00Z";
const LIMIT: Duration = Duration::from_secs(30);

/// `vantage serve` on the embedded default in `dir` with `global` options before `serve` and
/// `extra` after it; returns once `/healthz` answers.
fn serve(dir: &Path, global: &[&str], extra: &[&str]) -> (Killed, u16) {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut args = vec!["--data-dir", dir.to_str().expect("utf8")];
    args.extend_from_slice(global);
    args.extend_from_slice(&["serve", "--listen", &listen]);
    args.extend_from_slice(extra);
    let mut command = process::vantage(env!("CARGO_BIN_EXE_vantage"), NOW, &args);
    command.stderr(Stdio::null());
    let server = Killed(command.spawn().expect("serve"));
    until(LIMIT, "server", || get(port, "/healthz").filter(|r| r.0 == 200));
    (server, port)
}

fn vantage(args: &[&str]) -> std::process::Output {
    process::vantage(env!("CARGO_BIN_EXE_vantage"), NOW, args).output().expect("vantage")
}

/// Every route of the API with a request it answers 200 to (the embedded default, empty; the
/// capture request answers 503 "no Stenographer sensors configured" — past the token check).
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/metrics"),
    ("GET", "/api/resource?name=top_countries_by_incidents_graph&period=1y"),
    ("POST", "/passcheck/apiv1/"),
    ("POST", "/api/leaked"),
    ("GET", "/range/ABCDE"),
    ("GET", "/api/flows/status"),
    ("GET", "/api/flows/suspicious?date=2024-06-14"),
    ("GET", "/api/flows/edges?tstart=2024-06-14%2010:00:00&src=192.0.2.1&dst=198.51.100.7"),
    ("GET", "/api/flows/chords?date=2024-06-14&ip=192.0.2.1"),
    ("GET", "/api/flows/threat?date=2024-06-14&ip=192.0.2.1"),
    ("GET", "/api/flows/storyboard?date=2024-06-14&ip=192.0.2.1"),
    ("GET", "/api/flows/ingest-summary?date=2024-06-14"),
    ("GET", "/api/flows/beacons?date=2024-06-14"),
    ("GET", "/api/flows/score?date=2024-06-14"),
    ("GET", "/api/ip/192.0.2.1"),
    ("GET", "/api/uri/host/192.0.2.1/after/2024-06-15T12:00:00Z"),
    ("GET", "/api/status"),
    ("GET", "/api/ids"),
    ("GET", "/api/urls"),
    ("GET", "/api/stats"),
    ("GET", "/api/jobs"),
    ("POST", "/api/cleanup"),
    ("GET", "/greylist/greylist-latest.csv"),
];

/// The body a route takes (`POST`s of the password APIs), else empty.
fn body(path: &str) -> &'static [u8] {
    match path {
        "/passcheck/apiv1/" => br#"{"msg_type": "request", "hash": "5BAA61"}"#,
        "/api/leaked" => br#"{"hash": "5BAA6"}"#,
        _ => b"",
    }
}

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)))
}

#[test]
fn api_tokens_are_required_on_every_route_but_healthz() {
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("vantage.toml");
    std::fs::write(&config, "[serve]\ntokens_file = \"tokens\"\n").expect("config");
    let config = config.to_str().expect("utf8");
    let data = dir.path().to_str().expect("utf8");
    // two tokens; the file holds neither, only their digests, user-only
    let add = |name: &str| {
        let out = vantage(&["--data-dir", data, "--config", config, "token", "add", name]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf8").trim().to_string()
    };
    let (ci, analyst) = (add("ci"), add("analyst@soc"));
    let file = dir.path().join("tokens");
    let text = std::fs::read_to_string(&file).expect("tokens file beside the configuration");
    assert!(!text.contains(&ci[3..]) && !text.contains(&analyst[3..]) && text.contains("ci sha256:"), "{text}");
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).expect("meta").permissions()) & 0o777, 0o600);
    let out = vantage(&["--data-dir", data, "--config", config, "token", "add", "ci"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("exists already"));

    let (_server, port) = serve(dir.path(), &["--config", config], &[]);
    let ok = format!("Authorization: Bearer {ci}");
    let no_scheme = ok.replace("Bearer ", "");
    let mut not_ok = Vec::new();
    for (method, path) in ROUTES {
        for headers in [vec![], vec!["Authorization: Bearer vt_0000"], vec!["Authorization: Basic Y2k6Y2k="], vec![no_scheme.as_str()]] {
            let (status, head, answer) = http(port, method, path, &headers, body(path)).expect("answer");
            assert_eq!(status, 401, "{method} {path} {headers:?}: {}", String::from_utf8_lossy(&answer));
            assert!(head.contains("www-authenticate: bearer") && head.contains("x-content-type-options: nosniff"), "{head}");
            assert!(json(&answer)["error"].as_str().is_some_and(|e| e.contains("token")));
        }
        for token in [&ci, &analyst] {
            let header = format!("Authorization: Bearer {token}");
            let (status, head, answer) = http(port, method, path, &[&header], body(path)).expect("answer");
            let expected = if path.starts_with("/api/uri/") { 503 } else { 200 };
            if status != expected {
                not_ok.push(format!("{method} {path}: {status} {}", String::from_utf8_lossy(&answer)));
            }
            assert!(head.contains("x-frame-options: deny") && head.contains("content-security-policy: default-src 'none'"), "{head}");
        }
    }
    assert!(not_ok.is_empty(), "with a token every route answers: {not_ok:#?}");
    let (status, _, answer) = http(port, "GET", "/no/such/route", &[], b"").expect("answer");
    assert_eq!(status, 401, "an unknown route tells nothing without a token: {}", String::from_utf8_lossy(&answer));
    assert_eq!(http(port, "GET", "/no/such/route", &[&ok], b"").expect("answer").0, 404);
    let (status, _, answer) = http(port, "GET", "/healthz", &[], b"").expect("answer");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));

    // removed: a restarted server refuses it, the other still works
    let out = vantage(&["--data-dir", data, "--config", config, "token", "remove", "ci"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let listed = vantage(&["--data-dir", data, "--config", config, "token", "list"]);
    assert_eq!(String::from_utf8_lossy(&listed.stdout).trim(), "analyst@soc");
    drop(_server);
    let (_server, port) = serve(dir.path(), &["--config", config], &[]);
    assert_eq!(http(port, "GET", "/metrics", &[&ok], b"").expect("answer").0, 401);
    assert_eq!(http(port, "GET", "/metrics", &[&format!("Authorization: Bearer {analyst}")], b"").expect("answer").0, 200);

    // a tokens file that cannot be read: serve refuses to start open
    std::fs::write(&file, "ci md5:00\n").expect("corrupt");
    let out = vantage(&["--data-dir", data, "--config", config, "serve", "--listen", &format!("127.0.0.1:{}", free_port())]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("tokens:1: the digest must start with `sha256:`"), "{err}");
}

fn unix_second() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs()
}

#[test]
fn the_password_rate_limit_holds_across_two_serve_processes_on_one_redis() {
    let redis = RedisServer::start(None);
    let url = redis.url(None);
    let (a_dir, b_dir) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let (_a, a) = serve(a_dir.path(), &["--redis-url", &url], &["--password-rate", "10"]);
    let (_b, b) = serve(b_dir.path(), &["--redis-url", &url], &["--password-rate", "10"]);
    let range = |port: u16| http(port, "GET", "/range/ABCDE", &[], b"").expect("answer").0;
    // 5 + 5 requests within one second are the limit of 10 in all: the 11th and 12th are
    // refused by either process (each alone has seen only 6); an attempt that crossed a
    // second boundary proves nothing and is made again
    let mut attempts = 0;
    loop {
        attempts += 1;
        assert!(attempts <= 20, "no attempt fitted in one second");
        let second = unix_second();
        let statuses: Vec<u16> = [a, a, a, a, a, b, b, b, b, b, a, b].iter().map(|p| range(*p)).collect();
        if unix_second() != second {
            continue;
        }
        assert_eq!(statuses[..10], [200; 10], "{statuses:?}");
        assert_eq!(statuses[10..], [429, 429], "{statuses:?}");
        break;
    }
    // without the shared cache each process counts alone: 10 each per second
    let (c_dir, d_dir) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let (_c, c) = serve(c_dir.path(), &[], &["--password-rate", "10"]);
    let (_d, d) = serve(d_dir.path(), &[], &["--password-rate", "10"]);
    loop {
        let second = unix_second();
        let statuses: Vec<u16> = [c, c, c, c, c, d, d, d, d, d, c, d].iter().map(|p| range(*p)).collect();
        if unix_second() == second {
            assert_eq!(statuses, [200; 12], "separate processes without Redis do not share the count");
            break;
        }
    }
}

#[test]
fn listening_beyond_loopback_needs_public_and_big_bodies_are_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().to_str().expect("utf8");
    let port = free_port();
    let listen = format!("0.0.0.0:{port}");
    let out = vantage(&["--data-dir", data, "serve", "--listen", &listen]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--public") && err.contains("tokens_file"), "{err}");

    let mut command = process::vantage(env!("CARGO_BIN_EXE_vantage"), NOW, &["--data-dir", data, "serve", "--listen", &listen, "--public"]);
    let log = dir.path().join("serve.err");
    command.stderr(std::fs::File::create(&log).expect("log"));
    let _server = Killed(command.spawn().expect("serve"));
    until(LIMIT, "public server", || get(port, "/healthz").filter(|r| r.0 == 200));
    let warned = std::fs::read_to_string(&log).expect("log");
    assert!(warned.contains("WITHOUT API tokens") && warned.contains("reachable from other machines"), "{warned}");

    // a route without a limit of its own takes at most 1 MiB; the password routes 1 KiB
    let big = vec![b'h'; 1024 * 1024 + 1];
    for (path, body) in [("/api/query", &big[..]), ("/api/leaked", &big[..2048])] {
        let (status, head, answer) = http(port, "POST", path, &[], body).expect("answer");
        assert_eq!(status, 413, "{path}: {}", String::from_utf8_lossy(&answer));
        assert!(head.contains("application/json") && head.contains("x-content-type-options: nosniff"), "{head}");
    }
    let (status, _, answer) = http(port, "POST", "/api/query", &[], b"host 192.0.2.1 and after 2024-06-15T12:00:00Z").expect("answer");
    assert_ne!(status, 413, "a small body passes: {}", String::from_utf8_lossy(&answer));
}

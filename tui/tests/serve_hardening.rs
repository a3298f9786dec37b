//! `vantage serve` against hostile and careless clients: slow headers and stalled bodies are
//! cut off by the header and idle timeouts, connections over `--max-connections` wait until
//! one closes, a Host that is not the server's is refused (DNS rebinding), every error is JSON
//! (also axum's own 405 / 413 / bad-path answers), `/api/cleanup/` needs POST, and requests
//! the project cannot store or query (a NUL in a password, no capture clause, the calendar's
//! ends) are a 400.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::Value;
use vantage_tests::process::{self, Killed, free_port, get, http, until};

const NOW: &str = "2024-06-15T12:40:00Z";
const LIMIT: Duration = Duration::from_secs(30);

/// `vantage serve` on the embedded default in `dir`, listening on `ip` with extra flags and
/// environment; returns once `/healthz` answers.
fn serve(dir: &Path, ip: &str, extra: &[&str], env: &[(&str, &str)]) -> (Killed, u16) {
    let port = free_port();
    let listen = format!("{ip}:{port}");
    let mut args = vec!["--data-dir", dir.to_str().expect("utf8"), "serve", "--listen", &listen];
    args.extend_from_slice(extra);
    let mut command = process::vantage(env!("CARGO_BIN_EXE_vantage"), NOW, &args);
    command.env_remove("VANTAGE_ALLOWED_HOSTS").envs(env.iter().copied()).stderr(Stdio::null());
    let server = Killed(command.spawn().expect("serve"));
    until(LIMIT, "server", || get(port, "/healthz").filter(|r| r.0 == 200));
    (server, port)
}

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)))
}

/// Reads one HTTP response (with Content-Length) from `s`: (status, lower-cased head, body).
fn response(s: &mut TcpStream) -> Option<(u16, String, Vec<u8>)> {
    let mut raw = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..end]).to_lowercase();
            let length: usize = head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse().ok())?;
            if raw.len() >= end + 4 + length {
                let status = head.split_whitespace().nth(1)?.parse().ok()?;
                return Some((status, head, raw[end + 4..end + 4 + length].to_vec()));
            }
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => raw.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Sends `request` as is on a new connection and reads the answer.
fn raw(port: u16, request: &str) -> Option<(u16, String, Vec<u8>)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.write_all(request.as_bytes()).ok()?;
    response(&mut s)
}

/// Polls until the server has closed `s` (a read returns end of file or an error).
fn closed_by_server(s: &mut TcpStream, what: &str) {
    s.set_read_timeout(Some(Duration::from_millis(100))).expect("timeout");
    let mut buf = [0u8; 1024];
    until(LIMIT, what, || match s.read(&mut buf) {
        Ok(0) => Some(()),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => None,
        Err(_) => Some(()),
        Ok(_) => None,
    });
}

/// `vantage_http_connections` from `/metrics`, asked on the kept-alive connection `s`.
fn open_connections(s: &mut TcpStream) -> u64 {
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n").expect("metrics request");
    let (status, _, body) = response(s).expect("metrics answer");
    assert_eq!(status, 200);
    let text = String::from_utf8_lossy(&body).into_owned();
    text.lines().find_map(|l| l.strip_prefix("vantage_http_connections ")).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{text}"))
}

#[test]
fn slow_headers_and_silent_clients_are_closed_and_the_server_answers_again() {
    let dir = tempfile::tempdir().expect("dir");
    let (_server, port) = serve(dir.path(), "127.0.0.1", &["--header-timeout", "1", "--max-connections", "2"], &[]);
    // a slow loris: a byte every 200 ms, the headers never end
    let mut slow = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let stop = Arc::new(AtomicBool::new(false));
    let writer = std::thread::spawn({
        let (mut s, stop) = (slow.try_clone().expect("clone"), stop.clone());
        move || {
            let mut sent = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ").is_ok();
            while sent && !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                sent = s.write_all(b"a").is_ok();
            }
        }
    });
    // and a client that connects and says nothing: together they hold both slots
    let mut silent = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    closed_by_server(&mut slow, "the server to close the slow-loris connection");
    closed_by_server(&mut silent, "the server to close the silent connection");
    stop.store(true, Ordering::Relaxed);
    writer.join().expect("writer");
    let (status, _, body) = until(LIMIT, "healthz after the slots freed", || get(port, "/healthz"));
    assert_eq!(status, 200, "{body}");
}

#[test]
fn a_stalled_body_is_closed_after_the_idle_timeout() {
    let dir = tempfile::tempdir().expect("dir");
    let (_server, port) = serve(dir.path(), "127.0.0.1", &["--idle-timeout", "1", "--header-timeout", "60"], &[]);
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.write_all(b"POST /api/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nhost=").expect("write");
    closed_by_server(&mut s, "the server to close the stalled request");
}

#[test]
fn connections_over_the_cap_wait_until_one_closes() {
    let dir = tempfile::tempdir().expect("dir");
    let (_server, port) = serve(dir.path(), "127.0.0.1", &["--max-connections", "5", "--header-timeout", "120", "--idle-timeout", "120"], &[]);
    let connect = || TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let mut keep_alive = connect();
    let mut held: Vec<TcpStream> = (0..4).map(|_| connect()).collect();
    until(LIMIT, "five connections served", || (open_connections(&mut keep_alive) == 5).then_some(()));
    // the sixth connects (the kernel's backlog) but is not served while five are open
    let mut sixth = connect();
    sixth.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").expect("write");
    for _ in 0..5 {
        assert_eq!(open_connections(&mut keep_alive), 5, "never more than the cap");
    }
    sixth.set_nonblocking(true).expect("nonblocking");
    let mut buf = [0u8; 64];
    assert!(matches!(sixth.read(&mut buf), Err(e) if e.kind() == ErrorKind::WouldBlock), "the sixth is not answered while five are open");
    sixth.set_nonblocking(false).expect("blocking");
    // one slot frees: the sixth is served
    held.truncate(3);
    let (status, _, body) = response(&mut sixth).expect("the sixth is answered");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert!(open_connections(&mut keep_alive) <= 5);
    drop(held);
    until(LIMIT, "the held connections to close", || (open_connections(&mut keep_alive) == 1).then_some(()));
}

/// Requests the routes of every family with `host` as the Host header (none when empty).
fn statuses_with_host(port: u16, host: &str) -> Vec<(u16, Value)> {
    ["/healthz", "/api/status/", "/range/00000", "/api/resource?name=all_incidents_graph&period=1h"]
        .iter()
        .map(|path| {
            let host_line = if host.is_empty() { String::new() } else { format!("Host: {host}\r\n") };
            let version = if host.is_empty() { "1.0" } else { "1.1" };
            let (status, head, body) = raw(port, &format!("GET {path} HTTP/{version}\r\n{host_line}Connection: close\r\n\r\n")).expect("answer");
            (status, if head.contains("application/json") { json(&body) } else { Value::Null })
        })
        .collect()
}

#[test]
fn the_host_header_must_name_the_server() {
    let dir = tempfile::tempdir().expect("dir");
    let (_server, port) = serve(dir.path(), "127.0.0.1", &["--allowed-host", "vantage.lan", "--allowed-host", "Other.Example"], &[]);
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}"), format!("[::1]:{port}"), "vantage.lan:8080".into(), "other.example".into()] {
        for (status, body) in statuses_with_host(port, &host) {
            assert_ne!(status, 403, "{host}: {body}");
        }
    }
    for host in ["evil.example", &format!("evil.example:{port}"), "10.0.0.1", "vantage.lan.evil.example", ""] {
        for (status, body) in statuses_with_host(port, host) {
            assert_eq!(status, 403, "`{host}`: {body}");
            assert!(body["error"].as_str().is_some_and(|e| e.contains("Host")), "{host}: {body}");
        }
    }

    // listening on every address: any IP literal, localhost and the names of the environment
    let dir = tempfile::tempdir().expect("dir");
    let (_server, port) = serve(dir.path(), "0.0.0.0", &["--public"], &[("VANTAGE_ALLOWED_HOSTS", "a.lan,b.lan")]);
    for host in ["10.9.8.7:8080", "[2001:db8::1]", "localhost", "a.lan", "b.lan:80"] {
        assert_eq!(statuses_with_host(port, host)[0].0, 200, "{host}");
    }
    assert_eq!(statuses_with_host(port, "evil.example")[0].0, 403);
}

#[test]
fn every_error_is_json_and_unusable_requests_are_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let (_server, port) = serve(dir.path(), "127.0.0.1", &[], &[]);
    let calendar = "outside the representable range of dates (0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z";
    let big = vec![b'a'; 2 * 1024 * 1024 + 1];
    for (method, path, body, status, expect) in [
        ("GET", "/api/status/%FF", &b""[..], 400, ""),
        ("GET", "/range/%FF%FE", b"", 400, ""),
        ("GET", "/api/raw/host%FF", b"", 400, ""),
        ("POST", "/api/", &big[..], 413, "length limit"),
        ("GET", "/api/query/", b"", 405, "Method Not Allowed"),
        ("DELETE", "/healthz", b"", 405, "Method Not Allowed"),
        ("GET", "/api/cleanup/", b"", 405, "Method Not Allowed"),
        ("GET", "/api/cleanup", b"", 405, "Method Not Allowed"),
        ("GET", "/api/uri//", b"", 400, "Empty request"),
        ("GET", "/api/uri/before/9999-12-31T23:59:59Z", b"", 400, calendar),
        ("GET", "/api/uri/after/0000-01-01T00:00:00Z", b"", 400, calendar),
        ("GET", "/api/resource?name=selected_password_by_usages_graph&period=1h&password=se%00cret", b"", 400, "password: must not contain a NUL byte"),
    ] {
        let (got, head, answer) = http(port, method, path, &[], body).expect("answer");
        assert_eq!(got, status, "{method} {path}: {}", String::from_utf8_lossy(&answer));
        assert!(head.contains("content-type: application/json"), "{method} {path}: {head}");
        let error = json(&answer)["error"].as_str().map(str::to_string).unwrap_or_else(|| panic!("{method} {path}: no error"));
        assert!(!error.is_empty() && error.contains(expect), "{method} {path}: {error}");
        assert!(!error.contains("cret"), "the password is not echoed: {error}");
        if status == 405 {
            assert!(head.contains("allow:"), "{method} {path} keeps its Allow header: {head}");
        }
    }
    let (status, _, answer) = http(port, "POST", "/api/cleanup/", &[], b"").expect("answer");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    assert_eq!(json(&answer)["ran"], true);
}

//! The real `vantage dynfw status|export`, `vantage serve`'s `/dynfw/list.json` and
//! `/dynfw/ws`, and `vantage worker`'s saved state, against a CURVE publisher on loopback
//! ([`vantage_tests::dynfw::Publisher`]).
//!
//! The binary runs as a child process; the test thread waits until the child has subscribed
//! (`wait_for_subscriber`: its CURVE handshake is done) and only then publishes, so what is
//! sent reaches it. No sleeps: the rest waits on the child's exit or on polled conditions.

use std::io::ErrorKind;
use std::net::{IpAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use vantage_tests::dynfw::{Publisher, config_section};
use vantage_tests::process::{Killed, free_port, get, until};

const NOW: &str = "2026-12-01T12:00:00Z";
const WAIT: Duration = Duration::from_secs(20);

/// GeoLite2's test databases: 81.2.69.142 is in GB, 89.160.20.112 in SE.
const LONDON: &str = "81.2.69.142";
const LINKOPING: &str = "89.160.20.112";
const V6: &str = "2001:db8::1";

fn ip(text: &str) -> IpAddr {
    text.parse().expect("ip")
}

fn geoip_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/geoip")
}

/// A directory with `vantage.toml` following `publisher` with the key in `key` (default: the
/// publisher's own).
fn setup(publisher: &Publisher, key: Option<&Path>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("dir");
    let own = publisher.write_key_file(dir.path());
    std::fs::write(dir.path().join("vantage.toml"), config_section(publisher, key.unwrap_or(&own))).expect("config");
    dir
}

/// `vantage` in `dir` on its config and data, with the test GeoIP databases.
fn vantage(dir: &Path, args: &[&str]) -> Command {
    let geoip = geoip_dir();
    let mut all = vec!["--data-dir", dir.to_str().expect("utf8"), "--config", "vantage.toml", "--geoip-dir", geoip.to_str().expect("utf8")];
    all.extend_from_slice(args);
    let mut c = vantage_tests::process::vantage(env!("CARGO_BIN_EXE_vantage"), NOW, &all);
    c.current_dir(dir);
    c
}

/// Starts `args` with its output captured.
fn spawn(dir: &Path, args: &[&str]) -> Child {
    vantage(dir, args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run vantage")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Waits for `child` and asserts it succeeded.
fn finished(child: Child) -> Output {
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "{}\n{}", text(&out.stdout), text(&out.stderr));
    out
}

#[test]
fn status_json_gives_the_publishers_serial_and_set() {
    let publisher = Publisher::start();
    let dir = setup(&publisher, None);
    let child = spawn(dir.path(), &["dynfw", "status", "--json", "--follow-for", "3s"]);
    assert!(publisher.wait_for_subscriber(WAIT), "the CLI subscribes");
    publisher.delta(9, true, ip("192.0.2.9")); // before the list: ignored
    publisher.list(10, &[ip(LONDON), ip("192.0.2.1"), ip(V6)]);
    publisher.delta(11, false, ip("192.0.2.1"));
    publisher.delta(12, true, ip(LINKOPING));
    publisher.event("telnet_login", ip(LONDON));
    let out = finished(child);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("JSON ({e}): {}", text(&out.stdout)));
    assert_eq!(report["serial"], 12, "{report}");
    assert_eq!(report["blocked"], json!([LONDON, LINKOPING, V6]));
    assert_eq!((report["size"].as_u64(), report["phase"].as_str(), report["resyncs"].as_u64()), (Some(3), Some("synced"), Some(0)));
    assert_eq!((report["health"]["before_first_list"].as_u64(), report["health"]["events"].as_u64()), (Some(1), Some(1)));
    assert_eq!(report["per_country"], json!([{"country": "", "count": 1}, {"country": "GB", "count": 1}, {"country": "SE", "count": 1}]));
    assert_eq!(report["link"]["up"], true);
    assert!(dir.path().join("dynfw/state.json").is_file(), "the state is kept in <data_dir>/dynfw");
}

#[test]
fn status_as_text_shows_the_summary_health_countries_and_set() {
    let publisher = Publisher::start();
    let dir = setup(&publisher, None);
    let child = spawn(dir.path(), &["dynfw", "status", "--follow-for", "2s"]);
    assert!(publisher.wait_for_subscriber(WAIT), "the CLI subscribes");
    publisher.list(3, &[ip(LONDON), ip(LINKOPING)]);
    publisher.send_frames(&[b"dynfw/delta", b"\xc1"]);
    let out = text(&finished(child).stdout);
    assert!(out.contains(&format!("DynFW {}: serial 3, 2 addresses, synced", publisher.endpoint)), "{out}");
    assert!(out.contains("malformed 1,") && out.contains("re-syncs 0"), "{out}");
    assert!(out.contains("per country: GB 1, SE 1"), "{out}");
    assert!(out.lines().any(|l| l.contains(LONDON) && l.contains("GB")), "{out}");
}

#[test]
fn a_wrong_key_or_no_section_fails_with_what_to_check() {
    let publisher = Publisher::start();
    let other = tempfile::tempdir().expect("dir");
    let wrong = Publisher::start().write_key_file(other.path());
    let dir = setup(&publisher, Some(&wrong));
    let started = std::time::Instant::now();
    let out = vantage(dir.path(), &["dynfw", "status", "--follow-for", "1.5s"]).output().expect("run");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("no DynFW list from") && err.contains("`endpoint`") && err.contains("`server_key`"), "{err}");
    assert!(started.elapsed() < WAIT, "gave up after its --follow-for");
    let out = vantage(dir.path(), &["dynfw", "export", "--out", "x.txt", "--follow-for", "1s"]).output().expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("`server_key`") && !dir.path().join("x.txt").exists());

    std::fs::write(dir.path().join("vantage.toml"), "").expect("config");
    for args in [&["dynfw", "status"][..], &["dynfw", "export", "--out", "x.txt"]] {
        let out = vantage(dir.path(), args).output().expect("run");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(text(&out.stderr).contains("no [dynfw] section in the configuration: set endpoint"), "{}", text(&out.stderr));
    }
    let out = vantage(dir.path(), &["dynfw", "export", "--out", "x", "--format", "xml"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown format \"xml\" (plain, csv, ipset, nft)"), "{}", text(&out.stderr));
}

#[test]
fn export_writes_the_first_list_in_every_format() {
    let publisher = Publisher::start();
    let dir = setup(&publisher, None);
    let list = [ip(LINKOPING), ip(V6), ip(LONDON)];
    let expected = [
        ("plain", format!("{LONDON}\n{LINKOPING}\n{V6}\n")),
        ("csv", format!("address,country\n{LONDON},GB\n{LINKOPING},SE\n{V6},\n")),
        (
            "ipset",
            format!(
                "# Vantage DynFW blocked set, serial 40\ncreate vantage-dynfw4 hash:ip family inet -exist\nflush vantage-dynfw4\nadd vantage-dynfw4 {LONDON}\nadd vantage-dynfw4 {LINKOPING}\ncreate vantage-dynfw6 hash:ip family inet6 -exist\nflush vantage-dynfw6\nadd vantage-dynfw6 {V6}\n"
            ),
        ),
        (
            "nft",
            format!(
                "# Vantage DynFW blocked set, serial 40\ntable inet vantage {{\n\tset dynfw4 {{\n\t\ttype ipv4_addr\n\t\telements = {{ {LONDON}, {LINKOPING} }}\n\t}}\n\tset dynfw6 {{\n\t\ttype ipv6_addr\n\t\telements = {{ {V6} }}\n\t}}\n}}\n"
            ),
        ),
    ];
    for (format, want) in expected {
        let file = dir.path().join(format!("dynfw.{format}"));
        let started = std::time::Instant::now();
        let child = spawn(dir.path(), &["dynfw", "export", "--format", format, "--out", file.to_str().expect("utf8"), "--follow-for", "20s"]);
        assert!(publisher.wait_for_subscriber(WAIT), "{format}: the CLI subscribes");
        publisher.list(40, &list);
        let out = finished(child);
        assert!(started.elapsed() < Duration::from_secs(15), "{format}: written at the first list, not after --follow-for");
        assert_eq!(std::fs::read_to_string(&file).expect("written"), want, "{format}");
        assert!(text(&out.stdout).contains("serial 40: 3 addresses"), "{}", text(&out.stdout));
    }
}

/// Reads the next text message of `ws` as JSON.
fn next(ws: &mut tungstenite::WebSocket<TcpStream>) -> Value {
    loop {
        match ws.read() {
            Ok(tungstenite::Message::Text(t)) => return serde_json::from_str(t.as_str()).expect("JSON message"),
            Ok(_) => continue,
            Err(tungstenite::Error::Io(e)) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => panic!("no WebSocket message within {WAIT:?}"),
            Err(e) => panic!("WebSocket: {e}"),
        }
    }
}

#[test]
fn serve_answers_the_list_and_relays_changes_over_the_websocket() {
    let publisher = Publisher::start();
    let dir = setup(&publisher, None);
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let _server = Killed(vantage(dir.path(), &["serve", "--listen", &listen]).stderr(Stdio::null()).spawn().expect("serve"));
    assert!(publisher.wait_for_subscriber(WAIT), "serve subscribes");
    publisher.list(5, &[ip(LONDON), ip("192.0.2.1")]);
    let (status, head, body) = until(WAIT, "the list in /dynfw/list.json", || get(port, "/dynfw/list.json").filter(|(_, _, b)| b.contains("\"serial\":5")));
    assert_eq!(status, 200);
    assert!(head.contains("application/json"), "{head}");
    let list: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(list, json!({"serial": 5, "size": 2, "list": [LONDON, "192.0.2.1"], "source": publisher.endpoint, "demo": false}));

    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(WAIT)).expect("timeout");
    let (mut ws, _) = tungstenite::client(format!("ws://127.0.0.1:{port}/dynfw/ws"), stream).expect("WebSocket handshake");
    let info = next(&mut ws);
    assert_eq!(info["msgtype"], "info", "{info}");
    let p = &info["payload"];
    assert_eq!((&p["serial"], &p["size"], &p["phase"], &p["source"], &p["demo"]), (&json!(5), &json!(2), &json!("synced"), &json!(publisher.endpoint), &json!(false)));
    assert_eq!((&p["health"]["lists"], &p["per_country"]), (&json!(1), &json!([{"country": "", "count": 1}, {"country": "GB", "count": 1}])));
    assert_eq!(next(&mut ws), json!({"msgtype": "list", "payload": {"serial": 5, "size": 2, "list": [{"ip": LONDON, "country": "GB"}, {"ip": "192.0.2.1", "country": ""}]}}));

    // live: sent after the client has its snapshot
    publisher.delta(6, true, ip(LINKOPING));
    let delta = next(&mut ws);
    assert_eq!(delta["msgtype"], "delta", "{delta}");
    assert_eq!(
        (&delta["payload"]["serial"], &delta["payload"]["delta"], &delta["payload"]["ip"], &delta["payload"]["country"]),
        (&json!(6), &json!("positive"), &json!(LINKOPING), &json!("SE"))
    );
    assert!(delta["payload"]["ts"].is_i64(), "{delta}");
    publisher.event("haas_logged", ip(LONDON));
    let event = next(&mut ws);
    assert_eq!((&event["msgtype"], &event["payload"]["event"], &event["payload"]["country"]), (&json!("event"), &json!("haas_logged"), &json!("GB")));
    publisher.delta(7, false, ip(LONDON));
    assert_eq!(next(&mut ws)["payload"]["delta"], "negative");
    publisher.list(3, &[ip("192.0.2.8")]);
    assert_eq!(next(&mut ws), json!({"msgtype": "list", "payload": {"serial": 3, "size": 1}}));
    let (_, _, body) = get(port, "/dynfw/list.json").expect("list");
    assert!(body.contains("\"list\":[\"192.0.2.8\"]"), "{body}");
    let _ = ws.close(None);
}

#[test]
fn the_worker_follows_the_feed_and_keeps_its_state() {
    let publisher = Publisher::start();
    let dir = setup(&publisher, None);
    let _worker = Killed(vantage(dir.path(), &["worker", "--no-schedule"]).stderr(Stdio::null()).spawn().expect("worker"));
    assert!(publisher.wait_for_subscriber(WAIT), "the worker subscribes");
    publisher.list(77, &[ip(LONDON)]);
    let state = dir.path().join("dynfw/state.json");
    let saved: Value = until(WAIT, "the saved state", || std::fs::read(&state).ok().and_then(|b| serde_json::from_slice(&b).ok()));
    assert_eq!((&saved["serial"], &saved["list"]), (&json!(77), &json!([LONDON])));
}

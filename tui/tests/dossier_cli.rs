//! The real `vantage ip` and `vantage serve`'s `/api/ip/{target}` on the embedded default and
//! on PostgreSQL, the clock pinned: on sview's data plus IntelMQ events and nfdump flows
//! written for some of its addresses, an address's dossier equals what the capabilities' own
//! commands report (`vantage resource selected_attacker_incidents_graph 1y --ip`, the events
//! imported, `vantage flows threat`, the greylist export); an unknown address is an empty
//! dossier with the parts the store lacks absent; bad input exits 2 / answers 400 naming the
//! column; `--out` writes every file.

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use vantage_tests::TestPg;
use vantage_tests::events::event;
use vantage_tests::process::{Killed, free_port, get, until, vantage};
use vantage_tests::sview::{DATA_NOW, testdata_jsonl};

const IP: &str = "192.0.2.1";

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_vantage")
}

fn command(dir: &Path, db: Option<&str>, args: &[&str]) -> std::process::Command {
    let mut all = vec!["--data-dir", dir.to_str().expect("utf8"), "--config", "vantage.toml"];
    if let Some(url) = db {
        all.extend(["--database-url", url]);
    }
    all.extend_from_slice(args);
    let mut c = vantage(bin(), DATA_NOW, &all);
    c.current_dir(dir);
    c
}

fn run(dir: &Path, db: Option<&str>, args: &[&str]) -> Output {
    command(dir, db, args).output().expect("run vantage")
}

fn json(out: &Output) -> Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// A data dir with the config; sview's data ingested and events imported when `filled`.
fn store(dir: &Path, db: Option<&str>, filled: bool) {
    std::fs::write(dir.join("vantage.toml"), "[greylist]\ndays = 7\nmin_incidents = 2\n").expect("config");
    if !filled {
        return;
    }
    std::fs::write(dir.join("sview.jsonl"), testdata_jsonl()).expect("data");
    assert_eq!(json(&run(dir, db, &["ingest", "sentinel", "--json", "sview.jsonl"]))["committed"], true);
    for period in ["quarterly", "hourly", "daily"] {
        let out = run(dir, db, &["migrate-period", period, "--days", "400"]);
        assert!(out.status.success(), "{period}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let lines = [
        event("2024-06-10T08:00:00Z", IP, 64500, "vulnerable", "vulnerable-service", "shadowserver"),
        event("2024-06-11T09:00:00Z", IP, 64500, "vulnerable", "vulnerable-service", "shadowserver"),
        event("2024-06-12T10:00:00Z", IP, 64500, "malicious-code", "infected-system", "abusech"),
        event("2024-06-12T10:00:00Z", "192.0.2.2", 64500, "intrusions", "compromised", "abusech"),
        event("2024-06-12T10:00:00Z", "203.0.113.58", 64501, "vulnerable", "vulnerable-service", "shadowserver"),
    ];
    std::fs::write(dir.join("events.jsonl"), lines.join("\n") + "\n").expect("events");
    assert_eq!(json(&run(dir, db, &["events", "import", "--json", "events.jsonl"]))["imported"], 5);
    // flows on one day: .5 only hears from it, .6 only talks to it, .7 both
    let flows = [
        "ts,td,sa,da,sp,dp,pr,ipkt,ibyt",
        "2024-06-12 10:00:00,0.5,192.0.2.1,10.0.0.5,40000,22,TCP,3,180",
        "2024-06-12 10:01:00,0.5,10.0.0.6,192.0.2.1,40001,443,TCP,4,240",
        "2024-06-12 10:02:00,0.5,192.0.2.1,10.0.0.7,40002,23,TCP,2,120",
        "2024-06-12 10:03:00,0.5,10.0.0.7,192.0.2.1,23,40002,TCP,2,900",
        "2024-06-12 10:04:00,0.5,10.0.0.8,10.0.0.9,53,53,UDP,1,80",
    ];
    std::fs::write(dir.join("flows.csv"), flows.join("\n") + "\n").expect("flows");
    assert_eq!(json(&run(dir, db, &["flows", "import", "--json", "flows.csv"]))["imported"], 5);
}

/// A list of addresses as sorted strings.
fn ips(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v.as_array().unwrap_or_else(|| panic!("a list: {v}")).iter().map(|p| p.as_str().expect("ip").to_string()).collect();
    out.sort();
    out
}

/// `[{key, count}]` as sorted pairs.
fn tallies(v: &Value) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = v.as_array().expect("tallies").iter().map(|t| (t["key"].as_str().expect("key").to_string(), t["count"].as_i64().expect("count"))).collect();
    out.sort();
    out
}

fn cross_source(db: Option<&str>) {
    let dir = tempfile::tempdir().expect("dir");
    let dir = dir.path();
    store(dir, db, true);
    let d = json(&run(dir, db, &["ip", IP, "--json"]));
    assert_eq!((d["target"].as_str(), d["kind"].as_str()), (Some(IP), Some("address")));

    // incidents: what the year's resource counts for the address
    let graph = json(&run(dir, db, &["resource", "selected_attacker_incidents_graph", "1y", "--ip", IP, "--json", "--wait"]));
    let want: i64 = graph["data"].as_array().expect("data").iter().map(|p| p["count"].as_i64().unwrap_or(0)).sum();
    let incidents = &d["incidents"]["present"];
    assert!(want > 0, "{graph}");
    assert_eq!(incidents["incidents"].as_i64(), Some(want), "{d}");
    assert_eq!(tallies(&incidents["by_trap"]).iter().map(|t| t.1).sum::<i64>(), want);

    // events: the three lines imported for it, not the others
    let events = &d["events"]["present"];
    assert_eq!(events["events"].as_i64(), Some(3), "{d}");
    assert_eq!(tallies(&events["by_taxonomy"]), [("malicious-code".to_string(), 1), ("vulnerable".to_string(), 2)]);
    assert_eq!(tallies(&events["by_asn"]), [("64500".to_string(), 3)]);

    // greylist: listed in the dossier iff listed by the export
    let export = json(&run(dir, db, &["greylist", "export", "--json"]));
    let csv = std::fs::read_to_string(export["latest"].as_str().expect("latest")).expect("csv");
    let listed = csv.lines().filter(|l| l.split(',').next() == Some(IP)).count();
    assert!(listed > 0, "{csv}");
    assert_eq!(d["greylist"]["present"].as_array().map(Vec::len), Some(listed), "{d}");

    // flows: the peers `flows threat` finds on the one day with flows
    let threat = json(&run(dir, db, &["flows", "threat", "--date", "2024-06-12", "--ip", IP, "--json"]));
    let flows = &d["flows"]["present"];
    for key in ["inbound_only", "outbound_only", "two_way"] {
        assert_eq!(ips(&flows[key]), ips(&threat[key]), "{key}: {d} vs {threat}");
    }
    assert_eq!((ips(&flows["two_way"]), flows["flows"].as_i64()), (vec!["10.0.0.7".to_string()], Some(4)), "{d}");

    // no [dynfw] section; passwords carry no address
    assert!(d["dynfw"]["absent"].is_string() && d["passwords"]["absent"].is_string(), "{d}");

    // --out: CSVs, timeline PNG + SVG, report .md / .html
    let out = dir.join("out");
    assert!(run(dir, db, &["ip", IP, "--out", out.to_str().expect("utf8")]).status.success());
    for name in ["summary.csv", "incidents.csv", "events.csv", "peers.csv", "timeline.png", "timeline.svg", "report.md", "report.html"] {
        let path = out.join(format!("dossier-{IP}-{name}"));
        assert!(std::fs::metadata(&path).is_ok_and(|m| m.len() > 0), "{}", path.display());
    }
    let md = std::fs::read_to_string(out.join(format!("dossier-{IP}-report.md"))).expect("md");
    assert!(md.contains(IP) && md.contains(&want.to_string()), "{md}");
}

fn unknown_and_bad_input(db: Option<&str>) {
    let dir = tempfile::tempdir().expect("dir");
    let dir = dir.path();
    store(dir, db, false);
    let out = run(dir, db, &["ip", "192.0.2.250", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let d = json(&out);
    assert_eq!(d["incidents"]["present"]["incidents"].as_i64(), Some(0), "{d}");
    assert_eq!(d["greylist"]["present"].as_array().map(Vec::len), Some(0), "{d}");
    assert_eq!(d["captures"]["present"].as_array().map(Vec::len), Some(0), "{d}");
    for absent in ["events", "flows", "dynfw", "passwords"] {
        assert!(d[absent]["absent"].is_string(), "{absent}: {d}");
    }

    for (args, wanted) in [(vec!["ip", "192.0.2.0/33"], "column 11"), (vec!["ip", "19x.0.2.1"], "column 3"), (vec!["ip", IP, "--from", "2024-06-10", "--to", "2024-06-01"], "--from")] {
        let out = run(dir, db, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(wanted), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let _server = Killed(command(dir, db, &["serve", "--listen", &listen]).stderr(Stdio::null()).spawn().expect("serve"));
    until(Duration::from_secs(30), "server", || get(port, "/healthz").filter(|r| r.0 == 200));
    for path in ["/api/ip/not-an-ip", "/api/ip/192.0.2.0%2F33", "/api/ip/192.0.2.1?from=2024-06-10&to=2024-06-01", "/api/ip/192.0.2.1?from=yesterday"] {
        let (status, head, body) = get(port, path).expect("answer");
        assert_eq!(status, 400, "{path}: {body}");
        assert!(head.contains("application/json"), "{path}: {head}");
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
        assert!(v["error"].is_string(), "{path}: {body}");
    }
    assert!(get(port, "/api/ip/not-an-ip").expect("answer").2.contains("column"));
    for (path, kind) in [("/api/ip/192.0.2.0%2F24", "network"), ("/api/ip/192.0.2.0/24", "network"), ("/api/ip/AS64500", "asn"), ("/api/ip/192.0.2.250", "address")] {
        let (status, _, body) = get(port, path).expect("answer");
        assert_eq!(status, 200, "{path}: {body}");
        let v: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(v["kind"].as_str(), Some(kind), "{path}: {body}");
        assert_eq!(v["incidents"]["present"]["incidents"].as_i64(), Some(0), "{path}: {body}");
    }
}

#[test]
fn dossier_equals_the_capabilities_commands_on_the_embedded_default() {
    cross_source(None);
}

#[test]
fn dossier_equals_the_capabilities_commands_on_postgresql() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let pg = rt.block_on(TestPg::create());
    cross_source(Some(&pg.url));
    rt.block_on(pg.drop_db());
}

#[test]
fn unknown_is_empty_and_bad_input_is_located_on_the_embedded_default() {
    unknown_and_bad_input(None);
}

#[test]
fn unknown_is_empty_and_bad_input_is_located_on_postgresql() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let pg = rt.block_on(TestPg::create());
    unknown_and_bad_input(Some(&pg.url));
    rt.block_on(pg.drop_db());
}

//! Packet-capture retrieval end to end through `vantage serve`: three Stenographer stand-ins
//! (normal, slow, failing) behind mutual TLS, requests in every form, the job on the queues,
//! per-sensor results, the merged capture downloaded over HTTP, path traversal refused, low
//! spool space refused with 413, a job abandoned by a killed server finished by a worker, and a
//! job cancelled from another process (`vantage pcap cancel`) and through `POST /api/cancel`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use vantage_core::packets::reader::PacketReader;
use vantage_tests::process::{self, Killed, free_port, http, until};
use vantage_tests::steno_standin::{Behaviour, Ca, Issued, Standin, filter_pcap, issue, make_ca, pcap_dir, sensor_toml};

const NOW: &str = "2024-06-15T12:40:00Z";

/// Certificates, stand-ins and a data directory.
struct Setup {
    dir: tempfile::TempDir,
    ca: Ca,
    client: Issued,
    server: Issued,
    rt: tokio::runtime::Runtime,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = make_ca(dir.path(), "ca");
        let server = issue(dir.path(), &ca, "server", "localhost", 30, true);
        let client = issue(dir.path(), &ca, "client", "vantage", 30, false);
        Setup { dir, ca, client, server, rt: tokio::runtime::Runtime::new().expect("runtime") }
    }

    fn standin(&self) -> Standin {
        self.rt.block_on(Standin::start(&self.ca.cert, &self.server, &capture()))
    }

    /// Writes `vantage.toml` with these sensors and extra `[pcap]` lines; returns its path.
    fn config(&self, sensors: &[(&str, u16)], pcap: &str) -> PathBuf {
        let path = self.dir.path().join("vantage.toml");
        let mut text = format!("[pcap]\n{pcap}\n");
        for (name, port) in sensors {
            text.push_str(&sensor_toml(name, *port, &self.ca.cert, &self.client));
        }
        std::fs::write(&path, text).expect("config");
        path
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn vantage(&self, config: &Path, args: &[&str]) -> Command {
        let data = self.data();
        let mut all = vec!["--config", config.to_str().expect("utf8"), "--data-dir", data.to_str().expect("utf8")];
        all.extend_from_slice(args);
        process::vantage(env!("CARGO_BIN_EXE_vantage"), NOW, &all)
    }

    /// Starts `vantage serve` and waits until it answers.
    fn serve(&self, config: &Path) -> (Killed, u16) {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let child = self.vantage(config, &["serve", "--listen", &listen]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("serve");
        let child = Killed(child);
        until(Duration::from_secs(30), "vantage serve", || process::get(port, "/healthz").filter(|(s, _, _)| *s == 200));
        (child, port)
    }
}

fn capture() -> PathBuf {
    pcap_dir().join("android.pcap")
}

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(body)))
}

fn get(port: u16, path: &str) -> (u16, String, Vec<u8>) {
    http(port, "GET", path, &[], b"").unwrap_or_else(|| panic!("GET {path}: no answer"))
}

fn post(port: u16, path: &str, headers: &[&str], body: &[u8]) -> (u16, Value) {
    let (status, _, body) = http(port, "POST", path, headers, body).unwrap_or_else(|| panic!("POST {path}: no answer"));
    (status, json(&body))
}

fn packets(path: &Path) -> usize {
    let mut reader = PacketReader::open(path).expect("open");
    let mut n = 0;
    while reader.next_packet().expect("packet").is_some() {
        n += 1;
    }
    n
}

/// Polls `/api/status/<id>` until the job is final.
fn final_status(port: u16, id: &str) -> Value {
    until(Duration::from_secs(60), "a final job state", || {
        let (status, _, body) = get(port, &format!("/api/status/{id}"));
        assert_eq!(status, 200);
        let v = json(&body);
        let job = v[id].clone();
        ["Completed", "Failed", "Error", "Cancelled"].contains(&job["state"].as_str().unwrap_or("")).then_some(job)
    })
}

#[test]
fn three_sensors_through_the_api() {
    let s = Setup::new();
    let (normal, slow, failing) = (s.standin(), s.standin(), s.standin());
    slow.set_delay(Duration::from_millis(800));
    failing.set_behaviour(Behaviour::Error500);
    let config = s.config(&[("alpha", normal.port), ("slow", slow.port), ("broken", failing.port)], "idle_sleep = \"100ms\"");
    let (_server, port) = s.serve(&config);

    // URL form (empty segments and case as Kibana links have them): 302 to the status page
    let (status, head, body) = get(port, "/api/uri/HOST//192.168.2.1/");
    assert_eq!(status, 302, "{}", String::from_utf8_lossy(&body));
    let job = json(&body);
    let id = job["id"].as_str().expect("id").to_string();
    assert!(head.contains(&format!("location: /#/status/{id}")), "{head}");
    assert_eq!(job["url"], format!("/results/{id}/merged.pcap"));
    assert_eq!(job["time"], NOW);
    assert!(job["query"].as_str().is_some_and(|q| q.starts_with("host 192.168.2.1 and after 2024-06-14T12:38:00Z")), "{job}");

    let done = final_status(port, &id);
    assert_eq!(done["state"], "Completed", "{done}");
    assert_eq!(done["requests"]["alpha"]["state"], "Request Complete", "{done}");
    assert_eq!(done["requests"]["slow"]["state"], "Request Complete", "{done}");
    assert_eq!(done["requests"]["broken"]["state"], "Error", "{done}");
    assert!(done["requests"]["broken"]["message"].as_str().is_some_and(|m| m.contains("500")), "{done}");
    assert_eq!(done["successes"], serde_json::json!(["alpha", "slow"]));
    let events: Vec<chrono::DateTime<chrono::Utc>> =
        done["events"].as_array().expect("events").iter().map(|e| e["time"].as_str().expect("time").parse().expect("RFC 3339")).collect();
    assert!(events.windows(2).all(|w| w[0] <= w[1]), "events in time order: {events:?}");
    assert!(done.get("merged").is_none(), "no server paths in the API: {done}");

    // the capture: listed under /api/urls, downloadable, both answers merged
    let (_, _, urls) = get(port, "/api/urls/");
    assert_eq!(json(&urls), serde_json::json!({ &id: format!("/results/{id}/merged.pcap") }));
    let (status, head, pcap) = get(port, &format!("/results/{id}/merged.pcap"));
    assert_eq!(status, 200);
    assert!(head.contains("content-type: application/vnd.tcpdump.pcap"), "{head}");
    let downloaded = s.dir.path().join("downloaded.pcap");
    std::fs::write(&downloaded, &pcap).expect("write");
    let expected = s.dir.path().join("expected.pcap");
    std::fs::write(&expected, filter_pcap(&std::fs::read(capture()).expect("capture"), job["query"].as_str().expect("query")).expect("filtered"))
        .expect("write");
    assert!(packets(&expected) > 0);
    assert_eq!(packets(&downloaded), 2 * packets(&expected));
    assert_eq!(pcap, std::fs::read(s.data().join("pcap").join(&id).join("merged.pcap")).expect("spooled"));

    // path traversal and anything but a 32-hex id and the capture's name: 404, JSON
    for path in [
        "/results/../vantage.toml".to_string(),
        "/results/%2e%2e/%2e%2e/vantage.toml".to_string(),
        format!("/results/{id}/status.json"),
        format!("/results/{id}/query.json"),
        format!("/results/{id}/..%2fstatus.json"),
        format!("/results/{id}/%2e%2e%2f%2e%2e%2fvantage.toml"),
        format!("/results/{}/merged.pcap", id.to_uppercase()),
        format!("/results/{}/merged.pcap", &id[..31]),
        format!("/results/{id}x/merged.pcap"),
        format!("/results/{id}/merged.pcap%00"),
        format!("/results/{}/merged.pcap", "0".repeat(32)),
    ] {
        let (status, _, body) = get(port, &path);
        assert_eq!(status, 404, "{path}");
        assert!(json(&body)["error"].is_string(), "{path}");
    }

    // the same request in the form and JSON forms is the same job: nothing asked again
    let asked = normal.requests().len();
    let (status, again) = post(port, "/api/", &["Content-Type: application/x-www-form-urlencoded"], b"host=192.168.2.1");
    assert_eq!((status, again["id"].as_str()), (200, Some(id.as_str())), "{again}");
    let (status, again) = post(port, "/api", &["Content-Type: application/json"], br#"{"host": ["192.168.2.1"]}"#);
    assert_eq!((status, again["id"].as_str(), again["state"].as_str()), (200, Some(id.as_str()), Some("Completed")), "{again}");
    assert_eq!(normal.requests().len(), asked, "dedup");

    // raw forms: validated, relative times resolved, a new job (the stand-in understands only
    // "and"; or/parentheses are covered by the parser's tests)
    let (status, _, body) = get(port, "/api/raw/host%20192.168.2.1%20and%20udp%20and%20after%202h%20ago");
    let raw = json(&body);
    assert_eq!(status, 200, "{raw}");
    assert_eq!(raw["query"], "host 192.168.2.1 and udp and after 2024-06-15T10:40:00Z");
    let (status, body) = post(port, "/api/query/", &[], b"host 192.168.2.1 and udp and after 2024-06-15T10:40:00Z");
    assert_eq!((status, &body["id"]), (200, &raw["id"]), "the same query is the same job: {body}");
    assert_eq!(final_status(port, raw["id"].as_str().expect("id"))["state"], "Completed");

    // bad requests: 400 with the reason
    for (method, path, body, reason) in [
        ("GET", "/api/uri/host/192.168.2.1/bogus", "", "Unrecognized clause in URI: bogus"),
        ("GET", "/api/uri/host", "", "Incomplete HOST clause"),
        ("POST", "/api/", "", "Empty request"),
        ("POST", "/api/", "hostname=x", "hostname"),
        ("POST", "/api/", "{\"host\": \"300.1.1.1\"}", "300.1.1.1"),
        ("GET", "/api/raw/host%20192.168.2.1%20and", "", "Invalid Stenographer query"),
        ("POST", "/api/query", "port 70000", "Invalid Stenographer query"),
        ("GET", "/api/status/nothex", "", "not a job id"),
    ] {
        let (status, _, answer) = http(port, method, path, &[], body.as_bytes()).expect("answer");
        let answer = json(&answer);
        assert_eq!(status, 400, "{method} {path}: {answer}");
        assert!(answer["error"].as_str().is_some_and(|e| e.contains(reason)), "{method} {path}: {answer}");
    }

    // listings: ids split on , ; + tab space; unknown ids left out
    let other = "0".repeat(32);
    let (_, _, ids) = get(port, &format!("/api/ids/{other}+{id};{other},%09{id}"));
    assert_eq!(json(&ids), serde_json::json!([id, id]));
    let (_, _, all) = get(port, "/api/ids");
    assert_eq!(json(&all).as_array().map(Vec::len), Some(2));
    let (_, _, stats) = get(port, "/api/stats/alpha,broken");
    let stats = json(&stats);
    assert_eq!(stats["sensors"]["alpha"]["indexfile_current_reads"], "0", "{stats}");
    assert!(stats["sensors"]["broken"].as_str().is_some_and(|e| e.contains("500")), "{stats}");
    assert!(stats["spool"]["free_bytes"].as_u64().is_some_and(|b| b > 0), "{stats}");
    let (status, _, jobs) = get(port, "/api/jobs/");
    assert_eq!(status, 200);
    assert_eq!(json(&jobs), serde_json::json!({"queued": [], "running": []}));
    let (status, cleanup) = post(port, "/api/cleanup", &[], b"");
    assert_eq!((status, cleanup["ran"].as_bool()), (200, Some(true)), "{cleanup}");
    assert_eq!(cleanup["expired"], serde_json::json!([]), "nothing is 48 h old: {cleanup}");
}

#[test]
fn low_spool_space_is_413_and_forces_a_cleanup() {
    let s = Setup::new();
    let sensor = s.standin();
    // more free space than any disk has: every request is refused
    let config = s.config(&[("alpha", sensor.port)], "free_bytes = \"1000PB\"");
    let (_server, port) = s.serve(&config);
    let (status, _, body) = get(port, "/api/uri/host/192.168.2.1");
    let answer = json(&body);
    assert_eq!(status, 413, "{answer}");
    assert!(answer["error"].as_str().is_some_and(|e| e.contains("spool full")), "{answer}");
    assert!(sensor.requests().is_empty(), "nothing was asked");
    assert!(s.data().join("pcap/.cleanup").is_file(), "a cleanup ran");
    let (_, _, ids) = get(port, "/api/ids");
    assert_eq!(json(&ids), serde_json::json!([]));
}

/// The embedded default: the server running a job in-process is killed while the sensor
/// answers; a worker started afterwards on the same spool finds the abandoned job (unlocked,
/// unchanged for its lease, in no queue), re-queues it and finishes it.
#[test]
fn a_job_abandoned_by_a_killed_server_is_finished_by_a_worker() {
    let done = killed_mid_query(false);
    assert_eq!(done["recoveries"], 1, "{done}");
    assert!(done["events"].as_array().expect("events").iter().any(|e| e["message"].as_str().is_some_and(|m| m.contains("worker lost in state Requesting"))));
}

/// Production: with the Redis queue a worker killed mid-query loses its lease; the queue
/// hands the step to another worker, which finishes the job.
#[test]
fn a_job_of_a_killed_redis_worker_is_finished_by_another() {
    let done = killed_mid_query(true);
    assert_eq!(done["recoveries"], 0, "the queue re-queued the step itself: {done}");
}

/// Submits a query whose sensor answers only after 30 s, kills the process running it as
/// soon as the sensor was asked, lets a fresh worker finish it; returns the final status.
fn killed_mid_query(redis: bool) -> Value {
    let s = Setup::new();
    let sensor = s.standin();
    sensor.set_query_delay(Duration::from_secs(30));
    let redis_line = if redis { format!("redis_url = \"{}\"\n", vantage_tests::redis_url()) } else { String::new() };
    let config = s.config(&[("alpha", sensor.port)], "idle_sleep = \"100ms\"");
    std::fs::write(&config, format!("{redis_line}{}", std::fs::read_to_string(&config).expect("config"))).expect("config");
    let worker = |name: &str| {
        let args = ["worker", "--queues", "pcap-query,pcap-io", "--lease-secs", "1", "--no-schedule"];
        Killed(s.vantage(&config, &args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap_or_else(|e| panic!("{name}: {e}")))
    };
    let (first, id) = if redis {
        let out = process::ok(s.vantage(&config, &["pcap", "query", "host", "192.168.2.1", "--json"]).stderr(Stdio::null()));
        let queued = json(out.as_bytes());
        assert_eq!(queued["state"], "Created", "a worker runs it: {queued}");
        (worker("worker A"), queued["id"].as_str().expect("id").to_string())
    } else {
        let (server, port) = s.serve(&config);
        let (status, _, body) = get(port, "/api/uri/host/192.168.2.1");
        assert_eq!(status, 302);
        (server, json(&body)["id"].as_str().expect("id").to_string())
    };
    until(Duration::from_secs(30), "the query to reach the sensor", || sensor.requests().iter().any(|r| r.path == "/query").then_some(()));
    drop(first); // SIGKILL: no chance to clean up
    let spool = s.data().join("pcap");
    let stuck: Value = json(&std::fs::read(spool.join(&id).join("status.json")).expect("status"));
    assert_eq!(stuck["state"], "Requesting");

    sensor.set_query_delay(Duration::ZERO);
    let _second = worker("worker B");
    let done = until(Duration::from_secs(60), "the abandoned job to finish", || {
        let v: Value = serde_json::from_slice(&std::fs::read(spool.join(&id).join("status.json")).ok()?).ok()?;
        (v["state"] == "Completed").then_some(v)
    });
    assert_eq!(done["requests"]["alpha"]["state"], "Request Complete", "{done}");
    assert!(packets(&spool.join(&id).join("merged.pcap")) > 0);
    let again = json(process::ok(s.vantage(&config, &["pcap", "query", "host", "192.168.2.1", "--wait", "--json"]).stderr(Stdio::null())).as_bytes());
    assert_eq!((again["id"].as_str(), again["state"].as_str()), (Some(id.as_str()), Some("Completed")), "{again}");
    done
}

/// `vantage serve` runs a job whose sensor holds its answer; `vantage pcap cancel --wait` (another
/// process) stops it: Cancelled, nothing left in the job directory but its records. The API
/// then refuses to cancel it again (409), an unknown job is 404, a bad id 400. Asked again, the
/// capture is a new job, cancelled with `POST /api/cancel/{id}`.
#[test]
fn a_running_job_is_cancelled_from_the_cli_and_through_the_api() {
    let s = Setup::new();
    let sensor = s.standin();
    sensor.set_query_delay(Duration::from_secs(3600));
    let config = s.config(&[("alpha", sensor.port)], "");
    let (_server, port) = s.serve(&config);
    let (status, _, body) = get(port, "/api/uri/host/192.168.2.1");
    assert_eq!(status, 302);
    let id = json(&body)["id"].as_str().expect("id").to_string();
    let queries = || sensor.requests().iter().filter(|r| r.path == "/query").count();
    until(Duration::from_secs(30), "the query to reach the sensor", || (queries() == 1).then_some(()));

    let out = s.vantage(&config, &["pcap", "cancel", &id, "--wait", "--json"]).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let cancelled = json(&out.stdout);
    assert_eq!(cancelled["state"], "Cancelled", "{cancelled}");
    assert!(cancelled["events"].as_array().expect("events").iter().any(|e| e["message"] == "cancelled by an analyst"), "{cancelled}");
    let job_dir = s.data().join("pcap").join(&id);
    let mut left: Vec<String> = std::fs::read_dir(&job_dir).expect("job dir").flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    left.sort();
    assert_eq!(left, [".lock", "cancel", "query.json", "status.json"], "no partial answer stays");
    assert_eq!(final_status(port, &id)["state"], "Cancelled");

    let (status, refused) = post(port, &format!("/api/cancel/{id}"), &[], b"");
    assert_eq!(status, 409, "{refused}");
    assert!(refused["error"].as_str().is_some_and(|e| e.contains("already Cancelled")), "{refused}");
    let out = s.vantage(&config, &["pcap", "cancel", &id]).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already Cancelled: nothing to cancel"), "{}", String::from_utf8_lossy(&out.stderr));
    let (status, unknown) = post(port, &format!("/api/cancel/{}", "0".repeat(32)), &[], b"");
    assert_eq!((status, unknown["error"].as_str().is_some_and(|e| e.contains("no pcap job"))), (404, true), "{unknown}");
    let (status, bad) = post(port, "/api/cancel/nothex", &[], b"");
    assert_eq!(status, 400, "{bad}");

    // asked again: a new job of the same id, cancelled through the API
    let (status, _, body) = get(port, "/api/uri/host/192.168.2.1");
    assert_eq!(status, 302);
    assert_eq!(json(&body)["id"], id.as_str());
    until(Duration::from_secs(30), "the new job's query to reach the sensor", || (queries() == 2).then_some(()));
    let (status, asked) = post(port, &format!("/api/cancel/{id}"), &[], b"");
    assert_eq!(status, 200, "{asked}");
    assert!(["Requesting", "Cancelled"].contains(&asked["state"].as_str().unwrap_or("")), "{asked}");
    assert_eq!(final_status(port, &id)["state"], "Cancelled");
}

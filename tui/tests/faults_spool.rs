//! The pcap spool's file system really full: a small tmpfs mounted as `[pcap] spool_dir`
//! (unmounted by a guard even when a test fails; mounting needs root — without it these tests
//! fail saying so, they never skip). A sensor answer bigger than the space, a merge bigger
//! than what is left, and a spool already full: the job fails with the file system's error or
//! the request gets 413, partial files are removed, and no partial capture is ever served.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use vantage_tests::process::{self, Killed, TmpfsMount, free_port, http, until};
use vantage_tests::steno_standin::{Behaviour, Standin, issue, make_ca, pcap_dir, sensor_toml};

const NOW: &str = "2024-06-15T12:40:00Z";

struct Setup {
    dir: tempfile::TempDir,
    spool: TmpfsMount,
    rt: tokio::runtime::Runtime,
    ca: vantage_tests::steno_standin::Ca,
    server: vantage_tests::steno_standin::Issued,
    client: vantage_tests::steno_standin::Issued,
}

impl Setup {
    fn new(size: &str) -> Setup {
        let spool = TmpfsMount::new(size);
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = make_ca(dir.path(), "ca");
        let server = issue(dir.path(), &ca, "server", "localhost", 30, true);
        let client = issue(dir.path(), &ca, "client", "vantage", 30, false);
        Setup { dir, spool, rt: tokio::runtime::Runtime::new().expect("runtime"), ca, server, client }
    }

    /// A classic pcap of about `bytes`: android.pcap's packets repeated.
    fn big_pcap(&self, bytes: usize) -> PathBuf {
        let src = std::fs::read(pcap_dir().join("android.pcap")).expect("android.pcap");
        let mut out = src[..24].to_vec();
        while out.len() < bytes {
            out.extend_from_slice(&src[24..]);
        }
        let path = self.dir.path().join(format!("big-{bytes}.pcap"));
        std::fs::write(&path, out).expect("write");
        path
    }

    /// A stand-in answering every query with the whole of `pcap`.
    fn standin(&self, pcap: &Path) -> Standin {
        let s = self.rt.block_on(Standin::start(&self.ca.cert, &self.server, pcap));
        s.set_behaviour(Behaviour::Everything);
        s
    }

    /// `vantage serve` (in-process queue: it runs the jobs) with the spool on the tmpfs.
    fn serve(&self, sensors: &[(&str, u16)]) -> (Killed, u16) {
        let config = self.dir.path().join("vantage.toml");
        let mut text = format!("[pcap]\nspool_dir = \"{}\"\nidle_sleep = \"100ms\"\nfree_bytes = \"512KB\"\nfree_nodes = 10\n", self.spool.path.display());
        for (name, port) in sensors {
            text.push_str(&sensor_toml(name, *port, &self.ca.cert, &self.client));
        }
        std::fs::write(&config, text).expect("config");
        let port = free_port();
        let data = self.dir.path().join("data");
        let args = ["--config", config.to_str().expect("utf8"), "--data-dir", data.to_str().expect("utf8"), "serve", "--listen", &format!("127.0.0.1:{port}")];
        let child = Killed(process::vantage(env!("CARGO_BIN_EXE_vantage"), NOW, &args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("serve"));
        until(Duration::from_secs(30), "vantage serve", || process::get(port, "/healthz").filter(|(s, _, _)| *s == 200));
        (child, port)
    }

    fn job_files(&self, id: &str) -> Vec<String> {
        let mut left: Vec<String> =
            std::fs::read_dir(self.spool.path.join(id)).expect("job dir").flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        left.sort();
        left
    }
}

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(body)))
}

/// Submits a capture request; returns its job id.
fn submit(port: u16, host: &str) -> String {
    let (status, _, body) = http(port, "GET", &format!("/api/uri/host/{host}"), &[], b"").expect("answer");
    assert_eq!(status, 302, "{}", String::from_utf8_lossy(&body));
    json(&body)["id"].as_str().expect("id").to_string()
}

/// Polls the job until it is final; every GET of its capture meanwhile must be a 404 (a
/// failed job has none). Returns the final status.
fn final_status_serving_nothing(port: u16, id: &str) -> Value {
    until(Duration::from_secs(60), "a final job state", || {
        let (status, _, body) = http(port, "GET", &format!("/results/{id}/merged.pcap"), &[], b"").expect("answer");
        assert_eq!(status, 404, "no capture is served for this job: {} bytes", body.len());
        let (status, _, body) = http(port, "GET", &format!("/api/status/{id}"), &[], b"").expect("answer");
        assert_eq!(status, 200);
        let job = json(&body)[id].clone();
        ["Completed", "Failed", "Error", "Cancelled"].contains(&job["state"].as_str().unwrap_or("")).then_some(job)
    })
}

fn says_no_space(v: &Value) -> bool {
    let text = v.to_string().to_lowercase();
    text.contains("no space left") || text.contains("spool full") || text.contains("enospc")
}

/// A 5 MB answer into a 3 MB spool: the sensor's download fails with ENOSPC, the job ends
/// Error naming it, the partial answer is deleted (the space is free again) and nothing is
/// served; the next request is accepted again (no 413) since the space came back.
#[test]
fn an_answer_bigger_than_the_spool_fails_the_job_and_leaves_no_partial_file() {
    let s = Setup::new("3m");
    let free_before = s.spool.free_bytes();
    let big = s.big_pcap(5 << 20);
    let sensor = s.standin(&big);
    let (_server, port) = s.serve(&[("alpha", sensor.port)]);
    let id = submit(port, "192.168.2.1");
    let done = final_status_serving_nothing(port, &id);
    assert_eq!(done["state"], "Error", "{done}");
    assert_eq!(done["requests"]["alpha"]["state"], "Error", "{done}");
    assert!(says_no_space(&done["requests"]["alpha"]), "the sensor's error names the full file system: {done}");
    assert_eq!(s.job_files(&id), [".lock", "query.json", "status.json"], "the partial answer was deleted");
    let free_after = s.spool.free_bytes();
    assert!(free_after + (64 << 10) >= free_before, "the space is free again: {free_after} of {free_before}");
    let (status, _, body) = http(port, "GET", "/api/uri/host/192.168.2.2", &[], b"").expect("answer");
    assert_eq!(status, 302, "accepted again once the space is back: {}", String::from_utf8_lossy(&body));
}

/// Two 1.3 MB answers fit a 4 MB spool, their merge does not: the merge fails with ENOSPC,
/// the job ends Failed, `merged.pcap.tmp` is removed, and no capture is ever served.
#[test]
fn a_merge_bigger_than_the_free_space_fails_and_serves_nothing() {
    let s = Setup::new("4m");
    let answer = s.big_pcap(1300 << 10);
    let (a, b) = (s.standin(&answer), s.standin(&answer));
    let (_server, port) = s.serve(&[("alpha", a.port), ("beta", b.port)]);
    let id = submit(port, "192.168.2.1");
    let done = final_status_serving_nothing(port, &id);
    assert_eq!(done["state"], "Failed", "{done}");
    assert_eq!(done["successes"], serde_json::json!(["alpha", "beta"]), "both answers were stored: {done}");
    assert!(says_no_space(&done["events"]), "the merge's error names the full file system: {done}");
    let left = s.job_files(&id);
    assert!(!left.iter().any(|f| f.starts_with("merged")), "no merged output, partial or whole, is left: {left:?}");
    assert!(done.get("merged").is_none() || done["merged"].is_null(), "{done}");
}

/// A spool with less free space than `free_bytes` (filled by another file): requests get 413
/// "spool full" at once, a cleanup is forced, no sensor is asked and no job directory made.
#[test]
fn a_really_full_spool_is_413() {
    let s = Setup::new("2m");
    let sensor = s.standin(&pcap_dir().join("android.pcap"));
    let (_server, port) = s.serve(&[("alpha", sensor.port)]);
    // fill it: write until the file system refuses
    let filler = s.spool.path.join("filler");
    let out = Command::new("dd").args(["if=/dev/zero", &format!("of={}", filler.display()), "bs=64k"]).stderr(Stdio::piped()).output().expect("dd");
    assert!(String::from_utf8_lossy(&out.stderr).contains("No space left"), "dd filled the tmpfs: {}", String::from_utf8_lossy(&out.stderr));
    assert!(s.spool.free_bytes() < 512 << 10);
    let (status, _, body) = http(port, "GET", "/api/uri/host/192.168.2.1", &[], b"").expect("answer");
    let answer = json(&body);
    assert_eq!(status, 413, "{answer}");
    assert!(answer["error"].as_str().is_some_and(|e| e.contains("spool full")), "{answer}");
    assert!(sensor.requests().iter().all(|r| r.path != "/query"), "no sensor was asked");
    let dirs: Vec<String> = std::fs::read_dir(&s.spool.path).expect("spool").flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    assert!(dirs.iter().all(|d| d.len() != 32), "no job directory was made: {dirs:?}");
    let (_, _, ids) = http(port, "GET", "/api/ids", &[], b"").expect("answer");
    assert_eq!(json(&ids), serde_json::json!([]));
}

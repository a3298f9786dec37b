//! The real `vantage flows` commands on the embedded default and on PostgreSQL: imports of the
//! shared nfdump and Zeek samples (files and standard input), located rejections and exit
//! codes, `--strict`, status; the OA run of a day from spot-ml's results with a `[flows]`
//! section (relative paths) and the analyst's reads of its outputs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use vantage_tests::TestPg;
use vantage_tests::process::vantage;

const NOW: &str = "2024-06-15T12:40:00Z";

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/flows").join(name)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("JSON ({e}): {}", text(&out.stdout)))
}

/// Runs the import checks against the store `store_args` names.
fn imports_and_status(dir: &Path, store_args: &[&str]) {
    let run = |args: &[&str]| vantage(env!("CARGO_BIN_EXE_vantage"), NOW, &[store_args, args].concat()).current_dir(dir).output().expect("run vantage");
    let scan = sample("synscan-nfdump.csv");
    let zeek = sample("zeek-conn.log");
    let records = std::fs::read_to_string(&scan).expect("sample").lines().count() as u64 - 4;
    let zeek_records = std::fs::read_to_string(&zeek).expect("sample").lines().filter(|l| !l.starts_with('#')).count() as u64;
    let report = json(&run(&["flows", "import", "--json", scan.to_str().expect("utf8"), zeek.to_str().expect("utf8")]));
    assert_eq!((report["imported"].as_u64(), report["rejected_records"].as_u64()), (Some(records + zeek_records), Some(0)), "{report}");

    // a bad line: located, the rest stored, exit 3; --strict: nothing, exit 1
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "ts,td,sa,da,sp,dp,pr,ipkt,ibyt\n2024-06-15 12:00:00,0.5,10.0.0.1,10.0.0.2,1234,53,UDP,1,80\n2024-06-15 12:00:01,0.5,10.0.0.1,10.0.0.2,1234,99999,UDP,1,80\n").expect("write");
    let strict = run(&["flows", "import", "--strict", bad.to_str().expect("utf8")]);
    assert_eq!(strict.status.code(), Some(1), "{}", text(&strict.stderr));
    assert!(text(&strict.stdout).contains("nothing imported: 1 rejected records (--strict)"), "{}", text(&strict.stdout));
    let out = run(&["flows", "import", bad.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr).trim(), format!("{}:3: dp: not a port: \"99999\"", bad.display()));
    assert!(text(&out.stdout).starts_with("imported 1 flows of 2 records"), "{}", text(&out.stdout));

    // standard input (Zeek JSON lines)
    let mut child = vantage(env!("CARGO_BIN_EXE_vantage"), NOW, &[store_args, &["flows", "import", "--json", "-"]].concat())
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let lines = std::fs::read(sample("zeek-conn.json.log")).expect("sample");
    child.stdin.take().expect("stdin").write_all(&lines).expect("write");
    let stdin = json(&child.wait_with_output().expect("wait"));
    let json_records = text(&lines).lines().filter(|l| !l.trim().is_empty()).count() as u64;
    assert_eq!(stdin["imported"].as_u64(), Some(json_records));

    let status = json(&run(&["flows", "status", "--json"]));
    assert_eq!(status["flows"].as_u64(), Some(records + zeek_records + 1 + json_records), "{status}");
    assert_eq!(status["first"].as_str(), Some("2010-07-04T20:24:16Z"), "the syn scan is the oldest");
    let missing = run(&["flows", "import", "no-such-file.csv"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("no-such-file.csv"), "{}", text(&missing.stderr));
}

#[test]
fn flows_import_and_status_on_the_embedded_store() {
    let dir = tempfile::tempdir().expect("dir");
    imports_and_status(dir.path(), &["--data-dir", dir.path().to_str().expect("utf8")]);
}

#[tokio::test(flavor = "multi_thread")]
async fn flows_import_and_status_on_postgresql() {
    let dir = tempfile::tempdir().expect("dir");
    let pg = TestPg::create().await;
    let url = pg.url.clone();
    let path = dir.path().to_path_buf();
    tokio::task::spawn_blocking(move || imports_and_status(&path, &["--data-dir", path.to_str().expect("utf8"), "--database-url", &url])).await.expect("checks");
    pg.drop_db().await;
}

/// `flows oa` on the 1kxun day with `[flows]` naming an ipranges file, a network context and a
/// safelist next to the config and a reputation service nobody listens on (a warning, not a
/// failed run), then `suspicious` (20 columns by rank, `--ip`, safelisted rows hidden as the
/// file says now), `edges`, `chords`, `ingest-summary`; a bad results line is exit 1 naming it,
/// and what the run stored stays.
fn oa_and_reads(dir: &Path, store_args: &[&str]) {
    let dead = vantage_tests::process::free_port();
    let toml = format!("[flows]\nipranges = \"ranges.csv\"\nnetworkcontext = \"nc.csv\"\nsafelist = [\"safe.txt\"]\n[flows.reputation_service]\nurl = \"http://127.0.0.1:{dead}/rep\"\n");
    std::fs::write(dir.join("vantage.toml"), toml).expect("config");
    std::fs::write(dir.join("ranges.csv"), "192.168.0.0,192.168.255.255,lab\n").expect("ranges");
    std::fs::write(dir.join("nc.csv"), "srcIP,name\n192.168.0.0/16,DMZ.Lab\n").expect("network context");
    let safelist = dir.join("safe.txt");
    std::fs::write(&safelist, "").expect("safelist");
    let config = dir.join("vantage.toml");
    let common = [store_args, &["--config", config.to_str().expect("utf8")]].concat();
    let run = |args: &[&str]| vantage(env!("CARGO_BIN_EXE_vantage"), NOW, &[common.as_slice(), args].concat()).current_dir("/").output().expect("run vantage");
    json(&run(&["flows", "import", "--json", sample("1kxun-nfdump.csv").to_str().expect("utf8")]));
    let line = |t: &str, sip: &str, dip: &str, sport: u16, dport: u16, score: &str| {
        format!("2016-08-02 {t}\t2016\t8\t2\t0\t0\t0\t0.0\t{sip}\t{dip}\t{sport}\t{dport}\tUDP\t1\t66\t0\t0\t{score}")
    };
    let results = dir.join("flow_results.csv");
    let rows = [line("02:19:37", "192.168.115.8", "8.8.8.8", 51024, 53, "1e-9"), line("02:19:37", "106.187.35.246", "192.168.115.8", 443, 51025, "2e-9"), line("03:00:00", "10.1.1.1", "10.2.2.2", 1, 2, "0.3")];
    std::fs::write(&results, rows.join("\n")).expect("results");
    let oa = run(&["flows", "oa", "--date", "2016-08-02", "--limit", "2", "--results", results.to_str().expect("utf8"), "--json"]);
    let report = json(&oa);
    assert_eq!((&report["scores"], &report["beacons"]), (&2.into(), &0.into()), "the capture lasts minutes: no beacon: {report}");
    let warning = format!("warning: reputation service http://127.0.0.1:{dead}/rep: 1 of 1 batches failed (batch 1 of 1: ");
    assert!(text(&oa.stderr).starts_with(&warning) && text(&oa.stderr).contains("3 of 3 addresses are unknown (-1)"), "{}", text(&oa.stderr));
    assert_eq!(report["warnings"].as_array().map(Vec::len), Some(1), "{report}");

    let suspicious = json(&run(&["flows", "suspicious", "--date", "2016-08-02", "--json"]));
    let list = suspicious.as_array().expect("array");
    assert_eq!(list.len(), 2, "--limit 2: {suspicious}");
    assert_eq!(list[0].as_object().expect("object").len(), 20);
    assert_eq!((list[0]["rank"].as_i64(), list[1]["rank"].as_i64()), (Some(0), Some(1)));
    assert_eq!((list[0]["srcip_internal"].as_i64(), list[0]["dstip_internal"].as_i64()), (Some(1), Some(0)), "ranges.csv beside the config: {suspicious}");
    assert_eq!(list[0]["dst_rep"], "http:UNKNOWN:-1", "{suspicious}");
    let only = json(&run(&["flows", "suspicious", "--date", "2016-08-02", "--ip", "106.187.35.246", "--json"]));
    assert_eq!(only.as_array().map(Vec::len), Some(1), "{only}");
    // the safelist as the file says at each read
    let count = |args: &[&str]| json(&run(&[&["flows", "suspicious", "--date", "2016-08-02", "--json"], args].concat())).as_array().map_or(0, Vec::len);
    std::fs::write(&safelist, "# the Japanese host\n106.187.35.0/24\n").expect("safelist");
    assert_eq!((count(&[]), count(&["--ip", "106.187.35.246"])), (1, 0), "safelisted");
    std::fs::write(&safelist, "").expect("safelist");
    assert_eq!(count(&[]), 2, "back");
    let edges = json(&run(&["flows", "edges", "--tstart", "2016-08-02 02:19:37", "--src", "8.8.8.8", "--dst", "192.168.115.8", "--json"]));
    let edges = edges.as_array().expect("edges");
    assert!(!edges.is_empty() && edges.iter().all(|e| e["tstart"].as_str().is_some_and(|t| t.starts_with("2016-08-02 02:19"))), "{edges:?}");
    let chords = json(&run(&["flows", "chords", "--date", "2016-08-02", "--ip", "192.168.115.8", "--json"]));
    assert!(chords.as_array().is_some_and(|c| c.len() >= 2), "two peers, both ways: {chords}");
    let ingest = json(&run(&["flows", "ingest-summary", "--date", "2016-08-02", "--json"]));
    let day: i64 = ingest.as_array().expect("minutes").iter().map(|m| m["total"].as_i64().expect("total")).sum();
    let status = json(&run(&["flows", "status", "--json"]));
    assert_eq!(Some(day), status["flows"].as_i64(), "the sample is one day");

    std::fs::write(&results, format!("{}\n2016-08-02 02:19:37\tbroken", rows[0])).expect("results");
    let out = run(&["flows", "oa", "--date", "2016-08-02", "--results", results.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("flow_results.csv:2: line: 2 fields, expected 18"), "{}", text(&out.stderr));
    assert_eq!(json(&run(&["flows", "suspicious", "--date", "2016-08-02", "--json"])), suspicious, "the last run's outputs stay");

    // the built-in scorer: its file is spot-ml's, and `oa` on it equals `oa` on the built-in scores
    let scores = dir.join("scores.tsv");
    let top = json(&run(&["flows", "score", "--date", "2016-08-02", "--limit", "5", "--out", scores.to_str().expect("utf8"), "--json"]));
    assert_eq!(top.as_array().map(Vec::len), Some(5), "{top}");
    let written = std::fs::read_to_string(&scores).expect("scores file");
    assert_eq!(written.lines().count() as i64, day, "every flow of the day");
    assert!(written.lines().all(|l| l.split('\t').count() == 18), "18 TAB-separated fields");
    let ascending: Vec<f64> = written.lines().map(|l| l.rsplit('\t').next().and_then(|s| s.parse().ok()).expect("score")).collect();
    assert!(ascending.windows(2).all(|w| w[0] <= w[1]), "most suspicious first");
    json(&run(&["flows", "oa", "--date", "2016-08-02", "--limit", "10", "--results", scores.to_str().expect("utf8"), "--json"]));
    let from_file = json(&run(&["flows", "suspicious", "--date", "2016-08-02", "--json"]));
    json(&run(&["flows", "oa", "--date", "2016-08-02", "--limit", "10", "--json"]));
    let built_in = json(&run(&["flows", "suspicious", "--date", "2016-08-02", "--json"]));
    let keys = |v: &serde_json::Value| v.as_array().expect("rows").iter().map(|r| (r["tstart"].clone(), r["srcip"].clone(), r["dstip"].clone())).collect::<Vec<_>>();
    assert_eq!(keys(&from_file), keys(&built_in), "the same connections by rank");
    assert_eq!(from_file.as_array().map(Vec::len), Some(10));

    // an analyst's score: the rows leave the list and go to ml_feedback.csv
    let src = built_in[0]["srcip"].as_str().expect("srcip").to_string();
    let marked = json(&run(&["flows", "score-connection", "--date", "2016-08-02", "--sev", "3", "--src", &src, "--json"]));
    let n = marked.as_array().map_or(0, Vec::len);
    assert!(n >= 1, "{marked}");
    let left = json(&run(&["flows", "suspicious", "--date", "2016-08-02", "--json"]));
    assert_eq!(left.as_array().map(Vec::len), Some(10 - n));
    let feedback = std::fs::read_to_string(dir.join("flows/2016-08-02/ml_feedback.csv")).expect("ml_feedback.csv");
    assert_eq!(feedback.lines().count(), n + 1, "a header and the rows: {feedback}");
    let none = run(&["flows", "score-connection", "--date", "2016-08-02", "--sev", "1"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(text(&none.stderr).contains("give at least one of --src, --dst, --sport, --dport"), "{}", text(&none.stderr));
    assert_eq!(run(&["flows", "score-connection", "--date", "2016-08-02", "--sev", "4", "--src", &src]).status.code(), Some(2), "clap refuses --sev 4");

    // the 1kxun capture lasts minutes: pairs are scored, none is a beacon
    let beacons = json(&run(&["flows", "beacons", "--date", "2016-08-02", "--all", "--json"]));
    let scored = beacons["beacons"].as_array().expect("beacons");
    assert!(!scored.is_empty() && scored.iter().all(|b| b["level"] == "none"), "{beacons}");
    let flagged = json(&run(&["flows", "beacons", "--date", "2016-08-02", "--json"]));
    assert_eq!(flagged["beacons"].as_array().map(Vec::len), Some(0));

    // a storyboard: the text stored as written; the computed parts agree with `threat`
    let story = dir.join("story.txt");
    let written = "Exfiltration?\n  'quoted'; DROP TABLE flow_storyboards; --\n\"Ünïcode\" ✓\n";
    std::fs::write(&story, written).expect("story");
    let ip = "192.168.115.8";
    let board = json(&run(&["flows", "storyboard", "--date", "2016-08-02", "--ip", ip, "--title", "Host 8 talks to DNS", "--text-file", story.to_str().expect("utf8"), "--json"]));
    assert_eq!((board["title"].as_str(), board["text"].as_str()), (Some("Host 8 talks to DNS"), Some(written)), "{board}");
    let threat = json(&run(&["flows", "threat", "--date", "2016-08-02", "--ip", ip, "--json"]));
    for (direction, key) in [("inbound only", "inbound_only"), ("outbound only", "outbound_only"), ("two-way", "two_way")] {
        let peers = threat[key].as_array().expect("peers");
        let internal = peers.iter().filter(|p| p.as_str().is_some_and(|p| p.starts_with("192.168."))).count();
        let i = &board["impact"][direction];
        assert_eq!((i["internal"].as_u64(), i["external"].as_u64()), (Some(internal as u64), Some((peers.len() - internal) as u64)), "{direction}: {board}");
        let (dmz, none) = (i["classes"]["DMZ"].as_u64().unwrap_or(0), i["classes"]["none"].as_u64().unwrap_or(0));
        assert_eq!((dmz, none), (internal as u64, (peers.len() - internal) as u64), "nc.csv: the lab is a DMZ: {direction}: {board}");
    }
    assert_eq!(board["timeline"], threat["connections"], "every connection, by first seen");
    let again = json(&run(&["flows", "storyboard", "--date", "2016-08-02", "--ip", ip, "--json"]));
    assert_eq!(again["text"].as_str(), Some(written), "kept");
    let reset = run(&["flows", "reset", "--date", "2016-08-02"]);
    assert!(text(&reset.stdout).contains("1 storyboards deleted"), "{}", text(&reset.stdout));
    let after = json(&run(&["flows", "storyboard", "--date", "2016-08-02", "--ip", ip, "--json"]));
    assert_eq!((after["title"].as_str(), after["text"].as_str()), (Some(""), Some("")));
    assert!(!json(&run(&["flows", "suspicious", "--date", "2016-08-02", "--json"])).as_array().expect("rows").is_empty(), "scores kept");

    // `vantage serve` answers the same reads as JSON, and names a bad parameter with a 400
    use vantage_tests::process::{Killed, free_port, get, until};
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let serve = vantage(env!("CARGO_BIN_EXE_vantage"), NOW, &[common.as_slice(), &["serve", "--listen", &listen]].concat())
        .current_dir("/")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let _serve = Killed(serve);
    until(std::time::Duration::from_secs(30), "vantage serve", || get(port, "/healthz").filter(|(s, _, _)| *s == 200));
    let api = |path: &str| -> (u16, serde_json::Value) {
        let (status, _, body) = get(port, path).unwrap_or_else(|| panic!("GET {path}: no answer"));
        (status, serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path} ({e}): {body}")))
    };
    let cli = |args: &[&str]| json(&run(&[&["flows"], args, &["--json"]].concat()));
    for (path, args) in [
        ("/api/flows/suspicious?date=2016-08-02", vec!["suspicious", "--date", "2016-08-02"]),
        ("/api/flows/suspicious?date=2016-08-02&ip=106.187.35.246", vec!["suspicious", "--date", "2016-08-02", "--ip", "106.187.35.246"]),
        ("/api/flows/edges?tstart=2016-08-02%2002:19:37&src=8.8.8.8&dst=192.168.115.8", vec!["edges", "--tstart", "2016-08-02 02:19:37", "--src", "8.8.8.8", "--dst", "192.168.115.8"]),
        ("/api/flows/chords?date=2016-08-02&ip=192.168.115.8", vec!["chords", "--date", "2016-08-02", "--ip", "192.168.115.8"]),
        ("/api/flows/threat?date=2016-08-02&ip=192.168.115.8", vec!["threat", "--date", "2016-08-02", "--ip", "192.168.115.8"]),
        ("/api/flows/ingest-summary?date=2016-08-02", vec!["ingest-summary", "--date", "2016-08-02"]),
        ("/api/flows/beacons?date=2016-08-02&all=true", vec!["beacons", "--date", "2016-08-02", "--all"]),
        ("/api/flows/beacons?date=2016-08-02", vec!["beacons", "--date", "2016-08-02"]),
        ("/api/flows/storyboard?date=2016-08-02&ip=192.168.115.8", vec!["storyboard", "--date", "2016-08-02", "--ip", "192.168.115.8"]),
        ("/api/flows/status", vec!["status"]),
        ("/api/flows/score?date=2016-08-02&limit=5", vec!["score", "--date", "2016-08-02", "--limit", "5"]),
        ("/api/flows/score?date=2016-08-02&window_days=3", vec!["score", "--date", "2016-08-02", "--window-days", "3"]),
    ] {
        let (status, body) = api(path);
        assert_eq!((status, &body), (200, &cli(&args)), "{path}");
    }
    // the server reads the safelist as the file says now, as the CLI does; a bad line is a 500
    // naming it (the CLI's exit 1)
    std::fs::write(&safelist, "8.8.8.8\n").expect("safelist");
    let (status, hidden) = api("/api/flows/suspicious?date=2016-08-02");
    assert_eq!((status, &hidden), (200, &cli(&["suspicious", "--date", "2016-08-02"])));
    assert!(hidden.as_array().is_some_and(|rows| !rows.is_empty() && rows.iter().all(|r| r["dstip"] != "8.8.8.8" && r["srcip"] != "8.8.8.8")), "{hidden}");
    std::fs::write(&safelist, "8.8.8.8\n300.1.1.1\n").expect("safelist");
    let (status, body) = api("/api/flows/threat?date=2016-08-02&ip=192.168.115.8");
    let says = format!("{}:2: `300.1.1.1`: ", safelist.display());
    assert!(status == 500 && body["error"].as_str().is_some_and(|e| e.contains(&says)), "{status} {body}");
    let out = run(&["flows", "threat", "--date", "2016-08-02", "--ip", "192.168.115.8"]);
    assert!(out.status.code() == Some(1) && text(&out.stderr).contains(&says), "{}", text(&out.stderr));
    std::fs::write(&safelist, "").expect("safelist");
    for (path, says) in [
        ("/api/flows/suspicious", "date: missing"),
        ("/api/flows/suspicious?date=2016-13-01", "date: `2016-13-01`"),
        ("/api/flows/chords?date=2016-08-02&ip=300.1.1.1", "ip: `300.1.1.1`"),
        ("/api/flows/edges?tstart=yesterday&src=8.8.8.8&dst=192.168.115.8", "tstart `yesterday`"),
        ("/api/flows/beacons?date=2016-08-02&all=maybe", "all: `maybe`"),
        ("/api/flows/storyboard?date=2016-08-02", "ip: missing"),
        ("/api/flows/score?date=2016-08-02&limit=-1", "limit: `-1`"),
        ("/api/flows/score?date=2016-08-02&window_days=0", "window_days: `0`: at least 1"),
    ] {
        let (status, body) = api(path);
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body["error"].as_str().is_some_and(|e| e.contains(says)), "{path}: {body}");
    }
}

#[test]
fn flows_oa_and_its_reads_on_the_embedded_store() {
    let dir = tempfile::tempdir().expect("dir");
    oa_and_reads(dir.path(), &["--data-dir", dir.path().to_str().expect("utf8")]);
}

#[tokio::test(flavor = "multi_thread")]
async fn flows_oa_and_its_reads_on_postgresql() {
    let dir = tempfile::tempdir().expect("dir");
    let pg = TestPg::create().await;
    let url = pg.url.clone();
    let path = dir.path().to_path_buf();
    tokio::task::spawn_blocking(move || oa_and_reads(&path, &["--data-dir", path.to_str().expect("utf8"), "--database-url", &url])).await.expect("checks");
    pg.drop_db().await;
}

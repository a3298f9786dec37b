//! The real dashboard in a real terminal (tmux, send-keys, capture-pane), on both
//! deployments: the embedded default on a fresh demo store with no server (every tab, a
//! period change, an attacker detail, CSV and PNG exports that parse, a clean exit), and
//! production — PostgreSQL + Redis with a separate `vantage worker` process computing what
//! the dashboard asks for; the PCAP tab requesting a capture from a Stenographer stand-in,
//! showing its summary and saving it; and the Flows tab on the demo's flows day: a connection
//! scored (it leaves the list, as `vantage flows suspicious` agrees), its capture request
//! pre-filled, a storyboard written on the input line and read back by the CLI.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use vantage_tests::process::{self, Killed, ok};
use vantage_tests::tmux::{self, Session};

const NOW: &str = "2024-06-15T12:40:00Z";

fn vantage(args: &[&str]) -> Command {
    process::vantage(env!("CARGO_BIN_EXE_vantage"), NOW, args)
}

fn dashboard_command(args: &[&str]) -> String {
    dashboard_command_at(NOW, args)
}

fn dashboard_command_at(now: &str, args: &[&str]) -> String {
    tmux::dashboard_command(env!("CARGO_BIN_EXE_vantage"), now, args)
}

fn exported(dir: &Path, ext: &str) -> std::path::PathBuf {
    let files: Vec<_> =
        std::fs::read_dir(dir).expect("export dir").filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == ext)).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

#[test]
fn embedded_dashboard_walkthrough_with_detail_and_exports() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path().to_str().expect("utf8");
    let out = dir.path().join("out");
    ok(&mut vantage(&["--data-dir", d, "demo", "--no-tui", "--scale", "0.05"]));

    let s = Session::start("embedded", &dashboard_command(&["--data-dir", d, "--export-dir", out.to_str().expect("utf8")]), 80, 24);
    let screen = s.wait_for("overview with data", |s| s.contains("Top countries") && s.contains("total ") && s.contains("up to date"));
    assert!(screen.contains("1 Overview") && screen.contains("0 Ops") && screen.contains("sqlite + memory"), "{screen}");

    for (key, expect) in [
        ("2", "Top attackers"),
        ("3", "Combinations"),
        ("4", "Incident types"),
        ("5", "My incidents"),
        ("8", "not scored yet"),
        // the dashboard started the feed: without [dynfw] there is none
        ("9", "DynFW not configured: set [dynfw] endpoint and server_key"),
        ("0", "Deployment"),
        ("1", "Top passwords"),
    ] {
        s.keys(&[key]);
        s.wait_for(expect, |s| s.contains(expect));
    }
    // leak check on the Passwords tab: typed masked, answered from the store `demo` filled
    s.keys(&["3", "c", "1", "2", "3", "4", "5", "6"]);
    let typing = s.wait_for("masked input", |s| s.contains("password to check: ******_"));
    assert!(!typing.contains("123456_"), "{typing}");
    s.keys(&["Enter"]);
    s.wait_for("leak answer", |s| s.contains("LEAKED (6 characters)"));
    s.keys(&["1"]);
    s.keys(&["."]);
    s.wait_for("period 1w with data", |s| s.contains("period 1w (Week)") && s.contains("up to date") && !s.contains("loading"));
    s.keys(&[","]);
    s.wait_for("period 1d", |s| s.contains("period 1d (Day)"));

    // attacker detail: Attackers tab, focus the table, open its first row
    s.keys(&["2"]);
    s.wait_for("top attackers with data", |s| s.contains("Top attackers") && s.contains("│ip ") && s.contains("up to date"));
    s.keys(&["Tab", "Enter"]);
    let detail = s.wait_for("attacker detail", |s| s.contains("address") && s.contains("Incidents of") && s.contains("total "));
    assert!(detail.contains("n requests a capture (Docket /api/uri/host/") && detail.contains("Esc back"), "{detail}");
    s.keys(&["p"]);
    s.wait_for("PNG export", |s| s.contains("exported"));
    let png = exported(&out, "png");
    assert!(png.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("selected_attacker_incidents_graph-1d-")), "{png:?}");
    let info = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).expect("open"))).read_info().expect("a PNG").info().clone();
    assert_eq!((info.width, info.height), (1200, 600));

    // back to the table (focus restored), export it as CSV
    s.keys(&["Escape"]);
    s.wait_for("back on Attackers", |s| s.contains("Top attackers") && !s.contains("address"));
    s.keys(&["e"]);
    s.wait_for("CSV export", |s| s.contains("exported"));
    let csv = exported(&out, "csv");
    let mut reader = csv::Reader::from_path(&csv).expect("csv");
    assert_eq!(reader.headers().expect("header").iter().collect::<Vec<_>>(), ["ip", "count"]);
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("rows");
    assert!(!rows.is_empty() && rows.iter().all(|r| r[0].parse::<std::net::IpAddr>().is_ok() && r[1].parse::<u64>().is_ok()), "{rows:?}");

    s.keys(&["?"]);
    s.wait_for("help", |s| s.contains("previous / next period"));
    s.quit_cleanly("Top attackers");
    assert!(!std::fs::read_to_string(dir.path().join("vantage.log")).unwrap_or_default().contains("panicked"));
}

/// `vantage demo` opens the dashboard with the replayed demo feed on tab 9, labelled as demo,
/// its changes arriving live.
#[test]
fn demo_shows_the_replayed_dynfw_feed_labelled_as_demo() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path().to_str().expect("utf8");
    ok(&mut vantage(&["--data-dir", d, "demo", "--no-tui", "--scale", "0.05"]));
    let s = Session::start("demo-feed", &dashboard_command(&["--data-dir", d, "demo", "--scale", "0.05"]), 100, 30);
    s.wait_for("the dashboard", |s| s.contains("1 Overview"));
    s.keys(&["9"]);
    let screen = s.wait_for("the demo feed with live changes", |s| s.contains("DEMO FEED (replayed, not Sentinel's list)") && (s.contains("added") || s.contains("removed")));
    assert!(!screen.contains("not configured"), "{screen}");
    s.quit_cleanly("DEMO FEED");
}

/// The Events tab on IntelMQ's sample events: a month of January 2022, a taxonomy picked from
/// the data, and an ASN's operator view.
#[test]
fn events_tab_with_imported_intelmq_events() {
    const AT: &str = "2022-01-12T12:00:00Z";
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path().to_str().expect("utf8");
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/intelmq/intelmq-events.jsonl");
    ok(&mut process::vantage(env!("CARGO_BIN_EXE_vantage"), AT, &["--data-dir", d, "events", "import", sample]));
    let s = Session::start("events", &dashboard_command_at(AT, &["--data-dir", d]), 120, 40);
    s.wait_for("the dashboard", |s| s.contains("1 Overview"));
    s.keys(&["6", ".", "."]);
    let screen = s.wait_for("a month of events", |s| s.contains("last 30 days (1m)") && s.contains("total ") && s.contains("rank"));
    assert!(screen.contains("taxonomy  all (but test)") && screen.contains("distinct source IPs"), "{screen}");
    s.keys(&["t", "t"]);
    s.wait_for("a taxonomy from the data", |s| s.contains("taxonomy  ") && !s.contains("all (but test)") && !s.contains("any (test too)"));
    s.keys(&["t"]);
    s.keys(&["Tab", "Tab", "Enter"]);
    s.wait_for("the operator view", |s| s.contains("Events per day in AS") && s.contains("malware names") && s.contains("total "));
    s.quit_cleanly("malware names");
}

#[test]
fn pcap_tab_requests_a_capture_shows_it_and_saves_it() {
    use vantage_tests::steno_standin::{Standin, issue, make_ca, pcap_dir, sensor_toml};
    let dir = tempfile::tempdir().expect("dir");
    let ca = make_ca(dir.path(), "ca");
    let server = issue(dir.path(), &ca, "server", "localhost", 30, true);
    let client = issue(dir.path(), &ca, "client", "vantage", 30, false);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sensor = rt.block_on(Standin::start(&ca.cert, &server, &pcap_dir().join("android.pcap")));
    let config = dir.path().join("vantage.toml");
    std::fs::write(&config, format!("[pcap]\nidle_sleep = \"100ms\"\n{}", sensor_toml("alpha", sensor.port, &ca.cert, &client))).expect("config");
    let (data, out) = (dir.path().join("data"), dir.path().join("out"));
    let args = ["--config", config.to_str().expect("utf8"), "--data-dir", data.to_str().expect("utf8"), "--export-dir", out.to_str().expect("utf8")];
    let s = Session::start("pcap", &dashboard_command(&args), 120, 40);
    s.wait_for("the dashboard", |s| s.contains("1 Overview"));
    s.keys(&["7"]);
    s.wait_for("the sensor's health", |s| s.contains("Capture request") && s.contains("alpha") && s.contains("idle"));
    s.keys(&["n", "host 192.168.2.1 udp"]);
    s.wait_for("the request typed", |s| s.contains("capture: host 192.168.2.1 udp_"));
    s.keys(&["Enter"]);
    s.wait_for("the job completed", |s| s.contains("Completed") && s.contains("1/1 ok"));
    // the jobs table is the third panel
    s.keys(&["Tab", "Tab", "Enter"]);
    let detail = s.wait_for("the capture's summary", |s| s.contains("Top talkers") && s.contains("packets  ") && s.contains("192.168.2.255"));
    assert!(detail.contains("sensor   alpha: Request Complete") && detail.contains("udp/53") && detail.contains("protos   udp"), "{detail}");
    s.keys(&["w"]);
    s.wait_for("the file name", |s| s.contains("save capture to: ") && s.contains(".pcap_"));
    s.keys(&["Enter"]);
    s.wait_for("saved", |s| s.contains("exported"));
    let saved = exported(&out, "pcap");
    let id = saved.file_stem().and_then(|n| n.to_str()).expect("name").to_string();
    assert_eq!(std::fs::read(&saved).expect("saved"), std::fs::read(data.join("pcap").join(&id).join("merged.pcap")).expect("spooled"));
    assert!(sensor.requests().iter().any(|r| r.path == "/query" && r.body.starts_with("host 192.168.2.1 and udp and after ")));
    s.quit_cleanly("Top talkers");
}

/// Runs `vantage flows …` with `args` on the data directory `d`, as JSON.
fn flows_json(d: &str, args: &[&str]) -> serde_json::Value {
    let out = ok(&mut vantage(&[&["--data-dir", d, "flows"], args, &["--json"]].concat()));
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("JSON ({e}): {out}"))
}

/// The value of a row's field as text.
fn field(row: &serde_json::Value, name: &str) -> String {
    match &row[name] {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[test]
fn flows_tab_scores_a_connection_requests_its_capture_and_writes_its_storyboard() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path().to_str().expect("utf8");
    ok(&mut vantage(&["--data-dir", d, "demo", "--no-tui", "--scale", "0.01"]));
    let last = field(&flows_json(d, &["status"]), "last");
    let day = &last[..10];
    let before = flows_json(d, &["suspicious", "--date", day]).as_array().cloned().expect("rows");
    let top = before.first().expect("the demo's day has suspicious connections").clone();
    let (src, dst, tstart) = (field(&top, "srcip"), field(&top, "dstip"), field(&top, "tstart"));

    let s = Session::start("flows", &dashboard_command(&["--data-dir", d]), 150, 45);
    s.wait_for("the dashboard", |s| s.contains("1 Overview"));
    s.keys(&["8"]);
    let screen = s.wait_for("the day's connections", |s| s.contains(&format!("listed   {} not scored yet", before.len())) && s.contains(&src));
    assert!(screen.contains(&format!("day      {day}")) && screen.contains("Flows per minute") && screen.contains("Beacons"), "{screen}");

    // n: the PCAP request of the pair in its minute; Esc leaves it
    s.keys(&["n"]);
    let minute = format!("{}T{}:00Z", &tstart[..10], &tstart[11..16]);
    s.wait_for("the capture request", |s| s.contains(&format!("capture: host {src} host {dst} after {minute} before {minute}_")));
    // (a key sent right after Escape would reach the terminal as Alt and that key)
    s.keys(&["Escape"]);
    s.wait_for("the request abandoned", |s| !s.contains("capture: host"));

    // v 3: the connection scored benign leaves the list, here and for the CLI
    s.keys(&["v"]);
    s.wait_for("the severity prompt", |s| s.contains("score the selected connection: 1 high"));
    s.keys(&["3"]);
    s.wait_for("scored", |s| s.contains("scored 3 (low, benign)"));
    let after = flows_json(d, &["suspicious", "--date", day]).as_array().cloned().expect("rows");
    let same = |r: &serde_json::Value| ["srcip", "dstip", "sport", "dport"].iter().all(|f| field(r, f) == field(&top, f));
    assert_eq!(after.len(), before.len() - before.iter().filter(|r| same(r)).count(), "every row of the pattern scored");
    assert!(!after.iter().any(same));
    s.wait_for("the shorter list", |s| s.contains(&format!("listed   {} not scored yet", after.len())));

    // b: title, then the text on one line with \n, saved as two lines
    let screen = s.screen();
    let subject = screen.lines().find_map(|l| l.split("selected ").nth(1)).and_then(|rest| rest.split_whitespace().next()).expect("the selected IP").to_string();
    s.keys(&["b"]);
    s.wait_for("the title prompt", |s| s.contains("storyboard title: _"));
    s.keys(&["Scan from the lab", "Enter"]);
    s.wait_for("the text prompt", |s| s.contains("storyboard text (\\n: new line): _"));
    s.keys(&["first line\\nsecond line", "Enter"]);
    s.wait_for("saved", |s| s.contains(&format!("storyboard of {subject} on {day} saved")) && s.contains("second line"));
    let story = flows_json(d, &["storyboard", "--date", day, "--ip", &subject]);
    assert_eq!((field(&story, "title"), field(&story, "text")), ("Scan from the lab".to_string(), "first line\nsecond line".to_string()));
    s.quit_cleanly("Suspicious connections");
}

#[tokio::test]
async fn production_dashboard_with_a_separate_worker() {
    let pg = vantage_tests::TestPg::create().await;
    // a Redis database of its own: other tests clear the default one
    let redis = format!("{}/7", vantage_tests::redis_url());
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path().to_str().expect("utf8");
    let common = ["--data-dir", d, "--database-url", pg.url.as_str(), "--redis-url", redis.as_str()];
    let with = |extra: &[&str]| vantage(&[&common[..], extra].concat());
    ok(&mut with(&["clear-cache", "--all"]));
    ok(&mut with(&["demo", "--no-tui", "--scale", "0.05"]));
    let _worker = Killed(with(&["worker", "--concurrency", "2"]).stderr(Stdio::null()).spawn().expect("worker"));

    let s = Session::start("production", &dashboard_command(&common), 80, 24);
    // the worker plans once a minute: the aggregations in its first round, the resources they
    // blocked in the next ones, so the whole overview takes about two planning rounds
    let screen = s.wait_for_within("overview computed by the worker", Duration::from_secs(300), |s| {
        s.contains("Top countries") && s.contains("total ") && s.contains("up to date") && !s.contains("loading")
    });
    assert!(screen.contains("postgres + redis"), "{screen}");
    s.keys(&["0"]);
    s.wait_for("operations", |s| s.contains("Deployment") && s.contains("postgres + redis"));
    s.quit_cleanly("Deployment");
    ok(&mut with(&["clear-cache", "--all"]));
    pg.drop_db().await;
}

//! The demo fills every view, not only statistics: the real `vantage demo` on the embedded
//! default and on PostgreSQL, then the events questions, the demo capture and the flows day
//! through the CLI (and the capture's packets imported as flows);
//! and the dashboard's Events and PCAP tabs on the engine after [`Engine::demo`], on both
//! backends. A second demo adds nothing.

use std::process::Output;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use vantage_core::engine::{Channel, Engine, Parts, Update};
use vantage_core::events::model::Field;
use vantage_core::events::questions::View;
use vantage_core::progress::NoProgress;
use vantage_tests::process::vantage;
use vantage_tests::{BOTH, TestPg, TestStore, t};
use vantage_views::app::{App, Effect};
use vantage_views::keys::Action;
use vantage_views::panels::{Detail, Source, Tab};

const NOW: &str = "2024-06-15T12:40:00Z";
const TODAY: &str = "2024-06-15";

fn run(dir: &std::path::Path, db: &[&str], args: &[&str]) -> Output {
    let global = [&["--data-dir", dir.to_str().expect("utf8")][..], db].concat();
    vantage(env!("CARGO_BIN_EXE_vantage"), NOW, &[&global[..], args].concat()).current_dir(dir).output().expect("run vantage")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn json(out: &Output) -> Value {
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("JSON ({e}): {}", text(&out.stdout)))
}

/// `vantage demo` twice, then the events questions and `pcap status`, with `db` as the
/// store flags (none: the embedded default).
fn demo_fills_events_and_pcap(db: &[&str]) {
    let dir = tempfile::tempdir().expect("dir");
    let out = run(dir.path(), db, &["demo", "--no-tui", "--seed", "5", "--scale", "0.01"]);
    assert!(out.status.success(), "{db:?}: {}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("demo device token registered"), "{stdout}");
    assert!(stdout.contains("demo events: 409 IntelMQ sample events re-dated onto 90 days 2024-03-18 … 2024-06-15"), "{stdout}");
    assert!(stdout.contains("demo capture written: pcap job ") && stdout.contains(" Completed ("), "{stdout}");

    let per_day = json(&run(dir.path(), db, &["events", "per-day", "--json"]));
    let rows = per_day["rows"].as_array().expect("rows");
    assert!(rows.len() > 10, "{db:?}: {per_day}");
    assert_eq!(rows.last().map(|r| r[0].clone()), Some(Value::from(TODAY)), "{db:?}: the last day is today");
    let top = json(&run(dir.path(), db, &["events", "top-asns", "--json"]));
    assert!(top["rows"].as_array().is_some_and(|r| !r.is_empty()), "{db:?}: {top}");

    let status = json(&run(dir.path(), &[], &["pcap", "status", "--json"]));
    let jobs = status.as_object().expect("jobs by id");
    assert_eq!(jobs.len(), 1, "{status}");
    let job = jobs.values().next().expect("the demo job");
    assert_eq!((job["state"].as_str(), job["successes"].clone()), (Some("Completed"), serde_json::json!(["demo"])), "{job}");
    assert!(job["requests"]["demo"]["message"].as_str().is_some_and(|m| m.starts_with("demo capture")), "{job}");
    let saved = dir.path().join("demo.pcap");
    let id = jobs.keys().next().expect("id").clone();
    assert!(run(dir.path(), &[], &["pcap", "fetch", &id, "--out", saved.to_str().expect("utf8")]).status.success());
    assert_eq!(std::fs::metadata(&saved).expect("saved").len(), job["bytes"].as_u64().expect("bytes"));

    // the flows day: yesterday's samples, scan and beacon, scored and through the OA run
    assert!(stdout.contains("demo flows: 2428 flows on 2024-06-14 (nfdump samples and a synthetic beacon), OA: 500 suspicious"), "{stdout}");
    let suspicious = json(&run(dir.path(), db, &["flows", "suspicious", "--date", "2024-06-14", "--json"]));
    let suspicious = suspicious.as_array().expect("rows");
    assert_eq!(suspicious.len(), 501, "{db:?}: the scorer's 500 and the beacon's pair");
    assert!(suspicious.iter().any(|r| r["dstip"] == "203.0.113.80"), "{db:?}: the beacon feeds the suspicious list");
    let top: Vec<&str> = suspicious.iter().take(20).filter_map(|r| r["srcip"].as_str()).collect();
    assert!(top.contains(&"172.16.0.8"), "{db:?}: the scanner among the 20 most suspicious: {top:?}");
    let beacons = json(&run(dir.path(), db, &["flows", "beacons", "--date", "2024-06-14", "--json"]));
    let first = &beacons["beacons"][0];
    assert_eq!((first["src"].as_str(), first["dst"].as_str()), (Some("192.168.115.23"), Some("203.0.113.80")), "{db:?}: {beacons}");
    assert!(first["score"].as_f64().is_some_and(|s| s >= 0.9), "{db:?}: a high beacon score: {first}");

    // again: every part already filled, nothing doubled
    let again = text(&run(dir.path(), db, &["demo", "--no-tui"]).stdout);
    assert!(again.contains("already holds") && again.contains("the store already holds 409 events"), "{again}");
    assert!(again.contains(&format!("demo capture already in the spool: pcap job {id} Completed")), "{again}");
    assert!(again.contains("flows: the store already holds 2428 flows"), "{again}");
    assert_eq!(json(&run(dir.path(), db, &["events", "status", "--json"]))["events"], 409);
    assert_eq!(json(&run(dir.path(), &[], &["pcap", "status", "--json"])).as_object().map(|m| m.len()), Some(1));

    // the demo capture's packets become flows (nfpcapd's one-way flows: the scan's 2,002)
    let report = json(&run(dir.path(), db, &["flows", "import", "--job", &id, "--json"]));
    assert_eq!((report["imported"].as_u64(), report["captures"][0]["packets"].as_u64()), (Some(2002), Some(2011)), "{db:?}: {report}");
    assert_eq!(json(&run(dir.path(), db, &["flows", "status", "--json"]))["flows"], 2428 + 2002);
    let two_way = json(&run(dir.path(), db, &["flows", "import", "--pcap", saved.to_str().expect("utf8"), "--biflow", "--strict", "--json"]));
    assert!(two_way["imported"].as_u64().is_some_and(|n| n < 2002), "{db:?}: requests and answers folded: {two_way}");
    let missing = run(dir.path(), db, &["flows", "import", "--pcap", "no-such.pcap"]);
    assert!(!missing.status.success() && text(&missing.stderr).contains("no-such.pcap"), "{db:?}: {}", text(&missing.stderr));
    let unknown = run(dir.path(), db, &["flows", "import", "--job", "0123456789abcdef0123456789abcdef"]);
    assert!(!unknown.status.success() && text(&unknown.stderr).contains("no pcap job 0123456789abcdef0123456789abcdef"), "{db:?}: {}", text(&unknown.stderr));
}

#[test]
fn demo_fills_events_and_a_demo_capture_on_the_embedded_default() {
    demo_fills_events_and_pcap(&[]);
}

#[test]
fn demo_fills_events_and_a_demo_capture_on_postgres() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let pg = rt.block_on(TestPg::create());
    demo_fills_events_and_pcap(&["--database-url", pg.url.as_str()]);
    rt.block_on(pg.drop_db());
}

/// Sends the engine requests among `effects` one after the other, each answered before the
/// next is sent, and hands every update to the app.
fn pump(app: &mut App, channel: &Channel, effects: Vec<Effect>) {
    for effect in effects {
        let Effect::Engine(request) = effect else { continue };
        channel.send(request.clone());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            assert!(Instant::now() < deadline, "no answer to {request:?}");
            let Some(update) = channel.recv_timeout(Duration::from_millis(100)) else { continue };
            match &update {
                Update::Failed { error, .. } => panic!("{request:?} failed: {error}"),
                Update::Unavailable { part, message } => panic!("{part} unavailable: {message}"),
                _ => {}
            }
            let answer = !matches!(update, Update::Ready { .. } | Update::Progress { .. });
            app.on_event(update);
            if answer {
                break;
            }
        }
    }
}

fn rows(app: &App, source: &Source) -> Vec<Vec<String>> {
    let panel = app.panels().into_iter().find(|p| &p.source == source).unwrap_or_else(|| panic!("a {source:?} panel"));
    app.table(&panel).map(|t| t.rows).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn after_the_demo_the_events_and_pcap_tabs_have_rows_on_both_backends() {
    let now = t(NOW);
    for kind in BOTH {
        let ts = TestStore::new(kind, now).await;
        let engine = Engine::open_parts(&ts.config, Parts::StoreOnly).await.expect("engine");
        let first = engine.demo(7, 0.01, Arc::new(NoProgress)).await.expect("demo");
        let events = first.events.as_ref().expect("events imported");
        assert_eq!((events.import.imported, events.import.rejected_lines), (409, 0), "{kind:?}");
        assert!(first.statistics.is_some() && first.capture_created, "{kind:?}");
        let again = engine.demo(7, 0.01, Arc::new(NoProgress)).await.expect("demo again");
        assert!(again.statistics.is_none() && again.events.is_none() && !again.capture_created, "{kind:?}: nothing filled twice");
        assert_eq!((again.events_before, &again.capture), (409, &first.capture), "{kind:?}");
        let flows = first.flows.as_ref().expect("the flows day imported");
        assert_eq!((flows.imported, flows.oa.scores, again.flows_before), (2428, 500, 2428), "{kind:?}");
        assert!(again.flows.is_none(), "{kind:?}: the flows day is not imported twice");
        engine.close().await;

        let channel = Channel::start(ts.config.clone()).expect("channel");
        let mut app = App::new(Vec::new(), false);
        let effects = app.apply(Action::Tab(Tab::Events));
        pump(&mut app, &channel, effects);
        let top = rows(&app, &Source::Events(View::TopAsns(Field::Taxonomy)));
        assert!(!top.is_empty(), "{kind:?}: top ASNs of the last week");
        let per_day = app.events_table(View::PerDay(Some(Field::Taxonomy))).expect("per day answered");
        assert_eq!(per_day.text_rows().last().map(|r| r[0].clone()).as_deref(), Some(TODAY), "{kind:?}");

        let effects = app.apply(Action::Tab(Tab::Pcap));
        pump(&mut app, &channel, effects);
        let jobs = rows(&app, &Source::PcapJobs);
        assert_eq!(jobs.len(), 1, "{kind:?}: {jobs:?}");
        assert_eq!((jobs[0][1].as_str(), jobs[0][2].as_str()), ("Completed", "demo"), "{kind:?}: marked as the demo in the sensors column");
        let at = app.panels().iter().position(|p| p.source == Source::PcapJobs).expect("jobs panel");
        for _ in 0..at {
            app.apply(Action::Focus(1));
        }
        let effects = app.apply(Action::Open);
        assert_eq!(app.detail, Some(Detail::Capture { id: first.capture.id.clone() }), "{kind:?}");
        pump(&mut app, &channel, effects);
        let talkers = rows(&app, &Source::CaptureTalkers);
        let addresses: Vec<&str> = talkers.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(addresses, ["172.16.0.8", "64.13.134.52"], "{kind:?}: the scanner and scanme.nmap.org");
        let info = app.panels().into_iter().find(|p| p.source == Source::CaptureInfo).map(|p| app.text(&p)).expect("capture info");
        assert!(info.iter().any(|l| l.starts_with("sensor   demo: Request Complete (demo capture")), "{kind:?}: {info:?}");
        assert!(info.iter().any(|l| l.starts_with("packets  2011 ")), "{kind:?}: {info:?}");
        channel.shutdown();
        ts.finish().await;
    }
}

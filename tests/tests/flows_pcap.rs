//! Flows built from captures (`flows import --pcap`, core/src/flows/pcap.rs) against the real
//! `nfpcapd` (nfdump, Debian's package; scripts/test.sh installs it): for every shared pcap,
//! nfpcapd writes its flow files, `nfdump -o csv` prints them, and Vantage's flows of the same
//! capture agree per 5-tuple — the number of flows, their packets and bytes. Then the import
//! on both backends: one transaction with the capture's flows, two-way flows with `--biflow`,
//! and a capture that cannot be read fails the import with its name and stores nothing.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use vantage_core::engine::{Engine, Parts};
use vantage_core::flows::import::{Captures, Input};
use vantage_core::flows::model::RawFlow;
use vantage_core::flows::parse::FlowReader;
use vantage_core::flows::pcap::{self, BuildSettings};
use vantage_core::progress::NoProgress;
use vantage_tests::{BOTH, TestStore, t};

/// The shared captures with the packets nfpcapd reads from each.
const CAPTURES: [&str; 8] = ["1kxun", "WebattackSQLinj", "android", "dns_exfiltration", "log4j-webapp-exploit", "skype", "ssh", "synscan"];

fn capture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/pcaps").join(format!("{name}.pcap"))
}

/// A flow's 5-tuple.
type Tuple = (IpAddr, IpAddr, u16, u16, String);

/// Per 5-tuple: flows, packets, bytes.
fn per_tuple(flows: &[RawFlow]) -> BTreeMap<Tuple, (u64, i64, i64)> {
    let mut out: BTreeMap<Tuple, (u64, i64, i64)> = BTreeMap::new();
    for f in flows {
        let e = out.entry((f.sip, f.dip, f.sport, f.dport, f.proto.clone())).or_default();
        e.0 += 1;
        e.1 += f.ipkt;
        e.2 += f.ibyt;
    }
    out
}

/// nfpcapd's flows of `pcap`, as `nfdump -o csv` prints them, read back by the importer's parser.
fn nfpcapd(pcap: &Path, dir: &Path) -> Vec<RawFlow> {
    let run = |cmd: &mut Command| {
        let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e} (scripts/test.sh installs nfdump)"));
        assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    std::fs::create_dir_all(dir).expect("dir");
    run(Command::new("nfpcapd").arg("-r").arg(pcap).arg("-l").arg(dir));
    let csv = run(Command::new("nfdump").env("TZ", "UTC").arg("-R").arg(dir).args(["-o", "csv"]));
    FlowReader::new(Cursor::new(csv)).map(|f| f.expect("nfdump's own csv")).collect()
}

/// Every shared capture: Vantage's flows and nfpcapd's agree per 5-tuple (flows, packets,
/// bytes), and so do their start times to the second.
#[test]
fn flows_of_the_shared_pcaps_agree_with_nfpcapd_per_5_tuple() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut compared = 0;
    for name in CAPTURES {
        let theirs = nfpcapd(&capture(name), &tmp.path().join(name));
        let ours = pcap::build(&capture(name), BuildSettings::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!theirs.is_empty(), "{name}: nfpcapd made flows");
        assert_eq!(per_tuple(&ours.flows), per_tuple(&theirs), "{name}: per 5-tuple (flows, packets, bytes)");
        let starts = |flows: &[RawFlow]| {
            let mut v: Vec<(i64, Tuple)> = flows.iter().map(|f| (f.treceived.timestamp(), (f.sip, f.dip, f.sport, f.dport, f.proto.clone()))).collect();
            v.sort();
            v
        };
        assert_eq!(starts(&ours.flows), starts(&theirs), "{name}: start seconds");
        compared += theirs.len();
    }
    assert!(compared > 3000, "{compared} flows compared");
}

/// Shorter timeouts cut more flows; two-way flows fold each reply into its request's record
/// without losing a packet or byte.
#[test]
fn timeouts_cut_flows_and_biflows_keep_every_packet() {
    let skype = capture("skype");
    let default = pcap::build(&skype, BuildSettings::default()).expect("default");
    let short = pcap::build(&skype, BuildSettings { active: 20, idle: 5, biflow: false }).expect("short");
    assert!(short.flows.len() > default.flows.len(), "{} > {}", short.flows.len(), default.flows.len());
    let totals = |flows: &[RawFlow]| flows.iter().fold((0, 0), |(p, b), f| (p + f.ipkt + f.opkt, b + f.ibyt + f.obyt));
    assert_eq!(totals(&short.flows), totals(&default.flows), "the same packets, cut differently");
    let two_way = pcap::build(&skype, BuildSettings { biflow: true, ..BuildSettings::default() }).expect("biflow");
    assert_eq!(totals(&two_way.flows), totals(&default.flows));
    assert!(two_way.flows.len() < default.flows.len() && two_way.flows.iter().any(|f| f.opkt > 0), "replies folded in");
}

/// `flows import --pcap` through the engine on both backends: the capture's flows in one
/// transaction beside a CSV input; an unreadable capture names itself and stores nothing.
#[tokio::test(flavor = "multi_thread")]
async fn pcap_imports_store_the_flows_and_a_bad_capture_stores_nothing_on_both_backends() {
    let synscan = capture("synscan");
    let expected = pcap::build(&synscan, BuildSettings::default()).expect("flows").flows.len() as u64;
    for kind in BOTH {
        let ts = TestStore::new(kind, t("2024-06-15T12:40:00Z")).await;
        let engine = Engine::open_parts(&ts.config, Parts::StoreOnly).await.expect("engine");
        let csv = Input { name: "zeek".into(), reader: Box::new(Cursor::new(std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/flows/zeek-conn.log")).expect("zeek"))) };
        let captures = Captures { paths: vec![synscan.clone()], settings: BuildSettings::default() };
        let report = engine.flows().import_with_captures(vec![csv], captures, &[], true, Arc::new(NoProgress)).await.expect("import");
        assert!(report.committed, "{kind:?}");
        assert_eq!((report.captures.len(), report.captures[0].flows, report.captures[0].packets), (1, expected, 2011), "{kind:?}");
        let stored = engine.flows().status().await.expect("status").flows;
        assert_eq!(stored as u64, report.imported, "{kind:?}");
        assert!(stored as u64 > expected, "{kind:?}: the Zeek lines too");

        let broken = ts.data_dir().join("broken.pcap");
        let mut bytes = std::fs::read(&synscan).expect("read");
        bytes.truncate(5_000);
        bytes[32..36].copy_from_slice(&[0xff, 0xff, 0xff, 0x7f]);
        std::fs::write(&broken, &bytes).expect("write");
        for bad in [broken, ts.data_dir().join("missing.pcap")] {
            let captures = Captures { paths: vec![synscan.clone(), bad.clone()], settings: BuildSettings::default() };
            let err = engine.flows().import_with_captures(Vec::new(), captures, &[], false, Arc::new(NoProgress)).await.expect_err("unreadable");
            assert!(err.to_string().contains(&bad.display().to_string()), "{kind:?}: names the file: {err}");
            assert_eq!(engine.flows().status().await.expect("status").flows, stored, "{kind:?}: nothing stored");
        }
        engine.close().await;
        ts.finish().await;
    }
}

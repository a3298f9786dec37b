//! Raw flows on both backends: the shared nfdump and Zeek samples import in one transaction
//! and read back exactly as parsed; a bad line is located and the rest import, or with
//! `strict` nothing is stored.

use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;

use vantage_core::flows::import::{self, Input};
use vantage_core::flows::parse::FlowReader;
use vantage_core::progress::NoProgress;
use vantage_tests::{BOTH, TestStore, t};

fn sample(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/flows").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn input(name: &str, text: String) -> Input {
    Input { name: name.to_string(), reader: Box::new(Cursor::new(text.into_bytes())) }
}

#[tokio::test]
async fn samples_import_in_one_transaction_and_read_back_as_parsed_on_both_backends() {
    let names = ["synscan-nfdump.csv", "zeek-conn.log", "zeek-conn.json.log"];
    let mut parsed: Vec<_> = names.iter().flat_map(|n| FlowReader::new(Cursor::new(sample(n).into_bytes())).map(|f| f.expect("valid sample"))).collect();
    parsed.sort_by_key(|f| f.treceived);
    for kind in BOTH {
        let ts = TestStore::new(kind, t("2024-06-15T12:40:00Z")).await;
        let inputs = names.iter().map(|n| input(n, sample(n))).collect();
        let report = import::import(ts.store.as_ref(), inputs, false, Arc::new(NoProgress)).await.expect("import");
        assert_eq!((report.imported, report.rejected_records, report.committed), (parsed.len() as u64, 0, true), "{kind:?}");

        let status = ts.store.flows_status().await.expect("status");
        assert_eq!(status.flows, parsed.len() as i64);
        assert_eq!((status.first, status.last), (parsed.first().map(|f| f.treceived), parsed.last().map(|f| f.treceived)), "{kind:?}");
        let all = ts.store.flows_between(t("2000-01-01T00:00:00Z"), t("2100-01-01T00:00:00Z")).await.expect("read");
        let mut all_sorted = all.clone();
        all_sorted.sort_by_key(|f| f.treceived);
        assert_eq!(all, all_sorted, "{kind:?}: by start time");
        // same multiset: compare as sorted debug strings (equal start times keep import order)
        let text = |v: &[vantage_core::flows::model::RawFlow]| {
            let mut s: Vec<String> = v.iter().map(|f| format!("{f:?}")).collect();
            s.sort();
            s
        };
        assert_eq!(text(&all), text(&parsed), "{kind:?}: every column round-trips");
        // one minute of the syn scan
        let minute = ts.store.flows_between(t("2010-07-04T20:24:00Z"), t("2010-07-04T20:25:00Z")).await.expect("read");
        let expected = parsed.iter().filter(|f| f.treceived >= t("2010-07-04T20:24:00Z") && f.treceived < t("2010-07-04T20:25:00Z")).count();
        assert_eq!(minute.len(), expected);
        assert!(expected > 100, "the scan's busiest minute");
        ts.finish().await;
    }
}

#[tokio::test]
async fn a_bad_line_is_located_and_the_rest_import_or_with_strict_nothing_is_stored_on_both_backends() {
    let good = sample("synscan-nfdump.csv");
    let mut lines: Vec<&str> = good.lines().collect();
    lines[3] = "2010-07-04 20:24:21,2010-07-04 20:24:21,0.000,172.16.0.8,no-such-address,36050,512,TCP,......S.,0,0,1,44";
    let bad = lines.join("\n");
    let records = good.lines().count() as u64 - 4;
    for kind in BOTH {
        let ts = TestStore::new(kind, t("2024-06-15T12:40:00Z")).await;
        let strict = import::import(ts.store.as_ref(), vec![input("scan.csv", bad.clone())], true, Arc::new(NoProgress)).await.expect("import");
        assert_eq!((strict.imported, strict.committed, strict.rejected_records), (0, false, 1), "{kind:?}");
        assert_eq!(strict.rejected[0].to_string(), "scan.csv:4: da: not an IP address: \"no-such-address\"");
        assert_eq!(ts.store.flows_status().await.expect("status").flows, 0, "{kind:?}: strict stored nothing");

        let lenient = import::import(ts.store.as_ref(), vec![input("scan.csv", bad.clone())], false, Arc::new(NoProgress)).await.expect("import");
        assert_eq!((lenient.records, lenient.imported, lenient.committed), (records, records - 1, true), "{kind:?}");
        assert_eq!(ts.store.flows_status().await.expect("status").flows, records as i64 - 1);
        ts.finish().await;
    }
}

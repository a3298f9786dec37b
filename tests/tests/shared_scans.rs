//! Shared scans: the precached resources of one data type, for the periods that read one
//! level, computed from one read of that level's table (`resources::compute_shared`, what a
//! `cache_resources` job runs) give exactly the values of one query per resource
//! (`resources::compute`, checked by hand in `resources.rs`), on both backends — on sview's
//! development data (ties, the 5-minute cut, empty periods) and on a generated demo year.

use std::sync::Arc;

use serde_json::Value;
use vantage_core::progress::NoProgress;
use vantage_core::statistics::aggregation::{self, Precision};
use vantage_core::statistics::ingest::{self, IngestOptions, Source};
use vantage_core::statistics::demo;
use vantage_core::statistics::model::DataType;
use vantage_core::statistics::periods::Period;
use vantage_core::statistics::resources::{self, Params, Resource};
use vantage_core::store::Store;
use vantage_tests::{BOTH, TestStore, sview, t};

const NOW: &str = "2024-06-15T12:40:00Z";

/// The periods the planner puts together: those reading one level.
const BY_LEVEL: [&[Period]; 4] =
    [&[Period::Hour], &[Period::SixHours, Period::Day], &[Period::Week], &[Period::Month, Period::ThreeMonths, Period::Year]];

/// Every precached resource × period from shared scans, each checked against its own query;
/// returns the shared values (161) in data type, level, period, resource order.
async fn shared_equal_single(store: &dyn Store, kind: vantage_tests::Kind) -> Vec<Value> {
    let mut all = Vec::new();
    for data in DataType::ALL {
        for periods in BY_LEVEL {
            let members: Vec<(&Resource, Period)> =
                periods.iter().flat_map(|p| resources::precached().filter(|r| r.data == data).map(move |r| (r, *p))).collect();
            let shared = resources::compute_shared(store, &members, t(NOW)).await.expect("shared scan");
            assert_eq!(shared.len(), members.len());
            for ((r, p), value) in members.iter().zip(&shared) {
                let single = resources::compute(store, r, *p, &Params::default(), t(NOW)).await.expect("compute");
                assert_eq!(value, &single, "{kind:?}: {}:{p} from the shared scan", r.name);
            }
            all.extend(shared);
        }
    }
    assert_eq!(all.len(), 23 * 7);
    all
}

#[tokio::test]
async fn a_shared_scan_gives_each_resource_the_value_of_its_own_query_on_sview_data() {
    let mut outputs = Vec::new();
    for kind in BOTH {
        let ts = sview::load_aggregated(kind, t(NOW)).await;
        let values = shared_equal_single(ts.store.as_ref(), kind).await;
        // the data reaches every kind of value: a non-empty list, graph point and map
        let text = serde_json::to_string(&values).expect("json");
        assert!(text.contains("\"ip\":\"192.0.2.1\"") && text.contains("\"count\":4") && text.contains("\"CZ\""), "{kind:?}: {text}");
        outputs.push(values);
        ts.finish().await;
    }
    assert_eq!(outputs[0], outputs[1], "both backends");
}

#[tokio::test]
async fn a_shared_scan_renders_ipv6_attackers_as_the_sql_does() {
    // PostgreSQL sends IPv4 addresses in binary (rendered once per address by the scan) and
    // the server's host() of every other address: both must give the SQL's texts and counts
    let lines = [
        ("2024-06-14T10:05:00Z", 9, "2001:db8::1", "CZ"),
        ("2024-06-14T11:05:00Z", 8, "2001:db8::1", "CZ"),
        ("2024-06-13T10:05:00Z", 6, "::ffff:192.0.2.1", "SK"),
        ("2024-06-12T10:05:00Z", 5, "2001:db8:0:1::", "AT"),
        ("2024-06-12T10:06:00Z", 3, "192.0.2.1", "CZ"),
    ];
    for kind in BOTH {
        let ts = sview::load(kind, t(NOW)).await;
        let file = ts.data_dir().join("ipv6.jsonl");
        let text: String = lines
            .iter()
            .map(|(time, n, ip, cc)| {
                serde_json::json!({"time": time, "raw_count": n, "sn": "0000000000000009", "device_token": "v6", "trap": "minipot_telnet", "action": "login", "ip": ip, "country": cc})
                    .to_string()
                    + "\n"
            })
            .collect();
        std::fs::write(&file, text).expect("write");
        ingest::ingest(ts.store.as_ref(), vec![Source::File(file)], IngestOptions::default(), Arc::new(NoProgress)).await.expect("ingest");
        for p in Precision::ALL {
            aggregation::aggregate(ts.store.as_ref(), p, aggregation::backfill_windows(p, t(NOW), 400), false, t(NOW), Arc::new(NoProgress))
                .await
                .expect("aggregate");
        }
        let values = shared_equal_single(ts.store.as_ref(), kind).await;
        let text = serde_json::to_string(&values).expect("json");
        // 9 + 8 incidents of one IPv6 attacker lead the year's long attacker list
        assert!(text.contains(r#"{"count":17,"ip":"2001:db8::1"}"#), "{kind:?}: {text}");
        assert!(text.contains(r#""ip":"2001:db8:0:1::""#) && text.contains(r#""ip":"::ffff:192.0.2.1""#), "{kind:?}: {text}");
        ts.finish().await;
    }
}

#[tokio::test]
async fn a_shared_scan_gives_each_resource_the_value_of_its_own_query_on_a_demo_year() {
    let mut outputs = Vec::new();
    for kind in BOTH {
        let ts = TestStore::new(kind, t(NOW)).await;
        let report = demo::run(ts.store.as_ref(), 7, t(NOW), 0.02, Arc::new(NoProgress)).await.expect("demo");
        assert!(report.rows.total() > 5_000, "{kind:?}: {}", report.rows.total());
        outputs.push(shared_equal_single(ts.store.as_ref(), kind).await);
        ts.finish().await;
    }
    assert_eq!(outputs[0], outputs[1], "both backends");
}

#[tokio::test]
async fn a_shared_scan_refuses_parametrised_resources_and_other_tables() {
    for kind in BOTH {
        let ts = sview::load_aggregated(kind, t(NOW)).await;
        let graph = resources::find("all_incidents_graph").expect("r");
        let selected = resources::find("selected_attacker_incidents_graph").expect("r");
        let ports = resources::find("all_ports_by_scans_graph").expect("r");
        let cases: [(&[(&Resource, Period)], &str); 3] = [
            (&[(graph, Period::Year), (selected, Period::Year)], "takes a parameter"),
            (&[(graph, Period::Year), (ports, Period::Year)], "reads another table"),
            (&[(graph, Period::Year), (graph, Period::Week)], "reads another table"),
        ];
        for (members, why) in cases {
            let err = resources::compute_shared(ts.store.as_ref(), members, t(NOW)).await.expect_err("refused").to_string();
            assert!(err.contains(why) && err.contains("cannot share a scan of incidents_daily"), "{kind:?}: {err}");
        }
        ts.finish().await;
    }
}

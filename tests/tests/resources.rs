//! Statistics resources on Sentinel View's development data, on both backends, with the
//! clock pinned: NOW = 2024-06-15T12:40:00Z, data NOW = 12:34:56 (see `vantage_tests::sview`).
//! Aggregated tables are back-filled first (quarterly up to 12:30, hourly up to 12:00, daily
//! up to midnight), as the refresh planner would have done.
//!
//! Expected values are derived by hand from testdata.sql and statistics.md:
//! - 1h: window [11:40, 12:40), W5 upper 12:35 → 55 one-minute points labelled 11:41 … 12:35.
//!   Raw incidents in W5: 12:34:56 (1+1+2 → label 12:35 = 4), 12:29:56 (1 → 12:30),
//!   12:24:56 (2 → 12:25), 12:14:56 (1 → 12:15), 11:54:56 (two rows → 11:55 = 2).
//! - 6h: [06:30, 12:30) on quarterly, 24 points 06:45 … 12:30; 1d: 48 points 13:00 … 12:30;
//!   1w: 3-hour buckets [06-08 12:00, 06-15 12:00) on hourly, 56 points, last label 12:00 = 4
//!   (11:54:56 ×2 + 11:34:56 + 09:34:56); 1m: 30 daily points 05-17 … 06-15;
//!   3m: 45 two-day points; 1y: [2023-06-03, 2024-06-15) in 14-day buckets from 2023-05-22,
//!   28 points, the last labelled 2024-06-17 (after now, as the spec says).
//! - top attackers 1h: 192.0.2.1 (ftp 1 + small scan 1), 192.0.2.12 (2), 192.0.2.15 (2), then
//!   the four single hits; ties in byte order of the address text.

use serde_json::{Value, json};
use vantage_core::statistics::periods::Period;
use vantage_core::statistics::resources::{self, Params};
use vantage_core::store::Store;
use vantage_tests::{BOTH, TestStore, sview, t};

const NOW: &str = "2024-06-15T12:40:00Z";

async fn prepared(kind: vantage_tests::Kind) -> TestStore {
    sview::load_aggregated(kind, t(NOW)).await
}

async fn get(store: &dyn Store, name: &str, period: &str, params: Params) -> Value {
    let r = resources::find(name).expect("resource");
    resources::compute(store, r, period.parse::<Period>().expect("period"), &params, t(NOW)).await.expect("compute")
}

fn nonzero(graph: &Value) -> Vec<(String, i64)> {
    graph
        .as_array()
        .expect("graph is a list")
        .iter()
        .filter(|p| p["count"].as_i64() != Some(0))
        .map(|p| (p["bucket"].as_str().unwrap_or("").to_string(), p["count"].as_i64().unwrap_or(0)))
        .collect()
}

fn labels(graph: &Value) -> (usize, String, String) {
    let a = graph.as_array().expect("list");
    let l = |i: usize| a[i]["bucket"].as_str().unwrap_or("").to_string();
    (a.len(), l(0), l(a.len() - 1))
}

fn pairs(v: &[(&str, i64)]) -> Vec<(String, i64)> {
    v.iter().map(|(a, b)| ((*a).to_string(), *b)).collect()
}

#[tokio::test]
async fn graphs_have_exact_points_labels_and_values_for_every_period() {
    for kind in BOTH {
        let ts = prepared(kind).await;
        let s = ts.store.as_ref();
        let g = get(s, "all_incidents_graph", "1h", Params::default()).await;
        assert_eq!(labels(&g), (55, "2024-06-15 11:41".into(), "2024-06-15 12:35".into()), "{kind:?}");
        assert_eq!(nonzero(&g), pairs(&[("2024-06-15 11:55", 2), ("2024-06-15 12:15", 1), ("2024-06-15 12:25", 2), ("2024-06-15 12:30", 1), ("2024-06-15 12:35", 4)]), "{kind:?}");

        let g = get(s, "all_incidents_graph", "6h", Params::default()).await;
        assert_eq!(labels(&g), (24, "2024-06-15 06:45".into(), "2024-06-15 12:30".into()));
        assert_eq!(nonzero(&g), pairs(&[("2024-06-15 06:45", 3), ("2024-06-15 09:45", 1), ("2024-06-15 11:45", 1), ("2024-06-15 12:00", 2), ("2024-06-15 12:15", 1), ("2024-06-15 12:30", 3)]), "{kind:?}");

        let g = get(s, "all_incidents_graph", "1d", Params::default()).await;
        assert_eq!(labels(&g), (48, "2024-06-14 13:00".into(), "2024-06-15 12:30".into()));

        let g = get(s, "all_incidents_graph", "1w", Params::default()).await;
        assert_eq!(labels(&g), (56, "2024-06-08 15:00".into(), "2024-06-15 12:00".into()));
        assert_eq!(nonzero(&g).last(), Some(&("2024-06-15 12:00".to_string(), 4)));

        let g = get(s, "all_incidents_graph", "1m", Params::default()).await;
        assert_eq!(labels(&g), (30, "2024-05-17 00:00".into(), "2024-06-15 00:00".into()));
        assert_eq!(nonzero(&g), pairs(&[("2024-05-27 00:00", 1), ("2024-06-06 00:00", 1), ("2024-06-09 00:00", 2), ("2024-06-11 00:00", 3), ("2024-06-14 00:00", 1), ("2024-06-15 00:00", 5)]), "{kind:?}");

        let g = get(s, "all_incidents_graph", "3m", Params::default()).await;
        assert_eq!(labels(&g), (45, "2024-03-19 00:00".into(), "2024-06-15 00:00".into()));

        let g = get(s, "all_incidents_graph", "1y", Params::default()).await;
        assert_eq!(labels(&g), (28, "2023-06-05 00:00".into(), "2024-06-17 00:00".into()));
        assert_eq!(nonzero(&g).iter().map(|p| p.1).sum::<i64>(), 43, "everything before 06-15 00:00: 65 − 22");

        let a = get(s, "all_attackers_graph", "1h", Params::default()).await;
        assert_eq!(nonzero(&a), pairs(&[("2024-06-15 11:55", 2), ("2024-06-15 12:15", 1), ("2024-06-15 12:25", 1), ("2024-06-15 12:30", 1), ("2024-06-15 12:35", 3)]));

        // ports: W, not W5 → 60 points, the 12:34:56 scans included
        let p = get(s, "all_ports_by_scans_graph", "1h", Params::default()).await;
        assert_eq!(labels(&p), (60, "2024-06-15 11:41".into(), "2024-06-15 12:40".into()));
        ts.finish().await;
    }
}

#[tokio::test]
async fn top_lists_of_1h_1w_1y() {
    for kind in BOTH {
        let ts = prepared(kind).await;
        let s = ts.store.as_ref();
        let ips = |v: &Value| v.as_array().expect("list").iter().map(|x| (x["ip"].as_str().unwrap_or("").to_string(), x["count"].as_i64().unwrap_or(0))).collect::<Vec<_>>();
        let l = get(s, "top_attackers_by_incidents_list_long", "1h", Params::default()).await;
        assert_eq!(ips(&l), pairs(&[("192.0.2.1", 2), ("192.0.2.12", 2), ("192.0.2.15", 2), ("192.0.2.2", 1), ("198.51.100.10", 1), ("203.0.113.212", 1), ("203.0.113.58", 1)]), "{kind:?}");
        let l = get(s, "top_attackers_by_incidents_list_long", "1w", Params::default()).await;
        assert_eq!(ips(&l)[..5], pairs(&[("203.0.113.58", 7), ("192.0.2.1", 6), ("192.0.2.15", 2), ("192.0.2.2", 2), ("203.0.113.212", 2)])[..], "{kind:?}");
        assert_eq!(ips(&l).len(), 11);
        let l = get(s, "top_attackers_by_incidents_list_long", "1y", Params::default()).await;
        assert_eq!(ips(&l)[..4], pairs(&[("192.0.2.1", 8), ("203.0.113.58", 8), ("192.0.2.2", 7), ("192.0.2.15", 5)])[..], "{kind:?}");

        assert_eq!(get(s, "top_countries_by_incidents_list", "1h", Params::default()).await, json!([{"country": "CZ", "count": 8}, {"country": "GB", "count": 1}, {"country": "SK", "count": 1}]));
        assert_eq!(
            get(s, "top_countries_by_incidents_list", "1w", Params::default()).await,
            json!([{"country": "CN", "count": 7}, {"country": "SK", "count": 6}, {"country": "US", "count": 6}, {"country": "CZ", "count": 2}, {"country": "DE", "count": 2}, {"country": "FR", "count": 2}])
        );
        assert_eq!(
            get(s, "top_countries_by_attackers_list", "1y", Params::default()).await,
            json!([{"country": "US", "count": 9}, {"country": "CN", "count": 4}, {"country": "CZ", "count": 3}, {"country": "SK", "count": 2}, {"country": "GB", "count": 1}, {"country": "TW", "count": 1}])
        );
        let types = get(s, "top_incident_types_by_incidents_list", "1y", Params::default()).await;
        assert_eq!(types[0], json!({"source": "fwlogs", "action": "big_port_scan", "count": 16}));
        assert_eq!(
            get(s, "top_passwords_by_usages_list", "1h", Params::default()).await,
            json!([{"password": "heslo", "count": 1}, {"password": "passw0rd", "count": 1}, {"password": "password", "count": 1}, {"password": "xxx", "count": 1}])
        );
        assert_eq!(get(s, "top_ports_by_scans_list_long", "1h", Params::default()).await[0], json!({"port": "TCP/22", "count": 2}));
        ts.finish().await;
    }
}

#[tokio::test]
async fn multiline_map_personal_and_selected_resources() {
    for kind in BOTH {
        let ts = prepared(kind).await;
        let s = ts.store.as_ref();
        let m = get(s, "top_traps_by_incidents_graph", "1d", Params::default()).await;
        assert_eq!(m["labels"], json!(["minipot_http", "fwlogs", "minipot_ftp", "minipot_smtp", "minipot_telnet"]), "{kind:?}");
        assert_eq!(m["ykeys"], json!([0, 1, 2, 3, 4]));
        let data = m["data"].as_array().expect("data");
        assert_eq!(data.len(), 48);
        let last = data.last().expect("point");
        // 12:00–12:30 bucket: http 2 (12:24:56 raw_count 2) + telnet 1 (12:29:56) + http login 1 (12:14:56)
        assert_eq!(last["bucket"], json!("2024-06-15 12:30"));
        assert_eq!((last["0"].as_i64(), last["4"].as_i64(), last["1"].as_i64()), (Some(3), Some(1), Some(0)), "{kind:?}: {last}");

        let map = get(s, "all_countries_by_incidents_list", "1d", Params::default()).await;
        assert_eq!(map, json!({"CN": 6, "US": 6, "CZ": 4, "DE": 2, "FR": 2, "SK": 2, "GB": 1}), "{kind:?}");
        let map = get(s, "all_countries_by_attackers_list", "1d", Params::default()).await;
        assert_eq!(map, json!({"US": 4, "CN": 3, "CZ": 3, "DE": 2, "FR": 2, "SK": 2, "GB": 1}), "{kind:?}");

        // device 2's token: telnet/http rows of identity 2
        let token = "2000000000000000000000000000000000000000000000000000000000000001".to_string();
        let my = resources::find("my_all_incidents_graph").expect("r");
        let params = Params::for_resource(my, None, None, &[token]).expect("valid token");
        let g = get(s, "my_all_incidents_graph", "1w", params).await;
        assert_eq!(nonzero(&g), pairs(&[("2024-06-08 15:00", 2), ("2024-06-10 15:00", 3), ("2024-06-15 03:00", 4)]), "{kind:?}");
        assert_eq!(get(s, "my_all_incidents_graph", "1w", Params::default()).await, json!([]), "no tokens → empty value");

        let sel = resources::find("selected_attacker_incidents_graph").expect("r");
        let g = get(s, "selected_attacker_incidents_graph", "1m", Params::for_resource(sel, Some("192.0.2.1"), None, &[]).expect("ip")).await;
        assert_eq!(nonzero(&g), pairs(&[("2024-06-14 00:00", 1), ("2024-06-15 00:00", 2)]), "{kind:?}");
        ts.finish().await;
    }
}

#[tokio::test]
async fn both_backends_give_identical_values_for_every_resource_and_period() {
    let mut outputs: Vec<Vec<Value>> = Vec::new();
    for kind in BOTH {
        let ts = prepared(kind).await;
        let mut values = Vec::new();
        for r in resources::RESOURCES {
            let params = Params::for_resource(
                r,
                (r.name == "selected_attacker_incidents_graph").then_some("203.0.113.58"),
                matches!(r.name, "selected_password_by_usages_graph" | "logins_of_password_by_usages_list").then_some("password"),
                &if r.name.starts_with("my_") { vec!["4000000000000000000000000000000000000000000000000000000000000001".to_string()] } else { Vec::new() },
            )
            .expect("params");
            for p in Period::ALL {
                values.push(resources::compute(ts.store.as_ref(), r, p, &params, t(NOW)).await.expect("compute"));
            }
        }
        outputs.push(values);
        ts.finish().await;
    }
    assert_eq!(outputs[0].len(), 29 * 7);
    assert_eq!(outputs[0], outputs[1]);
}


//! The IP dossier at the engine level (`engine::dossier`), on both backends with sview's
//! development data and the clock pinned: a network's dossier aggregates over the addresses
//! inside it (its incident total is the sum of its addresses' own dossiers, an address outside
//! is not counted), and an address nothing knows gives an empty dossier, not an error.

use std::sync::Arc;

use vantage_core::config::Overrides;
use vantage_core::engine::Engine;
use vantage_core::engine::dossier::{DossierApi, Range};
use vantage_core::progress::NoProgress;
use vantage_core::statistics::aggregation::{self, Precision};
use vantage_tests::sview::{self, DATA_NOW};
use vantage_tests::{BOTH, TestStore, t};

async fn engine(ts: &TestStore) -> Engine {
    let config = Engine::load_config(Overrides {
        database_url: ts.config.database_url.as_ref().map(|u| u.expose().to_string()),
        data_dir: Some(ts.data_dir()),
        now: Some(DATA_NOW.to_string()),
        ..Overrides::default()
    })
    .expect("config");
    Engine::open(&config).await.expect("engine")
}

async fn incidents(engine: &Engine, target: &str, range: Range) -> (i64, Vec<std::net::IpAddr>) {
    let d = engine.dossier().of(DossierApi::target(target).expect("target"), range).await.expect("dossier");
    (d.incidents.present().expect("incidents are always present").incidents, d.addresses)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_network_is_the_sum_of_its_addresses_on_both_backends() {
    for kind in BOTH {
        let ts = sview::load(kind, t(DATA_NOW)).await;
        for p in Precision::ALL {
            let windows = aggregation::backfill_windows(p, t(DATA_NOW), 400);
            aggregation::aggregate(ts.store.as_ref(), p, windows, false, t(DATA_NOW), Arc::new(NoProgress)).await.expect("backfill");
        }
        let engine = engine(&ts).await;
        let range = Range::days(None, None, t(DATA_NOW)).expect("range");
        let (total, addresses) = incidents(&engine, "192.0.2.0/24", range).await;
        assert!(addresses.len() >= 2, "{kind:?}: the data has several addresses in 192.0.2.0/24: {addresses:?}");
        assert!(addresses.iter().all(|ip| ip.to_string().starts_with("192.0.2.")), "{kind:?}: {addresses:?}");
        let outside = "198.51.100.10".parse().expect("ip");
        assert!(!addresses.contains(&outside), "{kind:?}");
        let (outside_total, _) = incidents(&engine, "198.51.100.10", range).await;
        assert!(outside_total > 0, "{kind:?}: the outside address has incidents of its own");

        let mut sum = 0;
        for ip in &addresses {
            let (n, _) = incidents(&engine, &ip.to_string(), range).await;
            assert!(n > 0, "{kind:?}: {ip} was seen, so it has incidents");
            sum += n;
        }
        assert_eq!(total, sum, "{kind:?}: the network's total is its addresses' totals");
        let (one, _) = incidents(&engine, "192.0.2.1", range).await;
        let (two, _) = incidents(&engine, "192.0.2.2", range).await;
        assert!(one > 0 && two > 0 && one + two <= total, "{kind:?}: {one} + {two} <= {total}");

        // an address nothing knows: empty, not an error
        let d = engine.dossier().of(DossierApi::target("192.0.2.250").expect("target"), range).await.expect("dossier");
        assert!(d.is_empty(), "{kind:?}: {d:?}");
        assert!(DossierApi::target("192.0.2.0/33").is_err());
        engine.close().await;
        ts.finish().await;
    }
}

//! What the flow analytics tests share: the shared nfdump samples, the real mixed day made of
//! them, a synthetic beacon to hide in it, and a store of either backend holding flows with an
//! engine on it (optionally under a `vantage.toml` of the test's own).

use std::io::Cursor;
use std::net::IpAddr;
use std::path::Path;

use chrono::{Duration, NaiveDate};
use vantage_core::config::Overrides;
use vantage_core::engine::{Engine, Parts};
use vantage_core::flows::model::RawFlow;
use vantage_tests::{Kind, TestStore, t};

/// The clock every flows test pins.
pub const NOW: &str = "2024-06-15T12:40:00Z";

/// A shared sample of `../shared/data/flows`.
pub fn sample(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/flows").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The shared samples' flows moved onto one day (times of day kept), with the first 150 flows
/// of the nmap SYN scan among them; and the scanner.
pub fn mixed_day(day: NaiveDate) -> (Vec<RawFlow>, IpAddr) {
    use vantage_core::flows::parse::FlowReader;
    let mut flows = Vec::new();
    for (name, take) in [("1kxun-nfdump.csv", usize::MAX), ("android-nfdump.csv", usize::MAX), ("skype-nfdump.csv", usize::MAX), ("synscan-nfdump.csv", 150)] {
        for f in FlowReader::new(Cursor::new(sample(name).into_bytes())).take(take) {
            let mut f = f.expect("a valid sample");
            f.treceived = day.and_time(f.treceived.time()).and_utc();
            flows.push(f);
        }
    }
    (flows, "172.16.0.8".parse().expect("the scanner"))
}

/// A synthetic beacon from `implant` to `c2` on 443 over `day`: a call every 60 s ± 5 s from
/// 00:00:30 on, 300 ± 8 bytes (a deterministic jitter: a linear congruential sequence).
pub fn beacon(day: NaiveDate, implant: IpAddr, c2: IpAddr) -> Vec<RawFlow> {
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    let mut x: u64 = 42;
    let mut next = |range: i64| {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (x >> 33) as i64 % (2 * range + 1) - range
    };
    let mut flows = Vec::new();
    let mut at = midnight + Duration::seconds(30);
    while at < midnight + Duration::days(1) {
        let mut f = RawFlow::between(at, implant, c2, "TCP");
        (f.sport, f.dport, f.ipkt, f.ibyt) = (40_000, 443, 5, 300 + next(8));
        flows.push(f);
        at += Duration::seconds(60 + next(5));
    }
    flows
}

/// A fresh store of `kind` holding `flows`, and the engine on it; with `toml`, under that
/// configuration file (written in the store's data directory, so relative `[flows]` paths are
/// read from there).
pub async fn store_with(kind: Kind, flows: &[RawFlow], toml: Option<&str>) -> (TestStore, Engine) {
    let ts = TestStore::new(kind, t(NOW)).await;
    let mut session = ts.store.begin_flows_import().await.expect("import");
    session.write(flows).await.expect("write");
    session.commit().await.expect("commit");
    let config = match toml {
        None => ts.config.clone(),
        Some(text) => {
            let path = ts.data_dir().join("vantage.toml");
            std::fs::write(&path, text).expect("vantage.toml");
            let overrides = Overrides {
                config_file: Some(path),
                database_url: ts.config.database_url.as_ref().map(|u| u.expose().to_string()),
                data_dir: Some(ts.data_dir()),
                now: Some(NOW.into()),
                ..Overrides::default()
            };
            vantage_core::deployment::load_config(overrides).expect("a valid configuration")
        }
    };
    let engine = Engine::open_parts(&config, Parts::StoreOnly).await.expect("engine");
    (ts, engine)
}

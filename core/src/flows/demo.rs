//! The demo flows day: the shipped nfdump samples (`assets/demo/flows/`, made with nfpcapd
//! from real captures of the nDPI test suite) moved onto one day with their times of day kept,
//! the first 150 flows of an nmap SYN scan among them, and one synthetic beacon so that the
//! beacons view has something to show: a host calling a server on 443 every 60 s ± 5 s for
//! the whole day (deterministic jitter).
//!
//! The demo day is the day before the clock's date, a complete day as a daily OA run sees it.

use std::io::Cursor;
use std::net::IpAddr;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::model::RawFlow;
use super::parse::FlowReader;
use crate::error::{Error, Result};

/// The shipped samples: name and content (nfdump 1.7 CSV, header line, Summary lines).
const SAMPLES: [(&str, &str); 4] = [
    ("1kxun-nfdump.csv", include_str!("../../../assets/demo/flows/1kxun-nfdump.csv")),
    ("android-nfdump.csv", include_str!("../../../assets/demo/flows/android-nfdump.csv")),
    ("skype-nfdump.csv", include_str!("../../../assets/demo/flows/skype-nfdump.csv")),
    ("synscan-nfdump.csv", include_str!("../../../assets/demo/flows/synscan-nfdump.csv")),
];

/// The synthetic beacon's source (an internal host) and its server.
pub const BEACON: (&str, &str) = ("192.168.115.23", "203.0.113.80");

/// Seconds between the beacon's calls, and the most its jitter moves one call either way.
const BEACON_EVERY: i64 = 60;
const BEACON_JITTER: i64 = 5;

/// The internal ranges of the demo's OA run when `[flows]` names none (RFC 1918), so that
/// the sample hosts show as internal.
pub const INTERNAL: [&str; 3] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];

/// Suspicious connections the demo's OA run keeps.
pub const DEMO_LIMIT: usize = 500;

/// The demo day for a clock at `now`: the day before.
pub fn day_for(now: DateTime<Utc>) -> NaiveDate {
    now.date_naive() - Duration::days(1)
}

/// The demo day's flows: the samples on `day`, then the beacon's calls.
pub fn flows(day: NaiveDate) -> Result<Vec<RawFlow>> {
    let mut out = Vec::new();
    for (name, text) in SAMPLES {
        for (i, flow) in FlowReader::new(Cursor::new(text.as_bytes())).enumerate() {
            let mut flow = flow.map_err(|e| Error::InvalidArgument(format!("assets/demo/flows/{name}: flow {}: {e}", i + 1)))?;
            flow.treceived = day.and_time(flow.treceived.time()).and_utc();
            out.push(flow);
        }
    }
    out.extend(beacon(day));
    Ok(out)
}

/// The beacon's calls over `day`: one small TLS exchange every [`BEACON_EVERY`] seconds, each
/// moved by a jitter from a fixed linear congruential sequence.
fn beacon(day: NaiveDate) -> Vec<RawFlow> {
    let (src, dst): (IpAddr, IpAddr) = (BEACON.0.parse().expect("an address"), BEACON.1.parse().expect("an address"));
    let start = day.and_hms_opt(0, 0, 30).expect("a time").and_utc();
    let mut state: u64 = 0x5eed;
    let calls = 86_400 / BEACON_EVERY - 1;
    (0..calls)
        .map(|i| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let jitter = ((state >> 33) % (2 * BEACON_JITTER as u64 + 1)) as i64 - BEACON_JITTER;
            let mut flow = RawFlow::between(start + Duration::seconds(i * BEACON_EVERY + jitter), src, dst, "TCP");
            flow.sport = 40_000 + (i % 20_000) as u16;
            flow.dport = 443;
            flow.flag = "...AP.SF".into();
            flow.tdur = 0.4;
            flow.ipkt = 8;
            flow.ibyt = 1_210 + (state >> 40) as i64 % 40;
            flow
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_day_is_the_samples_and_a_day_of_beacon_calls_all_on_one_day() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 30).expect("date");
        let flows = flows(day).expect("the samples parse");
        assert!(flows.iter().all(|f| f.treceived.date_naive() == day), "every flow on the day");
        let calls: Vec<&RawFlow> = flows.iter().filter(|f| f.dip.to_string() == BEACON.1).collect();
        assert_eq!(calls.len(), 1439);
        let gaps: Vec<i64> = calls.windows(2).map(|w| (w[1].treceived - w[0].treceived).num_seconds()).collect();
        assert!(gaps.iter().all(|g| (50..=70).contains(g)), "60 s ± 2·5 s apart");
        assert!(gaps.iter().any(|g| *g != 60), "jittered");
        assert_eq!(flows.iter().filter(|f| f.sip.to_string() == "172.16.0.8").count(), 150, "the scan's first 150 flows");
    }
}

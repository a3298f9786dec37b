//! The greylist rule applied by hand to the raw rows of sview's development data (the JSON
//! Lines of [`crate::sview::testdata_jsonl`]), independently of Vantage's implementation: what
//! the greylist tests compare the exported files with.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};

use crate::t;

/// Sentinel's greylist tag of each trap.
const TAGS: [(&str, &str); 5] = [("minipot_ftp", "ftp"), ("minipot_smtp", "smtp"), ("minipot_telnet", "telnet"), ("minipot_http", "http"), ("fwlogs", "port_scan")];

/// The expected `greylist-latest.csv` at `now`: addresses with incidents (`raw_count` summed)
/// at times in `[now - days, now]` adding up to at least `min_incidents`, sorted by address,
/// countries from `country`.
pub fn expected_csv(now: DateTime<Utc>, days: i64, min_incidents: i64, country: impl Fn(IpAddr) -> Option<String>) -> String {
    struct Seen {
        tags: BTreeSet<&'static str>,
        first: DateTime<Utc>,
        last: DateTime<Utc>,
        count: i64,
    }
    let mut by_ip: BTreeMap<IpAddr, Seen> = BTreeMap::new();
    for line in crate::sview::testdata_jsonl().lines() {
        let row: serde_json::Value = serde_json::from_str(line).expect("jsonl row");
        let Some(trap) = row["trap"].as_str() else { continue };
        let time = t(row["time"].as_str().expect("time"));
        if time < now - Duration::days(days) || time > now {
            continue;
        }
        let ip: IpAddr = row["ip"].as_str().expect("ip").parse().expect("valid ip");
        let tag = TAGS.iter().find(|(name, _)| *name == trap).map(|(_, tag)| *tag).expect("known trap");
        let seen = by_ip.entry(ip).or_insert(Seen { tags: BTreeSet::new(), first: time, last: time, count: 0 });
        seen.tags.insert(tag);
        seen.first = seen.first.min(time);
        seen.last = seen.last.max(time);
        seen.count += row["raw_count"].as_i64().expect("count");
    }
    let stamp = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut out = String::from("Address,Tags,Country,FirstSeen,LastSeen,Count\n");
    for (ip, s) in by_ip.into_iter().filter(|(_, s)| s.count >= min_incidents) {
        let tags = s.tags.into_iter().collect::<Vec<_>>().join(",");
        let tags = if tags.contains(',') { format!("\"{tags}\"") } else { tags };
        out.push_str(&format!("{ip},{tags},{},{},{},{}\n", country(ip).unwrap_or_default(), stamp(s.first), stamp(s.last), s.count));
    }
    out
}

/// The (address, tags) pairs of a greylist CSV as IntelMQ's Turris greylist parser reads it:
/// the first line is the header, then column 0 is the address and column 1 the tags.
pub fn intelmq_view(csv: &str) -> Vec<(String, String)> {
    csv.lines()
        .skip(1)
        .map(|line| {
            let mut fields = Vec::new();
            let (mut cur, mut quoted) = (String::new(), false);
            for c in line.chars() {
                match c {
                    '"' => quoted = !quoted,
                    ',' if !quoted => fields.push(std::mem::take(&mut cur)),
                    c => cur.push(c),
                }
            }
            fields.push(cur);
            (fields[0].clone(), fields[1].clone())
        })
        .collect()
}

//! The greylist: the attacker addresses currently considered hostile (statistics.md,
//! "Greylist and DynFW"; docs/greylist.md).
//!
//! **Rule**: an address is on the greylist when the raw incidents reported for it with a time
//! in `[now - days, now]` sum (`SUM(raw_count)`) to at least `min_incidents`. Its tags are the
//! traps it was seen by, as Sentinel's greylist names them ([`tag`]: `minipot_ftp` → `ftp`, …,
//! `fwlogs` → `port_scan`), sorted and without duplicates; first/last seen and the count are
//! over the same window; the country is the GeoIP database's (none when it does not know the
//! address). `days` and `min_incidents` come from the `[greylist]` section ([`GreylistConfig`]).
//!
//! - [`files`]: the CSV (`Address,Tags,…`), `greylist-latest.csv` and the dated archive.
//! - [`api`]: `GET /greylist/…` of `vantage serve`.
//! - [`schedule`]: the worker's daily snapshot.

pub mod api;
pub mod files;
pub mod schedule;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::geo::GeoIp;
use crate::store::statistics::{IpActivity, StatisticsStore};

/// The configuration table of the greylist.
pub const SECTION: &str = "greylist";

/// Default [`GreylistConfig::days`].
pub const DEFAULT_DAYS: u32 = 7;

/// Default [`GreylistConfig::min_incidents`].
pub const DEFAULT_MIN_INCIDENTS: i64 = 5;

/// Longest window [`GreylistConfig::days`] accepts.
pub const MAX_DAYS: u32 = 366;

/// The `[greylist]` section as written in the file (every key optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct GreylistFile {
    days: Option<u32>,
    min_incidents: Option<i64>,
    dir: Option<PathBuf>,
}

/// The membership rule and where the files go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GreylistConfig {
    /// An address counts the incidents of the last `days` days (1 ..= [`MAX_DAYS`]).
    pub days: u32,
    /// … and is listed with at least this many of them (≥ 1).
    pub min_incidents: i64,
    /// Where `greylist-latest.csv` and `archive/` are written and served from
    /// (default `<data_dir>/greylist`).
    pub dir: PathBuf,
    /// The GeoIP databases the countries come from (the top-level `geoip_dir`).
    pub geoip_dir: PathBuf,
}

impl GreylistConfig {
    /// The `[greylist]` section of `config` with its defaults, validated.
    pub fn from_config(config: &Config) -> Result<GreylistConfig> {
        let file: GreylistFile = config.section(SECTION)?.unwrap_or_default();
        let days = file.days.unwrap_or(DEFAULT_DAYS);
        if !(1..=MAX_DAYS).contains(&days) {
            return Err(Error::Config(format!("greylist.days: {days} is not between 1 and {MAX_DAYS}")));
        }
        let min_incidents = file.min_incidents.unwrap_or(DEFAULT_MIN_INCIDENTS);
        if min_incidents < 1 {
            return Err(Error::Config(format!("greylist.min_incidents: {min_incidents} is not at least 1")));
        }
        let dir = file.dir.unwrap_or_else(|| config.data_dir.join("greylist"));
        Ok(GreylistConfig { days, min_incidents, dir, geoip_dir: config.geoip_dir.clone() })
    }
}

/// One listed address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The attacker address.
    pub address: IpAddr,
    /// The traps it was seen by ([`tag`]), sorted, no duplicates.
    pub tags: Vec<String>,
    /// Its GeoIP country (ISO 3166 alpha-2), if known.
    pub country: Option<String>,
    /// Its first incident in the window.
    pub first_seen: DateTime<Utc>,
    /// Its last incident in the window.
    pub last_seen: DateTime<Utc>,
    /// Its incidents in the window (`SUM(raw_count)`).
    pub count: i64,
}

/// The greylist tag of a trap: `minipot_<service>` → `<service>`, `fwlogs` → `port_scan`.
pub fn tag(trap: &str) -> &str {
    match trap {
        "fwlogs" => "port_scan",
        other => other.strip_prefix("minipot_").unwrap_or(other),
    }
}

/// The window the rule counts: `[now - days, now]`.
pub fn window(rule: &GreylistConfig, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    (now - Duration::days(i64::from(rule.days)), now)
}

/// Applies the rule to per-(address, trap, action) activity: the listed entries by address.
/// Addresses that do not parse (rows written behind Vantage's back) are skipped with a warning.
pub fn members(activity: Vec<IpActivity>, min_incidents: i64, geo: &GeoIp) -> Vec<Entry> {
    let mut by_ip: BTreeMap<IpAddr, Entry> = BTreeMap::new();
    for a in activity {
        let Ok(address) = a.ip.parse::<IpAddr>() else {
            tracing::warn!(ip = %a.ip, "greylist: an incident's address is not an IP address; skipped");
            continue;
        };
        let e = by_ip.entry(address).or_insert_with(|| Entry { address, tags: Vec::new(), country: None, first_seen: a.first_seen, last_seen: a.last_seen, count: 0 });
        e.tags.push(tag(&a.trap).to_string());
        e.first_seen = e.first_seen.min(a.first_seen);
        e.last_seen = e.last_seen.max(a.last_seen);
        e.count = e.count.saturating_add(a.incidents);
    }
    by_ip
        .into_values()
        .filter(|e| e.count >= min_incidents)
        .map(|mut e| {
            e.tags.sort();
            e.tags.dedup();
            e.country = geo.lookup(e.address).country;
            e
        })
        .collect()
}

/// The greylist at `now` over the store's raw incidents, sorted by address.
pub async fn compute(store: &dyn StatisticsStore, rule: &GreylistConfig, now: DateTime<Utc>, geo: &GeoIp) -> Result<Vec<Entry>> {
    let (from, to) = window(rule, now);
    Ok(members(store.ip_activity(from, to, None).await?, rule.min_incidents, geo))
}

/// The greylist entries of `ips` alone at `now` (the rule of [`compute`], reading only their
/// incidents): what an address's detail or dossier asks.
pub async fn entries_of(store: &dyn StatisticsStore, rule: &GreylistConfig, now: DateTime<Utc>, geo: &GeoIp, ips: &[IpAddr]) -> Result<Vec<Entry>> {
    let (from, to) = window(rule, now);
    let only: Vec<String> = ips.iter().map(|ip| ip.to_canonical().to_string()).collect();
    Ok(members(store.ip_activity(from, to, Some(&only)).await?, rule.min_incidents, geo))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        crate::clock::parse_instant(s).expect("instant")
    }

    fn activity(ip: &str, trap: &str, incidents: i64, first: &str, last: &str) -> IpActivity {
        IpActivity { ip: ip.into(), trap: trap.into(), action: "connect".into(), incidents, first_seen: at(first), last_seen: at(last) }
    }

    #[test]
    fn tags_are_sentinel_names() {
        assert_eq!(["minipot_ftp", "minipot_telnet", "fwlogs"].map(tag), ["ftp", "telnet", "port_scan"]);
    }

    #[test]
    fn members_sum_per_address_and_keep_those_at_the_threshold() {
        let rows = vec![
            activity("192.0.2.1", "minipot_telnet", 2, "2024-06-14T00:00:00Z", "2024-06-15T00:00:00Z"),
            activity("192.0.2.1", "fwlogs", 1, "2024-06-13T00:00:00Z", "2024-06-13T00:00:00Z"),
            activity("192.0.2.1", "minipot_telnet", 1, "2024-06-15T01:00:00Z", "2024-06-15T01:00:00Z"),
            activity("10.0.0.1", "minipot_ftp", 2, "2024-06-15T00:00:00Z", "2024-06-15T00:00:00Z"),
            activity("not an ip", "minipot_ftp", 9, "2024-06-15T00:00:00Z", "2024-06-15T00:00:00Z"),
        ];
        let list = members(rows, 3, &GeoIp::default());
        assert_eq!(list.len(), 1);
        let e = &list[0];
        assert_eq!((e.address.to_string(), e.tags.join(","), e.count), ("192.0.2.1".into(), "port_scan,telnet".into(), 4));
        assert_eq!((e.first_seen, e.last_seen), (at("2024-06-13T00:00:00Z"), at("2024-06-15T01:00:00Z")));
    }

    #[test]
    fn countries_come_from_geoip() {
        let geo = GeoIp::open_dir(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/geoip"))).expect("fixtures");
        let rows = vec![
            activity("81.2.69.142", "minipot_http", 1, "2024-06-15T00:00:00Z", "2024-06-15T00:00:00Z"),
            activity("192.0.2.1", "minipot_http", 1, "2024-06-15T00:00:00Z", "2024-06-15T00:00:00Z"),
        ];
        let countries: Vec<Option<String>> = members(rows, 1, &geo).into_iter().map(|e| e.country).collect();
        assert_eq!(countries, [Some("GB".to_string()), None]);
    }

    #[test]
    fn the_section_is_validated() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("vantage.toml");
        let load = |text: &str| {
            std::fs::write(&path, text).expect("write");
            let config = Config::load(crate::config::Overrides { config_file: Some(path.clone()), ..Default::default() }).expect("loads");
            GreylistConfig::from_config(&config)
        };
        let c = load("data_dir = \"/d\"\n").expect("defaults");
        assert_eq!((c.days, c.min_incidents, c.dir), (DEFAULT_DAYS, DEFAULT_MIN_INCIDENTS, PathBuf::from("/d/greylist")));
        assert_eq!(load("[greylist]\ndays = 2\nmin_incidents = 1\n").expect("valid").days, 2);
        assert!(load("[greylist]\ndays = 0\n").expect_err("zero").to_string().contains("greylist.days"));
        assert!(load("[greylist]\nmin_incidents = 0\n").expect_err("zero").to_string().contains("greylist.min_incidents"));
        assert!(load("[greylist]\nday = 3\n").expect_err("typo").to_string().contains("vantage.toml:2:1: unknown field `day`"));
    }
}

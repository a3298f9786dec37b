//! OA steps 2–4 for one address at a time (flows.md "OA run"): is it internal (Spot's
//! `ipranges.csv` and CIDR lists), where is it (Spot's `iploc.csv`, else the mmdb files of
//! `geoip_dir`), what do the reputation lists (and the HTTP service's answers, asked before
//! by [`super::reputation`]) say, which part of the network is it in (Spot's
//! `networkcontext_1.csv`, [`super::context`]). Loaded once per run from the `[flows]`
//! section; every lookup is in memory (binary searches), so a run enriches hundreds of
//! thousands of rows a second.
//!
//! ```toml
//! [flows]
//! ipranges = "ipranges.csv"        # Spot's start_ip,end_ip,name (inclusive)
//! internal = ["10.0.0.0/8", "192.168.0.0/16"]
//! iploc = "iploc.csv"              # Spot's quoted iploc.csv; unset: the mmdb files
//! reputation = ["lists/blocklist.csv"]   # ip_or_cidr,label,value; the service is the file's stem
//! networkcontext = "networkcontext_1.csv"   # Spot's srcIP,name (storyboards)
//! safelist = ["safe.txt"]          # addresses, CIDRs, domains hidden by the reads
//!
//! [flows.reputation_service]       # the HTTP JSON service (see super::reputation)
//! url = "http://127.0.0.1:9000/lookup"
//! ```
//! Relative paths are read from the directory of the configuration file.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ipnetwork::IpNetwork;
use serde::Deserialize;

use super::context::NetworkContext;
use super::datafile::{bad, key, records};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::geo::GeoIp;

/// The name of the section.
pub const SECTION: &str = "flows";

/// The `[flows]` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowsSettings {
    /// Spot's `ipranges.csv`: `start_ip,end_ip,name` rows of internal ranges.
    #[serde(default)]
    pub ipranges: Option<PathBuf>,
    /// More internal ranges as CIDRs.
    #[serde(default)]
    pub internal: Vec<String>,
    /// Spot's `iploc.csv`; when unset, the mmdb files of `geoip_dir` are used.
    #[serde(default)]
    pub iploc: Option<PathBuf>,
    /// Local reputation lists: CSV `ip_or_cidr,label,value` (value −1 unknown … 3 high).
    #[serde(default)]
    pub reputation: Vec<PathBuf>,
    /// `[flows.reputation_service]`: the HTTP JSON reputation service.
    #[serde(default)]
    pub reputation_service: Option<super::reputation::ServiceSettings>,
    /// Spot's `networkcontext_1.csv`: names of the parts of the network (storyboards).
    #[serde(default)]
    pub networkcontext: Option<PathBuf>,
    /// Safelist files (addresses, CIDRs, domain names), read by every read ([`super::safelist`]).
    #[serde(default)]
    pub safelist: Vec<PathBuf>,
    /// `[flows.beacon]`: the beacon score's weights and threshold.
    #[serde(default)]
    pub beacon: super::beacon::BeaconSettings,
}

impl FlowsSettings {
    /// The `[flows]` section of `config` (defaults when absent), paths resolved against the
    /// configuration file's directory.
    pub fn from_config(config: &Config) -> Result<FlowsSettings> {
        let mut s = config.section::<FlowsSettings>(SECTION)?.unwrap_or_default();
        let base = config.source.as_deref().and_then(Path::parent).map(Path::to_path_buf).unwrap_or_default();
        let resolve = |p: &PathBuf| if p.is_absolute() { p.clone() } else { base.join(p) };
        s.ipranges = s.ipranges.as_ref().map(resolve);
        s.iploc = s.iploc.as_ref().map(resolve);
        s.networkcontext = s.networkcontext.as_ref().map(resolve);
        s.reputation = s.reputation.iter().map(resolve).collect();
        s.safelist = s.safelist.iter().map(resolve).collect();
        s.beacon.check().map_err(Error::Config)?;
        if let Some(service) = &s.reputation_service {
            service.check()?;
        }
        Ok(s)
    }
}

/// Where an address is: Spot's geoloc text `state;city owner` and its domain.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Place {
    /// `state;city owner`, empty when unknown.
    pub geoloc: String,
    /// The owner's domain, empty when unknown.
    pub domain: String,
    /// Latitude, when known.
    pub lat: Option<f64>,
    /// Longitude, when known.
    pub lon: Option<f64>,
}

/// One row of Spot's iploc.csv.
#[derive(Debug, Clone)]
struct Located {
    start: u128,
    end: u128,
    place: Place,
}

/// The entries of one prefix length of a list: network key → (label, value).
type Networks = HashMap<u128, (String, i32)>;

/// One reputation list, indexed for longest-prefix lookups: per prefix length present, the
/// entries by their network address.
#[derive(Debug, Clone)]
struct RepList {
    service: String,
    /// (is IPv6, prefix length) → network key → (label, value), longest prefixes first.
    by_prefix: Vec<((bool, u8), Networks)>,
}

impl RepList {
    /// The entry of the most specific network holding `ip`.
    fn lookup(&self, ip: IpAddr) -> Option<&(String, i32)> {
        let (v6, bits, k) = match ip {
            IpAddr::V4(v4) => (false, 32, u128::from(u32::from(v4))),
            IpAddr::V6(v6) => (true, 128, u128::from(v6)),
        };
        self.by_prefix.iter().filter(|((is_v6, _), _)| *is_v6 == v6).find_map(|((_, len), nets)| nets.get(&mask(k, bits, *len)))
    }
}

/// `k` (an address of `bits` bits) with all but its first `len` bits cleared.
fn mask(k: u128, bits: u8, len: u8) -> u128 {
    let host = u32::from(bits - len.min(bits));
    if host >= 128 { 0 } else { (k >> host) << host }
}

/// The loaded enrichment data of one OA run.
pub struct Enricher {
    internal: Vec<(u128, u128)>,
    iploc: Option<Vec<Located>>,
    geoip: Option<GeoIp>,
    reputation: Vec<RepList>,
    /// The HTTP service's strings per address ([`Enricher::add_answers`]).
    answers: HashMap<IpAddr, String>,
    context: Option<NetworkContext>,
}

impl std::fmt::Debug for Enricher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enricher").field("internal", &self.internal.len()).field("iploc", &self.iploc.as_ref().map(Vec::len)).finish()
    }
}

impl Enricher {
    /// Loads what `settings` names; `geoip_dir`'s mmdb files stand in for a missing iploc.
    /// A bad row is an error naming the file, line and field.
    pub fn load(settings: &FlowsSettings, geoip_dir: &Path) -> Result<Enricher> {
        let mut internal = Vec::new();
        if let Some(path) = &settings.ipranges {
            for (line, r) in records(path)? {
                let ip = |i: usize, name: &str| r.get(i).unwrap_or("").parse::<IpAddr>().map_err(|e| bad(path, line, name, e));
                match (ip(0, "start_ip"), ip(1, "end_ip")) {
                    (Ok(a), Ok(b)) => internal.push((key(a), key(b))),
                    // a header line names its columns
                    (Err(_), _) if line == 1 && r.get(0) == Some("start_ip") => {}
                    (Err(e), _) | (_, Err(e)) => return Err(e),
                }
            }
        }
        for cidr in &settings.internal {
            let net: IpNetwork = cidr.parse().map_err(|e| Error::Config(format!("[flows] internal: `{cidr}`: {e}")))?;
            internal.push((key(net.network()), key(net.broadcast())));
        }
        let iploc = settings.iploc.as_ref().map(|p| load_iploc(p)).transpose()?;
        let geoip = if iploc.is_none() { GeoIp::open_dir(geoip_dir).ok() } else { None };
        let reputation = settings.reputation.iter().map(|p| load_reputation(p)).collect::<Result<_>>()?;
        let context = settings.networkcontext.as_deref().map(NetworkContext::load).transpose()?;
        Ok(Enricher { internal, iploc, geoip, reputation, answers: HashMap::new(), context })
    }

    /// Adds the HTTP reputation service's strings (after the lists' in [`Enricher::reputation`]).
    pub fn add_answers(&mut self, answers: HashMap<IpAddr, String>) {
        self.answers.extend(answers);
    }

    /// The network context name of `ip` (`networkcontext_1.csv`), if it has one.
    pub fn context(&self, ip: IpAddr) -> Option<&str> {
        self.context.as_ref().and_then(|c| c.name(ip))
    }

    /// Whether `ip` is in an internal range.
    pub fn internal(&self, ip: IpAddr) -> bool {
        let k = key(ip);
        self.internal.iter().any(|(a, b)| (*a..=*b).contains(&k))
    }

    /// Where `ip` is. With iploc.csv: the row with the largest start ≤ ip, if its end is ≥ ip
    /// (Spot ignored the end: an address in a gap got the previous row); else nothing. With
    /// mmdb files: `country;city as_org` (the files hold no state), no domain.
    pub fn place(&self, ip: IpAddr) -> Place {
        if let Some(rows) = &self.iploc {
            let k = key(ip);
            let i = rows.partition_point(|r| r.start <= k);
            return match i.checked_sub(1).map(|i| &rows[i]) {
                Some(r) if r.end >= k => r.place.clone(),
                _ => Place::default(),
            };
        }
        let Some(geo) = &self.geoip else { return Place::default() };
        let info = geo.lookup(ip);
        if info.country_name.is_none() && info.city.is_none() && info.as_org.is_none() {
            return Place::default();
        }
        let geoloc = format!("{};{} {}", info.country_name.unwrap_or_default(), info.city.unwrap_or_default(), info.as_org.unwrap_or_default());
        Place { geoloc, ..Place::default() }
    }

    /// `service:LABEL:value` of every list holding `ip` (of each list, the entry of the most
    /// specific network holding it, as routing chooses), then the HTTP service's, joined with
    /// `::`; empty when none has it.
    pub fn reputation(&self, ip: IpAddr) -> String {
        let mut found: Vec<String> = self.reputation.iter().filter_map(|list| list.lookup(ip).map(|(label, value)| format!("{}:{label}:{value}", list.service))).collect();
        if let Some(answer) = self.answers.get(&ip) {
            found.push(answer.clone());
        }
        found.join("::")
    }
}

/// Spot's iploc.csv: quoted `start, end, cc, country, state, city, lat, lon, owner, domain`
/// with IPv4 addresses as integers; sorted by start here (Spot required it sorted).
fn load_iploc(path: &Path) -> Result<Vec<Located>> {
    let mut rows = Vec::new();
    for (line, r) in records(path)? {
        let int = |i: usize, name: &str| r.get(i).unwrap_or("").parse::<u128>().map_err(|e| bad(path, line, name, e));
        let text = |i: usize| r.get(i).unwrap_or("").to_string();
        let (start, end) = match (int(0, "start"), int(1, "end")) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(_), _) if line == 1 && !r.get(0).unwrap_or("").chars().all(|c| c.is_ascii_digit()) => continue, // a header
            (Err(e), _) | (_, Err(e)) => return Err(e),
        };
        let coordinate = |i: usize| r.get(i).and_then(|v| v.parse::<f64>().ok());
        let place = Place { geoloc: format!("{};{} {}", text(4), text(5), text(8)), domain: text(9), lat: coordinate(6), lon: coordinate(7) };
        rows.push(Located { start, end, place });
    }
    rows.sort_by_key(|r| r.start);
    Ok(rows)
}

/// A reputation list: `ip_or_cidr,label,value`.
fn load_reputation(path: &Path) -> Result<RepList> {
    let service = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "list".into());
    let mut by_prefix: HashMap<(bool, u8), Networks> = HashMap::new();
    for (line, r) in records(path)? {
        let net: IpNetwork = match r.get(0).unwrap_or("").parse() {
            Ok(n) => n,
            Err(_) if line == 1 => continue, // a header
            Err(e) => return Err(bad(path, line, "ip_or_cidr", e)),
        };
        let value: i32 = r.get(2).unwrap_or("").parse().map_err(|e| bad(path, line, "value", e))?;
        if !(-1..=3).contains(&value) {
            return Err(bad(path, line, "value", format!("{value} is not one of -1, 0, 1, 2, 3")));
        }
        let (v6, bits) = (net.is_ipv6(), if net.is_ipv6() { 128 } else { 32 });
        let k = match net.network() {
            IpAddr::V4(v4) => u128::from(u32::from(v4)),
            IpAddr::V6(v6) => u128::from(v6),
        };
        // the first entry of a network wins, as in the file
        by_prefix.entry((v6, net.prefix())).or_default().entry(mask(k, bits, net.prefix())).or_insert((r.get(1).unwrap_or("").to_string(), value));
    }
    let mut by_prefix: Vec<_> = by_prefix.into_iter().collect();
    by_prefix.sort_by_key(|((_, len), _)| std::cmp::Reverse(*len));
    Ok(RepList { service, by_prefix })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write");
        p
    }

    #[test]
    fn ranges_places_and_lists_as_spot_wrote_them_with_gaps_left_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        let settings = FlowsSettings {
            ipranges: Some(write(dir.path(), "ipranges.csv", "start_ip,end_ip,name\n10.0.0.0,10.255.255.255,office\n")),
            internal: vec!["192.168.0.0/16".into()],
            // 1.0.0.0 = 16777216; a gap after the first row's end 16777471 (1.0.0.255)
            iploc: Some(write(
                dir.path(),
                "iploc.csv",
                "\"16777216\",\"16777471\",\"AU\",\"Australia\",\"Queensland\",\"Brisbane\",\"-27.46\",\"153.02\",\"APNIC\",\"apnic.net\"\n\
                 \"16778240\",\"16779263\",\"AU\",\"Australia\",\"Victoria\",\"Melbourne\",\"-37.81\",\"144.96\",\"Telstra\",\"telstra.com\"\n",
            )),
            reputation: vec![
                write(dir.path(), "blocklist.csv", "ip_or_cidr,label,value\n1.0.0.0/16,SPAM,1\n1.0.0.0/24,MALWARE,3\n2001:db8::/32,TEST,0\n"),
                write(dir.path(), "tor.csv", "1.0.0.7,EXIT,1\n"),
            ],
            ..FlowsSettings::default()
        };
        let e = Enricher::load(&settings, Path::new("/nonexistent")).expect("loaded");
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        assert!(e.internal(ip("10.1.2.3")) && e.internal(ip("192.168.9.9")) && !e.internal(ip("11.0.0.1")));
        assert_eq!(e.place(ip("1.0.0.7")).geoloc, "Queensland;Brisbane APNIC");
        assert_eq!((e.place(ip("1.0.0.7")).domain.as_str(), e.place(ip("1.0.0.7")).lat), ("apnic.net", Some(-27.46)));
        assert_eq!(e.place(ip("1.0.2.0")).geoloc, "", "in the gap between the rows: nothing (Spot: Brisbane)");
        assert_eq!(e.place(ip("0.255.255.255")), Place::default(), "below the first row (Spot crashed)");
        assert_eq!(e.place(ip("1.0.4.1")).geoloc, "Victoria;Melbourne Telstra");
        assert_eq!(e.reputation(ip("1.0.0.7")), "blocklist:MALWARE:3::tor:EXIT:1");
        assert_eq!(e.reputation(ip("1.0.0.8")), "blocklist:MALWARE:3");
        assert_eq!(e.reputation(ip("8.8.8.8")), "");
        assert_eq!(e.reputation(ip("1.0.9.9")), "blocklist:SPAM:1", "the /16 outside the /24");
        assert_eq!(e.reputation(ip("2001:db8::1")), "blocklist:TEST:0");

        let broken = FlowsSettings { reputation: vec![write(dir.path(), "bad.csv", "1.2.3.4,X,7\n")], ..FlowsSettings::default() };
        assert!(FlowsSettings::default().beacon.check().is_ok());
        let err = Enricher::load(&broken, Path::new("/nonexistent")).expect_err("bad value").to_string();
        assert!(err.contains("bad.csv:1: value: 7 is not one of"), "{err}");
        let broken = FlowsSettings { ipranges: Some(write(dir.path(), "r.csv", "10.0.0.0,10.0.0.255,a\n10.0.1.0,ten,b\n")), ..FlowsSettings::default() };
        let err = Enricher::load(&broken, Path::new("/nonexistent")).expect_err("bad end").to_string();
        assert!(err.contains("r.csv:2: end_ip: "), "{err}");
    }
}

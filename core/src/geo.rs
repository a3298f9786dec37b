//! GeoIP lookups: country, city and autonomous system of an address, from the MaxMind DB
//! (`.mmdb`) files in the configured GeoIP directory ([`crate::Config::geoip_dir`]).
//!
//! Understood layouts: MaxMind GeoLite2/GeoIP2 City and Country (`country.iso_code`,
//! `country.names.en`, `city.names.en`), MaxMind ASN (`autonomous_system_number`,
//! `autonomous_system_organization`) and the flat DB-IP/ip-location-db country layout
//! (top-level `country_code`).

use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use maxminddb::{Reader, geoip2};
use serde::Deserialize;

use crate::error::{Error, Result};

/// What a database answers, in order of preference for the location fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// MaxMind City layout: country and city.
    City,
    /// MaxMind Country layout: country only.
    Country,
    /// Flat layout with a top-level `country_code`.
    Flat,
    /// MaxMind ASN layout.
    Asn,
}

impl Kind {
    fn of(database_type: &str) -> Kind {
        if database_type.contains("ASN") {
            Kind::Asn
        } else if database_type.contains("City") {
            Kind::City
        } else if database_type.contains("Country") {
            Kind::Country
        } else {
            Kind::Flat
        }
    }
}

struct Database {
    name: String,
    kind: Kind,
    reader: Reader<Vec<u8>>,
}

impl Database {
    /// The record of `ip` decoded as `T`; `None` when the address is not in the database
    /// (or cannot be: an IPv6 address in an IPv4-only database) or the record does not decode.
    fn record<'a, T: Deserialize<'a>>(&'a self, ip: IpAddr) -> Option<T> {
        match self.reader.lookup(ip).and_then(|found| found.decode()) {
            Ok(record) => record,
            Err(e) => {
                tracing::debug!(database = %self.name, %ip, "GeoIP lookup: {e}");
                None
            }
        }
    }
}

/// The flat DB-IP/ip-location-db country layout.
#[derive(Deserialize)]
struct FlatCountry {
    country_code: Option<String>,
}

/// GeoIP databases found in a directory.
#[derive(Clone, Default)]
pub struct GeoIp {
    /// Sorted by (kind, file name): the first database answering a field wins.
    databases: Arc<Vec<Database>>,
}

impl GeoIp {
    /// Opens every `*.mmdb` in `dir`: a database whose metadata `database_type` contains "ASN"
    /// answers ASN/organisation; "City" or "Country" (MaxMind GeoLite2/GeoIP2 layout) or any
    /// other type (DB-IP/ip-location-db flat layout, top-level `country_code`) answers country.
    /// A missing `dir` gives an empty `GeoIp` (every lookup empty); an unreadable or invalid
    /// `.mmdb` file is an error naming the file.
    pub fn open_dir(dir: &Path) -> Result<GeoIp> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(GeoIp::default()),
            Err(e) => return Err(Error::io(dir, e)),
        };
        let mut databases = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| Error::io(dir, e))?.path();
            if !path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("mmdb")) {
                continue;
            }
            let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
            let reader = Reader::from_source(bytes).map_err(|e| Error::GeoIp(format!("{}: {e}", path.display())))?;
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            databases.push(Database {
                name,
                kind: Kind::of(&reader.metadata().database_type),
                reader,
            });
        }
        databases.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
        Ok(GeoIp {
            databases: Arc::new(databases),
        })
    }

    /// Everything the loaded databases know about `ip` (fields `None` when unknown; never an
    /// error for an address not in a database). IPv4-mapped IPv6 addresses are looked up as IPv4.
    pub fn lookup(&self, ip: IpAddr) -> GeoInfo {
        let ip = ip.to_canonical();
        let mut info = GeoInfo::default();
        for db in self.databases.iter() {
            match db.kind {
                Kind::City | Kind::Country => {
                    if let Some(r) = db.record::<geoip2::City>(ip) {
                        fill(&mut info.country, r.country.iso_code);
                        fill(&mut info.country_name, r.country.names.english);
                        fill(&mut info.city, r.city.names.english);
                    }
                }
                Kind::Flat => {
                    if let Some(r) = db.record::<FlatCountry>(ip) {
                        info.country = info.country.or(r.country_code);
                    }
                }
                Kind::Asn => {
                    if let Some(r) = db.record::<geoip2::Asn>(ip) {
                        info.asn = info.asn.or(r.autonomous_system_number);
                        fill(&mut info.as_org, r.autonomous_system_organization);
                    }
                }
            }
        }
        info
    }

    /// File names of the loaded databases, sorted (for the UI: "GeoIP: GeoLite2-City-Test.mmdb, …" or "none").
    pub fn sources(&self) -> Vec<String> {
        let mut names: Vec<String> = self.databases.iter().map(|db| db.name.clone()).collect();
        names.sort();
        names
    }
}

/// Sets `field` from `value` unless a preferred database already did.
fn fill(field: &mut Option<String>, value: Option<&str>) {
    if field.is_none() {
        *field = value.map(str::to_owned);
    }
}

impl fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeoIp").field("sources", &self.sources()).finish()
    }
}

/// What GeoIP knows about one address.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct GeoInfo {
    /// ISO 3166-1 alpha-2 country code, e.g. `GB`.
    pub country: Option<String>,
    /// English country name, e.g. `United Kingdom`.
    pub country_name: Option<String>,
    /// English city name, e.g. `London`.
    pub city: Option<String>,
    /// Autonomous system number.
    pub asn: Option<u32>,
    /// Organisation owning the autonomous system.
    pub as_org: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/geoip");

    fn geoip() -> GeoIp {
        GeoIp::open_dir(Path::new(FIXTURES)).expect("fixtures open")
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("valid address")
    }

    #[test]
    fn loads_the_fixture_databases() {
        let geo = geoip();
        assert_eq!(
            geo.sources(),
            ["GeoLite2-ASN-Test.mmdb", "GeoLite2-City-Test.mmdb", "GeoLite2-Country-Test.mmdb"]
        );
        assert_eq!(format!("{geo:?}"), format!("GeoIp {{ sources: {:?} }}", geo.sources()));
    }

    #[test]
    fn country_and_city_from_maxmind_layout() {
        let geo = geoip();
        let london = geo.lookup(ip("81.2.69.142"));
        assert_eq!(london.country.as_deref(), Some("GB"));
        assert_eq!(london.country_name.as_deref(), Some("United Kingdom"));
        assert_eq!(london.city.as_deref(), Some("London"));
        assert_eq!(london.asn, None);

        let linkoping = geo.lookup(ip("89.160.20.112"));
        assert_eq!(
            linkoping,
            GeoInfo {
                country: Some("SE".into()),
                country_name: Some("Sweden".into()),
                city: Some("Linköping".into()),
                asn: Some(29518),
                as_org: Some("Bredband2 AB".into()),
            }
        );
        assert_eq!(geo.lookup(ip("::ffff:89.160.20.112")), linkoping);
    }

    #[test]
    fn asn_only_addresses() {
        let geo = geoip();
        let telstra = geo.lookup(ip("1.128.0.1"));
        assert_eq!((telstra.asn, telstra.as_org.as_deref()), (Some(1221), Some("Telstra Pty Ltd")));
        assert_eq!(telstra.country, None);
        let att = geo.lookup(ip("12.81.92.1"));
        assert_eq!((att.asn, att.as_org.as_deref()), (Some(7018), Some("AT&T Services")));
    }

    #[test]
    fn unknown_addresses_give_empty_info() {
        let geo = geoip();
        assert_eq!(geo.lookup(ip("2001:db8::1")), GeoInfo::default());
        assert_eq!(geo.lookup(ip("127.0.0.1")), GeoInfo::default());
    }

    #[test]
    fn flat_layout_answers_country_after_maxmind_layouts() {
        let dbip = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/geo/dbip-country.mmdb");
        if !dbip.is_file() {
            eprintln!("skipped: {} not present", dbip.display());
            return;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::copy(&dbip, dir.path().join("dbip-country.mmdb")).expect("copy dbip");
        std::fs::copy(Path::new(FIXTURES).join("GeoLite2-City-Test.mmdb"), dir.path().join("GeoLite2-City-Test.mmdb")).expect("copy city");
        let geo = GeoIp::open_dir(dir.path()).expect("opens");
        // Only the flat database knows 1.128.0.1; for 81.2.69.142 the City database answers first.
        assert_eq!(geo.lookup(ip("1.128.0.1")).country.as_deref(), Some("AU"));
        let london = geo.lookup(ip("81.2.69.142"));
        assert_eq!((london.country.as_deref(), london.city.as_deref()), (Some("GB"), Some("London")));
    }

    #[test]
    fn missing_directory_is_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        let geo = GeoIp::open_dir(&dir.path().join("absent")).expect("missing dir is fine");
        assert!(geo.sources().is_empty());
        assert_eq!(geo.lookup(ip("81.2.69.142")), GeoInfo::default());
    }

    #[test]
    fn invalid_database_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("bad.mmdb"), b"not a MaxMind DB").expect("write");
        let err = GeoIp::open_dir(dir.path()).expect_err("garbage must not load");
        assert!(err.to_string().contains("bad.mmdb"), "{err}");
    }
}

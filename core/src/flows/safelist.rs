//! Safelists (`[flows] safelist`): addresses, networks and domain names the analyst does not
//! want to see, applied **when a read is answered**, not at import or OA time (RITA needs a
//! re-import for a new safelist): the files are read again by every read, so editing one
//! changes the next answer, and nothing stored changes.
//!
//! A file has one entry a line: an address (`192.0.2.7`), a CIDR (`10.0.0.0/8`,
//! `2001:db8::/32`) or a domain name (`example.com`); `#` starts a comment, blank lines are
//! skipped; a bad line is `file:line: reason`. An address is safelisted when a network holds it;
//! a domain when it is a listed name or below one (`example.com` covers `mail.example.com`, not
//! `badexample.com`), case-insensitively. Rows are hidden when either end is safelisted — by
//! address, or by the domain the enrichment gave it ([`Screen`]).

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ipnetwork::IpNetwork;

use super::datafile::key;
use super::enrich::{Enricher, FlowsSettings};
use crate::error::{Error, Result};

/// The entries of the safelist files.
#[derive(Debug, Clone, Default)]
pub struct Safelist {
    /// Inclusive ranges of address keys.
    networks: Vec<(u128, u128)>,
    /// Lower-case names without a trailing dot.
    domains: HashSet<String>,
}

/// Whether `text` is a domain name: dot-separated labels of letters, digits, `-` and `_`, none
/// empty, none longer than 63 characters or starting or ending with `-`.
fn is_domain(text: &str) -> bool {
    text.len() <= 253
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

/// `domain` as the lists keep it.
fn canonical(domain: &str) -> String {
    domain.trim().trim_end_matches('.').to_ascii_lowercase()
}

impl Safelist {
    /// Reads every file of `paths`.
    pub fn load(paths: &[PathBuf]) -> Result<Safelist> {
        let mut list = Safelist::default();
        for path in paths {
            let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
            list.add(path, &text)?;
        }
        Ok(list)
    }

    /// Adds the entries of `text` (the file `path`).
    fn add(&mut self, path: &Path, text: &str) -> Result<()> {
        for (i, line) in text.lines().enumerate() {
            let entry = line.split('#').next().unwrap_or("").trim();
            if entry.is_empty() {
                continue;
            }
            let bad = |reason: String| Error::Config(format!("{}:{}: {reason}", path.display(), i + 1));
            match entry.parse::<IpNetwork>() {
                Ok(net) => self.networks.push((key(net.network()), key(net.broadcast()))),
                // what looks like an address or a network and is not one is a bad one
                Err(e) if entry.contains('/') || entry.contains(':') || entry.chars().all(|c| c.is_ascii_digit() || c == '.') => {
                    return Err(bad(format!("`{entry}`: {e}")));
                }
                Err(_) if is_domain(entry.trim_end_matches('.')) => {
                    self.domains.insert(canonical(entry));
                }
                Err(_) => return Err(bad(format!("`{entry}`: not an address, a CIDR or a domain name"))),
            }
        }
        Ok(())
    }

    /// Whether nothing is listed.
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty() && self.domains.is_empty()
    }

    /// Whether a listed network holds `ip`.
    pub fn address(&self, ip: IpAddr) -> bool {
        let k = key(ip);
        self.networks.iter().any(|(a, b)| (*a..=*b).contains(&k))
    }

    /// Whether `domain` is listed or below a listed name (empty: never).
    pub fn domain(&self, domain: &str) -> bool {
        if self.domains.is_empty() || domain.is_empty() {
            return false;
        }
        let domain = canonical(domain);
        let mut rest = domain.as_str();
        loop {
            if self.domains.contains(rest) {
                return true;
            }
            match rest.split_once('.') {
                Some((_, parent)) => rest = parent,
                None => return false,
            }
        }
    }
}

/// A safelist with what tells an address's domain, for reads whose rows hold addresses only
/// (beacons, chords, a threat's connections): the `[flows]` enrichment (iploc.csv's domain
/// column), loaded only when a listed domain needs it.
#[derive(Debug, Default)]
pub struct Screen {
    list: Safelist,
    places: Option<Enricher>,
}

impl Screen {
    /// Reads the safelist files of `settings` now (and the enrichment data when a domain is
    /// listed and `iploc` is set: the mmdb files give no domain).
    pub fn load(settings: &FlowsSettings, geoip_dir: &Path) -> Result<Screen> {
        let list = Safelist::load(&settings.safelist)?;
        let places = if !list.domains.is_empty() && settings.iploc.is_some() { Some(Enricher::load(settings, geoip_dir)?) } else { None };
        Ok(Screen { list, places })
    }

    /// Whether nothing is hidden.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Whether `ip` or the domain the enrichment gives it is safelisted.
    fn hides(&self, ip: IpAddr) -> bool {
        self.list.address(ip) || self.places.as_ref().is_some_and(|p| self.list.domain(&p.place(ip).domain))
    }

    /// Whether a row between `a` and `b` is hidden.
    pub fn hides_pair(&self, a: IpAddr, b: IpAddr) -> bool {
        !self.is_empty() && (self.hides(a) || self.hides(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_networks_and_domains_with_comments_and_located_errors() {
        let mut list = Safelist::default();
        let path = Path::new("safe.txt");
        list.add(path, "# ours\n10.0.0.0/8   # the office\n\n192.0.2.7\n2001:db8::/32\nExample.COM.\n_dmarc.test\n").expect("valid");
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        assert!(list.address(ip("10.200.3.4")) && list.address(ip("192.0.2.7")) && list.address(ip("2001:db8::1")));
        assert!(!list.address(ip("192.0.2.8")) && !list.address(ip("11.0.0.1")));
        assert!(list.domain("example.com") && list.domain("MAIL.example.com.") && list.domain("a.b.example.com"));
        assert!(!list.domain("badexample.com") && !list.domain("com") && !list.domain(""), "exact or below, never a look-alike or a parent");
        assert!(list.domain("_dmarc.test"));
        for (text, says) in [
            ("10.0.0.0/33\n", "safe.txt:1: `10.0.0.0/33`: "),
            ("ok.example\n300.1.1.1\n", "safe.txt:2: `300.1.1.1`: "),
            ("\n\nexa mple.com\n", "safe.txt:3: `exa mple.com`: not an address, a CIDR or a domain name"),
            ("-bad-.example\n", "safe.txt:1: `-bad-.example`: not an address"),
        ] {
            let err = Safelist::default().add(path, text).expect_err(text).to_string();
            assert!(err.contains(says), "{text:?}: {err}");
        }
    }
}

//! Network context (Spot's `networkcontext_1.csv`): names for the parts of the analyst's own
//! network, used by a threat's storyboard — the impact summary counts peers per context class,
//! the incident progression groups them by context name (Spot's storyboard did both).
//!
//! The file is CSV `srcIP,name` (Spot skipped its first line, the header; here a first line
//! that names no address is the header), `srcIP` one address, a range `a-b` (inclusive, spaces
//! allowed) or a CIDR; `#` comments and blank lines are skipped. Of the entries holding an
//! address the narrowest names it, of equal ones the first in the file (Spot took an exact
//! address first, then whichever range its dictionary listed first).
//!
//! A context's **class** is Spot's: the first of `VPN`, `DMZ`, `Proxy` and `FW` that the name's
//! first dot-separated part contains; a name containing none is `other` (Spot said `DMZ`, also
//! for a peer with no context at all — here that is `none`).

use std::net::IpAddr;
use std::path::Path;

use ipnetwork::IpNetwork;

use super::datafile::{bad, key, records};
use crate::error::Result;

/// The class of a peer with no context entry.
pub const NO_CONTEXT: &str = "none";

/// The classes Spot's impact summary knows, in the order it tries them.
const CLASSES: [&str; 4] = ["VPN", "DMZ", "Proxy", "FW"];

/// One entry: an inclusive range of address keys and its name.
#[derive(Debug, Clone)]
struct Entry {
    start: u128,
    end: u128,
    name: String,
}

/// The loaded network context file.
#[derive(Debug, Clone, Default)]
pub struct NetworkContext {
    /// Narrowest first, then in file order.
    entries: Vec<Entry>,
}

/// `text` as an inclusive range of address keys: an address, `a-b` or a CIDR.
fn range(text: &str) -> std::result::Result<(u128, u128), String> {
    if let Some((a, b)) = text.split_once('-') {
        let ip = |t: &str| t.trim().parse::<IpAddr>().map_err(|e| format!("`{}`: {e}", t.trim()));
        let (a, b) = (key(ip(a)?), key(ip(b)?));
        return if a <= b { Ok((a, b)) } else { Err(format!("`{text}`: the range ends before it starts")) };
    }
    let net: IpNetwork = text.parse().map_err(|e| format!("`{text}`: {e}"))?;
    Ok((key(net.network()), key(net.broadcast())))
}

impl NetworkContext {
    /// Reads Spot's `networkcontext_1.csv` at `path`; a bad line is `file:line: srcIP: reason`.
    pub fn load(path: &Path) -> Result<NetworkContext> {
        let mut entries = Vec::new();
        for (line, r) in records(path)? {
            let first = r.get(0).unwrap_or("");
            let (start, end) = match range(first) {
                Ok(r) => r,
                Err(_) if line == 1 && first.eq_ignore_ascii_case("srcip") => continue, // the header
                Err(e) => return Err(bad(path, line, "srcIP", e)),
            };
            let name = r.get(1).unwrap_or("").to_string();
            if name.is_empty() {
                return Err(bad(path, line, "name", "missing"));
            }
            entries.push(Entry { start, end, name });
        }
        // a stable sort keeps the file order among entries of one width
        entries.sort_by_key(|e| e.end - e.start);
        Ok(NetworkContext { entries })
    }

    /// The name of the narrowest entry holding `ip`.
    pub fn name(&self, ip: IpAddr) -> Option<&str> {
        let k = key(ip);
        self.entries.iter().find(|e| (e.start..=e.end).contains(&k)).map(|e| e.name.as_str())
    }
}

/// The context class of a context `name` (Spot's impact summary): `VPN`, `DMZ`, `Proxy`, `FW`
/// or `other`.
pub fn class(name: &str) -> &'static str {
    let head = name.split('.').next().unwrap_or("");
    CLASSES.into_iter().find(|c| head.contains(c)).unwrap_or("other")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_ranges_and_subnets_narrowest_first_with_spots_classes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("networkcontext_1.csv");
        std::fs::write(
            &path,
            "srcIP,name\n10.0.0.0/8,Corp.Office\n# the VPN pool\n10.8.0.0 - 10.8.255.255,VPN.Pool\n\n10.8.0.1,FW.Outside\n192.0.54.0/24,DMZ.Web\n10.9.0.0/16,Lab.Proxy\n2001:db8::/32,DMZ.v6\n",
        )
        .expect("write");
        let nc = NetworkContext::load(&path).expect("loads");
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        assert_eq!(nc.name(ip("10.8.0.1")), Some("FW.Outside"), "the single address, narrowest");
        assert_eq!(nc.name(ip("10.8.3.4")), Some("VPN.Pool"), "the range inside the /8");
        assert_eq!(nc.name(ip("10.200.0.1")), Some("Corp.Office"));
        assert_eq!(nc.name(ip("192.0.54.254")), Some("DMZ.Web"));
        assert_eq!(nc.name(ip("2001:db8::7")), Some("DMZ.v6"));
        assert_eq!(nc.name(ip("8.8.8.8")), None);
        let classes: Vec<&str> = ["VPN.Pool", "FW.Outside", "DMZ.Web", "WebProxy.Lab", "Corp.Office", "Lab.Proxy"].into_iter().map(class).collect();
        assert_eq!(classes, ["VPN", "FW", "DMZ", "Proxy", "other", "other"], "contained in the first dot-separated part only");

        std::fs::write(&path, "srcIP,name\n10.0.0.0/8,Corp\n10.1.0.9-10.1.0.1,Backwards\n").expect("write");
        let err = NetworkContext::load(&path).expect_err("a backwards range").to_string();
        assert!(err.contains("networkcontext_1.csv:3: srcIP: `10.1.0.9-10.1.0.1`: the range ends before it starts"), "{err}");
        std::fs::write(&path, "10.0.0.0/33,Corp\n").expect("write");
        let err = NetworkContext::load(&path).expect_err("a bad prefix").to_string();
        assert!(err.contains("networkcontext_1.csv:1: srcIP: `10.0.0.0/33`"), "{err}");
        std::fs::write(&path, "10.0.0.1,\n").expect("write");
        assert!(NetworkContext::load(&path).expect_err("no name").to_string().contains("networkcontext_1.csv:1: name: missing"));
    }
}

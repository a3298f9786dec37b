//! What a dossier is about: one address, a network (CIDR) or an autonomous system (`AS64500`
//! or `64500`), parsed with a located error.

use std::fmt;
use std::net::IpAddr;

use ipnetwork::IpNetwork;

/// The subject of a dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// One address.
    Address(IpAddr),
    /// Every address of a network.
    Network(IpNetwork),
    /// Every address GeoIP or the events place in this autonomous system.
    Asn(u32),
}

impl Target {
    /// Parses `192.0.2.1`, `2001:db8::1`, `192.0.2.0/24` or `AS64500` / `64500`; the error
    /// names the column where the text stops making sense.
    pub fn parse(text: &str) -> Result<Target, String> {
        let t = text.trim();
        let lead = text.len() - text.trim_start().len();
        let located = |column: usize, why: &str| format!("{text:?}: column {}: {why}", lead + column + 1);
        if t.is_empty() {
            return Err(format!("{text:?}: column 1: {WANTED}"));
        }
        let digits = t.strip_prefix("AS").or_else(|| t.strip_prefix("as")).unwrap_or(t);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return digits.parse::<u32>().map(Target::Asn).map_err(|_| located(t.len() - digits.len(), "an ASN is at most 4294967295"));
        }
        if let Some((addr, len)) = t.split_once('/') {
            let ip: IpAddr = addr.parse().map_err(|_| located(0, &format!("{addr:?} is not an IP address ({WANTED})")))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let prefix: u8 = len.parse().ok().filter(|p| *p <= max).ok_or_else(|| located(addr.len() + 1, &format!("the prefix length must be 0 to {max}")))?;
            let net = IpNetwork::new(ip, prefix).map_err(|e| located(addr.len() + 1, &e.to_string()))?;
            // 192.0.2.7/24 means the network 192.0.2.0/24
            let net = IpNetwork::new(net.network(), prefix).map_err(|e| located(addr.len() + 1, &e.to_string()))?;
            return Ok(if prefix == max { Target::Address(ip) } else { Target::Network(net) });
        }
        match t.parse::<IpAddr>() {
            Ok(ip) => Ok(Target::Address(ip.to_canonical())),
            Err(_) => {
                let bad = t.find(|c: char| !(c.is_ascii_hexdigit() || c == '.' || c == ':')).unwrap_or(0);
                Err(located(bad, WANTED))
            }
        }
    }

    /// Whether `ip` belongs to the target (for an ASN: decided by the caller, so false).
    pub fn holds(&self, ip: IpAddr) -> bool {
        match self {
            Target::Address(a) => *a == ip.to_canonical(),
            Target::Network(n) => n.contains(ip.to_canonical()),
            Target::Asn(_) => false,
        }
    }

    /// `address`, `network` or `asn`.
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Address(_) => "address",
            Target::Network(_) => "network",
            Target::Asn(_) => "asn",
        }
    }
}

const WANTED: &str = "not an IP address, CIDR network or ASN (e.g. 192.0.2.1, 192.0.2.0/24, AS64500)";

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Address(ip) => write!(f, "{ip}"),
            Target::Network(n) => write!(f, "{n}"),
            Target::Asn(n) => write!(f, "AS{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_networks_and_asns_parse() {
        assert_eq!(Target::parse("192.0.2.1").map(|t| t.to_string()), Ok("192.0.2.1".into()));
        assert_eq!(Target::parse(" 2001:db8::1 ").map(|t| t.kind()), Ok("address"));
        assert_eq!(Target::parse("192.0.2.77/24").map(|t| t.to_string()), Ok("192.0.2.0/24".into()));
        assert_eq!(Target::parse("192.0.2.1/32").map(|t| t.kind()), Ok("address"));
        assert_eq!(Target::parse("AS64500"), Ok(Target::Asn(64500)));
        assert_eq!(Target::parse("64500"), Ok(Target::Asn(64500)));
        let net = Target::parse("198.51.100.0/24").expect("net");
        assert!(net.holds("198.51.100.9".parse().expect("ip")) && !net.holds("198.51.101.9".parse().expect("ip")));
    }

    #[test]
    fn bad_input_is_located() {
        assert_eq!(Target::parse("192.0.2.0/33").expect_err("bad input"), "\"192.0.2.0/33\": column 11: the prefix length must be 0 to 32");
        assert!(Target::parse("19x.0.2.1").expect_err("bad input").contains("column 3: not an IP address"));
        assert!(Target::parse("AS99999999999").expect_err("bad input").contains("column 3: an ASN"));
        assert!(Target::parse("").expect_err("bad input").contains("column 1"));
        assert!(Target::parse("host 1.2.3.4").expect_err("bad input").contains("column 1"));
    }
}

//! The blocked set in the forms firewall users load (`vantage dynfw export --format …`).
//!
//! - `plain`: one address per line;
//! - `csv`: `address,country` with a header;
//! - `ipset`: `ipset restore` input, sets `vantage-dynfw4` (`hash:ip family inet`) and
//!   `vantage-dynfw6` (`family inet6`);
//! - `nft`: an `nft -f` file defining table `inet vantage` with sets `dynfw4` and `dynfw6`.
//!
//! Every form starts with no comment line except `ipset`'s and `nft`'s, which name the serial.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::str::FromStr;

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One address per line.
    Plain,
    /// `address,country`.
    Csv,
    /// `ipset restore` input.
    Ipset,
    /// An `nft -f` file.
    Nft,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "plain" => Ok(Format::Plain),
            "csv" => Ok(Format::Csv),
            "ipset" => Ok(Format::Ipset),
            "nft" => Ok(Format::Nft),
            other => Err(format!("unknown format {other:?} (plain, csv, ipset, nft)")),
        }
    }
}

/// The text of `blocked` (sorted addresses with their countries) at `serial` in `format`.
pub fn render(format: Format, serial: Option<u64>, blocked: &[(IpAddr, String)]) -> String {
    let serial = serial.map_or_else(|| "none".to_string(), |s| s.to_string());
    let (v4, v6): (Vec<_>, Vec<_>) = blocked.iter().partition(|(ip, _)| ip.is_ipv4());
    let mut out = String::new();
    match format {
        Format::Plain => blocked.iter().for_each(|(ip, _)| {
            let _ = writeln!(out, "{ip}");
        }),
        Format::Csv => {
            out.push_str("address,country\n");
            blocked.iter().for_each(|(ip, country)| {
                let _ = writeln!(out, "{ip},{country}");
            });
        }
        Format::Ipset => {
            let _ = writeln!(out, "# Vantage DynFW blocked set, serial {serial}");
            for (name, family, list) in [("vantage-dynfw4", "inet", &v4), ("vantage-dynfw6", "inet6", &v6)] {
                let _ = writeln!(out, "create {name} hash:ip family {family} -exist");
                let _ = writeln!(out, "flush {name}");
                list.iter().for_each(|(ip, _)| {
                    let _ = writeln!(out, "add {name} {ip}");
                });
            }
        }
        Format::Nft => {
            let _ = writeln!(out, "# Vantage DynFW blocked set, serial {serial}\ntable inet vantage {{");
            for (name, kind, list) in [("dynfw4", "ipv4_addr", &v4), ("dynfw6", "ipv6_addr", &v6)] {
                let _ = write!(out, "\tset {name} {{\n\t\ttype {kind}\n");
                if !list.is_empty() {
                    let elements: Vec<String> = list.iter().map(|(ip, _)| ip.to_string()).collect();
                    let _ = writeln!(out, "\t\telements = {{ {} }}", elements.join(", "));
                }
                out.push_str("\t}\n");
            }
            out.push_str("}\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocked() -> Vec<(IpAddr, String)> {
        vec![("192.0.2.1".parse().expect("ip"), "CZ".into()), ("2001:db8::1".parse().expect("ip"), String::new())]
    }

    #[test]
    fn every_format_lists_every_address_in_its_family() {
        assert_eq!(render(Format::Plain, Some(3), &blocked()), "192.0.2.1\n2001:db8::1\n");
        assert_eq!(render(Format::Csv, Some(3), &blocked()), "address,country\n192.0.2.1,CZ\n2001:db8::1,\n");
        let ipset = render(Format::Ipset, Some(3), &blocked());
        assert!(ipset.contains("add vantage-dynfw4 192.0.2.1\n") && ipset.contains("add vantage-dynfw6 2001:db8::1\n"), "{ipset}");
        assert!(ipset.contains("create vantage-dynfw6 hash:ip family inet6 -exist"));
        let nft = render(Format::Nft, Some(3), &blocked());
        assert!(nft.contains("type ipv4_addr\n\t\telements = { 192.0.2.1 }"), "{nft}");
        assert!(nft.contains("type ipv6_addr\n\t\telements = { 2001:db8::1 }"), "{nft}");
        assert!(render(Format::Nft, None, &[]).contains("set dynfw4 {\n\t\ttype ipv4_addr\n\t}"));
        assert!("xml".parse::<Format>().is_err());
    }
}

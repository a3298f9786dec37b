//! The hosts and networks a Stenographer query names (`host A`, `net N/len`), to tell which
//! capture jobs included an address (the IP dossier, `engine::dossier`).

use std::net::IpAddr;

use ipnetwork::IpNetwork;

/// The networks `query` names: each `host A` as a single-address network, each `net N`.
pub fn networks(query: &str) -> Vec<IpNetwork> {
    let spaced = query.replace(['(', ')'], " ");
    let words: Vec<&str> = spaced.split_whitespace().collect();
    words
        .windows(2)
        .filter_map(|w| match w[0].to_ascii_lowercase().as_str() {
            "host" => w[1].parse::<IpAddr>().ok().map(IpNetwork::from),
            "net" => w[1].parse::<IpNetwork>().ok(),
            _ => None,
        })
        .collect()
}

/// Whether two networks share an address.
pub fn overlap(a: &IpNetwork, b: &IpNetwork) -> bool {
    a.contains(b.network()) || b.contains(a.network())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_nets_are_named_inside_any_expression() {
        let n = networks("(host 192.0.2.7 and port 22) or net 198.51.100.0/24 or host 2001:db8::1");
        assert_eq!(n.iter().map(|n| n.to_string()).collect::<Vec<_>>(), ["192.0.2.7/32", "198.51.100.0/24", "2001:db8::1/128"]);
        assert!(overlap(&n[1], &"198.51.100.9".parse::<IpAddr>().map(IpNetwork::from).expect("ip")));
        assert!(!overlap(&n[0], &n[1]));
        assert!(networks("port 22 and host").is_empty());
    }
}

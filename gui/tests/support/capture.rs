//! Stenographer stand-ins as the app's `[pcap]` sensors (TLS, client certificates demanded),
//! serving a shipped capture in which the attacker under test talked, and what they serve
//! for a query.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use vantage_tests::steno_standin::{Standin, filter_pcap, issue, make_ca, pcap_dir, sensor_toml};

use super::Deployment;

/// The shipped capture the stand-ins serve (an SSH session), its first packet's source
/// replaced by the attacker.
const CAPTURE: &str = "ssh.pcap";

/// Length of a classic pcap's file header and of a record header.
const FILE_HEADER: usize = 24;
const RECORD_HEADER: usize = 16;

/// Running stand-ins and what they serve.
pub struct Sensors {
    /// The `[[pcap.sensors]]` entries naming them.
    pub toml: String,
    /// Their names, as configured.
    pub names: Vec<String>,
    /// The capture every one of them filters.
    pub pcap: Vec<u8>,
    standins: Vec<Standin>,
}

impl Sensors {
    /// Starts one stand-in per name in `delays` on `d`'s runtime, answering queries after that
    /// delay, all serving [`CAPTURE`] with `attacker` in it; certificates are made in `d`'s
    /// directory the way `stenokeys.sh` makes them.
    pub fn start(d: &Deployment, attacker: Ipv4Addr, delays: &[(&str, Duration)]) -> Sensors {
        let dir = d.dir.path();
        let ca = make_ca(dir, "ca");
        let server = issue(dir, &ca, "server", "localhost", 30, true);
        let client = issue(dir, &ca, "client", "vantage", 30, false);
        let pcap = with_attacker(&std::fs::read(pcap_dir().join(CAPTURE)).expect("the shipped capture"), attacker);
        let served = d.path("served.pcap");
        std::fs::write(&served, &pcap).expect("write the served capture");
        let mut toml = String::new();
        let mut standins = Vec::new();
        for (name, delay) in delays {
            let standin = d.runtime.block_on(Standin::start(&ca.cert, &server, &served));
            standin.set_query_delay(*delay);
            toml.push_str(&sensor_toml(name, standin.port, &ca.cert, &client));
            standins.push(standin);
        }
        Sensors { toml, names: delays.iter().map(|(n, _)| n.to_string()).collect(), pcap, standins }
    }

    /// The queries the stand-ins were sent (`POST /query` bodies), per stand-in.
    pub fn queries(&self) -> Vec<Vec<String>> {
        self.standins.iter().map(|s| s.requests().into_iter().filter(|r| r.path == "/query").map(|r| r.body).collect()).collect()
    }

    /// Packets and bytes on the wire (original lengths) all stand-ins together serve for `query`.
    pub fn served(&self, query: &str) -> (u64, u64) {
        let (packets, bytes) = records(&filter_pcap(&self.pcap, query).expect("a query the stand-in parses"));
        let n = self.standins.len() as u64;
        (packets * n, bytes * n)
    }
}

/// The IPv4 header of an Ethernet frame (one optional VLAN tag), if it carries IPv4.
fn ipv4_header(frame: &mut [u8]) -> Option<&mut [u8]> {
    let vlan = frame.get(12..14)? == [0x81, 0x00];
    let at = if vlan { 18 } else { 14 };
    (frame.get(at - 2..at)? == [0x08, 0x00]).then(|| frame.get_mut(at..)).flatten().filter(|ip| ip.len() >= 20)
}

/// `pcap` with the first IPv4 packet's source address replaced by `attacker` wherever it is
/// a source or destination.
fn with_attacker(pcap: &[u8], attacker: Ipv4Addr) -> Vec<u8> {
    let mut out = pcap.to_vec();
    let mut replaced: Option<[u8; 4]> = None;
    let mut off = FILE_HEADER;
    while off + RECORD_HEADER <= out.len() {
        let incl = u32::from_le_bytes(out[off + 8..off + 12].try_into().expect("4 bytes")) as usize;
        let end = (off + RECORD_HEADER + incl).min(out.len());
        if let Some(ip) = ipv4_header(&mut out[off + RECORD_HEADER..end]) {
            let old = *replaced.get_or_insert_with(|| ip[12..16].try_into().expect("4 bytes"));
            for field in [12..16, 16..20] {
                if ip[field.clone()] == old {
                    ip[field].copy_from_slice(&attacker.octets());
                }
            }
        }
        off = end;
    }
    let matching = records(&filter_pcap(&out, &format!("host {attacker}")).expect("filtered")).0;
    assert!(matching > 0, "{attacker} talks in the served {CAPTURE}");
    out
}

/// Packets and bytes on the wire (original lengths) of a little-endian classic pcap.
pub fn records(pcap: &[u8]) -> (u64, u64) {
    let (mut packets, mut bytes) = (0, 0);
    let mut off = FILE_HEADER;
    while off + RECORD_HEADER <= pcap.len() {
        let field = |at: usize| u32::from_le_bytes(pcap[off + at..off + at + 4].try_into().expect("4 bytes"));
        packets += 1;
        bytes += u64::from(field(12));
        off += RECORD_HEADER + field(8) as usize;
    }
    (packets, bytes)
}

/// The attacker's address as the stand-in's pcap knows it (IPv4: the demo's attackers are).
pub fn ipv4(ip: &str) -> Ipv4Addr {
    match ip.parse::<IpAddr>().expect("an address") {
        IpAddr::V4(v4) => v4,
        IpAddr::V6(v6) => panic!("the demo's attackers are IPv4, not {v6}"),
    }
}

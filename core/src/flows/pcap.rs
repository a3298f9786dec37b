//! Flow records built from a capture (`vantage flows import --pcap FILE`), the way nfdump
//! 1.7.1's `nfpcapd` builds them, so that a capture job's packets become flows comparable
//! with those of a NetFlow exporter:
//!
//! - a flow is **unidirectional**, keyed by (source, destination, source port, destination
//!   port, protocol); `ipkt`/`ibyt` count its packets and their IP lengths (IPv4 total length,
//!   IPv6 payload + 40), `flag` ORs the TCP flags (FIN and RST end nothing, as in nfpcapd);
//! - UDP to or from port 53, ICMP and ICMPv6 packets are flows of their own (one packet
//!   each); ICMP's destination port is `type·256 + code`;
//! - timeouts are checked on packet time, as nfpcapd does: after a packet, when more than a
//!   second has passed since the last check, and at most every 10 s, flows idle longer than
//!   `idle` seconds or older than `active` seconds end (defaults 300 / 60, nfpcapd's `-e`);
//!   everything still open ends with the capture;
//! - IPv4 fragments are put back together (the datagram counts once, at its last fragment,
//!   with the first fragment's time; unfinished ones are dropped after 15 s);
//! - not decoded (nfpcapd decapsulates them, Vantage does not): tunnels (IP-in-IP, 6in4,
//!   GRE), MPLS and PPPoE; their packets are counted as skipped.
//!
//! `biflow` (`--biflow`) instead folds each flow's reverse direction into the same record
//! (`opkt`/`obyt`, the first packet's sender is the source) and ends flows on the timeouts
//! only, like Zeek's connections.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

use chrono::DateTime;

use super::model::RawFlow;
use crate::error::Result;
use crate::packets::decode::{self, Decoded, ICMP, ICMPV6, TCP, UDP};
use crate::packets::reader::{PacketReader, Timestamp};

/// nfdump's protocol names by number (its `output_util.c`); others print as the number.
const PROTOCOLS: [&str; 138] = [
    "0", "ICMP", "IGMP", "GGP", "IPIP", "ST", "TCP", "CBT", "EGP", "IGP", "BBN", "NVPII", "PUP", "ARGUS",
    "ENCOM", "XNET", "CHAOS", "UDP", "MUX", "DCN", "HMP", "PRM", "XNS", "Trnk1", "Trnk2", "Leaf1", "Leaf2",
    "RDP", "IRTP", "ISO-4", "NETBK", "MFESP", "MEINP", "DCCP", "3PC", "IDPR", "XTP", "DDP", "IDPR", "TP++",
    "IL", "IPv6", "SDRP", "Rte6", "Frag6", "IDRP", "RSVP", "GRE", "MHRP", "BNA", "ESP", "AH", "INLSP",
    "SWIPE", "NARP", "MOBIL", "TLSP", "SKIP", "ICMP6", "NOHE6", "OPTS6", "HOST", "CFTP", "NET", "SATNT",
    "KLAN", "RVD", "IPPC", "FS", "SATM", "VISA", "IPCV", "CPNX", "CPHB", "WSN", "PVP", "BSATM", "SUNND",
    "WBMON", "WBEXP", "ISOIP", "VMTP", "SVMTP", "VINES", "TTP", "NSIGP", "DGP", "TCF", "EIGRP", "OSPF",
    "S-RPC", "LARP", "MTP", "AX.25", "OS", "MICP", "SCCSP", "ETHIP", "ENCAP", "99", "GMTP", "IFMP", "PNNI",
    "PIM", "ARIS", "SCPS", "QNX", "A/N", "IPcmp", "SNP", "CpqPP", "IPXIP", "VRRP", "PGM", "0hop", "L2TP",
    "DDX", "IATP", "STP", "SRP", "UTI", "SMP", "SM", "PTP", "ISIS4", "FIRE", "CRTP", "CRUDP", "128", "IPLT",
    "SPS", "PIPE", "SCTP", "FC", "134", "MHEAD", "UDP-L", "MPLS",
];

/// Seconds between two expiry runs (nfpcapd's `EXPIREINTERVALL`).
const EXPIRE_EVERY: i64 = 10;

/// Seconds an unfinished fragmented datagram is kept.
const FRAGMENT_TIMEOUT: i64 = 15;

/// The largest datagram put back together.
const MAX_DATAGRAM: usize = 65_536;

/// How flows are cut from packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildSettings {
    /// A flow older than this many seconds ends (nfpcapd's active timeout).
    pub active: i64,
    /// A flow without packets for this many seconds ends (inactive timeout).
    pub idle: i64,
    /// Fold both directions into one record.
    pub biflow: bool,
}

impl Default for BuildSettings {
    fn default() -> BuildSettings {
        BuildSettings { active: 300, idle: 60, biflow: false }
    }
}

/// What building the flows of one capture found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PcapFlows {
    /// The flows, by start time.
    pub flows: Vec<RawFlow>,
    /// Packets read.
    pub packets: u64,
    /// Packets in no flow (not IP, cut short, an unfinished fragment, a tunnel's inner part).
    pub skipped: u64,
}

/// A flow's key: source, destination, ports, protocol.
type Key = (IpAddr, IpAddr, u16, u16, u8);

/// An open flow.
#[derive(Debug, Clone)]
struct Node {
    first: Timestamp,
    last: Timestamp,
    packets: i64,
    bytes: i64,
    back_packets: i64,
    back_bytes: i64,
    flags: u8,
}

/// A datagram being put back together from its fragments.
struct Datagram {
    first: Timestamp,
    data: Vec<u8>,
}

/// One packet as a flow sees it.
struct Seen {
    key: Key,
    ts: Timestamp,
    bytes: i64,
    flags: u8,
}

/// The flow cache: open flows, datagrams in pieces, and the expiry clock.
struct Builder {
    settings: BuildSettings,
    open: HashMap<Key, Node>,
    datagrams: HashMap<(IpAddr, IpAddr, u16, u8), Datagram>,
    done: Vec<(Key, Node)>,
    last_run: i64,
    last_expire: i64,
}

/// The flows of the capture at `path`.
pub fn build(path: &Path, settings: BuildSettings) -> Result<PcapFlows> {
    let mut reader = PacketReader::open(path)?;
    let mut builder = Builder { settings, open: HashMap::new(), datagrams: HashMap::new(), done: Vec::new(), last_run: 0, last_expire: 0 };
    let (mut packets, mut counted) = (0u64, 0u64);
    while let Some(packet) = reader.next_packet()? {
        packets += 1;
        let Some(ts) = packet.ts else { continue };
        // nfpcapd leaves 802.3 frames before its cache check
        if packet.link_type == 1 && decode::be16(packet.data, 12).is_some_and(|t| t <= 1500) {
            continue;
        }
        if let Some(seen) = decode::decode(&packet).and_then(|d| builder.seen(ts, &d)) {
            counted += 1;
            builder.add(seen);
        }
        if ts.secs - builder.last_run > 1 {
            builder.check(ts.secs);
            builder.last_run = ts.secs;
        }
    }
    let Builder { open, mut done, .. } = builder;
    done.extend(open);
    let mut flows: Vec<RawFlow> = done.into_iter().map(|(key, node)| record(key, &node)).collect();
    flows.sort_by(|a, b| a.treceived.cmp(&b.treceived).then_with(|| (a.sip, a.dip, a.sport, a.dport).cmp(&(b.sip, b.dip, b.sport, b.dport))));
    Ok(PcapFlows { flows, packets, skipped: packets - counted })
}

impl Builder {
    /// The flow view of a decoded packet, or `None` when it belongs to no flow (yet).
    fn seen(&mut self, ts: Timestamp, d: &Decoded<'_>) -> Option<Seen> {
        let (mut ts, mut bytes, mut sport_default) = (ts, i64::from(d.ip_len), 0u16);
        let reassembled;
        let transport = match d.fragment {
            None => d.payload,
            Some(fragment) => {
                let key = (d.src, d.dst, fragment.id, d.proto);
                if fragment.offset == 0 {
                    if self.datagrams.contains_key(&key) {
                        return None;
                    }
                    self.datagrams.insert(key, Datagram { first: ts, data: Vec::new() });
                }
                let datagram = self.datagrams.get_mut(&key)?;
                let end = fragment.offset + d.payload.len();
                if end > MAX_DATAGRAM {
                    self.datagrams.remove(&key);
                    return None;
                }
                if datagram.data.len() < end {
                    datagram.data.resize(end, 0);
                }
                datagram.data[fragment.offset..end].copy_from_slice(d.payload);
                if fragment.more {
                    return None;
                }
                let datagram = self.datagrams.remove(&key)?;
                ts = datagram.first;
                bytes = (d.header_len + end) as i64;
                // nfpcapd keys a reassembled datagram's fragments by its id, which stays the
                // source port of protocols without ports
                sport_default = fragment.id;
                reassembled = datagram.data;
                &reassembled[..end]
            }
        };
        let (sport, dport, flags) = match d.proto {
            UDP => {
                let (s, t, len) = (decode::be16(transport, 0)?, decode::be16(transport, 2)?, decode::be16(transport, 4)?);
                if transport.len() < 8 || len < 8 {
                    return None;
                }
                (s, t, 0)
            }
            TCP => {
                let offset = usize::from(*transport.get(12)? >> 4) * 4;
                if offset > transport.len() || transport.len() < 14 {
                    return None;
                }
                (decode::be16(transport, 0)?, decode::be16(transport, 2)?, transport[13])
            }
            ICMP | ICMPV6 => {
                if transport.len() < 8 {
                    return None;
                }
                (sport_default, u16::from(transport[0]) << 8 | u16::from(transport[1]), 0)
            }
            _ => (sport_default, 0, 0),
        };
        Some(Seen { key: (d.src, d.dst, sport, dport, d.proto), ts, bytes, flags })
    }

    /// Adds a packet to its flow, or makes it a flow of its own.
    fn add(&mut self, seen: Seen) {
        let (src, dst, sport, dport, proto) = seen.key;
        let alone = proto == ICMP || proto == ICMPV6 || (proto == UDP && (sport == 53 || dport == 53));
        let fresh = Node { first: seen.ts, last: seen.ts, packets: 1, bytes: seen.bytes, back_packets: 0, back_bytes: 0, flags: seen.flags };
        if alone && !self.settings.biflow {
            self.done.push((seen.key, fresh));
            return;
        }
        let back = (dst, src, dport, sport, proto);
        if self.settings.biflow
            && !self.open.contains_key(&seen.key)
            && let Some(node) = self.open.get_mut(&back)
        {
            node.back_packets += 1;
            node.back_bytes += seen.bytes;
            node.flags |= seen.flags;
            node.last = seen.ts;
            return;
        }
        match self.open.get_mut(&seen.key) {
            Some(node) => {
                node.packets += 1;
                node.bytes += seen.bytes;
                node.flags |= seen.flags;
                node.last = seen.ts;
            }
            None => {
                self.open.insert(seen.key, fresh);
            }
        }
    }

    /// nfpcapd's cache check at packet time `when`: the first call starts the expiry clock,
    /// later ones expire at most every [`EXPIRE_EVERY`] seconds.
    fn check(&mut self, when: i64) {
        if self.last_expire == 0 {
            self.last_expire = when;
            return;
        }
        if when - self.last_expire > EXPIRE_EVERY {
            let BuildSettings { active, idle, .. } = self.settings;
            let ended: Vec<Key> = self.open.iter().filter(|(_, n)| when - n.last.secs > idle || when - n.first.secs > active).map(|(k, _)| *k).collect();
            for key in ended {
                if let Some(node) = self.open.remove(&key) {
                    self.done.push((key, node));
                }
            }
            self.datagrams.retain(|_, d| when - d.first.secs <= FRAGMENT_TIMEOUT);
            self.last_expire = when;
        }
    }
}

/// nfdump's name of protocol `proto`.
pub fn protocol_name(proto: u8) -> String {
    PROTOCOLS.get(usize::from(proto)).map_or_else(|| proto.to_string(), |p| (*p).to_string())
}

/// TCP flags as nfdump prints them: `CEUAPRSF`, a dot for each flag not set.
pub fn flags_text(flags: u8) -> String {
    "CEUAPRSF".chars().enumerate().map(|(i, c)| if flags & (0x80 >> i) != 0 { c } else { '.' }).collect()
}

/// A time stamp to the millisecond below, as nfdump keeps it.
fn millis(t: Timestamp) -> i64 {
    t.secs * 1000 + i64::from(t.nsecs / 1_000_000)
}

/// The flow record of an ended flow.
fn record((src, dst, sport, dport, proto): Key, node: &Node) -> RawFlow {
    let first = millis(node.first);
    let mut flow = RawFlow::between(DateTime::from_timestamp_millis(first).unwrap_or_default(), src, dst, &protocol_name(proto));
    flow.tdur = (millis(node.last) - first).max(0) as f64 / 1000.0;
    flow.sport = sport;
    flow.dport = dport;
    flow.flag = flags_text(node.flags);
    flow.ipkt = node.packets;
    flow.ibyt = node.bytes;
    flow.opkt = node.back_packets;
    flow.obyt = node.back_bytes;
    flow
}

//! A capture's summary for analysts (pcap.md "In the workstation"): packets, bytes, time
//! span, top talkers and ports, protocols and the first packets, read in one streaming pass.
//!
//! Decoding is deliberately shallow ([`crate::packets::decode`]): Ethernet (with 802.1Q/802.1ad
//! tags), Linux cooked capture (SLL), loopback and raw IP link types; IPv4 and IPv6 (no
//! extension-header walking beyond the first next-header); TCP and UDP ports. A packet that cannot be decoded counts in the totals
//! and shows as "other". A talker is counted once per packet for its source and once for its
//! destination address; a flow's port is the lower of its two ports (usually the service).

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::Result;
use crate::packets::decode::{decode, protocol_name};
use crate::packets::reader::{Packet, PacketReader};

/// Counts of one address, port or protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Count {
    /// The address, `tcp/443`-style port or protocol name.
    pub key: String,
    /// Packets.
    pub packets: u64,
    /// Bytes on the wire.
    pub bytes: u64,
}

/// One packet of the preview list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PacketLine {
    /// Capture time (`None` for pcapng simple packets).
    pub time: Option<DateTime<Utc>>,
    /// Source address (and port).
    pub source: String,
    /// Destination address (and port).
    pub destination: String,
    /// tcp, udp, icmp, `ip proto N` or other.
    pub protocol: String,
    /// Length on the wire.
    pub length: u32,
}

/// The summary of a capture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaptureSummary {
    /// Packets.
    pub packets: u64,
    /// Bytes on the wire (sum of original lengths).
    pub bytes: u64,
    /// The earliest packet time.
    pub first: Option<DateTime<Utc>>,
    /// The latest packet time.
    pub last: Option<DateTime<Utc>>,
    /// Addresses by packets (then bytes), most first.
    pub talkers: Vec<Count>,
    /// Ports by packets, most first.
    pub ports: Vec<Count>,
    /// Protocols by packets, most first.
    pub protocols: Vec<Count>,
    /// The first packets in file order.
    pub preview: Vec<PacketLine>,
}

fn endpoint(ip: IpAddr, port: Option<u16>) -> String {
    match (ip, port) {
        (IpAddr::V6(a), Some(p)) => format!("[{a}]:{p}"),
        (a, Some(p)) => format!("{a}:{p}"),
        (a, None) => a.to_string(),
    }
}

fn time_of(packet: &Packet<'_>) -> Option<DateTime<Utc>> {
    packet.ts.and_then(|t| DateTime::from_timestamp(t.secs, t.nsecs))
}

fn add(map: &mut HashMap<String, (u64, u64)>, key: String, bytes: u64) {
    let e = map.entry(key).or_default();
    e.0 += 1;
    e.1 += bytes;
}

fn ranked(map: HashMap<String, (u64, u64)>, top: usize) -> Vec<Count> {
    let mut v: Vec<Count> = map.into_iter().map(|(key, (packets, bytes))| Count { key, packets, bytes }).collect();
    v.sort_by(|a, b| b.packets.cmp(&a.packets).then(b.bytes.cmp(&a.bytes)).then_with(|| a.key.cmp(&b.key)));
    v.truncate(top);
    v
}

/// Reads the capture at `path` once and summarizes it: the `top` talkers, ports and
/// protocols and the first `preview` packets.
pub fn summarize(path: &Path, top: usize, preview: usize) -> Result<CaptureSummary> {
    let mut reader = PacketReader::open(path)?;
    let (mut packets, mut bytes) = (0u64, 0u64);
    let (mut first, mut last): (Option<DateTime<Utc>>, Option<DateTime<Utc>>) = (None, None);
    let (mut talkers, mut ports, mut protocols) = (HashMap::new(), HashMap::new(), HashMap::new());
    let mut lines = Vec::new();
    while let Some(p) = reader.next_packet()? {
        let size = u64::from(p.origlen);
        packets += 1;
        bytes += size;
        let time = time_of(&p);
        if let Some(t) = time {
            first = Some(first.map_or(t, |f| f.min(t)));
            last = Some(last.map_or(t, |l| l.max(t)));
        }
        let decoded = decode(&p);
        let line = match &decoded {
            Some(d) => {
                add(&mut talkers, d.src.to_string(), size);
                add(&mut talkers, d.dst.to_string(), size);
                add(&mut protocols, protocol_name(d.proto), size);
                if let Some((s, t)) = d.ports() {
                    add(&mut ports, format!("{}/{}", protocol_name(d.proto), s.min(t)), size);
                }
                PacketLine {
                    time,
                    source: endpoint(d.src, d.ports().map(|p| p.0)),
                    destination: endpoint(d.dst, d.ports().map(|p| p.1)),
                    protocol: protocol_name(d.proto),
                    length: p.origlen,
                }
            }
            None => {
                add(&mut protocols, "other".into(), size);
                PacketLine { time, source: "-".into(), destination: "-".into(), protocol: "other".into(), length: p.origlen }
            }
        };
        if lines.len() < preview {
            lines.push(line);
        }
    }
    Ok(CaptureSummary {
        packets,
        bytes,
        first,
        last,
        talkers: ranked(talkers, top),
        ports: ranked(ports, top),
        protocols: ranked(protocols, top),
        preview: lines,
    })
}

//! A shallow decoder of captured packets: the link layer (Ethernet with 802.1Q/802.1ad tags,
//! Linux cooked capture, BSD loopback, raw IP), the IPv4 or IPv6 header (no walk of IPv6
//! extension headers: the first next-header is the protocol) and the first bytes of the
//! transport header. What the capture summary and flow building need, nothing more.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::reader::Packet;

/// An IPv4 fragment's place in its datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fragment {
    /// The datagram's identification field.
    pub id: u16,
    /// Where this fragment's data starts in the datagram's payload, in bytes.
    pub offset: usize,
    /// More fragments follow (MF).
    pub more: bool,
}

/// The network layer of one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoded<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IP protocol number (IPv6: the first next-header).
    pub proto: u8,
    /// The datagram's length as its header gives it (IPv4 total length, IPv6 payload length
    /// plus the 40-byte header): the bytes a flow meter counts.
    pub ip_len: u32,
    /// The IP header's length in bytes.
    pub header_len: usize,
    /// IPv4 fragments only: where this one belongs.
    pub fragment: Option<Fragment>,
    /// The captured bytes after the IP header (the transport header and payload, possibly cut
    /// by the snap length; with Ethernet padding on short frames).
    pub payload: &'a [u8],
}

/// TCP.
pub const TCP: u8 = 6;
/// UDP.
pub const UDP: u8 = 17;
/// ICMP.
pub const ICMP: u8 = 1;
/// ICMPv6.
pub const ICMPV6: u8 = 58;

/// The big-endian `u16` at `at`.
pub fn be16(d: &[u8], at: usize) -> Option<u16> {
    d.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]]))
}

/// The IP packet of a frame of `link_type`, with its EtherType (0x0800 or 0x86dd and others).
fn network_layer(link_type: u32, data: &[u8]) -> Option<(u16, &[u8])> {
    match link_type {
        1 => {
            let mut at = 12;
            let mut ethertype = be16(data, at)?;
            while ethertype == 0x8100 || ethertype == 0x88a8 {
                at += 4;
                ethertype = be16(data, at)?;
            }
            Some((ethertype, data.get(at + 2..)?))
        }
        113 => Some((be16(data, 14)?, data.get(16..)?)),
        // BSD loopback: the address family in host (0) or network (108) byte order
        0 | 108 => {
            let raw: [u8; 4] = data.get(..4)?.try_into().ok()?;
            let family = if link_type == 0 { u32::from_le_bytes(raw).min(u32::from_be_bytes(raw)) } else { u32::from_be_bytes(raw) };
            match family {
                2 => Some((0x0800, data.get(4..)?)),
                24 | 28 | 30 => Some((0x86dd, data.get(4..)?)),
                _ => None,
            }
        }
        101 | 12 | 14 => match data.first()? >> 4 {
            4 => Some((0x0800, data)),
            6 => Some((0x86dd, data)),
            _ => None,
        },
        _ => None,
    }
}

/// The IP layer of `packet`, or `None` when it is not IPv4/IPv6 or its IP header is cut.
pub fn decode<'a>(packet: &Packet<'a>) -> Option<Decoded<'a>> {
    let (ethertype, ip) = network_layer(packet.link_type, packet.data)?;
    match ethertype {
        0x0800 => {
            let header_len = usize::from(ip.first()? & 0x0f) * 4;
            let src: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
            let dst: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
            let flags_offset = be16(ip, 6)?;
            let (more, offset) = (flags_offset & 0x2000 != 0, usize::from(flags_offset & 0x1fff) * 8);
            let fragment = (more || offset > 0).then(|| Fragment { id: be16(ip, 4).unwrap_or(0), offset, more });
            Some(Decoded {
                src: Ipv4Addr::from(src).into(),
                dst: Ipv4Addr::from(dst).into(),
                proto: *ip.get(9)?,
                ip_len: u32::from(be16(ip, 2)?),
                header_len,
                fragment,
                payload: ip.get(header_len..)?,
            })
        }
        0x86dd => {
            let src: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
            let dst: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
            Some(Decoded {
                src: Ipv6Addr::from(src).into(),
                dst: Ipv6Addr::from(dst).into(),
                proto: *ip.get(6)?,
                ip_len: u32::from(be16(ip, 4)?) + 40,
                header_len: 40,
                fragment: None,
                payload: ip.get(40..)?,
            })
        }
        _ => None,
    }
}

impl Decoded<'_> {
    /// TCP or UDP source and destination ports, when this packet holds the transport header
    /// (not a later fragment).
    pub fn ports(&self) -> Option<(u16, u16)> {
        let first = self.fragment.is_none_or(|f| f.offset == 0);
        if first && (self.proto == TCP || self.proto == UDP) { be16(self.payload, 0).zip(be16(self.payload, 2)) } else { None }
    }
}

/// The protocol's name as the capture summary shows it.
pub fn protocol_name(proto: u8) -> String {
    match proto {
        TCP => "tcp".into(),
        UDP => "udp".into(),
        ICMP => "icmp".into(),
        ICMPV6 => "icmpv6".into(),
        n => format!("ip proto {n}"),
    }
}

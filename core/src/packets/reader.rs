//! Streaming packet reader for classic libpcap and pcapng captures.
//!
//! - Classic libpcap: µs or ns time stamps, either byte order (and the "modified" variant).
//! - pcapng: any number of sections, each of either byte order, with any number of
//!   interfaces; every packet gets the link type, time resolution (`if_tsresol`, powers of 10
//!   or 2) and time offset (`if_tsoffset`) of its interface. Enhanced and Simple Packet Blocks
//!   carry packets (a Simple Packet Block has no time stamp and belongs to interface 0, its
//!   captured length is cut to the interface's snaplen); other blocks (statistics, name
//!   resolution, …) are skipped.
//!
//! Memory is constant whatever the capture's size: pcap-parser's circular buffer (1 MiB,
//! enough for any block of a packet up to 262,144 bytes) is refilled from the file as blocks
//! are consumed, and the current packet is copied into a buffer the reader reuses.

use std::fs::File;
use std::path::{Path, PathBuf};

use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{Block, InterfaceDescriptionBlock, OptionCode, PcapBlockOwned, PcapError};
use serde::Serialize;

use crate::error::{Error, Result};

/// Read buffer of one capture; every block must fit into it.
const BUFFER: usize = 1 << 20;

/// Why a block that does not fit into the read buffer is refused.
const TOO_BIG: &str = "a block larger than the 1 MiB read buffer (corrupt file?)";

/// A packet time stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Timestamp {
    /// Whole seconds since 1970-01-01T00:00:00Z.
    pub secs: i64,
    /// Nanoseconds within the second (0 … 999,999,999).
    pub nsecs: u32,
}

impl Timestamp {
    /// `secs` plus `units` of `units_per_sec` (the fraction may exceed one second), to the
    /// nanosecond below.
    fn new(secs: i64, units: u64, units_per_sec: u64) -> Timestamp {
        let nanos = u128::from(units % units_per_sec) * 1_000_000_000 / u128::from(units_per_sec);
        let whole = i64::try_from(units / units_per_sec).unwrap_or(i64::MAX);
        // nanos < 10⁹ always fits
        Timestamp { secs: secs.saturating_add(whole), nsecs: nanos as u32 }
    }
}

/// One packet, borrowed from its [`PacketReader`] until the reader moves on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    /// When it was captured; `None` for a pcapng Simple Packet Block, which has no time stamp.
    pub ts: Option<Timestamp>,
    /// LINKTYPE_* number of the interface it was captured on (1 = Ethernet, 113 = Linux SLL).
    pub link_type: u32,
    /// Length of the packet on the wire; the captured length is `data.len()`.
    pub origlen: u32,
    /// The captured bytes.
    pub data: &'a [u8],
}

/// What the blocks read so far say about the packets that follow.
enum Format {
    /// Nothing read yet.
    Unknown,
    /// Classic libpcap: one link type; time stamp fractions in ns (`nanos`) or µs.
    Classic { link_type: u32, nanos: bool },
    /// pcapng: the byte order and the interfaces of the current section.
    Ng { big_endian: bool, interfaces: Vec<Interface> },
}

/// A pcapng interface as its Interface Description Block describes it.
struct Interface {
    link_type: u32,
    /// 0 = no limit.
    snaplen: u32,
    units_per_sec: u64,
    offset_secs: i64,
}

impl Interface {
    fn new(idb: &InterfaceDescriptionBlock, big_endian: bool) -> std::result::Result<Interface, String> {
        // pcap-parser refuses every 2^-n if_tsresol and decodes if_tsoffset as little-endian in
        // every section: both are decoded here
        let exponent = u32::from(idb.if_tsresol & 0x7f);
        let units_per_sec = if idb.if_tsresol & 0x80 == 0 { 10u64.checked_pow(exponent) } else { 1u64.checked_shl(exponent) };
        let units_per_sec = units_per_sec.ok_or_else(|| format!("interface with an invalid time resolution (if_tsresol {})", idb.if_tsresol))?;
        let offset = idb.options.iter().find(|o| o.code == OptionCode::IfTsoffset).and_then(|o| o.value().get(..8)).and_then(|v| <[u8; 8]>::try_from(v).ok());
        let offset_secs = offset.map_or(0, |v| if big_endian { i64::from_be_bytes(v) } else { i64::from_le_bytes(v) });
        Ok(Interface { link_type: idb.linktype.0 as u32, snaplen: idb.snaplen, units_per_sec, offset_secs })
    }
}

/// The decoded state: format, first link type and the current packet.
struct State {
    format: Format,
    link_type: Option<u32>,
    /// Time stamp, link type and original length of the current packet (its bytes are `data`).
    current: Option<(Option<Timestamp>, u32, u32)>,
    data: Vec<u8>,
}

impl State {
    /// Takes in one block; true when it was a packet, which is then the current one.
    fn read(&mut self, block: PcapBlockOwned) -> std::result::Result<bool, String> {
        let (ts, link_type, origlen, data) = match (&mut self.format, block) {
            (_, PcapBlockOwned::LegacyHeader(header)) => {
                let link_type = header.network.0 as u32;
                self.format = Format::Classic { link_type, nanos: header.is_nanosecond_precision() };
                self.link_type.get_or_insert(link_type);
                return Ok(false);
            }
            (Format::Classic { link_type, nanos }, PcapBlockOwned::Legacy(record)) => {
                let units_per_sec = if *nanos { 1_000_000_000 } else { 1_000_000 };
                let ts = Timestamp::new(i64::from(record.ts_sec), u64::from(record.ts_usec), units_per_sec);
                (Some(ts), *link_type, record.origlen, record.data)
            }
            (_, PcapBlockOwned::NG(Block::SectionHeader(shb))) => {
                self.format = Format::Ng { big_endian: shb.big_endian(), interfaces: Vec::new() };
                return Ok(false);
            }
            (Format::Ng { big_endian, interfaces }, PcapBlockOwned::NG(Block::InterfaceDescription(idb))) => {
                let interface = Interface::new(&idb, *big_endian)?;
                self.link_type.get_or_insert(interface.link_type);
                interfaces.push(interface);
                return Ok(false);
            }
            (Format::Ng { interfaces, .. }, PcapBlockOwned::NG(Block::EnhancedPacket(epb))) => {
                let Some(interface) = interfaces.get(epb.if_id as usize) else {
                    return Err(format!("packet of interface {}, which its section does not describe", epb.if_id));
                };
                let units = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                let ts = Timestamp::new(interface.offset_secs, units, interface.units_per_sec);
                (Some(ts), interface.link_type, epb.origlen, &epb.data[..(epb.caplen as usize).min(epb.data.len())])
            }
            (Format::Ng { interfaces, .. }, PcapBlockOwned::NG(Block::SimplePacket(spb))) => {
                let Some(interface) = interfaces.first() else { return Err("simple packet block before any interface".into()) };
                let snaplen = if interface.snaplen == 0 { u32::MAX } else { interface.snaplen };
                let caplen = spb.origlen.min(snaplen) as usize;
                (None, interface.link_type, spb.origlen, &spb.data[..caplen.min(spb.data.len())])
            }
            (Format::Ng { .. }, PcapBlockOwned::NG(_)) => return Ok(false),
            _ => return Err("block out of place (a pcapng block in a pcap file, or before the section header)".into()),
        };
        self.data.clear();
        self.data.extend_from_slice(data);
        self.current = Some((ts, link_type, origlen));
        Ok(true)
    }
}

/// Reads the packets of one capture file in file order, block by block, in constant memory.
pub struct PacketReader {
    path: PathBuf,
    blocks: Box<dyn PcapReaderIterator + Send>,
    state: State,
}

/// What one step of the block iterator asks for.
enum Step {
    Block(usize, std::result::Result<bool, String>),
    Refill,
    End,
    Fail(&'static str),
    Invalid,
}

impl PacketReader {
    /// Opens a pcap or pcapng file (recognised by its first bytes, not its name).
    pub fn open(path: &Path) -> Result<PacketReader> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let blocks = pcap_parser::create_reader(BUFFER, file).map_err(|e| {
            let why = match e {
                PcapError::Eof => "empty file, not a capture".to_string(),
                PcapError::Incomplete(_) => "too short for a capture file header".to_string(),
                PcapError::HeaderNotRecognized => "not a pcap or pcapng file".to_string(),
                other => other.to_string(),
            };
            Error::Pcap(format!("{}: {why}", path.display()))
        })?;
        let state = State { format: Format::Unknown, link_type: None, current: None, data: Vec::new() };
        Ok(PacketReader { path: path.to_path_buf(), blocks, state })
    }

    /// The file this reader reads.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The capture's link type: from a classic file header, or the first pcapng interface;
    /// `None` until that has been read (the first [`PacketReader::next_packet`] reads it).
    pub fn link_type(&self) -> Option<u32> {
        self.state.link_type
    }

    /// Moves to the next packet and returns it; `None` at the end of the file. A truncated or
    /// corrupt file is an error naming it.
    pub fn next_packet(&mut self) -> Result<Option<Packet<'_>>> {
        self.state.current = None;
        loop {
            let step = match self.blocks.next() {
                Ok((len, block)) => Step::Block(len, self.state.read(block)),
                Err(PcapError::Incomplete(_)) => Step::Refill,
                Err(PcapError::Eof) => Step::End,
                Err(PcapError::UnexpectedEof) => Step::Fail("cut short in the middle of a block"),
                Err(PcapError::BufferTooSmall) => Step::Fail(TOO_BIG),
                Err(_) => Step::Invalid,
            };
            match step {
                Step::Block(len, read) => {
                    self.blocks.consume(len);
                    if read.map_err(|why| self.fail(why))? {
                        return Ok(self.packet());
                    }
                }
                Step::Refill => {
                    let before = self.blocks.data().len();
                    if self.blocks.refill().is_err() {
                        return Err(self.fail("read error".into()));
                    }
                    if self.blocks.data().len() == before && !self.blocks.reader_exhausted() {
                        return Err(self.fail(TOO_BIG.into()));
                    }
                }
                Step::End => return Ok(None),
                Step::Fail(why) => return Err(self.fail(why.into())),
                Step::Invalid => return Err(self.fail(format!("invalid or unsupported data after byte {}", self.blocks.consumed()))),
            }
        }
    }

    /// The packet the last [`PacketReader::next_packet`] returned, again.
    pub fn packet(&self) -> Option<Packet<'_>> {
        self.state.current.map(|(ts, link_type, origlen)| Packet { ts, link_type, origlen, data: &self.state.data })
    }

    fn fail(&self, why: String) -> Error {
        Error::Pcap(format!("{}: {why}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/pcaps");

    /// (seconds and ns, link type, captured length, original length, first byte) of a packet.
    type Summary = (Option<(i64, u32)>, u32, usize, u32, u8);

    fn read_all(path: &Path) -> Vec<Summary> {
        let mut reader = PacketReader::open(path).expect("opens");
        let mut all = Vec::new();
        while let Some(p) = reader.next_packet().expect("reads") {
            all.push((p.ts.map(|t| (t.secs, t.nsecs)), p.link_type, p.data.len(), p.origlen, p.data[0]));
        }
        all
    }

    #[test]
    fn pcapng_sections_interfaces_and_resolutions() {
        // see tests/fixtures/pcaps/make.py
        let all = read_all(&Path::new(FIXTURES).join("sections.pcapng"));
        assert_eq!(
            all,
            [
                (None, 1, 64, 100, 1),                              // SPB cut to interface 0's snaplen
                (Some((1_000_000, 123_456_789)), 1, 61, 61, 2),     // if_tsresol 10^-9
                (Some((1_000_000_124, 500_006_675)), 1, 70, 80, 3), // if_tsresol 2^-20, truncated to ns
                (Some((999_999_135, 1_000)), 1, 62, 62, 4),         // big-endian section, µs, if_tsoffset 5 s
            ]
        );
    }

    #[test]
    fn classic_nanoseconds_and_byte_orders() {
        let dir = tempfile::tempdir().expect("tempdir");
        for (magic, nanos) in [(0xa1b2_c3d4u32, false), (0xa1b2_3c4d, true)] {
            for big_endian in [false, true] {
                let u32b = |v: u32| if big_endian { v.to_be_bytes() } else { v.to_le_bytes() };
                let version = if big_endian { [0, 2, 0, 4] } else { [2, 0, 4, 0] };
                let mut bytes: Vec<u8> = u32b(magic).into_iter().chain(version).collect();
                // thiszone, sigfigs, snaplen, link type; ts_sec, fraction, caplen, origlen
                for v in [0, 0, 65_535, 113, 1_700_000_000, 999_999, 3, 5] {
                    bytes.extend(u32b(v));
                }
                bytes.extend([9, 8, 7]);
                let path = dir.path().join(format!("{magic:x}-{big_endian}.pcap"));
                std::fs::write(&path, &bytes).expect("write");
                let mut reader = PacketReader::open(&path).expect("opens");
                let p = reader.next_packet().expect("reads").expect("a packet");
                let nsecs = if nanos { 999_999 } else { 999_999_000 };
                assert_eq!(p, Packet { ts: Some(Timestamp { secs: 1_700_000_000, nsecs }), link_type: 113, origlen: 5, data: &[9, 8, 7] });
                assert_eq!(reader.link_type(), Some(113));
                assert_eq!(reader.next_packet().expect("end"), None);
            }
        }
    }

    #[test]
    fn bad_files_are_errors_naming_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cases: [(&str, &[u8], &str); 3] = [
            ("empty.pcap", b"", "empty file"),
            ("garbage.pcap", b"this is not a capture file at all, just some text\n", "not a pcap or pcapng file"),
            ("short.pcap", &[0xd4, 0xc3, 0xb2, 0xa1, 2, 0], "too short"),
        ];
        for (name, bytes, why) in cases {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).expect("write");
            let err = PacketReader::open(&path).err().expect("refused").to_string();
            assert!(err.contains(name) && err.contains(why), "{err}");
        }
        // a record cut short
        let path = dir.path().join("cut.pcap");
        let mut bytes: Vec<u8> = [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65_535, 1, 1, 0, 100, 100].iter().flat_map(|v| v.to_le_bytes()).collect();
        bytes.extend([0; 40]);
        std::fs::write(&path, bytes).expect("write");
        let mut reader = PacketReader::open(&path).expect("header is fine");
        let err = reader.next_packet().expect_err("truncated").to_string();
        assert!(err.contains("cut.pcap") && err.contains("cut short"), "{err}");
    }
}

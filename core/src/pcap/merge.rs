//! The native merge of captures into one chronologically ordered classic pcap (pcap.md,
//! "Pipeline" step 3): packet for packet what `mergecap -F pcap -w OUT IN…` writes.
//!
//! - Inputs: anything [`PacketReader`] reads (classic pcap in µs or ns and either byte order,
//!   pcapng). All of them must have the same link type; otherwise nothing is written and the
//!   error names every input with its link type.
//! - Output: classic libpcap, little-endian, µs time stamps, snaplen 262,144, that link type.
//!   Nanosecond time stamps are truncated to the µs below (mergecap does the same).
//! - Order: a k-way merge over a binary heap of each input's next packet, by time stamp at
//!   full (ns) precision. Mergecap's rule decides ties, and this merge follows it: of packets
//!   with equal time stamps, the one from the input listed **last** comes first; a packet
//!   without a time stamp (pcapng Simple Packet Block) is taken at once, from the input listed
//!   first, and written with time stamp 0. Each input is read in its own order (not sorted).
//! - Memory: constant — one read buffer per input, one write buffer; nothing is loaded whole.
//! - Atomic: the output is written to `OUT.tmp` and renamed to `OUT` when complete; on any
//!   error the temporary file is removed and `OUT` is left as it was.
//! - An output that is one of the inputs — the same path, or the same file through another
//!   path, a hard link or a symlink ([`same_file`]) — is refused before anything is read or
//!   written, so the merge can never replace its own input.
//!
//! [`merge_with_mergecap`] runs mergecap itself instead (pcap.md's configurable alternative),
//! just as atomically, and reports the same figures.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

use crate::packets::reader::{PacketReader, Timestamp};
use crate::error::{Error, Result};

/// Snapshot length written into the output's file header.
pub const SNAPLEN: u32 = 262_144;

/// What a merge wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MergeReport {
    /// Number of input files.
    pub inputs: usize,
    /// Packets written.
    pub packets: u64,
    /// Size of the output file in bytes (file header, record headers and packet data).
    pub bytes: u64,
    /// LINKTYPE_* number of the output (1 = Ethernet).
    pub link_type: u32,
    /// Time stamp of the first packet, as written (µs).
    pub first_ts: Option<Timestamp>,
    /// Time stamp of the last packet, as written (µs).
    pub last_ts: Option<Timestamp>,
}

impl MergeReport {
    /// Nothing written yet but the 24-byte file header.
    fn new(inputs: usize, link_type: u32) -> MergeReport {
        MergeReport { inputs, packets: 0, bytes: 24, link_type, first_ts: None, last_ts: None }
    }

    /// Counts one record written with time stamp `ts` and `caplen` bytes of data.
    fn add(&mut self, ts: Timestamp, caplen: usize) {
        self.packets += 1;
        self.bytes += 16 + caplen as u64;
        self.first_ts.get_or_insert(ts);
        self.last_ts = Some(ts);
    }
}

/// The next packet of one input, ordered the way mergecap picks the next packet to write
/// (smallest first): no time stamp before any time stamp, lowest input first among those;
/// then the earliest time stamp, highest input first among equal ones.
#[derive(Debug, PartialEq, Eq)]
struct Head {
    ts: Option<Timestamp>,
    input: usize,
}

impl Ord for Head {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.ts, other.ts) {
            (Some(a), Some(b)) => a.cmp(&b).then(other.input.cmp(&self.input)),
            (None, None) => self.input.cmp(&other.input),
            (a, b) => a.is_some().cmp(&b.is_some()),
        }
    }
}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Merges `inputs` into one classic pcap at `output` (see the module documentation).
pub fn merge_files(inputs: &[PathBuf], output: &Path) -> Result<MergeReport> {
    merge_files_shifted(inputs, output, 0)
}

/// [`merge_files`] with every time stamp moved by `shift_secs` seconds (how the demo capture
/// is re-dated to end at the clock's time).
pub fn merge_files_shifted(inputs: &[PathBuf], output: &Path, shift_secs: i64) -> Result<MergeReport> {
    if inputs.is_empty() {
        return Err(Error::InvalidArgument("pcap merge needs at least one input".into()));
    }
    refuse_input_as_output(inputs, output)?;
    let mut readers = inputs.iter().map(|path| PacketReader::open(path)).collect::<Result<Vec<_>>>()?;
    let mut heads = BinaryHeap::with_capacity(readers.len());
    for (input, reader) in readers.iter_mut().enumerate() {
        if let Some(packet) = reader.next_packet()? {
            heads.push(Reverse(Head { ts: packet.ts, input }));
        }
    }
    let link_type = common_link_type(&readers)?;
    atomically(output, |tmp| write(&mut readers, heads, link_type, shift_secs, tmp))
}

/// Merges with Wireshark's `mergecap -F pcap -w OUT.tmp IN…`, renames the result to `output`
/// and reads it back for the report. Mergecap's complaint (it names the file) is the error.
pub fn merge_with_mergecap(inputs: &[PathBuf], output: &Path) -> Result<MergeReport> {
    refuse_input_as_output(inputs, output)?;
    atomically(output, |tmp| {
        let run = Command::new("mergecap")
            .args(["-F", "pcap", "-w"])
            .arg(tmp)
            .args(inputs)
            .output()
            .map_err(|e| Error::Pcap(format!("cannot run mergecap (install wireshark-common): {e}")))?;
        if !run.status.success() {
            let stderr = String::from_utf8_lossy(&run.stderr);
            let said: Vec<&str> = stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            return Err(Error::Pcap(if said.is_empty() { format!("mergecap failed ({})", run.status) } else { said.join("; ") }));
        }
        let mut reader = PacketReader::open(tmp)?;
        let mut report = MergeReport::new(inputs.len(), 0);
        while let Some(packet) = reader.next_packet()? {
            report.add(written_ts(packet.ts), packet.data.len());
        }
        report.link_type = reader.link_type().unwrap_or_default();
        Ok(report)
    })
}

/// True when `a` and `b` name the same existing file: the same device and inode after
/// following symlinks (so `./a.pcap`, a hard link and a symlink to `a.pcap` are all `a.pcap`).
/// False when either does not exist.
pub fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Refuses an `output` that is one of `inputs` (by path or by [`same_file`]).
fn refuse_input_as_output(inputs: &[PathBuf], output: &Path) -> Result<()> {
    match inputs.iter().find(|input| input.as_path() == output || same_file(input, output)) {
        Some(input) => Err(Error::InvalidArgument(format!(
            "{}: the output is the input {}; write the merge to another file",
            output.display(),
            input.display()
        ))),
        None => Ok(()),
    }
}

/// Runs `write` on `OUT.tmp`, then renames it to `output`; removes it on any error.
fn atomically(output: &Path, write: impl FnOnce(&Path) -> Result<MergeReport>) -> Result<MergeReport> {
    let mut tmp = output.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let written = write(&tmp).and_then(|report| {
        std::fs::rename(&tmp, output).map_err(|e| Error::io(output, e))?;
        Ok(report)
    });
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// The link type all inputs share (inputs that declare none, a pcapng file without
/// interfaces, do not count).
fn common_link_type(readers: &[PacketReader]) -> Result<u32> {
    let declared: Vec<(&Path, u32)> = readers.iter().filter_map(|r| Some((r.path(), r.link_type()?))).collect();
    match declared.first() {
        None => Err(Error::Pcap("no input declares a link type (pcapng files without interfaces)".into())),
        Some(&(_, first)) if declared.iter().all(|&(_, lt)| lt == first) => Ok(first),
        Some(_) => {
            // the files of each link type, link types in order of first appearance
            let mut groups: Vec<(u32, Vec<String>)> = Vec::new();
            for &(path, lt) in &declared {
                match groups.iter_mut().find(|(l, _)| *l == lt) {
                    Some((_, files)) => files.push(path.display().to_string()),
                    None => groups.push((lt, vec![path.display().to_string()])),
                }
            }
            let list: Vec<String> = groups.iter().map(|(lt, files)| format!("{}: {}", link_type_name(*lt), files.join(", "))).collect();
            Err(Error::Pcap(format!("cannot merge captures of different link types into one pcap: {}", list.join("; "))))
        }
    }
}

/// `ETHERNET (1)`, `LINUX_SLL (113)`, or the bare number of a link type pcap-parser does not name.
fn link_type_name(link_type: u32) -> String {
    let name = pcap_parser::Linktype(link_type as i32).to_string();
    if name.starts_with("Linktype(") { format!("link type {link_type}") } else { format!("{name} ({link_type})") }
}

/// Writes the merged packets to `path` (the temporary file), time stamps moved by `shift_secs`.
fn write(readers: &mut [PacketReader], mut heads: BinaryHeap<Reverse<Head>>, link_type: u32, shift_secs: i64, path: &Path) -> Result<MergeReport> {
    let io = |e| Error::io(path, e);
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path).map_err(io)?);
    let header = [0xa1b2_c3d4u32.to_le_bytes(), [2, 0, 4, 0], [0; 4], [0; 4], SNAPLEN.to_le_bytes(), link_type.to_le_bytes()];
    out.write_all(header.as_flattened()).map_err(io)?;
    let mut report = MergeReport::new(readers.len(), link_type);
    while let Some(Reverse(Head { input, .. })) = heads.pop() {
        let reader = &mut readers[input];
        // always a packet: an input is in the heap only while it has one
        if let Some(packet) = reader.packet() {
            if packet.link_type != link_type {
                return Err(Error::Pcap(format!(
                    "{}: packet of link type {} among packets of {}; cannot merge into one pcap",
                    reader.path().display(),
                    link_type_name(packet.link_type),
                    link_type_name(link_type)
                )));
            }
            let ts = written_ts(packet.ts.map(|t| Timestamp { secs: t.secs.saturating_add(shift_secs), ..t }));
            let header =
                [(ts.secs as u32).to_le_bytes(), (ts.nsecs / 1000).to_le_bytes(), (packet.data.len() as u32).to_le_bytes(), packet.origlen.to_le_bytes()];
            out.write_all(header.as_flattened()).and_then(|()| out.write_all(packet.data)).map_err(io)?;
            report.add(ts, packet.data.len());
        }
        if let Some(next) = reader.next_packet()? {
            heads.push(Reverse(Head { ts: next.ts, input }));
        }
    }
    out.flush().map_err(io)?;
    Ok(report)
}

/// A time stamp as a pcap record stores it: µs, the ns below truncated; none → 0.
fn written_ts(ts: Option<Timestamp>) -> Timestamp {
    ts.map_or(Timestamp { secs: 0, nsecs: 0 }, |ts| Timestamp { secs: ts.secs, nsecs: ts.nsecs / 1000 * 1000 })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian classic pcap of `link_type` with records (seconds, fraction, first byte),
    /// the fraction in ns when `nanos`.
    fn classic(path: &Path, nanos: bool, link_type: u32, records: &[(u32, u32, u8)]) {
        let magic: u32 = if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
        let mut bytes: Vec<u8> = [magic, 0x0004_0002, 0, 0, 65_535, link_type].iter().flat_map(|v| v.to_le_bytes()).collect();
        for &(secs, fraction, byte) in records {
            bytes.extend([secs, fraction, 4, 60].iter().flat_map(|v| v.to_le_bytes()));
            bytes.extend([byte; 4]);
        }
        std::fs::write(path, bytes).expect("write");
    }

    /// (seconds, µs, first byte) of every packet of a merged file.
    fn merged(path: &Path) -> Vec<(i64, u32, u8)> {
        let mut reader = PacketReader::open(path).expect("opens");
        let mut all = Vec::new();
        while let Some(p) = reader.next_packet().expect("reads") {
            let ts = p.ts.expect("pcap has time stamps");
            all.push((ts.secs, ts.nsecs / 1000, p.data[0]));
        }
        all
    }

    #[test]
    fn orders_by_ns_time_ties_to_the_last_input_and_truncates_to_us() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (us, ns, out) = (dir.path().join("us.pcap"), dir.path().join("ns.pcap"), dir.path().join("out.pcap"));
        classic(&us, false, 1, &[(1, 0, 10), (1, 1, 11), (3, 0, 12)]);
        classic(&ns, true, 1, &[(1, 999, 20), (1, 1000, 21), (3, 0, 22)]);
        let report = merge_files(&[us.clone(), ns.clone()], &out).expect("merges");
        // 1.000000999 s sorts after 1.000000 and before 1.000001, and is written as 1.000000
        assert_eq!(merged(&out), [(1, 0, 10), (1, 0, 20), (1, 1, 21), (1, 1, 11), (3, 0, 22), (3, 0, 12)]);
        assert_eq!(
            report,
            MergeReport {
                inputs: 2,
                packets: 6,
                bytes: 24 + 6 * 20,
                link_type: 1,
                first_ts: Some(Timestamp { secs: 1, nsecs: 0 }),
                last_ts: Some(Timestamp { secs: 3, nsecs: 0 })
            }
        );
        assert_eq!(std::fs::metadata(&out).expect("output").len(), report.bytes);
        merge_files(&[ns, us], &out).expect("merges");
        assert_eq!(merged(&out), [(1, 0, 10), (1, 0, 20), (1, 1, 11), (1, 1, 21), (3, 0, 12), (3, 0, 22)]);
    }

    #[test]
    fn no_time_stamp_first_from_the_first_input() {
        let heads = [Head { ts: Some(Timestamp { secs: 0, nsecs: 0 }), input: 0 }, Head { ts: None, input: 2 }, Head { ts: None, input: 1 }];
        let mut heap: BinaryHeap<_> = heads.into_iter().map(Reverse).collect();
        let order: Vec<usize> = std::iter::from_fn(|| heap.pop().map(|Reverse(h)| h.input)).collect();
        assert_eq!(order, [1, 2, 0]);
    }

    #[test]
    fn different_link_types_are_refused_without_output() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (eth, sll, out) = (dir.path().join("eth.pcap"), dir.path().join("sll.pcap"), dir.path().join("out.pcap"));
        classic(&eth, false, 1, &[(1, 0, 1)]);
        classic(&sll, false, 113, &[]);
        let err = merge_files(&[eth.clone(), sll.clone()], &out).expect_err("refused").to_string();
        let (eth, sll) = (eth.display(), sll.display());
        assert!(err.ends_with(&format!("different link types into one pcap: ETHERNET (1): {eth}; LINUX_SLL (113): {sll}")), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 2, "no output, no temporary file");
    }

    #[test]
    fn an_output_that_is_an_input_is_refused_by_path_or_inode() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b) = (dir.path().join("a.pcap"), dir.path().join("b.pcap"));
        classic(&a, false, 1, &[(1, 0, 1)]);
        classic(&b, false, 1, &[(2, 0, 2)]);
        let (link, sym) = (dir.path().join("hard.pcap"), dir.path().join("sym.pcap"));
        std::fs::hard_link(&a, &link).expect("hard link");
        std::os::unix::fs::symlink(&b, &sym).expect("symlink");
        let before = (std::fs::read(&a).expect("a"), std::fs::read(&b).expect("b"));
        for out in [a.clone(), dir.path().join(".").join("a.pcap"), link, sym] {
            for merge in [merge_files, merge_with_mergecap] {
                let err = merge(&[a.clone(), b.clone()], &out).expect_err("refused").to_string();
                assert!(err.contains("the output is the input"), "{}: {err}", out.display());
            }
        }
        assert_eq!((std::fs::read(&a).expect("a"), std::fs::read(&b).expect("b")), before, "inputs untouched");
        assert!(!dir.path().join("a.pcap.tmp").exists() && !dir.path().join("sym.pcap.tmp").exists());
    }
}

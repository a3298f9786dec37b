//! The native pcap merge against Wireshark's `mergecap -F pcap` (scripts/test.sh installs
//! wireshark-common): on real captures (nDPI's test suite in ../shared/data/pcaps, skipped
//! with a note when absent) including a pcapng one, a nanosecond copy made by `editcap`, a
//! big-endian copy, time stamp ties between inputs, and the hand-made pcapng fixtures; both
//! outputs are parsed here, independently of the code under test, and compared packet for
//! packet, then byte for byte. Then the merge's refusals: mixed link types, truncated and
//! garbage inputs — each an error naming the file, with no output left behind.

use std::path::{Path, PathBuf};
use std::process::Command;

use vantage_core::pcap::merge::{SNAPLEN, merge_files, merge_with_mergecap};

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/pcaps");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/pcaps");

/// The real captures `names` (without `.pcap`), or `None` with a note when ../shared is absent.
fn shared(names: &[&str]) -> Option<Vec<PathBuf>> {
    let dir = Path::new(SHARED);
    if !dir.is_dir() {
        eprintln!("skipped: {SHARED} not present");
        return None;
    }
    Some(names.iter().map(|n| dir.join(format!("{n}.pcap"))).collect())
}

/// One record of a classic little-endian µs pcap.
#[derive(Debug, PartialEq)]
struct Record {
    sec: u32,
    usec: u32,
    caplen: u32,
    origlen: u32,
    data: Vec<u8>,
}

/// A merge output: link type, snaplen and records.
struct Pcap {
    link_type: u32,
    snaplen: u32,
    records: Vec<Record>,
}

fn u32_at(bytes: &[u8], offset: usize) -> u32 {
    u32::from_le_bytes(bytes[offset..offset + 4].try_into().expect("4 bytes"))
}

/// Parses a classic little-endian µs pcap (what both merges must write).
fn parse(path: &Path) -> Pcap {
    let bytes = std::fs::read(path).expect("read output");
    assert_eq!((u32_at(&bytes, 0), &bytes[4..8]), (0xa1b2_c3d4, &[2, 0, 4, 0][..]), "{}: libpcap 2.4, little-endian, µs", path.display());
    let mut records = Vec::new();
    let mut at = 24;
    while at < bytes.len() {
        let caplen = u32_at(&bytes, at + 8);
        let data = bytes[at + 16..at + 16 + caplen as usize].to_vec();
        records.push(Record { sec: u32_at(&bytes, at), usec: u32_at(&bytes, at + 4), caplen, origlen: u32_at(&bytes, at + 12), data });
        at += 16 + caplen as usize;
    }
    Pcap { link_type: u32_at(&bytes, 20), snaplen: u32_at(&bytes, 16), records }
}

fn mergecap(inputs: &[PathBuf], output: &Path) {
    let status = Command::new("mergecap")
        .args(["-F", "pcap", "-w"])
        .arg(output)
        .args(inputs)
        .status()
        .expect("mergecap runs (scripts/test.sh installs wireshark-common)");
    assert!(status.success(), "mergecap {inputs:?}");
}

/// Merges `inputs` natively and with mergecap and asserts both wrote the same packets (then
/// the same bytes), and that `merge_with_mergecap` reports what the native merge reports;
/// returns the number of packets.
fn same_as_mergecap(inputs: &[PathBuf]) -> usize {
    let dir = tempfile::tempdir().expect("tempdir");
    let (native, reference) = (dir.path().join("native.pcap"), dir.path().join("mergecap.pcap"));
    let report = merge_files(inputs, &native).expect("native merge");
    mergecap(inputs, &reference);
    let (ours, theirs) = (parse(&native), parse(&reference));
    assert_eq!((ours.link_type, ours.snaplen), (theirs.link_type, theirs.snaplen), "file header");
    assert_eq!(ours.snaplen, SNAPLEN);
    assert_eq!(ours.records.len(), theirs.records.len(), "packets of {inputs:?}");
    for (i, (a, b)) in ours.records.iter().zip(&theirs.records).enumerate() {
        assert_eq!(a, b, "packet {i} of the merge of {inputs:?}");
    }
    let bytes = std::fs::read(&native).expect("native");
    assert!(bytes == std::fs::read(&reference).expect("mergecap"), "byte for byte");
    assert_eq!((report.packets, report.bytes, report.inputs), (ours.records.len() as u64, bytes.len() as u64, inputs.len()));
    assert_eq!(merge_with_mergecap(inputs, &dir.path().join("via-mergecap.pcap")).expect("mergecap merge"), report);
    ours.records.len()
}

/// `editcap ARGS…`
fn editcap(args: &[&Path]) {
    let status = Command::new("editcap").args(args).status().expect("editcap runs (wireshark-common)");
    assert!(status.success(), "editcap {args:?}");
}

/// Rewrites a little-endian µs pcap in big-endian byte order (file header and record headers).
fn to_big_endian(source: &Path, target: &Path) {
    let bytes = std::fs::read(source).expect("read");
    assert_eq!(u32_at(&bytes, 0), 0xa1b2_c3d4, "little-endian µs input");
    let mut out: Vec<u8> = 0xa1b2_c3d4u32.to_be_bytes().into_iter().chain([0, 2, 0, 4]).collect();
    (8..24).step_by(4).for_each(|at| out.extend(u32_at(&bytes, at).to_be_bytes()));
    let mut at = 24;
    while at < bytes.len() {
        (0..16).step_by(4).for_each(|field| out.extend(u32_at(&bytes, at + field).to_be_bytes()));
        let end = at + 16 + u32_at(&bytes, at + 8) as usize;
        out.extend(&bytes[at + 16..end]);
        at = end;
    }
    std::fs::write(target, out).expect("write");
}

#[test]
fn real_captures_and_pcapng_merge_like_mergecap() {
    let Some(mut inputs) = shared(&["android", "skype", "1kxun", "synscan", "ssh", "WebattackSQLinj", "dns_exfiltration"]) else { return };
    assert_eq!(same_as_mergecap(&inputs), 500 + 3284 + 1439 + 2011 + 258 + 94 + 300);
    inputs.reverse();
    same_as_mergecap(&inputs);
    assert_eq!(same_as_mergecap(&inputs[..1]), 300, "a single input");
    assert_eq!(same_as_mergecap(&shared(&["1kxun"]).expect("shared")), 1439, "a single pcapng input");
}

#[test]
fn ties_between_inputs_come_out_as_in_mergecap() {
    let Some(inputs) = shared(&["android"]) else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    // the same packets at the same times, told apart by their captured length
    let (cut100, cut80) = (dir.path().join("cut100.pcap"), dir.path().join("cut80.pcap"));
    editcap(&[Path::new("-s"), Path::new("100"), &inputs[0], &cut100]);
    editcap(&[Path::new("-s"), Path::new("80"), &inputs[0], &cut80]);
    same_as_mergecap(&[inputs[0].clone(), cut100.clone(), cut80.clone()]);
    same_as_mergecap(&[cut80, inputs[0].clone(), cut100]);
}

#[test]
fn nanosecond_and_big_endian_inputs_merge_like_mergecap() {
    let Some(inputs) = shared(&["android", "ssh", "synscan"]) else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    // nanosecond time stamps with a sub-µs part, which both merges truncate to the µs below
    let ns = dir.path().join("android-ns.pcap");
    editcap(&[Path::new("-F"), Path::new("nsecpcap"), Path::new("-t"), Path::new("0.000000789"), &inputs[0], &ns]);
    assert_eq!(u32_at(&std::fs::read(&ns).expect("ns"), 0), 0xa1b2_3c4d, "a nanosecond pcap");
    same_as_mergecap(&[ns.clone(), inputs[0].clone(), inputs[1].clone()]);
    same_as_mergecap(&[inputs[0].clone(), ns.clone()]);
    let (ssh_be, synscan_be) = (dir.path().join("ssh-be.pcap"), dir.path().join("synscan-be.pcap"));
    to_big_endian(&inputs[1], &ssh_be);
    to_big_endian(&inputs[2], &synscan_be);
    assert_eq!(same_as_mergecap(&[ssh_be, inputs[0].clone(), synscan_be, ns]), 258 + 500 + 2011 + 500);
}

#[test]
fn pcapng_sections_interfaces_and_simple_packets_merge_like_mergecap() {
    let fixtures = Path::new(FIXTURES);
    let (sections, spb) = (fixtures.join("sections.pcapng"), fixtures.join("spb.pcapng"));
    assert_eq!(same_as_mergecap(&[sections.clone(), spb.clone()]), 7);
    same_as_mergecap(&[spb, sections]);
}

#[test]
fn empty_inputs_merge_like_mergecap() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("empty.pcap");
    let header: Vec<u8> = [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65_535, 1].iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(&empty, header).expect("write");
    assert_eq!(same_as_mergecap(std::slice::from_ref(&empty)), 0);
    assert_eq!(same_as_mergecap(&[empty.clone(), empty.clone()]), 0);
    assert_eq!(same_as_mergecap(&[empty.clone(), Path::new(FIXTURES).join("spb.pcapng"), empty]), 3);
}

/// Asserts the merge of `inputs` fails with a message containing every one of `expected`,
/// leaving an existing output file as it was and no temporary file.
fn refused(inputs: &[PathBuf], expected: &[&str]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = dir.path().join("merged.pcap");
    std::fs::write(&output, "the previous result").expect("write");
    let err = merge_files(inputs, &output).expect_err("refused").to_string();
    assert!(expected.iter().all(|e| err.contains(e)), "{err}");
    assert!(!err.contains('\n'), "one line: {err}");
    assert_eq!(std::fs::read_to_string(&output).expect("output"), "the previous result");
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1, "no temporary file left");
}

#[test]
fn mixed_link_types_are_refused_naming_the_files() {
    let Some(inputs) = shared(&["log4j-webapp-exploit", "android"]) else { return };
    let (sll, ethernet) = (format!("LINUX_SLL (113): {}", inputs[0].display()), format!("ETHERNET (1): {}", inputs[1].display()));
    refused(&inputs, &["different link types", &sll, &ethernet]);
}

#[test]
fn truncated_and_garbage_inputs_are_refused_naming_them() {
    let Some(inputs) = shared(&["android", "ssh"]) else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let cut = dir.path().join("cut-short.pcap");
    std::fs::write(&cut, &std::fs::read(&inputs[0]).expect("read")[..1000]).expect("write");
    refused(&[inputs[1].clone(), cut], &["cut-short.pcap", "cut short"]);
    let garbage = dir.path().join("garbage.pcap");
    std::fs::write(&garbage, "<html>not a capture</html>\n").expect("write");
    refused(&[inputs[1].clone(), garbage], &["garbage.pcap", "not a pcap or pcapng file"]);
    refused(&[inputs[1].clone(), dir.path().join("missing.pcap")], &["missing.pcap", "No such file"]);
}

/// A capture's summary (what the dashboard shows) agrees with the stand-in's independent
/// decoder (the stand-in's, Ethernet only — android.pcap is Ethernet) and a plain count:
/// packets, bytes, span, per-address and per-port counts.
#[test]
fn summary_counts_agree_with_an_independent_decoder() {
    use std::collections::HashMap;
    use vantage_core::pcap::summary::summarize;
    use vantage_tests::steno_standin::{pcap_dir, summarize as decode};
    let path = pcap_dir().join("android.pcap");
    let s = summarize(&path, 1000, 5).expect("summary");
    let mut reader = vantage_core::packets::reader::PacketReader::open(&path).expect("open");
    let (mut packets, mut bytes, mut first, mut last) = (0u64, 0u64, None, None);
    let (mut talkers, mut ports): (HashMap<String, u64>, HashMap<String, u64>) = Default::default();
    while let Some(p) = reader.next_packet().expect("packet") {
        packets += 1;
        bytes += u64::from(p.origlen);
        let t = p.ts.expect("pcap has time stamps");
        first = first.or(Some(t));
        last = Some(t);
        if let Some(d) = decode(p.data) {
            *talkers.entry(d.src.to_string()).or_default() += 1;
            *talkers.entry(d.dst.to_string()).or_default() += 1;
            if let Some((a, b)) = d.ports {
                *ports.entry(format!("{}/{}", if d.proto == 6 { "tcp" } else { "udp" }, a.min(b))).or_default() += 1;
            }
        }
    }
    assert_eq!((s.packets, s.bytes), (packets, bytes));
    let secs = |t: vantage_core::packets::reader::Timestamp| chrono::DateTime::from_timestamp(t.secs, t.nsecs).expect("time");
    assert_eq!((s.first, s.last), (first.map(secs), last.map(secs)), "android.pcap is in time order");
    assert_eq!(s.talkers.iter().map(|c| (c.key.clone(), c.packets)).collect::<HashMap<_, _>>(), talkers);
    assert_eq!(s.ports.iter().map(|c| (c.key.clone(), c.packets)).collect::<HashMap<_, _>>(), ports);
    assert!(s.talkers.windows(2).all(|w| w[0].packets >= w[1].packets), "ranked");
    assert_eq!(s.preview.len(), 5);
}

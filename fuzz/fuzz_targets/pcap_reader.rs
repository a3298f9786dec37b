//! pcap / pcapng captures: `packets::reader::PacketReader` (it opens paths only, so the input is
//! written to a scratch file), every packet through `packets::decode::decode`, and a capture
//! read without error through the merge writer `pcap::merge::merge_files` and read back.
#![no_main]

#[path = "common.rs"]
mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vantage_core::packets::decode::decode;
use vantage_core::packets::reader::{PacketReader, Timestamp};
use vantage_core::pcap::merge::merge_files;

struct Seen {
    ts: Option<Timestamp>,
    link_type: u32,
    origlen: u32,
    data: Vec<u8>,
}

fn paths() -> &'static (PathBuf, PathBuf) {
    static PATHS: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    PATHS.get_or_init(|| (common::scratch("input.pcap"), common::scratch("merged.pcap")))
}

/// Every packet, or the error that stopped the reading.
fn read(path: &std::path::Path) -> (Option<u32>, Vec<Seen>, Result<(), String>) {
    let mut reader = match PacketReader::open(path) {
        Ok(r) => r,
        Err(e) => return (None, Vec::new(), Err(e.to_string())),
    };
    let mut seen = Vec::new();
    let end = loop {
        match reader.next_packet() {
            Ok(Some(p)) => {
                if let Some(ts) = p.ts {
                    assert!(ts.nsecs < 1_000_000_000);
                }
                if let Some(d) = decode(&p) {
                    let _ = d.ports();
                    assert!(d.header_len <= p.data.len(), "IP header of {} bytes in a packet of {}", d.header_len, p.data.len());
                }
                seen.push(Seen { ts: p.ts, link_type: p.link_type, origlen: p.origlen, data: p.data.to_vec() });
            }
            Ok(None) => break Ok(()),
            Err(e) => break Err(e.to_string()),
        }
    };
    (reader.link_type(), seen, end)
}

fuzz_target!(|data: &[u8]| {
    let (input, merged) = paths();
    std::fs::write(input, data).expect("write the scratch input");
    let (link_type, packets, end) = read(input);
    let Some(link_type) = link_type else { return };
    if end.is_err() || packets.is_empty() || packets.iter().any(|p| p.link_type != link_type) {
        return;
    }
    let report = merge_files(std::slice::from_ref(input), merged).unwrap_or_else(|e| panic!("a capture read without error does not merge: {e}"));
    let (merged_link_type, again, end) = read(merged);
    assert_eq!(end, Ok(()), "the merged capture does not read back");
    assert_eq!(merged_link_type, Some(link_type));
    assert_eq!(again.len(), packets.len(), "merged {} packets of {} (report {report:?})", again.len(), packets.len());
    for (i, (a, b)) in packets.iter().zip(&again).enumerate() {
        assert_eq!(a.data, b.data, "packet {i}: bytes differ");
        assert_eq!(a.origlen, b.origlen, "packet {i}: original length differs");
        // a classic record holds 32-bit seconds and microseconds; no time stamp is written as 0
        let want = a.ts.map_or(Timestamp { secs: 0, nsecs: 0 }, |t| Timestamp { secs: i64::from(t.secs as u32), nsecs: t.nsecs / 1000 * 1000 });
        assert_eq!(b.ts, Some(want), "packet {i}: time stamp");
    }
});

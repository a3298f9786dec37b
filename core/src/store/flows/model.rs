//! The stored raw flow, with Spot's columns (flows.md, "Inputs"). The calendar columns Spot stores
//! beside `treceived` (`tryear` … `trsec`, `unix_tstamp`) are derived from it on demand.

use std::net::IpAddr;

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serialize;

/// One flow record: who talked to whom, when, how much (Spot's raw flow table).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RawFlow {
    /// When the flow started (nfdump `ts` / `firstSeen`, Zeek `ts`).
    pub treceived: DateTime<Utc>,
    /// Duration in seconds.
    pub tdur: f64,
    /// Source address.
    pub sip: IpAddr,
    /// Destination address.
    pub dip: IpAddr,
    /// Source port (0 for protocols without ports).
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// Protocol as nfdump prints it (`TCP`, `UDP`, `ICMP`, …; Zeek's names upper-cased).
    pub proto: String,
    /// TCP flags as nfdump prints them (`...A.R..`); Zeek: the connection's `history`.
    pub flag: String,
    /// Forwarding status.
    pub fwd: i32,
    /// Source type of service.
    pub stos: i32,
    /// Packets from source to destination.
    pub ipkt: i64,
    /// Bytes from source to destination.
    pub ibyt: i64,
    /// Packets back (0 for unidirectional NetFlow records).
    pub opkt: i64,
    /// Bytes back.
    pub obyt: i64,
    /// Input interface index.
    pub input: i32,
    /// Output interface index.
    pub output: i32,
    /// Source AS.
    pub sas: i64,
    /// Destination AS.
    pub das: i64,
    /// Destination type of service.
    pub dtos: i32,
    /// Direction (0 ingress, 1 egress).
    pub dir: i32,
    /// The exporting router's address (`ra`), empty when unknown.
    pub rip: String,
}

impl RawFlow {
    /// Spot's `unix_tstamp`: `treceived` in seconds since the epoch.
    pub fn unix_tstamp(&self) -> i64 {
        self.treceived.timestamp()
    }

    /// Spot's calendar columns of `treceived`: year, month, day, hour, minute, second.
    pub fn calendar(&self) -> [u32; 6] {
        let t = self.treceived;
        [t.year().max(0) as u32, t.month(), t.day(), t.hour(), t.minute(), t.second()]
    }

    /// A flow between two addresses with everything else zero or empty (tests, `--pcap`).
    pub fn between(treceived: DateTime<Utc>, sip: IpAddr, dip: IpAddr, proto: &str) -> RawFlow {
        RawFlow {
            treceived,
            tdur: 0.0,
            sip,
            dip,
            sport: 0,
            dport: 0,
            proto: proto.to_string(),
            flag: String::new(),
            fwd: 0,
            stos: 0,
            ipkt: 0,
            ibyt: 0,
            opkt: 0,
            obyt: 0,
            input: 0,
            output: 0,
            sas: 0,
            das: 0,
            dtos: 0,
            dir: 0,
            rip: String::new(),
        }
    }
}

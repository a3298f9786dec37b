//! Storage of a flow OA run's outputs (flows.md "OA run", steps 5–8) — the suspicious
//! connections with their context, the raw flows around them, who talks to the threats, and
//! the flows per minute — per date, replaced as a whole by a re-run; and the two reads over
//! the raw flows those steps need. Row types as Spot names their columns.

use std::net::IpAddr;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::error::Result;

/// One suspicious connection of a date (Spot's `flow_scores`, 20 columns).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowScore {
    /// When it started, `YYYY-MM-DD HH:MM:SS`.
    pub tstart: String,
    /// Source address.
    pub srcip: String,
    /// Destination address.
    pub dstip: String,
    /// Source port.
    pub sport: i32,
    /// Destination port.
    pub dport: i32,
    /// Protocol.
    pub proto: String,
    /// Packets in.
    pub ipkt: i64,
    /// Bytes in.
    pub ibyt: i64,
    /// Packets out.
    pub opkt: i64,
    /// Bytes out.
    pub obyt: i64,
    /// The score (a probability: lower = more suspicious).
    pub score: f64,
    /// 0-based position in the scored results (0 = most suspicious).
    pub rank: i32,
    /// 1 when the source is in an internal range.
    pub srcip_internal: i32,
    /// 1 when the destination is in an internal range.
    pub dstip_internal: i32,
    /// `state;city owner` of the source, empty when unknown.
    pub src_geoloc: String,
    /// `state;city owner` of the destination.
    pub dst_geoloc: String,
    /// The source's domain.
    pub src_domain: String,
    /// The destination's domain.
    pub dst_domain: String,
    /// `service:LABEL:value` of the source (several joined with `::`).
    pub src_rep: String,
    /// The destination's reputation.
    pub dst_rep: String,
}

/// A raw flow between the two addresses of a suspicious connection in its minute (Spot's
/// `flow_edge`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct FlowEdge {
    /// When the flow started, `YYYY-MM-DD HH:MM:SS`.
    pub tstart: String,
    /// Source address.
    pub srcip: String,
    /// Destination address.
    pub dstip: String,
    /// Source port.
    pub sport: i32,
    /// Destination port.
    pub dport: i32,
    /// Protocol.
    pub proto: String,
    /// TCP flags.
    pub flags: String,
    /// Source type of service.
    pub tos: i32,
    /// Bytes in.
    pub ibyt: i64,
    /// Packets in.
    pub ipkt: i64,
    /// Input interface.
    pub input: i32,
    /// Output interface.
    pub output: i32,
    /// The exporting router.
    pub rip: String,
    /// Bytes out.
    pub obyt: i64,
    /// Packets out.
    pub opkt: i64,
    /// Hour of the start.
    pub hh: i32,
    /// Minute of the start.
    pub mn: i32,
}

/// Bytes and packets of the day between a threat address and one of its peers, per
/// direction (Spot's `flow_chords`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowChord {
    /// The address with at least two suspicious peers.
    pub ip_threat: String,
    /// Source address.
    pub srcip: String,
    /// Destination address.
    pub dstip: String,
    /// Bytes from source to destination.
    pub ibyt: i64,
    /// Packets from source to destination.
    pub ipkt: i64,
}

/// Raw flows that started in one minute (Spot's `flow_ingest_summary`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IngestMinute {
    /// The minute, `YYYY-MM-DD HH:MM`.
    pub tdate: String,
    /// Flows with both addresses.
    pub total: i64,
}

/// Everything one OA run writes for its date.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OaOutputs {
    /// Step 5, by rank.
    pub scores: Vec<FlowScore>,
    /// Step 6.
    pub edges: Vec<FlowEdge>,
    /// Step 7.
    pub chords: Vec<FlowChord>,
    /// Step 8, by minute.
    pub ingest: Vec<IngestMinute>,
}

/// Bytes and packets summed over the flows from `sip` to `dip`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairSum {
    /// Source.
    pub sip: IpAddr,
    /// Destination.
    pub dip: IpAddr,
    /// Bytes.
    pub ibyt: i64,
    /// Packets.
    pub ipkt: i64,
}

/// An analyst's score of one suspicious connection (Spot's `flow_threat_investigation` row
/// and `ml_feedback.csv` line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedbackRow {
    /// The OA date it was given on, `YYYY-MM-DD`.
    pub date: String,
    /// 1 high, 2 medium, 3 low/benign.
    pub sev: i32,
    /// The connection's start, `YYYY-MM-DD HH:MM:SS`.
    pub tstart: String,
    /// Source.
    pub srcip: String,
    /// Destination.
    pub dstip: String,
    /// Source port.
    pub sport: i32,
    /// Destination port.
    pub dport: i32,
    /// Protocol.
    pub proto: String,
    /// Packets.
    pub ipkt: i64,
    /// Bytes.
    pub ibyt: i64,
}

/// Storage of OA outputs, and the raw-flow aggregates they are made from.
#[async_trait]
pub trait FlowOaStore: Send + Sync {
    /// Replaces everything stored for `date` with `outputs`, in one transaction.
    async fn replace_oa(&self, date: NaiveDate, outputs: &OaOutputs) -> Result<()>;
    /// What the last run for `date` stored (empty when none ran).
    async fn oa_outputs(&self, date: NaiveDate) -> Result<OaOutputs>;
    /// The latest date an OA run stored suspicious connections for (none: no run).
    async fn latest_oa_date(&self) -> Result<Option<NaiveDate>>;
    /// Flows with both addresses that started in `[from, to)`, counted per minute (by the
    /// stored calendar columns), in time order.
    async fn flows_per_minute(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<IngestMinute>>;
    /// Bytes and packets of the flows in `[from, to)` from or to any of `ips`, per (source,
    /// destination).
    async fn flow_pair_sums(&self, from: DateTime<Utc>, to: DateTime<Utc>, ips: &[IpAddr]) -> Result<Vec<PairSum>>;
    /// Appends analyst scores (kept when a date's OA outputs are replaced).
    async fn add_feedback(&self, rows: &[FeedbackRow]) -> Result<()>;
    /// Every analyst score given so far, oldest first.
    async fn feedback(&self) -> Result<Vec<FeedbackRow>>;
    /// Saves (or replaces) the storyboard title and text of `ip` on `date`.
    async fn save_storyboard(&self, date: NaiveDate, ip: IpAddr, title: &str, body: &str) -> Result<()>;
    /// The storyboard title and text of `ip` on `date`, if one was saved.
    async fn storyboard(&self, date: NaiveDate, ip: IpAddr) -> Result<Option<(String, String)>>;
    /// Deletes the storyboards of `date`; returns how many.
    async fn reset_storyboards(&self, date: NaiveDate) -> Result<u64>;
}

//! The flows part of an IP dossier: the flows of a set of addresses over a time range — its
//! peers by direction (as `flows threat` splits them), bytes, the ports it sent to, flows per
//! day — with the OA's suspicious connections of those days and the analysts' scores that name
//! it (`engine::dossier`). Pairs the safelists hide are left out, as in `flows threat`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::oa::{FeedbackRow, FlowScore};
use super::safelist::Screen;
use crate::error::Result;
use crate::store::Store;
use crate::tally::{self, DayTally, Tally};

/// The flows of the addresses in the range.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flows {
    /// Flows from or to one of the addresses.
    pub flows: i64,
    /// Bytes the addresses sent (`ibyt` of flows they started).
    pub bytes_sent: i64,
    /// Bytes they received (`ibyt` of flows to them).
    pub bytes_received: i64,
    /// Peers they only sent flows to.
    pub outbound_only: Vec<IpAddr>,
    /// Peers they only received flows from.
    pub inbound_only: Vec<IpAddr>,
    /// Peers with flows both ways.
    pub two_way: Vec<IpAddr>,
    /// Destination `port/protocol` of the flows they started, by flows.
    pub ports: Vec<Tally>,
    /// Flows per UTC day.
    pub per_day: Vec<DayTally>,
    /// The OA's suspicious connections naming them, on the days they had flows (with rank).
    pub suspicious: Vec<FlowScore>,
    /// The analysts' scores of connections naming them.
    pub scored: Vec<FeedbackRow>,
}

/// The flows of `ips` in `[from, to)`, safelisted pairs left out.
pub async fn flows(store: &dyn Store, ips: &[IpAddr], from: DateTime<Utc>, to: DateTime<Utc>, screen: &Screen) -> Result<Flows> {
    let set: BTreeSet<IpAddr> = ips.iter().copied().collect();
    let (mut inbound, mut outbound) = (BTreeSet::new(), BTreeSet::new());
    let (mut flows, mut sent, mut received) = (0i64, 0i64, 0i64);
    let (mut ports, mut days): (BTreeMap<String, i64>, BTreeMap<NaiveDate, i64>) = Default::default();
    let mut seen = BTreeSet::new();
    for ip in ips {
        for f in store.flows_touching(from, to, *ip).await? {
            // a flow between two of the addresses comes once per end
            if screen.hides_pair(f.sip, f.dip) || !seen.insert((f.treceived, f.sip, f.dip, f.sport, f.dport, f.proto.clone())) {
                continue;
            }
            flows += 1;
            *days.entry(f.treceived.date_naive()).or_default() += 1;
            if set.contains(&f.sip) {
                sent = sent.saturating_add(f.ibyt);
                *ports.entry(format!("{}/{}", f.dport, f.proto)).or_default() += 1;
                if !set.contains(&f.dip) {
                    outbound.insert(f.dip);
                }
            }
            if set.contains(&f.dip) {
                received = received.saturating_add(f.ibyt);
                if !set.contains(&f.sip) {
                    inbound.insert(f.sip);
                }
            }
        }
    }
    let names = |a: &str, b: &str| a.parse().is_ok_and(|ip: IpAddr| set.contains(&ip)) || b.parse().is_ok_and(|ip: IpAddr| set.contains(&ip));
    let mut suspicious = Vec::new();
    for day in days.keys() {
        suspicious.extend(store.oa_outputs(*day).await?.scores.into_iter().filter(|s| names(&s.srcip, &s.dstip)));
    }
    let scored = store.feedback().await?.into_iter().filter(|f| names(&f.srcip, &f.dstip)).collect();
    Ok(Flows {
        flows,
        bytes_sent: sent,
        bytes_received: received,
        outbound_only: outbound.difference(&inbound).copied().collect(),
        inbound_only: inbound.difference(&outbound).copied().collect(),
        two_way: inbound.intersection(&outbound).copied().collect(),
        ports: tally::by_key(ports),
        per_day: tally::by_day(days),
        suspicious,
        scored,
    })
}

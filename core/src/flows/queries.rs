//! The analyst's reads of a date's OA outputs and beacons, shared by the engine (CLI, TUI,
//! GUI) and the HTTP API: the suspicious connections nobody scored yet, the raw flows of a
//! pair in a minute, a threat's chord rows, the flows per minute, the beacon analysis, a
//! threat's connections, the built-in scorer's ranking. The safelists ([`super::safelist`])
//! are applied here, when a read is answered: suspicious rows, chord rows, beacons and a
//! threat's connections with a safelisted end are left out (edges — asked for one pair — and
//! the ingest summary — counts — are not).

use std::collections::HashSet;
use std::net::IpAddr;

use chrono::{NaiveDate, NaiveDateTime};

use super::beacon::{self, BeaconReport, BeaconSettings};
use super::model::RawFlow;
use super::oa::{FeedbackRow, FlowChord, FlowEdge, FlowScore, IngestMinute, TIME};
use super::safelist::{Safelist, Screen};
use super::score::{self, Feedback};
use crate::error::{Error, Result};
use crate::store::Store;
use crate::store::flows::FlowsStatus;

/// The UTC day of `date` as a time range.
pub fn day(date: NaiveDate) -> (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) {
    let from = date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    (from, from + chrono::Duration::days(1))
}

/// Runs `f` (CPU-bound work over a day of flows) off the async threads.
pub(super) async fn blocking<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| Error::InvalidArgument(format!("{what}: {e}")))
}

/// How many flows are stored and the span of their start times.
pub async fn status(store: &dyn Store) -> Result<FlowsStatus> {
    store.flows_status().await
}

/// Whether either end of suspicious row `s` — its address, or the domain the OA run stored
/// for it — is safelisted.
fn safelisted(list: &Safelist, s: &FlowScore) -> bool {
    let end = |ip: &str, domain: &str| ip.parse().is_ok_and(|ip| list.address(ip)) || list.domain(domain);
    end(&s.srcip, &s.src_domain) || end(&s.dstip, &s.dst_domain)
}

/// The suspicious connections of `date` by rank that no analyst has scored yet and `safelist`
/// does not hide, optionally only those from or to `ip`.
pub async fn suspicious(store: &dyn Store, date: NaiveDate, ip: Option<IpAddr>, safelist: &Safelist) -> Result<Vec<FlowScore>> {
    let day = date.to_string();
    let scored: HashSet<(String, String, String, i32, i32)> =
        store.feedback().await?.into_iter().filter(|f| f.date == day).map(|f| (f.tstart, f.srcip, f.dstip, f.sport, f.dport)).collect();
    let ip = ip.map(|ip| ip.to_string());
    let mut rows = store.oa_outputs(date).await?.scores;
    rows.retain(|s| {
        !scored.contains(&(s.tstart.clone(), s.srcip.clone(), s.dstip.clone(), s.sport, s.dport))
            && ip.as_ref().is_none_or(|ip| &s.srcip == ip || &s.dstip == ip)
            && (safelist.is_empty() || !safelisted(safelist, s))
    });
    Ok(rows)
}

/// The stored edges between `a` and `b` (either way) in the minute of `tstart`
/// (`YYYY-MM-DD HH:MM:SS`), from the OA run of its date.
pub async fn edges(store: &dyn Store, tstart: &str, a: IpAddr, b: IpAddr) -> Result<Vec<FlowEdge>> {
    let start = NaiveDateTime::parse_from_str(tstart, TIME)
        .map_err(|e| Error::InvalidArgument(format!("tstart `{tstart}`: {e} (expected YYYY-MM-DD HH:MM:SS)")))?;
    let minute = start.format("%Y-%m-%d %H:%M").to_string();
    let (a, b) = (a.to_string(), b.to_string());
    let mut edges = store.oa_outputs(start.date()).await?.edges;
    edges.retain(|e| e.tstart.starts_with(&minute) && ((e.srcip == a && e.dstip == b) || (e.srcip == b && e.dstip == a)));
    Ok(edges)
}

/// The chord rows of threat `ip` on `date` whose ends `screen` does not hide.
pub async fn chords(store: &dyn Store, date: NaiveDate, ip: IpAddr, screen: &Screen) -> Result<Vec<FlowChord>> {
    let ip = ip.to_string();
    let mut chords = store.oa_outputs(date).await?.chords;
    chords.retain(|c| c.ip_threat == ip && !screen.hides_pair(address(&c.srcip), address(&c.dstip)));
    Ok(chords)
}

/// A stored address (the OA run wrote it).
fn address(text: &str) -> IpAddr {
    text.parse().unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}

/// The flows per minute of `date` as its OA run stored them.
pub async fn ingest(store: &dyn Store, date: NaiveDate) -> Result<Vec<IngestMinute>> {
    Ok(store.oa_outputs(date).await?.ingest)
}

/// Beacons, long connections and strobes among the stored flows of `date`, those of pairs
/// with an end `screen` hides left out.
pub async fn beacons(store: &dyn Store, date: NaiveDate, settings: BeaconSettings, screen: &Screen) -> Result<BeaconReport> {
    let (from, to) = day(date);
    let flows = store.flows_between(from, to).await?;
    let mut report = blocking("beacons", move || beacon::analyse(&flows, &settings)).await?;
    if !screen.is_empty() {
        report.beacons.retain(|b| !screen.hides_pair(b.src, b.dst));
        report.long_connections.retain(|l| !screen.hides_pair(l.src, l.dst));
        report.strobes.retain(|(src, dst, _)| !screen.hides_pair(*src, *dst));
    }
    Ok(report)
}

/// A stored analyst score as the scorer takes it (`None` for a row it cannot read).
fn as_feedback(f: &FeedbackRow) -> Option<Feedback> {
    Some(Feedback {
        sev: u8::try_from(f.sev).ok()?,
        tstart: NaiveDateTime::parse_from_str(&f.tstart, TIME).ok()?.and_utc(),
        sip: f.srcip.parse().ok()?,
        dip: f.dstip.parse().ok()?,
        sport: u16::try_from(f.sport).ok()?,
        dport: u16::try_from(f.dport).ok()?,
        ipkt: f.ipkt,
        ibyt: f.ibyt,
        proto: f.proto.clone(),
    })
}

/// The built-in scorer over `flows` against `window` (`None`: `flows` themselves) and every
/// analyst score so far; most suspicious first.
pub async fn score_flows(store: &dyn Store, flows: Vec<RawFlow>, window: Option<Vec<RawFlow>>) -> Result<Vec<(RawFlow, f64)>> {
    let feedback: Vec<Feedback> = store.feedback().await?.iter().filter_map(as_feedback).collect();
    blocking("scorer", move || score::score(flows, window.as_deref(), &feedback)).await
}

/// The built-in scorer ([`super::score`]) over the flows of `date`, against the traffic of the
/// `window_days` days ending with it and every analyst score so far; most suspicious first.
pub async fn score(store: &dyn Store, date: NaiveDate, window_days: u32) -> Result<Vec<(RawFlow, f64)>> {
    let (from, to) = day(date);
    if window_days <= 1 {
        return score_flows(store, store.flows_between(from, to).await?, None).await;
    }
    // the window holds the day: read once, the day's flows taken from it
    let window = store.flows_between(from - chrono::Duration::days(i64::from(window_days) - 1), to).await?;
    let flows = window.iter().filter(|f| f.treceived >= from).cloned().collect();
    score_flows(store, flows, Some(window)).await
}

/// One connection (source, destination, ports) of a threat investigation, over the day.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Connection {
    /// Source.
    pub sip: IpAddr,
    /// Destination.
    pub dip: IpAddr,
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// First flow start, `YYYY-MM-DD HH:MM:SS`.
    pub first_seen: String,
    /// Last flow start.
    pub last_seen: String,
    /// Flows.
    pub count: usize,
    /// Largest and mean packets of a flow.
    pub max_pkts: i64,
    /// Mean packets.
    pub avg_pkts: f64,
    /// Largest bytes of a flow.
    pub max_bytes: i64,
    /// Mean bytes.
    pub avg_bytes: f64,
}

/// The threat investigation of one address over a day (flows.md "Analyst workflow").
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Threat {
    /// The address.
    pub ip: IpAddr,
    /// Its connections, by first seen.
    pub connections: Vec<Connection>,
    /// Peers it only received flows from.
    pub inbound_only: Vec<IpAddr>,
    /// Peers it only sent flows to.
    pub outbound_only: Vec<IpAddr>,
    /// Peers with flows both ways.
    pub two_way: Vec<IpAddr>,
    /// The 20 connections with the most bytes in all.
    pub top_by_bytes: Vec<Connection>,
    /// The 20 connections with the most flows.
    pub top_by_connections: Vec<Connection>,
}

/// `ip`'s connections of `date` grouped by (sip, dip, sport, dport), its peers split by
/// direction, and the top 20 by bytes and by flows; connections with an end `screen` hides are
/// left out.
pub async fn threat(store: &dyn Store, date: NaiveDate, ip: IpAddr, screen: &Screen) -> Result<Threat> {
    use std::collections::{BTreeMap, BTreeSet};
    let (from, to) = day(date);
    // only the threat's flows, not the whole day (a day can hold millions)
    let flows = store.flows_touching(from, to, ip).await?;
    let mut groups: BTreeMap<(IpAddr, IpAddr, u16, u16), Vec<&RawFlow>> = BTreeMap::new();
    let (mut inbound, mut outbound) = (BTreeSet::new(), BTreeSet::new());
    for f in flows.iter().filter(|f| (f.sip == ip || f.dip == ip) && !screen.hides_pair(f.sip, f.dip)) {
        groups.entry((f.sip, f.dip, f.sport, f.dport)).or_default().push(f);
        if f.sip == ip {
            outbound.insert(f.dip);
        } else {
            inbound.insert(f.sip);
        }
    }
    let mut connections: Vec<Connection> = groups
        .into_iter()
        .map(|((sip, dip, sport, dport), fs)| {
            let n = fs.len();
            Connection {
                sip,
                dip,
                sport,
                dport,
                first_seen: fs[0].treceived.format(TIME).to_string(),
                last_seen: fs[n - 1].treceived.format(TIME).to_string(),
                count: n,
                max_pkts: fs.iter().map(|f| f.ipkt).max().unwrap_or(0),
                avg_pkts: fs.iter().map(|f| f.ipkt as f64).sum::<f64>() / n as f64,
                max_bytes: fs.iter().map(|f| f.ibyt).max().unwrap_or(0),
                avg_bytes: fs.iter().map(|f| f.ibyt as f64).sum::<f64>() / n as f64,
            }
        })
        .collect();
    connections.sort_by(|a, b| (&a.first_seen, a.sip, a.dip, a.sport, a.dport).cmp(&(&b.first_seen, b.sip, b.dip, b.sport, b.dport)));
    let top = |key: &dyn Fn(&Connection) -> f64| {
        let mut v = connections.clone();
        v.sort_by(|a, b| key(b).total_cmp(&key(a)));
        v.truncate(20);
        v
    };
    let top_by_bytes = top(&|c| c.avg_bytes * c.count as f64);
    let top_by_connections = top(&|c| c.count as f64);
    Ok(Threat {
        ip,
        inbound_only: inbound.difference(&outbound).copied().collect(),
        outbound_only: outbound.difference(&inbound).copied().collect(),
        two_way: inbound.intersection(&outbound).copied().collect(),
        connections,
        top_by_bytes,
        top_by_connections,
    })
}

//! The OA run of one date (flows.md "OA run", steps 1–8): the first N scored connections in
//! file order (rank = line index), enriched ([`super::enrich`]), the raw flows between each
//! one's addresses in its minute, the day's bytes and packets between every address with two
//! or more suspicious peers and those peers, and the day's flows per minute — all stored in one
//! transaction that replaces the date's previous outputs, so a re-run changes nothing.
//!
//! The scored connections come from spot-ml's `flow_results.csv` ([`read_results`]: TAB-separated,
//! no header, 18 fields, most suspicious first). Beacons join them: after the N scored rows, one
//! row per flagged beacon pair that is not among them ([`beacon_rows`], [`add_beacons`]), ranks
//! continuing, so the analyst reviews them in the same list with the same 20 columns.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::BufRead;
use std::net::IpAddr;
use std::time::Instant;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Timelike, Utc};
use serde::Serialize;

use super::beacon::BeaconReport;
use super::enrich::Enricher;
use super::model::RawFlow;
use crate::error::{Error, Result};
use crate::store::Store;
pub use crate::store::flows::oa::{FeedbackRow, FlowChord, FlowEdge, FlowScore, IngestMinute, OaOutputs};

/// Spot's text form of a time (`flow_scores.tstart`, `flow_results.csv`).
pub const TIME: &str = "%Y-%m-%d %H:%M:%S";

/// One scored connection, as spot-ml writes it (JSON: `tstart` as `YYYY-MM-DD HH:MM:SS`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    /// When it started (UTC).
    #[serde(serialize_with = "spot_time")]
    pub tstart: DateTime<Utc>,
    /// Source.
    pub sip: IpAddr,
    /// Destination.
    pub dip: IpAddr,
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
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
    /// The score: lower = more suspicious.
    pub score: f64,
}

impl Scored {
    /// Flow `f` with `score`.
    pub fn of(f: &RawFlow, score: f64) -> Scored {
        Scored {
            tstart: f.treceived,
            sip: f.sip,
            dip: f.dip,
            sport: f.sport,
            dport: f.dport,
            proto: f.proto.clone(),
            ipkt: f.ipkt,
            ibyt: f.ibyt,
            opkt: f.opkt,
            obyt: f.obyt,
            score,
        }
    }
}

/// `t` in Spot's text form ([`TIME`]).
fn spot_time<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(&t.format(TIME))
}

/// What an OA run stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OaReport {
    /// The date.
    pub date: NaiveDate,
    /// Scored connections stored (at most the limit).
    pub scores: usize,
    /// Rows of flagged beacon pairs stored after them (pairs not among the scored rows).
    pub beacons: usize,
    /// Raw flows around them.
    pub edges: usize,
    /// Threat–peer rows.
    pub chords: usize,
    /// Minutes with flows.
    pub minutes: usize,
    /// Wall time in seconds.
    pub seconds: f64,
    /// What went wrong without stopping the run (an unreachable reputation service), one line
    /// each.
    pub warnings: Vec<String>,
}

/// The first `limit` rows of spot-ml's `flow_results.csv` read from `reader` (named `name` in
/// errors): `treceived, tryear, trmonth, trday, trhour, trminute, trsec, tdur, sip, dip, sport,
/// dport, proto, ipkt, ibyt, opkt, obyt, score`, TAB-separated. A bad line is an error
/// `name:line: field: reason` (an OA run then stores nothing).
pub fn read_results(name: &str, reader: impl BufRead, limit: usize) -> Result<Vec<Scored>> {
    let mut rows = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        if rows.len() >= limit {
            break;
        }
        let line = line.map_err(|e| Error::io(name, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').map(str::trim).collect();
        let bad = |field: &str, reason: String| Error::InvalidArgument(format!("{name}:{}: {field}: {reason}", i + 1));
        if f.len() != 18 {
            return Err(bad("line", format!("{} fields, expected 18 (TAB-separated)", f.len())));
        }
        let int = |k: usize, field: &str| f[k].parse::<i64>().map_err(|e| bad(field, format!("`{}`: {e}", f[k])));
        let port = |k: usize, field: &str| f[k].parse::<u16>().map_err(|e| bad(field, format!("`{}`: {e}", f[k])));
        let ip = |k: usize, field: &str| f[k].parse::<IpAddr>().map_err(|e| bad(field, format!("`{}`: {e}", f[k])));
        let tstart = NaiveDateTime::parse_from_str(f[0], TIME).map_err(|e| bad("treceived", format!("`{}`: {e}", f[0])))?.and_utc();
        let score = f[17].parse::<f64>().ok().filter(|s| s.is_finite()).ok_or_else(|| bad("score", format!("`{}` is not a number", f[17])))?;
        rows.push(Scored {
            tstart,
            sip: ip(8, "sip")?,
            dip: ip(9, "dip")?,
            sport: port(10, "sport")?,
            dport: port(11, "dport")?,
            proto: f[12].to_string(),
            ipkt: int(13, "ipkt")?,
            ibyt: int(14, "ibyt")?,
            opkt: int(15, "opkt")?,
            obyt: int(16, "obyt")?,
            score,
        });
    }
    Ok(rows)
}

/// The first flow of the day of every flagged beacon pair of `report` (highest score first) as
/// a scored row: its start, ports, protocol, packets and bytes (so its edges, feedback and
/// chords work as any row's), score `1 − beacon score` (lower = more suspicious).
pub fn beacon_rows(flows: &[RawFlow], report: &BeaconReport) -> Vec<Scored> {
    let flagged: Vec<_> = report.beacons.iter().filter(|b| b.level != "none").collect();
    let mut first: HashMap<(IpAddr, IpAddr), &RawFlow> = HashMap::new();
    let wanted: HashSet<(IpAddr, IpAddr)> = flagged.iter().map(|b| (b.src, b.dst)).collect();
    for f in flows {
        let pair = (f.sip, f.dip);
        if wanted.contains(&pair) {
            first.entry(pair).and_modify(|g| if f.treceived < g.treceived { *g = f }).or_insert(f);
        }
    }
    flagged
        .into_iter()
        .filter_map(|b| {
            let f = first.get(&(b.src, b.dst))?;
            Some(Scored::of(f, 1.0 - b.score))
        })
        .collect()
}

/// Beacon rows an OA run adds at most: the highest-scoring flagged pairs; every flagged pair
/// stays in `flows beacons`. Without a bound, traffic where hundreds of thousands of pairs talk
/// all day (a 10M-flow day of `vantage-bench gen-flows` flags 16,197 pairs as "low") would
/// bury the scored rows and multiply the OA's edge and chord work.
pub const MAX_BEACON_ROWS: usize = 100;

/// Appends the first [`MAX_BEACON_ROWS`] `beacons` rows (highest beacon score first) whose
/// (source, destination) no row of `rows` has; returns how many.
pub fn add_beacons(rows: &mut Vec<Scored>, beacons: Vec<Scored>) -> usize {
    let present: HashSet<(IpAddr, IpAddr)> = rows.iter().map(|r| (r.sip, r.dip)).collect();
    let before = rows.len();
    rows.extend(beacons.into_iter().filter(|b| !present.contains(&(b.sip, b.dip))).take(MAX_BEACON_ROWS));
    rows.len() - before
}

/// Steps 1–5: the connections with their rank and context.
pub fn scores(rows: &[Scored], enricher: &Enricher) -> Vec<FlowScore> {
    rows.iter()
        .enumerate()
        .map(|(rank, r)| {
            let (src, dst) = (enricher.place(r.sip), enricher.place(r.dip));
            FlowScore {
                tstart: r.tstart.format(TIME).to_string(),
                srcip: r.sip.to_string(),
                dstip: r.dip.to_string(),
                sport: i32::from(r.sport),
                dport: i32::from(r.dport),
                proto: r.proto.clone(),
                ipkt: r.ipkt,
                ibyt: r.ibyt,
                opkt: r.opkt,
                obyt: r.obyt,
                score: r.score,
                rank: i32::try_from(rank).unwrap_or(i32::MAX),
                srcip_internal: i32::from(enricher.internal(r.sip)),
                dstip_internal: i32::from(enricher.internal(r.dip)),
                src_geoloc: src.geoloc,
                dst_geoloc: dst.geoloc,
                src_domain: src.domain,
                dst_domain: dst.domain,
                src_rep: enricher.reputation(r.sip),
                dst_rep: enricher.reputation(r.dip),
            }
        })
        .collect()
}

/// The start of `t`'s minute.
fn minute(t: DateTime<Utc>) -> DateTime<Utc> {
    t.with_second(0).and_then(|t| t.with_nanosecond(0)).unwrap_or(t)
}

/// Pairs asked in one query.
const PAIRS_PER_QUERY: usize = 500;

/// Step 6: the raw flows between each row's two addresses (either way) in its minute, each
/// once: one query per minute (and per [`PAIRS_PER_QUERY`] pairs of it), the rows' order kept.
async fn edges(store: &dyn Store, rows: &[Scored]) -> Result<Vec<FlowEdge>> {
    let mut keys = Vec::new();
    let mut by_minute: BTreeMap<DateTime<Utc>, Vec<(IpAddr, IpAddr)>> = BTreeMap::new();
    let mut asked = HashSet::new();
    for r in rows {
        let (a, b) = if r.sip <= r.dip { (r.sip, r.dip) } else { (r.dip, r.sip) };
        let from = minute(r.tstart);
        if asked.insert((from, a, b)) {
            keys.push((from, a, b));
            by_minute.entry(from).or_default().push((a, b));
        }
    }
    let mut found: HashMap<(DateTime<Utc>, IpAddr, IpAddr), Vec<RawFlow>> = HashMap::new();
    for (from, pairs) in &by_minute {
        for chunk in pairs.chunks(PAIRS_PER_QUERY) {
            for f in store.flows_between_pairs(*from, *from + Duration::minutes(1), chunk).await? {
                let (a, b) = if f.sip <= f.dip { (f.sip, f.dip) } else { (f.dip, f.sip) };
                found.entry((*from, a, b)).or_default().push(f);
            }
        }
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for key in keys {
        for f in found.remove(&key).unwrap_or_default() {
            let edge = FlowEdge {
                tstart: f.treceived.format(TIME).to_string(),
                srcip: f.sip.to_string(),
                dstip: f.dip.to_string(),
                sport: i32::from(f.sport),
                dport: i32::from(f.dport),
                proto: f.proto.clone(),
                flags: f.flag.clone(),
                tos: f.stos,
                ibyt: f.ibyt,
                ipkt: f.ipkt,
                input: f.input,
                output: f.output,
                rip: f.rip.clone(),
                obyt: f.obyt,
                opkt: f.opkt,
                hh: f.treceived.hour() as i32,
                mn: f.treceived.minute() as i32,
            };
            if seen.insert(edge.clone()) {
                out.push(edge);
            }
        }
    }
    Ok(out)
}

/// The suspicious peers of every address with at least two.
pub fn threats(rows: &[Scored]) -> BTreeMap<IpAddr, BTreeSet<IpAddr>> {
    let mut peers: BTreeMap<IpAddr, BTreeSet<IpAddr>> = BTreeMap::new();
    for r in rows {
        peers.entry(r.sip).or_default().insert(r.dip);
        peers.entry(r.dip).or_default().insert(r.sip);
    }
    peers.retain(|_, p| p.len() >= 2);
    peers
}

/// Step 7: bytes and packets of the day between each threat and each of its suspicious peers,
/// per direction.
async fn chords(store: &dyn Store, rows: &[Scored], from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<FlowChord>> {
    let threats = threats(rows);
    let ips: Vec<IpAddr> = threats.keys().copied().collect();
    let sums = store.flow_pair_sums(from, to, &ips).await?;
    let mut out = Vec::new();
    for (threat, peers) in &threats {
        for s in &sums {
            if (s.sip == *threat && peers.contains(&s.dip)) || (s.dip == *threat && peers.contains(&s.sip)) {
                out.push(FlowChord { ip_threat: threat.to_string(), srcip: s.sip.to_string(), dstip: s.dip.to_string(), ibyt: s.ibyt, ipkt: s.ipkt });
            }
        }
    }
    out.sort_by(|a, b| (&a.ip_threat, &a.srcip, &a.dstip).cmp(&(&b.ip_threat, &b.srcip, &b.dstip)));
    Ok(out)
}

/// Runs steps 1–8 for `date` over `rows` (most suspicious first; the last `beacons` of them
/// rows of beacon pairs, [`add_beacons`]) and stores the outputs in place of the date's
/// previous ones.
pub async fn run(store: &dyn Store, enricher: &Enricher, date: NaiveDate, rows: &[Scored], beacons: usize) -> Result<OaReport> {
    let started = Instant::now();
    let from = date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let to = from + Duration::days(1);
    let outputs = OaOutputs {
        scores: scores(rows, enricher),
        edges: edges(store, rows).await?,
        chords: chords(store, rows, from, to).await?,
        ingest: store.flows_per_minute(from, to).await?,
    };
    store.replace_oa(date, &outputs).await?;
    Ok(OaReport {
        date,
        scores: outputs.scores.len() - beacons.min(outputs.scores.len()),
        beacons: beacons.min(outputs.scores.len()),
        edges: outputs.edges.len(),
        chords: outputs.chords.len(),
        minutes: outputs.ingest.len(),
        seconds: started.elapsed().as_secs_f64(),
        warnings: Vec::new(),
    })
}

//! The built-in scorer (flows.md "Built-in scorer"): Spot's model without a Spark cluster.
//!
//! **Words.** Each flow is two words, one per endpoint, as spot-ml forms them:
//! `portclass_proto_hour_⌈log2(ibyt+1)⌉_⌈log2(ipkt+1)⌉`, where the port class is `0` when both
//! ports are 0, the non-zero port when only one is, `111111` when both are ≤ 1024, `333333`
//! when both are > 1024, else the low (service) port — and the endpoint that holds the low port
//! gets it prefixed `-1_` (so a server's and its clients' words differ).
//!
//! Spot's word loses a scan to high ports (both ports > 1024: one class `333333`), so a flow
//! also has a **service word** `svc_port_proto` — the destination port, or the source port when
//! only that one is ≤ 1024 (a well-known service answering: the reverse record of a
//! unidirectional pair) — said to the document of its **address pair**: a pair that keeps using
//! one service (a client's DNS server) says it again and again, a scan's pair says a new one
//! with every flow.
//!
//! **Documents** are addresses: every flow of the traffic window (the day, or the
//! `window_days` ending with it) adds its source word to its source's document and its
//! destination word to its destination's.
//!
//! **Probability.** Spot fits LDA topics; Vantage uses the smoothed per-address word
//! distribution, a Dirichlet prior centred on the window's word distribution:
//!
//! `P(w | ip) = (c(ip, w) + α·P(w)) / (c(ip) + α)`, `P(w) = (c(w) + 1) / (N + V)`,
//!
//! with `c(ip, w)` the address's count of word w, `c(ip)` all its words, `c(w)` the word's
//! count in the window, `N` all words, `V` distinct words, `α` = [`ALPHA`]; the same for the
//! pairs' service words. A flow's score treats its words as independent (naive Bayes):
//! `min(P(w_src | sip), P(w_dst | dip)) · P(svc | {sip, dip})` — lower = more suspicious: words
//! an address or a pair rarely says (the ports of a scan, a one-off connection) score low, bulk
//! habits (a client's DNS lookups) high.
//!
//! **Feedback** (`ml_feedback` rows, [`Feedback`]): a severity-3 row (benign) adds its words
//! [`BENIGN_WEIGHT`] times to its addresses' documents, as spot-ml repeats such rows 1000×
//! in retraining, so the same pattern scores higher — less suspicious — next run. Unlike Spot,
//! a severity-1 row (high) moves the same pattern up: flows with the same addresses and words
//! get their score divided by [`SEVERE_FACTOR`]. Severity 2 changes nothing.

use std::collections::HashMap;
use std::io::Write;
use std::net::IpAddr;

use chrono::Timelike;

use super::oa::{Scored, TIME};
use crate::error::{Error, Result};
use crate::store::flows::model::RawFlow;

/// Strength of the prior towards the window's word distribution (pseudo-words per address).
pub const ALPHA: f64 = 10.0;
/// How many times a benign (severity 3) feedback row counts.
pub const BENIGN_WEIGHT: f64 = 1000.0;
/// What a severity-1 feedback row divides its pattern's score by.
pub const SEVERE_FACTOR: f64 = 1000.0;

/// An analyst's judgement of a connection (Spot's `ml_feedback.csv` row).
#[derive(Debug, Clone, PartialEq)]
pub struct Feedback {
    /// 1 high, 2 medium, 3 low/benign.
    pub sev: u8,
    /// The flow's start (its hour is part of the word).
    pub tstart: chrono::DateTime<chrono::Utc>,
    /// Source.
    pub sip: IpAddr,
    /// Destination.
    pub dip: IpAddr,
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// Packets.
    pub ipkt: i64,
    /// Bytes.
    pub ibyt: i64,
    /// Protocol (not in Spot's file, which has no proto; empty = any).
    pub proto: String,
}

/// `⌈log2(n + 1)⌉`.
fn bin(n: i64) -> u32 {
    let n = u64::try_from(n.max(0)).unwrap_or(0).saturating_add(1);
    64 - (n - 1).leading_zeros() // ceil(log2(n)) for n ≥ 1
}

/// The source's and the destination's word of a flow.
pub fn words(sport: u16, dport: u16, proto: &str, hour: u32, ibyt: i64, ipkt: i64) -> (String, String) {
    let tail = format!("{proto}_{hour}_{}_{}", bin(ibyt), bin(ipkt));
    let same = |class: String| {
        let w = format!("{class}_{tail}");
        (w.clone(), w)
    };
    match (sport, dport) {
        (0, 0) => same("0".into()),
        (s, 0) => (format!("-1_{s}_{tail}"), format!("{s}_{tail}")),
        (0, d) => (format!("{d}_{tail}"), format!("-1_{d}_{tail}")),
        (s, d) if s <= 1024 && d <= 1024 => same("111111".into()),
        (s, d) if s > 1024 && d > 1024 => same("333333".into()),
        (s, d) if s < d => (format!("-1_{s}_{tail}"), format!("{s}_{tail}")),
        (_, d) => (format!("{d}_{tail}"), format!("-1_{d}_{tail}")),
    }
}

/// The service-port word of a flow (both endpoints say it).
pub fn service_word(sport: u16, dport: u16, proto: &str) -> String {
    let port = if sport <= 1024 && dport > 1024 { sport } else { dport };
    format!("svc_{port}_{proto}")
}

/// A flow's words: the source's, the destination's, and its pair's service word.
fn flow_words(f: &RawFlow) -> (String, String, String) {
    let (s, d) = words(f.sport, f.dport, &f.proto, f.treceived.hour(), f.ibyt, f.ipkt);
    (s, d, service_word(f.sport, f.dport, &f.proto))
}

fn feedback_words(f: &Feedback, proto: &str) -> (String, String, String) {
    let (s, d) = words(f.sport, f.dport, proto, f.tstart.hour(), f.ibyt, f.ipkt);
    (s, d, service_word(f.sport, f.dport, proto))
}

/// The word counts of a traffic window, per document (an address, or an address pair).
#[derive(Debug)]
struct Model<K> {
    /// c(doc, w) by document, then word, as weights (looked up by `&str`: no allocation).
    pair: HashMap<K, HashMap<String, f64>>,
    /// c(doc).
    doc: HashMap<K, f64>,
    /// c(w).
    word: HashMap<String, f64>,
    /// N.
    total: f64,
}

/// Adds `weight` to `w`'s entry of `counts`, allocating its key only the first time.
fn count(counts: &mut HashMap<String, f64>, w: &str, weight: f64) {
    match counts.get_mut(w) {
        Some(c) => *c += weight,
        None => {
            counts.insert(w.to_string(), weight);
        }
    }
}

impl<K: std::hash::Hash + Eq + Clone> Model<K> {
    fn new() -> Self {
        Model { pair: HashMap::new(), doc: HashMap::new(), word: HashMap::new(), total: 0.0 }
    }

    fn add(&mut self, doc: &K, w: &str, weight: f64) {
        count(self.pair.entry(doc.clone()).or_default(), w, weight);
        *self.doc.entry(doc.clone()).or_default() += weight;
        count(&mut self.word, w, weight);
        self.total += weight;
    }

    fn p(&self, doc: &K, w: &str) -> f64 {
        let vocabulary = self.word.len() as f64;
        let prior = (self.word.get(w).copied().unwrap_or(0.0) + 1.0) / (self.total + vocabulary.max(1.0));
        let count = self.pair.get(doc).and_then(|words| words.get(w)).copied().unwrap_or(0.0);
        (count + ALPHA * prior) / (self.doc.get(doc).copied().unwrap_or(0.0) + ALPHA)
    }
}

/// The address pair of a flow, either way.
fn pair(a: IpAddr, b: IpAddr) -> (IpAddr, IpAddr) {
    if a <= b { (a, b) } else { (b, a) }
}

/// The hosts' and the pairs' models.
struct Models {
    hosts: Model<IpAddr>,
    pairs: Model<(IpAddr, IpAddr)>,
}

impl Models {
    fn add_flow(&mut self, sip: IpAddr, dip: IpAddr, (s, d, svc): (&str, &str, &str), weight: f64) {
        self.hosts.add(&sip, s, weight);
        self.hosts.add(&dip, d, weight);
        self.pairs.add(&pair(sip, dip), svc, weight);
    }

    fn p(&self, sip: IpAddr, dip: IpAddr, (s, d, svc): (&str, &str, &str)) -> f64 {
        self.hosts.p(&sip, s).min(self.hosts.p(&dip, d)) * self.pairs.p(&pair(sip, dip), svc)
    }
}

/// Scores the `day` flows against the `window` traffic (which includes them; `None`: the day
/// alone) and `feedback`; returns them most suspicious first (equal scores in time order).
pub fn score(day: Vec<RawFlow>, window: Option<&[RawFlow]>, feedback: &[Feedback]) -> Vec<(RawFlow, f64)> {
    let mut model = Models { hosts: Model::new(), pairs: Model::new() };
    for f in window.unwrap_or(&day) {
        let (s, d, svc) = flow_words(f);
        model.add_flow(f.sip, f.dip, (&s, &d, &svc), 1.0);
    }
    let mut severe = std::collections::HashSet::new();
    for fb in feedback {
        // Spot's feedback has no protocol: the words of every protocol seen in the window
        let protos: Vec<String> = if fb.proto.is_empty() { ["TCP", "UDP", "ICMP"].map(String::from).to_vec() } else { vec![fb.proto.clone()] };
        for proto in protos {
            let (s, d, svc) = feedback_words(fb, &proto);
            match fb.sev {
                3 => model.add_flow(fb.sip, fb.dip, (&s, &d, &svc), BENIGN_WEIGHT),
                1 => {
                    severe.insert((fb.sip, fb.dip, s, d));
                }
                _ => {}
            }
        }
    }
    let mut scored: Vec<(RawFlow, f64)> = day
        .into_iter()
        .map(|f| {
            let (s, d, svc) = flow_words(&f);
            let mut p = model.p(f.sip, f.dip, (&s, &d, &svc));
            if severe.contains(&(f.sip, f.dip, s, d)) {
                p /= SEVERE_FACTOR;
            }
            (f, p)
        })
        .collect();
    scored.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.treceived.cmp(&b.0.treceived)));
    scored
}

/// A scored flow as the OA run takes it.
pub fn as_scored((f, score): &(RawFlow, f64)) -> Scored {
    Scored::of(f, *score)
}

/// Writes `scored` as spot-ml's `flow_results.csv` (TAB-separated, 18 fields, no header).
pub fn write_results(out: &mut impl Write, scored: &[(RawFlow, f64)]) -> Result<()> {
    let io = |e: std::io::Error| Error::io("flow_results.csv", e);
    for (f, score) in scored {
        let c = f.calendar();
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{score:e}",
            f.treceived.format(TIME),
            c[0],
            c[1],
            c[2],
            c[3],
            c[4],
            c[5],
            f.tdur,
            f.sip,
            f.dip,
            f.sport,
            f.dport,
            f.proto,
            f.ipkt,
            f.ibyt,
            f.opkt,
            f.obyt
        )
        .map_err(io)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_follow_spot_ml_port_classes_and_log_bins() {
        assert_eq!(bin(0), 0);
        assert_eq!((bin(1), bin(2), bin(3), bin(4), bin(1500)), (1, 2, 2, 3, 11));
        assert_eq!(words(0, 0, "ICMP", 3, 84, 1), ("0_ICMP_3_7_1".into(), "0_ICMP_3_7_1".into()));
        assert_eq!(words(53, 80, "TCP", 0, 0, 0), ("111111_TCP_0_0_0".into(), "111111_TCP_0_0_0".into()));
        assert_eq!(words(40000, 50000, "UDP", 23, 1, 1).0, "333333_UDP_23_1_1");
        // a client (high port) to a server's port 53: the server side holds the low port
        assert_eq!(words(51024, 53, "UDP", 2, 66, 1), ("53_UDP_2_7_1".into(), "-1_53_UDP_2_7_1".into()));
        assert_eq!(words(443, 50677, "TCP", 10, 76, 1), ("-1_443_TCP_10_7_1".into(), "443_TCP_10_7_1".into()));
    }
}

//! The pictures of the Flows tab as geometry, for a front end to paint (the desktop app does):
//! the network of the suspicious connections (flows.md "Views": nodes are addresses sized by
//! how often they appear, internal ones on an inner ring and drawn apart from external ones,
//! links shaded by −ln(score)) and the chord diagram of the selected IP (an arc per address
//! sized by its bytes, a ribbon per pair and direction as wide as its bytes at both ends).
//! Coordinates are in the unit square around the origin, angles in radians clockwise from
//! the top; the layout is deterministic (the same rows, the same picture).

use std::collections::BTreeMap;
use std::f64::consts::TAU;

use vantage_core::flows::oa::{FlowChord, FlowScore};

/// Connections the network shows at most (the most suspicious).
pub const NETWORK_ROWS: usize = 100;

/// The gap between two arcs of a chord diagram.
const GAP: f64 = 0.04;

/// Distinct peers of `ip` among `rows`.
pub fn peers(rows: &[FlowScore], ip: &str) -> usize {
    let mut seen: Vec<&str> = rows.iter().filter_map(|s| if s.srcip == ip { Some(s.dstip.as_str()) } else { (s.dstip == ip).then_some(s.srcip.as_str()) }).collect();
    seen.sort_unstable();
    seen.dedup();
    seen.len()
}

/// An address of the network.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The address.
    pub ip: String,
    /// Connections it is an end of.
    pub hits: usize,
    /// Inside an internal range.
    pub internal: bool,
    /// Where it is.
    pub at: (f64, f64),
    /// Its radius (larger with more hits).
    pub radius: f64,
}

/// A connection between two nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// Index of the source node.
    pub from: usize,
    /// Index of the destination node.
    pub to: usize,
    /// −ln of its lowest score (higher = more suspicious).
    pub suspicion: f64,
    /// `suspicion` scaled to 0 (the least suspicious link shown) … 1 (the most).
    pub shade: f64,
}

/// The network of suspicious connections.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Network {
    /// Addresses, by hits (then address).
    pub nodes: Vec<Node>,
    /// One link per (source, destination).
    pub links: Vec<Link>,
}

/// −ln(score), finite (a score of 0 counts as the smallest positive one).
fn suspicion(score: f64) -> f64 {
    -score.max(f64::MIN_POSITIVE).ln()
}

/// Point `i` of `n` on a ring of `radius`: the points go round in strides of about 0.38 of a
/// turn (a stride prime to `n`, so each slot is taken once), so the first ones — the busiest
/// addresses — stand apart, their names too.
fn on_ring(i: usize, n: usize, radius: f64) -> (f64, f64) {
    let n = n.max(1);
    let gcd = |mut a: usize, mut b: usize| {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    };
    let stride = ((((n as f64) * 0.382).round() as usize).max(1)..=n).find(|s| gcd(*s, n) == 1).unwrap_or(1);
    let angle = TAU * (((i * stride) % n) as f64 + 0.5) / n as f64;
    (radius * angle.sin(), -radius * angle.cos())
}

impl Network {
    /// The network of the first [`NETWORK_ROWS`] of `rows` (by rank): internal addresses on a
    /// ring of radius 0.45, external ones on one of 0.9, each by hits.
    pub fn of(rows: &[FlowScore]) -> Network {
        let rows = &rows[..rows.len().min(NETWORK_ROWS)];
        let mut hits: BTreeMap<&str, (usize, bool)> = BTreeMap::new();
        for s in rows {
            for (ip, internal) in [(&s.srcip, s.srcip_internal), (&s.dstip, s.dstip_internal)] {
                let e = hits.entry(ip.as_str()).or_default();
                e.0 += 1;
                e.1 |= internal == 1;
            }
        }
        let mut order: Vec<(&str, usize, bool)> = hits.into_iter().map(|(ip, (n, internal))| (ip, n, internal)).collect();
        order.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let most = order.first().map_or(1, |o| o.1) as f64;
        let rings = [order.iter().filter(|o| o.2).count(), order.iter().filter(|o| !o.2).count()];
        let mut placed = [0, 0];
        let nodes: Vec<Node> = order
            .iter()
            .map(|&(ip, hits, internal)| {
                let ring = usize::from(!internal);
                let at = on_ring(placed[ring], rings[ring], [0.45, 0.9][ring]);
                placed[ring] += 1;
                Node { ip: ip.to_string(), hits, internal, at, radius: 0.015 + 0.04 * (hits as f64 / most).sqrt() }
            })
            .collect();
        let index = |ip: &str| nodes.iter().position(|n| n.ip == ip);
        let mut links: Vec<Link> = Vec::new();
        for s in rows {
            let (Some(from), Some(to)) = (index(&s.srcip), index(&s.dstip)) else { continue };
            match links.iter_mut().find(|l| l.from == from && l.to == to) {
                Some(l) => l.suspicion = l.suspicion.max(suspicion(s.score)),
                None => links.push(Link { from, to, suspicion: suspicion(s.score), shade: 0.0 }),
            }
        }
        let (low, high) = links.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), l| (lo.min(l.suspicion), hi.max(l.suspicion)));
        for l in &mut links {
            l.shade = if high > low { (l.suspicion - low) / (high - low) } else { 1.0 };
        }
        Network { nodes, links }
    }
}

/// An address's arc of a chord diagram.
#[derive(Debug, Clone, PartialEq)]
pub struct Arc {
    /// The address.
    pub ip: String,
    /// Bytes to and from it among the pairs.
    pub bytes: i64,
    /// Where the arc starts.
    pub start: f64,
    /// Where it ends.
    pub end: f64,
}

/// A pair's ribbon: from a stretch of its source's arc to one of its destination's.
#[derive(Debug, Clone, PartialEq)]
pub struct Ribbon {
    /// Index of the source's arc.
    pub from: usize,
    /// Index of the destination's arc.
    pub to: usize,
    /// The stretch of the source's arc.
    pub source: (f64, f64),
    /// The stretch of the destination's arc.
    pub target: (f64, f64),
    /// Bytes from source to destination.
    pub bytes: i64,
}

/// The chord diagram of one address and its peers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chord {
    /// One arc per address: the selected one first, then its peers by bytes.
    pub arcs: Vec<Arc>,
    /// One ribbon per pair with bytes, most bytes first.
    pub ribbons: Vec<Ribbon>,
}

impl Chord {
    /// The diagram of `ip`'s chord rows (pairs without bytes left out).
    pub fn of(ip: &str, rows: &[FlowChord]) -> Chord {
        let mut rows: Vec<&FlowChord> = rows.iter().filter(|c| c.ibyt > 0).collect();
        rows.sort_by(|a, b| b.ibyt.cmp(&a.ibyt).then_with(|| (&a.srcip, &a.dstip).cmp(&(&b.srcip, &b.dstip))));
        let mut bytes: BTreeMap<&str, i64> = BTreeMap::new();
        for c in &rows {
            *bytes.entry(&c.srcip).or_default() += c.ibyt;
            *bytes.entry(&c.dstip).or_default() += c.ibyt;
        }
        let mut order: Vec<(&str, i64)> = bytes.into_iter().collect();
        order.sort_by(|a, b| (b.0 == ip).cmp(&(a.0 == ip)).then_with(|| b.1.cmp(&a.1)).then_with(|| a.0.cmp(b.0)));
        let total: i64 = order.iter().map(|o| o.1).sum();
        if total == 0 {
            return Chord::default();
        }
        let scale = (TAU - GAP * order.len() as f64) / total as f64;
        let mut at = 0.0;
        let mut arcs = Vec::new();
        for (ip, b) in &order {
            let end = at + *b as f64 * scale;
            arcs.push(Arc { ip: ip.to_string(), bytes: *b, start: at, end });
            at = end + GAP;
        }
        // each arc is filled from its start by the ribbons touching it, largest first
        let mut filled: Vec<f64> = arcs.iter().map(|a| a.start).collect();
        let index = |ip: &str| arcs.iter().position(|a| a.ip == ip);
        let mut ribbons = Vec::new();
        for c in rows {
            let (Some(from), Some(to)) = (index(&c.srcip), index(&c.dstip)) else { continue };
            let width = c.ibyt as f64 * scale;
            let source = (filled[from], filled[from] + width);
            filled[from] += width;
            let target = (filled[to], filled[to] + width);
            filled[to] += width;
            ribbons.push(Ribbon { from, to, source, target, bytes: c.ibyt });
        }
        Chord { arcs, ribbons }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tabs::flows::tests::score;

    #[test]
    fn the_network_sizes_nodes_by_hits_rings_them_by_context_and_shades_links_by_suspicion() {
        let rows = [score(0, "10.0.0.1", "8.8.8.8", (1, 0), 1e-6), score(1, "10.0.0.1", "1.1.1.1", (1, 0), 0.5), score(2, "10.0.0.1", "8.8.8.8", (1, 0), 0.1)];
        let n = Network::of(&rows);
        assert_eq!(n.nodes.iter().map(|n| (n.ip.as_str(), n.hits, n.internal)).collect::<Vec<_>>(), [("10.0.0.1", 3, true), ("8.8.8.8", 2, false), ("1.1.1.1", 1, false)]);
        let distance = |i: usize| (n.nodes[i].at.0.powi(2) + n.nodes[i].at.1.powi(2)).sqrt();
        assert!((distance(0) - 0.45).abs() < 1e-9 && (distance(1) - 0.9).abs() < 1e-9, "internal inside, external outside");
        assert!(n.nodes[0].radius > n.nodes[1].radius && n.nodes[1].radius > n.nodes[2].radius);
        assert_eq!(n.links.len(), 2, "one link per pair");
        assert!((n.links[0].suspicion - 1e-6f64.ln().abs()).abs() < 1e-9, "the pair's most suspicious score");
        assert_eq!((n.links[0].shade, n.links[1].shade), (1.0, 0.0));
        assert_eq!(Network::of(&rows), n, "deterministic");
        let slots: std::collections::BTreeSet<String> = (0..10).map(|i| format!("{:.6?}", on_ring(i, 10, 1.0))).collect();
        assert_eq!(slots.len(), 10, "every slot of the ring taken once");
    }

    #[test]
    fn chord_arcs_are_as_long_as_their_bytes_and_ribbons_fill_them() {
        let c = |src: &str, dst: &str, ibyt| FlowChord { ip_threat: "10.0.0.1".into(), srcip: src.into(), dstip: dst.into(), ibyt, ipkt: 1 };
        let chord = Chord::of("10.0.0.1", &[c("10.0.0.1", "8.8.8.8", 300), c("8.8.8.8", "10.0.0.1", 100), c("1.1.1.1", "10.0.0.1", 600), c("10.0.0.1", "9.9.9.9", 0)]);
        assert_eq!(chord.arcs.iter().map(|a| (a.ip.as_str(), a.bytes)).collect::<Vec<_>>(), [("10.0.0.1", 1000), ("1.1.1.1", 600), ("8.8.8.8", 400)]);
        let length = |a: &Arc| a.end - a.start;
        assert!((length(&chord.arcs[0]) / length(&chord.arcs[2]) - 2.5).abs() < 1e-9);
        let last = chord.arcs.last().expect("arcs");
        assert!((last.end + GAP - TAU).abs() < 1e-9, "the arcs and gaps make a full turn");
        assert_eq!(chord.ribbons.iter().map(|r| (r.from, r.to, r.bytes)).collect::<Vec<_>>(), [(1, 0, 600), (0, 2, 300), (2, 0, 100)]);
        for (i, arc) in chord.arcs.iter().enumerate() {
            let used: f64 = chord.ribbons.iter().flat_map(|r| [(r.from, r.source), (r.to, r.target)]).filter(|(a, _)| *a == i).map(|(_, (s, e))| e - s).sum();
            assert!((used - length(arc)).abs() < 1e-9, "{}: its ribbons fill it", arc.ip);
        }
        assert_eq!(Chord::of("10.0.0.1", &[]), Chord::default());
    }
}

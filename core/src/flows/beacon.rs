//! Beacon detection (what analysts use RITA for; Spot never had it): RITA v5's beacon score per
//! (source, destination) pair of a day, as flows.md writes it, plus long connections and
//! strobes.
//!
//! For a pair with at least [`MIN_CONNECTIONS`] connections and fewer than [`STROBE`]:
//! - **ts** (timing) and **ds** (data size): over the sorted non-zero inter-arrival times, and
//!   the sorted non-zero bytes sent (`ibyt`), `(skewScore + madScore) / 2` where
//!   `skewScore = 1 − |Bowley|`, `Bowley = (Q1 + Q3 − 2·Q2) / (Q3 − Q1)` (0 when the IQR is below
//!   10 or Q2 equals Q1 or Q3) and `madScore = (median − MAD) / median` (when the median is
//!   below 1: 1 for ts, 0 for ds);
//! - **hist**: the connections in 24 hourly bins of the day; `max(cvScore, bimodal)` with
//!   `cvScore = 1 − sd/mean` (0 when the coefficient of variation is above 1) and, with at least
//!   11 non-empty bins, `bimodal` = the two largest groups of bins of similar counts (groups 5 %
//!   of the largest count wide) over (non-empty bins − 1);
//! - **dur**: with connections in at least 6 distinct hours, `max(coverage, run)` where
//!   `coverage` = (last − first connection) / the day and `run` = the longest run of
//!   consecutive hours with connections (wrapping midnight) / 12;
//!
//! each clamped to [0, 1]; `score = w_ts·ts + w_ds·ds + w_dur·dur + w_hist·hist` (weights 0.25
//! each by default, `[flows.beacon]`, summing to 1). A score ≥ `threshold` (0.5) is a beacon:
//! low below 0.7, medium below 0.9, high from 0.9 — except a burst: a pair whose connections all
//! fall in one hour of the day is not flagged (decision: RITA's timing rule gives sub-second
//! gaps a perfect score, so a port scan or one DNS retry burst of equal packets would reach 0.5
//! on timing and size alone).
//!
//! **Long connections**: flows lasting at least 1 h (and their level: 1, 4, 8 or 12 h).
//! **Strobes**: pairs with at least [`STROBE`] connections in the day (not beacon-scored).

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::{DateTime, Timelike, Utc};
use serde::{Deserialize, Serialize};

use crate::store::flows::model::RawFlow;

/// Connections a pair needs to be scored.
pub const MIN_CONNECTIONS: usize = 4;
/// Connections a day that make a pair a strobe.
pub const STROBE: usize = 86_400;
/// Seconds in the day the histogram and coverage are taken over.
const DAY: f64 = 86_400.0;

/// `[flows.beacon]`: the subscores' weights and the beacon threshold.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BeaconSettings {
    /// Weight of the timing subscore.
    pub ts_weight: f64,
    /// Weight of the data-size subscore.
    pub ds_weight: f64,
    /// Weight of the duration subscore.
    pub dur_weight: f64,
    /// Weight of the histogram subscore.
    pub hist_weight: f64,
    /// Scores from this one on are beacons.
    pub threshold: f64,
}

impl Default for BeaconSettings {
    fn default() -> Self {
        BeaconSettings { ts_weight: 0.25, ds_weight: 0.25, dur_weight: 0.25, hist_weight: 0.25, threshold: 0.5 }
    }
}

impl BeaconSettings {
    /// Refuses weights that are negative or do not sum to 1, and a threshold outside (0, 1].
    pub fn check(&self) -> Result<(), String> {
        let weights = [self.ts_weight, self.ds_weight, self.dur_weight, self.hist_weight];
        if weights.iter().any(|w| *w < 0.0) || (weights.iter().sum::<f64>() - 1.0).abs() > 1e-6 {
            return Err(format!("[flows.beacon] weights must be ≥ 0 and sum to 1, not {weights:?}"));
        }
        if !(self.threshold > 0.0 && self.threshold <= 1.0) {
            return Err(format!("[flows.beacon] threshold {} must be in (0, 1]", self.threshold));
        }
        Ok(())
    }
}

/// One pair's beacon score and its parts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Beacon {
    /// Source.
    pub src: IpAddr,
    /// Destination.
    pub dst: IpAddr,
    /// Connections in the day.
    pub connections: usize,
    /// The weighted score.
    pub score: f64,
    /// Timing subscore.
    pub ts: f64,
    /// Data-size subscore.
    pub ds: f64,
    /// Duration subscore.
    pub dur: f64,
    /// Histogram subscore.
    pub hist: f64,
    /// `low`, `medium` or `high` for a beacon, `none` below the threshold.
    pub level: &'static str,
}

/// A flow that lasted at least an hour.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LongConnection {
    /// Source.
    pub src: IpAddr,
    /// Destination.
    pub dst: IpAddr,
    /// Destination port.
    pub dport: u16,
    /// Protocol.
    pub proto: String,
    /// When it started.
    pub start: DateTime<Utc>,
    /// Seconds.
    pub duration: f64,
    /// 1, 4, 8 or 12 (hours reached).
    pub hours: u32,
}

/// What the beacon analysis of a day found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BeaconReport {
    /// Scored pairs, highest score first.
    pub beacons: Vec<Beacon>,
    /// Flows of an hour or more, longest first.
    pub long_connections: Vec<LongConnection>,
    /// Pairs with at least [`STROBE`] connections: (source, destination, connections).
    pub strobes: Vec<(IpAddr, IpAddr, usize)>,
}

impl BeaconReport {
    /// The report with only the flagged pairs (level `low`, `medium` or `high`).
    pub fn flagged(mut self) -> BeaconReport {
        self.beacons.retain(|b| b.level != "none");
        self
    }
}

/// The value at quantile `q` of sorted `v` (linear interpolation).
fn quantile(v: &[f64], q: f64) -> f64 {
    let pos = q * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

/// `(skewScore + madScore) / 2` of sorted `v`; `small_median` is madScore when the median is
/// below 1.
fn regularity(v: &[f64], small_median: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let (q1, q2, q3) = (quantile(v, 0.25), quantile(v, 0.5), quantile(v, 0.75));
    let bowley = if q3 - q1 < 10.0 || q2 == q1 || q2 == q3 { 0.0 } else { (q1 + q3 - 2.0 * q2) / (q3 - q1) };
    let skew = 1.0 - bowley.abs();
    let mut deviations: Vec<f64> = v.iter().map(|x| (x - q2).abs()).collect();
    deviations.sort_by(f64::total_cmp);
    let mad = quantile(&deviations, 0.5);
    let mad_score = if q2 < 1.0 { small_median } else { (q2 - mad) / q2 };
    ((skew + mad_score) / 2.0).clamp(0.0, 1.0)
}

/// The histogram subscore of hourly bin counts.
fn histogram(bins: &[f64; 24]) -> f64 {
    let mean = bins.iter().sum::<f64>() / 24.0;
    let sd = (bins.iter().map(|b| (b - mean).powi(2)).sum::<f64>() / 24.0).sqrt();
    let cv = if mean > 0.0 { sd / mean } else { f64::INFINITY };
    let cv_score = if cv > 1.0 { 0.0 } else { 1.0 - cv };
    let bars: Vec<f64> = bins.iter().copied().filter(|b| *b > 0.0).collect();
    let bimodal = if bars.len() >= 11 {
        let width = (bars.iter().copied().fold(0.0, f64::max) * 0.05).max(1.0);
        let mut groups: BTreeMap<i64, usize> = BTreeMap::new();
        for b in &bars {
            *groups.entry((b / width).floor() as i64).or_default() += 1;
        }
        let mut sizes: Vec<usize> = groups.into_values().collect();
        sizes.sort_unstable_by(|a, b| b.cmp(a));
        let top: usize = sizes.iter().take(2).sum();
        (top as f64 / (bars.len() - 1) as f64).min(1.0)
    } else {
        0.0
    };
    cv_score.max(bimodal).clamp(0.0, 1.0)
}

/// The duration subscore of a pair's sorted connection times within a day starting at `day`.
fn duration(times: &[DateTime<Utc>]) -> f64 {
    let mut hours = [false; 24];
    for t in times {
        hours[t.hour() as usize] = true;
    }
    if hours.iter().filter(|h| **h).count() < 6 {
        return 0.0;
    }
    let (first, last) = (times[0], times[times.len() - 1]);
    let coverage = (last - first).num_milliseconds() as f64 / 1000.0 / DAY;
    // longest run of consecutive hours, wrapping midnight
    let (mut best, mut run) = (0, 0);
    for i in 0..48 {
        if hours[i % 24] {
            run += 1;
            best = best.max(run.min(24));
        } else {
            run = 0;
        }
    }
    coverage.max(f64::from(best) / 12.0).clamp(0.0, 1.0)
}

/// Scores one pair's connections (sorted by time).
fn score_pair(src: IpAddr, dst: IpAddr, flows: &[&RawFlow], s: &BeaconSettings) -> Beacon {
    let times: Vec<DateTime<Utc>> = flows.iter().map(|f| f.treceived).collect();
    let mut gaps: Vec<f64> = times.windows(2).map(|w| (w[1] - w[0]).num_milliseconds() as f64 / 1000.0).filter(|g| *g > 0.0).collect();
    gaps.sort_by(f64::total_cmp);
    let mut sizes: Vec<f64> = flows.iter().map(|f| f.ibyt as f64).filter(|b| *b > 0.0).collect();
    sizes.sort_by(f64::total_cmp);
    let mut bins = [0.0; 24];
    for t in &times {
        bins[t.hour() as usize] += 1.0;
    }
    let (ts, ds, dur, hist) = (regularity(&gaps, 1.0), regularity(&sizes, 0.0), duration(&times), histogram(&bins));
    let score = s.ts_weight * ts + s.ds_weight * ds + s.dur_weight * dur + s.hist_weight * hist;
    let spread = bins.iter().filter(|b| **b > 0.0).count() >= 2;
    let level = match score {
        _ if !spread => "none",
        x if x >= 0.9 && x >= s.threshold => "high",
        x if x >= 0.7 && x >= s.threshold => "medium",
        x if x >= s.threshold => "low",
        _ => "none",
    };
    Beacon { src, dst, connections: flows.len(), score, ts, ds, dur, hist, level }
}

/// Beacons, long connections and strobes among the flows of one day.
pub fn analyse(flows: &[RawFlow], settings: &BeaconSettings) -> BeaconReport {
    let mut pairs: BTreeMap<(IpAddr, IpAddr), Vec<&RawFlow>> = BTreeMap::new();
    for f in flows {
        pairs.entry((f.sip, f.dip)).or_default().push(f);
    }
    let mut beacons = Vec::new();
    let mut strobes = Vec::new();
    for ((src, dst), mut list) in pairs {
        if list.len() >= STROBE {
            strobes.push((src, dst, list.len()));
        } else if list.len() >= MIN_CONNECTIONS {
            list.sort_by_key(|f| f.treceived);
            beacons.push(score_pair(src, dst, &list, settings));
        }
    }
    beacons.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut long_connections: Vec<LongConnection> = flows
        .iter()
        .filter(|f| f.tdur >= 3600.0)
        .map(|f| LongConnection {
            src: f.sip,
            dst: f.dip,
            dport: f.dport,
            proto: f.proto.clone(),
            start: f.treceived,
            duration: f.tdur,
            hours: [12, 8, 4, 1].into_iter().find(|h| f.tdur >= f64::from(*h) * 3600.0).unwrap_or(1),
        })
        .collect();
    long_connections.sort_by(|a, b| b.duration.total_cmp(&a.duration));
    BeaconReport { beacons, long_connections, strobes }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_series_score_one_and_bowley_needs_a_wide_spread() {
        let even: Vec<f64> = vec![60.0; 50];
        assert_eq!(regularity(&even, 1.0), 1.0, "no spread: skew 1, MAD 0");
        // Q1 = 10, Q2 = 20, Q3 = 60: Bowley = (10 + 60 − 40) / 50 = 0.6 → skew 0.4; MAD = 10 → 0.5
        let skewed = [10.0, 10.0, 20.0, 60.0, 60.0];
        assert!((regularity(&skewed, 1.0) - 0.45).abs() < 1e-9, "{}", regularity(&skewed, 1.0));
        assert_eq!(regularity(&[0.5, 0.5, 0.5], 0.0), 0.5, "median below 1: madScore as given (0 for sizes)");
        let mut flat = [0.0; 24];
        flat.iter_mut().for_each(|b| *b = 60.0);
        assert_eq!(histogram(&flat), 1.0);
        let mut one = [0.0; 24];
        one[3] = 100.0;
        assert_eq!(histogram(&one), 0.0, "all in one hour: CV above 1, too few bars");
    }
}

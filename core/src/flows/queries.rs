//! The analyst's reads of a date's OA outputs and beacons, shared by the engine (CLI, TUI,
//! GUI) and the HTTP API: the suspicious connections nobody scored yet, the raw flows of a
//! pair in a minute, a threat's chord rows, the flows per minute, the beacon analysis.

use std::collections::HashSet;
use std::net::IpAddr;

use chrono::{Duration, NaiveDate, NaiveDateTime};

use super::beacon::{self, BeaconReport, BeaconSettings};
use super::oa::{FlowChord, FlowEdge, FlowScore, IngestMinute, TIME};
use crate::error::{Error, Result};
use crate::store::Store;

/// The UTC day of `date` as a time range.
pub fn day(date: NaiveDate) -> (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) {
    let from = date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    (from, from + Duration::days(1))
}

/// The suspicious connections of `date` by rank that no analyst has scored yet, optionally
/// only those from or to `ip`.
pub async fn suspicious(store: &dyn Store, date: NaiveDate, ip: Option<IpAddr>) -> Result<Vec<FlowScore>> {
    let day = date.to_string();
    let scored: HashSet<(String, String, String, i32, i32)> =
        store.feedback().await?.into_iter().filter(|f| f.date == day).map(|f| (f.tstart, f.srcip, f.dstip, f.sport, f.dport)).collect();
    let ip = ip.map(|ip| ip.to_string());
    let mut rows = store.oa_outputs(date).await?.scores;
    rows.retain(|s| {
        !scored.contains(&(s.tstart.clone(), s.srcip.clone(), s.dstip.clone(), s.sport, s.dport)) && ip.as_ref().is_none_or(|ip| &s.srcip == ip || &s.dstip == ip)
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

/// The chord rows of threat `ip` on `date`.
pub async fn chords(store: &dyn Store, date: NaiveDate, ip: IpAddr) -> Result<Vec<FlowChord>> {
    let ip = ip.to_string();
    let mut chords = store.oa_outputs(date).await?.chords;
    chords.retain(|c| c.ip_threat == ip);
    Ok(chords)
}

/// The flows per minute of `date` as its OA run stored them.
pub async fn ingest(store: &dyn Store, date: NaiveDate) -> Result<Vec<IngestMinute>> {
    Ok(store.oa_outputs(date).await?.ingest)
}

/// Beacons, long connections and strobes among the stored flows of `date`.
pub async fn beacons(store: &dyn Store, date: NaiveDate, settings: BeaconSettings) -> Result<BeaconReport> {
    let (from, to) = day(date);
    let flows = store.flows_between(from, to).await?;
    tokio::task::spawn_blocking(move || beacon::analyse(&flows, &settings)).await.map_err(|e| Error::InvalidArgument(format!("beacons: {e}")))
}

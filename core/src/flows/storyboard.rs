//! The storyboard of a threat address on a date (flows.md "Analyst workflow"): the analyst's
//! title and free text (stored as given: any characters, several lines), and what the day's
//! flows say about it — the impact summary (peers per direction and context), the incident
//! progression (peers by context, in order of first contact), map points (peers with a known
//! location) and the timeline (first and last flow of each connection, at most 1000).

use std::net::IpAddr;

use chrono::NaiveDate;
use serde::Serialize;

use super::enrich::Enricher;
use super::queries::{self, Connection};
use crate::error::Result;
use crate::store::Store;

/// Connections on the timeline at most.
pub const TIMELINE: usize = 1000;

/// Peers of one direction, by context.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Impact {
    /// Internal peers.
    pub internal: usize,
    /// External peers.
    pub external: usize,
}

/// A peer on the map.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MapPoint {
    /// The peer.
    pub ip: IpAddr,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// `state;city owner`.
    pub geoloc: String,
}

/// A peer in the order the threat first talked to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contact {
    /// The peer.
    pub ip: IpAddr,
    /// `internal` or `external`.
    pub context: &'static str,
    /// Its first flow with the threat, `YYYY-MM-DD HH:MM:SS`.
    pub first_seen: String,
}

/// Everything of a storyboard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Storyboard {
    /// The date.
    pub date: NaiveDate,
    /// The threat address.
    pub ip: IpAddr,
    /// The analyst's title (empty until saved).
    pub title: String,
    /// The analyst's text.
    pub text: String,
    /// Peers per direction and context.
    pub impact: std::collections::BTreeMap<&'static str, Impact>,
    /// Peers in the order of first contact, with their context.
    pub progression: Vec<Contact>,
    /// Peers with a known location.
    pub map: Vec<MapPoint>,
    /// The connections' first and last flows, by first seen.
    pub timeline: Vec<Connection>,
}

/// The storyboard of `ip` on `date`: the saved title and text, and the rest computed now.
pub async fn storyboard(store: &dyn Store, enricher: &Enricher, date: NaiveDate, ip: IpAddr) -> Result<Storyboard> {
    let threat = queries::threat(store, date, ip).await?;
    let context = |peer: IpAddr| if enricher.internal(peer) { "internal" } else { "external" };
    let mut impact = std::collections::BTreeMap::new();
    for (direction, peers) in [("inbound only", &threat.inbound_only), ("outbound only", &threat.outbound_only), ("two-way", &threat.two_way)] {
        let mut i = Impact::default();
        for p in peers {
            if enricher.internal(*p) { i.internal += 1 } else { i.external += 1 }
        }
        impact.insert(direction, i);
    }
    let mut progression: Vec<Contact> = Vec::new();
    for c in &threat.connections {
        let peer = if c.sip == ip { c.dip } else { c.sip };
        match progression.iter_mut().find(|p| p.ip == peer) {
            Some(p) if c.first_seen < p.first_seen => p.first_seen = c.first_seen.clone(),
            Some(_) => {}
            None => progression.push(Contact { ip: peer, context: context(peer), first_seen: c.first_seen.clone() }),
        }
    }
    progression.sort_by(|a, b| (&a.first_seen, a.ip).cmp(&(&b.first_seen, b.ip)));
    let map = progression
        .iter()
        .filter_map(|p| {
            let place = enricher.place(p.ip);
            Some(MapPoint { ip: p.ip, lat: place.lat?, lon: place.lon?, geoloc: place.geoloc })
        })
        .collect();
    let (title, text) = store.storyboard(date, ip).await?.unwrap_or_default();
    let mut timeline = threat.connections;
    timeline.truncate(TIMELINE);
    Ok(Storyboard { date, ip, title, text, impact, progression, map, timeline })
}

//! The storyboard of a threat address on a date (flows.md "Analyst workflow"): the analyst's
//! title and free text (stored as given: any characters, several lines), and what the day's
//! flows say about it — the impact summary (peers per direction: internal and external by the
//! `[flows]` ranges, and per network context class), the incident progression (peers in order
//! of first contact with their direction and network context, and Spot's grouping: per
//! direction, peers per context name), map points (peers with a known location) and the
//! timeline (first and last flow of each connection, at most 1000). Network context is Spot's
//! `networkcontext_1.csv` ([`super::context`]); safelisted peers are left out, as from the
//! threat investigation it is built on.

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::NaiveDate;
use serde::Serialize;

use super::context::{NO_CONTEXT, class};
use super::enrich::Enricher;
use super::queries::{self, Connection};
use super::safelist::Screen;
use crate::error::Result;
use crate::store::Store;

/// Connections on the timeline at most.
pub const TIMELINE: usize = 1000;

/// The directions of a threat's peers, as the impact summary and the progression name them.
pub const DIRECTIONS: [&str; 3] = ["inbound only", "outbound only", "two-way"];

/// Peers of one direction, by context.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Impact {
    /// Internal peers.
    pub internal: usize,
    /// External peers.
    pub external: usize,
    /// Peers per network context class (`VPN`, `DMZ`, `Proxy`, `FW`, `other`; `none`: no
    /// context entry).
    pub classes: BTreeMap<&'static str, usize>,
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
    /// `inbound only`, `outbound only` or `two-way`.
    pub direction: &'static str,
    /// Its network context name (`networkcontext_1.csv`), empty when it has none.
    pub network: String,
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
    pub impact: BTreeMap<&'static str, Impact>,
    /// Peers in the order of first contact, with their context.
    pub progression: Vec<Contact>,
    /// Spot's incident progression: per direction, peers per network context name (`none`: no
    /// context entry).
    pub progression_by_context: BTreeMap<&'static str, BTreeMap<String, usize>>,
    /// Peers with a known location.
    pub map: Vec<MapPoint>,
    /// The connections' first and last flows, by first seen.
    pub timeline: Vec<Connection>,
}

/// The storyboard of `ip` on `date`: the saved title and text, and the rest computed now
/// (peers `screen` hides left out).
pub async fn storyboard(store: &dyn Store, enricher: &Enricher, date: NaiveDate, ip: IpAddr, screen: &Screen) -> Result<Storyboard> {
    let threat = queries::threat(store, date, ip, screen).await?;
    let context = |peer: IpAddr| if enricher.internal(peer) { "internal" } else { "external" };
    let mut direction: BTreeMap<IpAddr, &'static str> = BTreeMap::new();
    let mut impact = BTreeMap::new();
    for (name, peers) in DIRECTIONS.into_iter().zip([&threat.inbound_only, &threat.outbound_only, &threat.two_way]) {
        let mut i = Impact::default();
        for p in peers {
            direction.insert(*p, name);
            if enricher.internal(*p) { i.internal += 1 } else { i.external += 1 }
            *i.classes.entry(enricher.context(*p).map_or(NO_CONTEXT, class)).or_default() += 1;
        }
        impact.insert(name, i);
    }
    let mut progression: Vec<Contact> = Vec::new();
    for c in &threat.connections {
        let peer = if c.sip == ip { c.dip } else { c.sip };
        match progression.iter_mut().find(|p| p.ip == peer) {
            Some(p) if c.first_seen < p.first_seen => p.first_seen = c.first_seen.clone(),
            Some(_) => {}
            None => progression.push(Contact {
                ip: peer,
                context: context(peer),
                direction: direction.get(&peer).copied().unwrap_or(DIRECTIONS[2]),
                network: enricher.context(peer).unwrap_or("").to_string(),
                first_seen: c.first_seen.clone(),
            }),
        }
    }
    progression.sort_by(|a, b| (&a.first_seen, a.ip).cmp(&(&b.first_seen, b.ip)));
    let mut progression_by_context: BTreeMap<&'static str, BTreeMap<String, usize>> = BTreeMap::new();
    for p in &progression {
        let name = if p.network.is_empty() { NO_CONTEXT.to_string() } else { p.network.clone() };
        *progression_by_context.entry(p.direction).or_default().entry(name).or_default() += 1;
    }
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
    Ok(Storyboard { date, ip, title, text, impact, progression, progression_by_context, map, timeline })
}

//! The IP dossier: everything Vantage knows about one address, a network or an autonomous
//! system, composed here — the one place that asks every capability — from each capability's
//! own part: [`crate::statistics::dossier`] (incidents), [`crate::events::dossier`],
//! [`crate::flows::dossier`], the greylist rule, the DynFW feed's membership and history,
//! the capture jobs whose query names it ([`crate::pcap::named`]) and GeoIP.
//!
//! A part the deployment does not have (no events or flows imported, no DynFW feed) is
//! [`Part::Absent`] with the reason; an address nothing knows gives a dossier of empty parts.
//! A network or an ASN is the dossier of its addresses seen by the statistics or the events in
//! the range (at most [`MAX_ADDRESSES`]; for an ASN, GeoIP decides the attackers' ASN).
//! [`report`] renders it (Markdown, HTML, CSV per section, one timeline chart); [`api`] is
//! `GET /api/ip/{target}`.

pub mod api;
pub mod report;
pub mod target;

use std::net::IpAddr;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use super::Engine;
use super::error::{Error, Result};
use crate::dynfw::feed::Change;
use crate::dynfw::service::Source as FeedSource;
use crate::events::dossier::{self as events, Events, Sources};
use crate::flows::dossier::{self as flows, Flows};
use crate::geo::GeoInfo;
use crate::pcap::named;
use crate::statistics::dossier::{self as statistics, Incidents};
use crate::statistics::greylist::Entry;
use crate::statistics::periods::Period;
pub use target::Target;

/// The most addresses a network's or an ASN's dossier covers.
pub const MAX_ADDRESSES: usize = 1024;

/// A part of a dossier: what the capability knows, or why it has nothing to say.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Part<T> {
    /// The capability's answer.
    Present(T),
    /// The deployment does not have it (the reason, for the analyst).
    Absent(String),
}

impl<T> Part<T> {
    /// The answer, if present.
    pub fn present(&self) -> Option<&T> {
        match self {
            Part::Present(t) => Some(t),
            Part::Absent(_) => None,
        }
    }
}

/// The time range of a dossier: `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Range {
    /// First instant.
    pub from: DateTime<Utc>,
    /// End (excluded).
    pub to: DateTime<Utc>,
}

impl Range {
    /// From the first day's midnight to the end of the last day (both UTC days included);
    /// a missing end is the display period 1y's window at `now` (what the year's resources
    /// count).
    pub fn days(from: Option<NaiveDate>, to: Option<NaiveDate>, now: DateTime<Utc>) -> Result<Range> {
        let year = Period::Year.window(now);
        let from = from.map_or(year.start, |d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
        let to = to.map_or(year.finish, |d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc() + Duration::days(1));
        if from >= to {
            return Err(Error::InvalidArgument(crate::Error::InvalidArgument(format!("--from {} is not before --to {}", from.date_naive(), (to - Duration::days(1)).date_naive()))));
        }
        Ok(Range { from, to })
    }

    /// The UTC days it touches (first, last).
    pub fn day_span(&self) -> (NaiveDate, NaiveDate) {
        (self.from.date_naive(), (self.to - Duration::nanoseconds(1)).date_naive())
    }
}

/// What GeoIP knows about one address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Located {
    /// The address.
    pub ip: IpAddr,
    /// Country, city, ASN.
    #[serde(flatten)]
    pub info: GeoInfo,
}

/// The DynFW feed's part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dynfw {
    /// The demo's replayed feed, not Sentinel's list.
    pub demo: bool,
    /// The addresses blocked now, with their countries.
    pub blocked: Vec<(IpAddr, String)>,
    /// Their adds and removes since the feed started, oldest first.
    pub history: Vec<Change>,
}

/// A capture job whose query named the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Capture {
    /// Job id.
    pub id: String,
    /// Its Stenographer query.
    pub query: String,
    /// Its state.
    pub state: String,
    /// When it was requested.
    pub time: DateTime<Utc>,
}

/// Everything known about a target over a range.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dossier {
    /// The target as text (`192.0.2.1`, `192.0.2.0/24`, `AS64500`).
    pub target: String,
    /// `address`, `network` or `asn`.
    pub kind: String,
    /// The range.
    pub range: Range,
    /// The addresses covered (the target itself, or those of a network or ASN seen in the
    /// range), at most [`MAX_ADDRESSES`].
    pub addresses: Vec<IpAddr>,
    /// Addresses seen beyond [`MAX_ADDRESSES`], left out.
    pub addresses_left_out: usize,
    /// GeoIP of the first addresses (at most 64).
    pub geo: Vec<Located>,
    /// Honeypot and firewall incidents.
    pub incidents: Part<Incidents>,
    /// Passwords and usernames tried (always absent: see [`crate::statistics::dossier`]).
    pub passwords: Part<()>,
    /// IntelMQ events.
    pub events: Part<Events>,
    /// Flows and the OA's view of them.
    pub flows: Part<Flows>,
    /// The greylist entries at the clock's time.
    pub greylist: Part<Vec<Entry>>,
    /// DynFW membership and history.
    pub dynfw: Part<Dynfw>,
    /// Capture jobs that included it.
    pub captures: Part<Vec<Capture>>,
}

impl Dossier {
    /// Whether no part knows anything.
    pub fn is_empty(&self) -> bool {
        self.incidents.present().is_none_or(|i| i.incidents == 0)
            && self.events.present().is_none_or(|e| e.events == 0)
            && self.flows.present().is_none_or(|f| f.flows == 0 && f.suspicious.is_empty() && f.scored.is_empty())
            && self.greylist.present().is_none_or(Vec::is_empty)
            && self.dynfw.present().is_none_or(|d| d.blocked.is_empty() && d.history.is_empty())
            && self.captures.present().is_none_or(Vec::is_empty)
    }
}

/// The dossier methods of an [`Engine`].
pub struct DossierApi<'a> {
    pub(super) engine: &'a Engine,
}

impl DossierApi<'_> {
    /// Parses a target (`Error::InvalidArgument` with the column when it is none).
    pub fn target(text: &str) -> Result<Target> {
        Target::parse(text).map_err(|e| Error::InvalidArgument(crate::Error::InvalidArgument(e)))
    }

    /// The dossier of `target` over `range`.
    pub async fn of(&self, target: Target, range: Range) -> Result<Dossier> {
        let engine = self.engine;
        let store = engine.deployment.stats.store.as_ref();
        let (first_day, last_day) = range.day_span();
        let (addresses, left_out) = self.addresses(target, range).await?;
        let holds = |ip: IpAddr| addresses.binary_search(&ip.to_canonical()).is_ok() || target.holds(ip);
        let geo = engine.geoip();
        let incidents = Part::Present(statistics::incidents(store, &addresses, range.from, range.to).await?);
        // whether a capability has data at all: one row looked at (a count of millions of flows
        // would cost more than the whole dossier)
        let events = match store.events_stored().await? {
            false => Part::Absent("no IntelMQ events are imported (vantage events import)".into()),
            true => {
                let sources = match target {
                    Target::Asn(n) => Sources::Asn(i64::from(n)),
                    _ => Sources::Addresses(addresses.clone()),
                };
                Part::Present(events::events(store, &sources, first_day, last_day).await?)
            }
        };
        let flows = match store.flows_stored().await? {
            false => Part::Absent("no flows are imported (vantage flows import)".into()),
            true => Part::Present(flows::flows(store, &addresses, range.from, range.to, &engine.deployment.flows.screen()?).await?),
        };
        let dynfw = match engine.dynfw().feed() {
            None => Part::Absent("no DynFW feed runs here (configure [dynfw]; the demo replays one)".into()),
            Some(feed) => {
                let blocked = match target {
                    Target::Address(ip) => feed.lookup(ip).map(|c| vec![(ip, c)]).unwrap_or_default(),
                    _ => feed.blocked_where(&holds),
                };
                Part::Present(Dynfw { demo: *feed.source() == FeedSource::Demo, blocked, history: feed.history(&holds) })
            }
        };
        let captures = Part::Present(self.captures(&target, &addresses)?);
        Ok(Dossier {
            target: target.to_string(),
            kind: target.kind().to_string(),
            range,
            geo: addresses.iter().take(64).map(|ip| Located { ip: *ip, info: geo.lookup(*ip) }).collect(),
            incidents,
            passwords: Part::Absent("Sentinel's password and port reports carry no attacker address".into()),
            events,
            flows,
            greylist: Part::Present(engine.statistics().greylist_of(&addresses).await?),
            dynfw,
            captures,
            addresses,
            addresses_left_out: left_out,
        })
    }

    /// The target's addresses (sorted) and how many were left out beyond [`MAX_ADDRESSES`].
    async fn addresses(&self, target: Target, range: Range) -> Result<(Vec<IpAddr>, usize)> {
        let store = self.engine.deployment.stats.store.as_ref();
        let (first_day, last_day) = range.day_span();
        let mut ips = match target {
            Target::Address(ip) => return Ok((vec![ip.to_canonical()], 0)),
            Target::Network(_) => {
                let wanted = |ip: IpAddr| target.holds(ip);
                let mut ips = statistics::addresses(store, range.from, range.to, &wanted).await?;
                ips.extend(events::addresses(store, None, first_day, last_day, &wanted).await?);
                ips
            }
            Target::Asn(n) => {
                let geo = self.engine.geoip();
                let in_asn = |ip: IpAddr| geo.lookup(ip).asn == Some(n);
                let mut ips = statistics::addresses(store, range.from, range.to, &in_asn).await?;
                ips.extend(events::addresses(store, Some(i64::from(n)), first_day, last_day, &|_| true).await?);
                ips
            }
        };
        ips.iter_mut().for_each(|ip| *ip = ip.to_canonical());
        ips.sort();
        ips.dedup();
        let left_out = ips.len().saturating_sub(MAX_ADDRESSES);
        ips.truncate(MAX_ADDRESSES);
        Ok((ips, left_out))
    }

    /// The capture jobs whose query names an address of the target.
    fn captures(&self, target: &Target, addresses: &[IpAddr]) -> Result<Vec<Capture>> {
        let wanted: Vec<ipnetwork::IpNetwork> = match target {
            Target::Network(n) => vec![*n],
            _ => addresses.iter().map(|ip| ipnetwork::IpNetwork::from(*ip)).collect(),
        };
        let mut jobs: Vec<Capture> = self
            .engine
            .pcap()
            .statuses()?
            .into_iter()
            .filter(|j| named::networks(&j.query).iter().any(|n| wanted.iter().any(|w| named::overlap(n, w))))
            .map(|j| Capture { id: j.id, query: j.query, state: serde_json::to_value(j.state).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(), time: j.time })
            .collect();
        jobs.sort_by_key(|j| std::cmp::Reverse(j.time));
        Ok(jobs)
    }
}

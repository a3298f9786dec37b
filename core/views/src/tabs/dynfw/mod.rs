//! The DynFW tab's own state (statistics.md "Greylist and DynFW"; sview's DynFW page): the
//! feed's latest status, pushed by the engine as the feed changes — its last deltas and events,
//! the blocked set's size over time, the counts per country, its health and link — and an
//! address searched (`i`) in the list and in the greylist.
//!
//! The front end starts the feed once ([`crate::app::App::start_feed`]: the configured
//! subscriber, or the demo's replay for `vantage demo` / `vantage-gui --demo`). A demo feed is
//! labelled [`DEMO_LABEL`] wherever it shows; without a feed the tab says [`NOT_CONFIGURED`].

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use vantage_core::dynfw::feed::{Phase, RecentKind};
use vantage_core::dynfw::service::{FeedStatus, Source as FeedSource};
use vantage_core::engine::channel::dynfw::{DynfwRequest, DynfwUpdate, Membership};
use vantage_core::engine::{Request, RequestKind, Update};
use vantage_core::export::{ChartData, Series};

use super::{Ctx, Reply, TabModel, Taken};
use crate::effect::Effect;
use crate::keys::{Action, Mode};
use crate::panels::{Panel, Source};
use crate::table::TableData;

/// What a demo feed is labelled with.
pub const DEMO_LABEL: &str = "DEMO FEED (replayed, not Sentinel's list)";

/// What the tab says when no feed runs.
pub const NOT_CONFIGURED: &str = "DynFW not configured: set [dynfw] endpoint and server_key";

/// The DynFW tab's model.
#[derive(Debug, Default)]
pub struct Dynfw {
    /// Start the demo's replayed feed rather than the configured one.
    pub demo: bool,
    /// The feed's latest status; `Some(None)`: the engine said no feed runs.
    pub status: Option<Option<Box<FeedStatus>>>,
    /// The address searched last.
    pub search: Option<IpAddr>,
    /// Answers to searches, by address.
    lookups: HashMap<IpAddr, Membership>,
    /// The feed was asked to start.
    started: bool,
    /// Starting it failed (the error is on the status line): `r` asks again.
    start_failed: bool,
}

/// The address's DynFW membership in words: `blocked (CZ)`, `not blocked`, `feed not running`.
pub fn dynfw_words(m: &Membership) -> String {
    let demo = if m.demo { " on the demo feed" } else { "" };
    match &m.dynfw {
        None => "feed not running".into(),
        Some(None) => format!("not blocked{demo}"),
        Some(Some(country)) if country.is_empty() => format!("blocked (country unknown){demo}"),
        Some(Some(country)) => format!("blocked ({country}){demo}"),
    }
}

/// The address's greylist membership in words: `listed (ftp, telnet; 12 incidents)`, `not listed`.
pub fn greylist_words(m: &Membership) -> String {
    match &m.greylist {
        None => "not listed".into(),
        Some(e) => {
            let tags = if e.tags.is_empty() { "no tags".to_string() } else { e.tags.join(", ") };
            format!("listed ({tags}; {} incidents, last {})", e.count, e.last_seen.format("%Y-%m-%d %H:%M"))
        }
    }
}

/// A phase in words.
fn phase(p: Phase) -> &'static str {
    match p {
        Phase::WaitingForList => "waiting for a list",
        Phase::Synced => "synced",
        Phase::Resyncing => "re-syncing",
    }
}

/// Seconds as `42 s`, `3 min`, `2 h`.
fn ago(secs: i64) -> String {
    match secs {
        ..=119 => format!("{} s", secs.max(0)),
        120..=7199 => format!("{} min", secs / 60),
        _ => format!("{} h", secs / 3600),
    }
}

/// A country code as shown (`??` when GeoIP does not know it).
fn country(code: &str) -> String {
    if code.is_empty() { "??".into() } else { code.to_string() }
}

impl Dynfw {
    /// The running feed's status, once the engine said (None: not yet, or no feed runs).
    pub fn feed(&self) -> Option<&FeedStatus> {
        self.status.as_ref()?.as_deref()
    }

    /// Whether the engine said that no feed runs.
    pub fn not_running(&self) -> bool {
        matches!(self.status, Some(None))
    }

    /// The request that starts the feed (the demo's with [`Dynfw::demo`]).
    pub fn start(&self) -> Request {
        Request::Dynfw(DynfwRequest::Start { demo: self.demo })
    }

    /// The answer to the last search, once it arrived.
    pub fn searched(&self) -> Option<&Membership> {
        self.lookups.get(&self.search?)
    }

    /// The label above everything else: the demo's, the source's, or why there is none.
    pub fn label(&self) -> String {
        if self.start_failed {
            return "DynFW feed could not start (the error is on the status line): r tries again".into();
        }
        match (&self.status, self.feed()) {
            (None, _) if self.started => "starting the DynFW feed...".into(),
            (None, _) => "DynFW feed: waiting for the engine...".into(),
            (_, None) => NOT_CONFIGURED.into(),
            (_, Some(s)) if s.demo => DEMO_LABEL.into(),
            (_, Some(s)) => match &s.source {
                FeedSource::Endpoint(endpoint) => format!("Sentinel DynFW from {endpoint}"),
                FeedSource::Demo => DEMO_LABEL.into(),
            },
        }
    }

    /// The health lines: phase, serial, size; counters; last list and link.
    pub fn health(&self) -> Vec<String> {
        let Some(s) = self.feed() else { return Vec::new() };
        let h = &s.health;
        let serial = s.serial.map_or("-".to_string(), |n| n.to_string());
        let last = s.since_last_list_secs.map_or("no list yet".to_string(), |secs| format!("{} ago", ago(secs)));
        let link = if s.demo {
            "replayed (no connection)".to_string()
        } else {
            let l = &s.link;
            format!("{} ({} connects, {} drops, {} failed handshakes)", if l.up { "up" } else { "DOWN" }, l.connects, l.disconnects, l.handshake_failures)
        };
        vec![
            format!("phase     {}  serial {serial}  blocked {}", phase(s.phase), s.size),
            format!("counts    {} lists  {} deltas  {} events  {} resyncs  {} gaps", h.lists, h.deltas, h.events, s.resyncs, h.gaps),
            format!("last list {last}  link {link}"),
        ]
    }

    /// The search line: how to search, or the answer for the address searched.
    fn search_lines(&self) -> Vec<String> {
        let Some(ip) = self.search else { return vec!["search    i: type an address (blocked? greylisted?)".into()] };
        match self.searched() {
            None => vec![format!("search    {ip}: looking up...")],
            Some(m) => vec![format!("search    {ip}  DynFW {}", dynfw_words(m)), format!("          greylist {}", greylist_words(m))],
        }
    }

    /// The recent deltas and events, newest first.
    pub fn recent(&self) -> Option<TableData> {
        let s = self.feed()?;
        let rows = s
            .recent
            .iter()
            .map(|r| {
                let change = match &r.kind {
                    RecentKind::Added => "added".to_string(),
                    RecentKind::Removed => "removed".to_string(),
                    RecentKind::Event(name) => name.clone(),
                };
                vec![r.at.format("%H:%M:%S").to_string(), change, r.ip.to_string(), country(&r.country), r.serial.map_or(String::new(), |n| n.to_string())]
            })
            .collect();
        Some(TableData::new(&["received", "change", "ip", "cc", "serial"], rows))
    }

    /// Blocked addresses per country, most first.
    pub fn countries(&self) -> Option<TableData> {
        let s = self.feed()?;
        Some(TableData::new(&["country", "count"], s.per_country.iter().map(|c| vec![country(&c.country), c.count.to_string()]).collect()))
    }

    /// The blocked set's size over time (one point per second the set changed).
    pub fn sizes(&self, title: &str) -> Option<ChartData> {
        let s = self.feed()?;
        let label = |t: i64| DateTime::<Utc>::from_timestamp(t, 0).map_or(String::new(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string());
        let (x_labels, values): (Vec<String>, Vec<f64>) = s.sizes.iter().map(|(t, n)| (label(*t), *n as f64)).unzip();
        let series = if values.is_empty() { Vec::new() } else { vec![Series { label: "blocked".into(), values }] };
        Some(ChartData { title: title.to_string(), x_axis: "UTC time".into(), y_axis: "blocked addresses".into(), x_labels, series })
    }
}

impl TabModel for Dynfw {
    fn requests(&self, _: &Ctx, source: &Source) -> Vec<Request> {
        match source {
            Source::DynfwFeed if self.start_failed => vec![self.start()],
            Source::DynfwFeed => {
                let mut out = vec![Request::Dynfw(DynfwRequest::Status)];
                out.extend(self.search.map(|ip| Request::Dynfw(DynfwRequest::Lookup { ip })));
                out
            }
            _ => Vec::new(),
        }
    }

    fn sent(&mut self, request: &Request) {
        if let Request::Dynfw(DynfwRequest::Start { .. }) = request {
            self.started = true;
            self.start_failed = false;
        }
    }

    fn take(&mut self, event: Update) -> Taken {
        match event {
            Update::Dynfw(DynfwUpdate::Started(status) | DynfwUpdate::Status(status)) => {
                self.start_failed = false;
                self.status = Some(status);
                Taken::Mine(Reply::default())
            }
            Update::Dynfw(DynfwUpdate::Lookup(m)) => {
                self.lookups.insert(m.ip, m);
                Taken::Mine(Reply::default())
            }
            // the attacker detail's membership is the Attackers model's
            other => Taken::NotMine(other),
        }
    }

    fn failed(&mut self, kind: RequestKind) {
        if kind == RequestKind::DynfwStart {
            self.start_failed = true;
        }
    }

    fn act(&mut self, _: &Ctx, action: &Action) -> Option<Reply> {
        match action {
            Action::FilterIp => Some(Reply::typing(Mode::DynfwIp, self.search.map(|ip| ip.to_string()).unwrap_or_default())),
            _ => None,
        }
    }

    fn submit(&mut self, _: &Ctx, _: Mode, input: String) -> Reply {
        match input.trim() {
            "" => {
                self.search = None;
                Reply::default()
            }
            text => match text.parse::<IpAddr>() {
                Ok(ip) => {
                    self.search = Some(ip);
                    self.lookups.remove(&ip);
                    Reply { notice: Some(format!("looking up {ip}")), ..Reply::effects(vec![Effect::Engine(Request::Dynfw(DynfwRequest::Lookup { ip }))]) }
                }
                Err(_) => Reply::error(format!("`{text}` is not an IP address (IPv4 or IPv6); empty clears the search")),
            },
        }
    }

    fn tick(&self, _: u64, _: Vec<Request>) -> Vec<Request> {
        // the engine pushes the status as the feed changes
        Vec::new()
    }

    fn table(&self, _: &Ctx, p: &Panel) -> Option<TableData> {
        match p.source {
            Source::DynfwRecent => self.recent().or_else(|| self.not_running().then(|| TableData::new(&["received", "change", "ip", "cc", "serial"], Vec::new()))),
            Source::DynfwCountries => self.countries().or_else(|| self.not_running().then(|| TableData::new(&["country", "count"], Vec::new()))),
            _ => None,
        }
    }

    fn text(&self, _: &Ctx, p: &Panel) -> Vec<String> {
        if p.source != Source::DynfwFeed {
            return Vec::new();
        }
        let mut lines = vec![self.label()];
        lines.extend(self.health());
        lines.extend(self.search_lines());
        lines
    }

    fn chart(&self, _: &Ctx, p: &Panel) -> Option<ChartData> {
        match p.source {
            Source::DynfwSizes => self.sizes(&p.title).or_else(|| {
                self.not_running().then(|| ChartData { title: p.title.clone(), x_axis: "UTC time".into(), y_axis: "blocked addresses".into(), x_labels: Vec::new(), series: Vec::new() })
            }),
            _ => None,
        }
    }
}

//! The blocked set a DynFW feed describes, kept current from its messages ([`Feed::apply`]).
//!
//! **Serial rules** (statistics.md, "DynFW facts"; docs/dynfw.md):
//! - deltas before the first list are ignored (counted);
//! - a list replaces the set and its serial, whatever it was (a re-sync ends there);
//! - a delta with the current serial + 1 applies; a delta with the current serial is a
//!   duplicate, a no-op;
//! - a delta further ahead waits (at most [`MAX_MISSING`] missing serials) for the ones before
//!   it, which then apply in order; more than [`MAX_MISSING`] missing, more than
//!   [`MAX_MISSING`] waiting, or a lower serial (the publisher restarted) start a **re-sync**:
//!   deltas are dropped until the next list, and the old set stays visible meanwhile.
//!
//! IPv4 and IPv6 are both kept. Every address carries its GeoIP country (looked up once, when
//! it is added), the counts per country are kept as the set changes, and the last
//! [`RECENT`] deltas and events and the set's size over time are kept for the live views.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::message::{Delta, FrameError, List, Message, Sign};

/// More missing serials than this (or this many deltas waiting) means a re-sync.
pub const MAX_MISSING: u64 = 10;

/// How many recent deltas and events are kept (sview's page shows 29).
pub const RECENT: usize = 29;

/// How many points of the set's size over time are kept.
pub const SIZE_POINTS: usize = 720;

/// An ISO country code in two bytes (`None`: GeoIP does not know the address).
pub type Country = Option<[u8; 2]>;

/// Looks up an address's country.
pub type CountryOf = Arc<dyn Fn(IpAddr) -> Country + Send + Sync>;

/// The text of a [`Country`] (empty when unknown).
pub fn country_text(country: Country) -> String {
    country.map(|c| String::from_utf8_lossy(&c).into_owned()).unwrap_or_default()
}

/// Where the feed stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// No list received yet: deltas are ignored.
    WaitingForList,
    /// Following deltas from a list.
    Synced,
    /// Lost the sequence: waiting for the next list (the old set stays visible).
    Resyncing,
}

/// Counters of the feed's health.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Health {
    /// Lists received.
    pub lists: u64,
    /// Deltas applied.
    pub deltas: u64,
    /// Events received.
    pub events: u64,
    /// Re-syncs started (gap, lower serial or too many waiting).
    pub resyncs: u64,
    /// Gaps seen in the serials (each, whether it closed or led to a re-sync).
    pub gaps: u64,
    /// Deltas with the current serial (no-ops).
    pub duplicates: u64,
    /// Deltas received before the first list (ignored).
    pub before_first_list: u64,
    /// Deltas dropped while re-syncing.
    pub dropped_while_resyncing: u64,
    /// Messages whose body or topic was malformed (skipped).
    pub malformed: u64,
    /// Messages with fewer than two frames (skipped).
    pub bad_frames: u64,
    /// Messages of unknown topics (skipped).
    pub unknown_topics: u64,
    /// When the last list arrived.
    pub last_list_at: Option<DateTime<Utc>>,
    /// When the last message of any kind arrived.
    pub last_message_at: Option<DateTime<Utc>>,
}

/// How many applied deltas [`Feed::history`] keeps (the oldest go first; about 4 MB).
pub const HISTORY: usize = 100_000;

/// One applied delta, kept for an address's add/remove history ([`Feed::history`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Change {
    /// When it was received.
    pub at: DateTime<Utc>,
    /// The address.
    pub ip: IpAddr,
    /// Added (true) or removed (false).
    pub added: bool,
    /// The delta's serial.
    pub serial: u64,
}

/// What a recent delta or event was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecentKind {
    /// The address was added to the set.
    Added,
    /// The address was removed from it.
    Removed,
    /// An event (its name).
    Event(String),
}

/// One recent delta or event, newest first in [`Feed::recent`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recent {
    /// When it was received.
    pub at: DateTime<Utc>,
    /// The address.
    pub ip: IpAddr,
    /// Its GeoIP country (empty: unknown).
    pub country: String,
    /// What happened.
    pub kind: RecentKind,
    /// The delta's serial (events have none).
    pub serial: Option<u64>,
}

/// What one message changed, for the live relays (WebSocket, dashboard).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// A list replaced the set (with the number of addresses).
    List {
        /// The list's serial.
        serial: u64,
        /// Addresses in it.
        size: usize,
    },
    /// Deltas applied, in order (one, or several when a gap closed).
    Deltas(Vec<Recent>),
    /// An event.
    Event(Recent),
    /// Nothing changed (ignored, duplicate, waiting, or the re-sync it started).
    Nothing,
}

/// A list with its addresses' countries looked up (the slow part of applying a big list).
pub struct PreparedList {
    serial: u64,
    blocked: HashMap<IpAddr, Country>,
}

impl PreparedList {
    /// Looks up the countries of `list`'s addresses (a repeated address counts once).
    pub fn new(list: List, country_of: &CountryOf) -> PreparedList {
        let mut blocked = HashMap::with_capacity(list.list.len());
        for ip in list.list {
            blocked.entry(ip).or_insert_with(|| country_of(ip));
        }
        PreparedList { serial: list.serial, blocked }
    }
}

/// The blocked set and the state of the sequence that keeps it (see the module's rules).
pub struct Feed {
    blocked: HashMap<IpAddr, Country>,
    per_country: BTreeMap<String, usize>,
    serial: Option<u64>,
    phase: Phase,
    waiting: BTreeMap<u64, Delta>,
    health: Health,
    recent: VecDeque<Recent>,
    history: VecDeque<Change>,
    sizes: VecDeque<(DateTime<Utc>, usize)>,
    country_of: CountryOf,
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feed").field("size", &self.blocked.len()).field("serial", &self.serial).field("phase", &self.phase).finish_non_exhaustive()
    }
}

impl Feed {
    /// An empty feed waiting for its first list; countries from `country_of`.
    pub fn new(country_of: CountryOf) -> Feed {
        Feed {
            blocked: HashMap::new(),
            per_country: BTreeMap::new(),
            serial: None,
            phase: Phase::WaitingForList,
            waiting: BTreeMap::new(),
            health: Health::default(),
            recent: VecDeque::with_capacity(RECENT),
            history: VecDeque::new(),
            sizes: VecDeque::new(),
            country_of,
        }
    }

    /// A feed starting from a stored set at `serial` (a restart): deltas that follow `serial`
    /// apply at once, anything else re-syncs by the rules.
    pub fn restored(country_of: CountryOf, serial: u64, list: Vec<IpAddr>, now: DateTime<Utc>) -> Feed {
        let prepared = PreparedList::new(List { serial, list, ts: None, version: None }, &country_of);
        let mut feed = Feed::new(country_of);
        feed.replace(prepared, now);
        feed
    }

    /// Applies one decoded message received at `now`.
    pub fn apply(&mut self, message: Message, now: DateTime<Utc>) -> Applied {
        self.health.last_message_at = Some(now);
        match message {
            Message::List(list) => {
                let prepared = PreparedList::new(list, &self.country_of);
                self.apply_list(prepared, now)
            }
            Message::Delta(delta) => self.delta(delta, now),
            Message::Event(event) => {
                self.health.events += 1;
                let item = self.remember(now, event.ip, RecentKind::Event(event.event), None);
                Applied::Event(item)
            }
        }
    }

    /// Counts a message that could not be decoded.
    pub fn skipped(&mut self, error: &FrameError, now: DateTime<Utc>) {
        self.health.last_message_at = Some(now);
        match error {
            FrameError::FrameCount(_) => self.health.bad_frames += 1,
            FrameError::UnknownTopic(_) => self.health.unknown_topics += 1,
            FrameError::Malformed { .. } => self.health.malformed += 1,
        }
    }

    /// Applies a list whose countries were looked up beforehand ([`PreparedList::new`], which
    /// can run without holding the feed).
    pub fn apply_list(&mut self, list: PreparedList, now: DateTime<Utc>) -> Applied {
        self.health.last_message_at = Some(now);
        self.health.lists += 1;
        self.health.last_list_at = Some(now);
        let serial = list.serial;
        let size = self.replace(list, now);
        Applied::List { serial, size }
    }

    /// The function countries are looked up with.
    pub fn country_of(&self) -> CountryOf {
        self.country_of.clone()
    }

    fn replace(&mut self, list: PreparedList, now: DateTime<Utc>) -> usize {
        let serial = list.serial;
        self.blocked = list.blocked;
        self.per_country.clear();
        for country in self.blocked.values() {
            *self.per_country.entry(country_text(*country)).or_default() += 1;
        }
        self.serial = Some(serial);
        self.phase = Phase::Synced;
        // deltas that were waiting for serials this list covers are stale; later ones follow
        let waiting = std::mem::take(&mut self.waiting);
        self.waiting = waiting.into_iter().filter(|(s, _)| *s > serial).collect();
        self.drain_waiting(now);
        self.sample_size(now);
        self.blocked.len()
    }

    fn delta(&mut self, delta: Delta, now: DateTime<Utc>) -> Applied {
        let current = match (self.phase, self.serial) {
            (Phase::Synced, Some(current)) => current,
            (Phase::Resyncing, _) => {
                self.health.dropped_while_resyncing += 1;
                return Applied::Nothing;
            }
            _ => {
                self.health.before_first_list += 1;
                return Applied::Nothing;
            }
        };
        if delta.serial == current || self.waiting.contains_key(&delta.serial) {
            self.health.duplicates += 1;
            return Applied::Nothing;
        }
        if delta.serial < current || delta.serial - current - 1 > MAX_MISSING {
            if delta.serial > current {
                self.health.gaps += 1;
            }
            self.resync();
            return Applied::Nothing;
        }
        if delta.serial > current + 1 {
            if self.waiting.is_empty() {
                self.health.gaps += 1;
            }
            self.waiting.insert(delta.serial, delta);
            if self.waiting.len() as u64 > MAX_MISSING {
                self.resync();
            }
            return Applied::Nothing;
        }
        let mut applied = vec![self.change(delta, now)];
        applied.extend(self.drain_waiting(now));
        self.sample_size(now);
        Applied::Deltas(applied)
    }

    /// Applies the waiting deltas that now follow the current serial.
    fn drain_waiting(&mut self, now: DateTime<Utc>) -> Vec<Recent> {
        let mut applied = Vec::new();
        while let Some(next) = self.serial.and_then(|s| self.waiting.remove(&(s + 1))) {
            applied.push(self.change(next, now));
        }
        applied
    }

    fn change(&mut self, delta: Delta, now: DateTime<Utc>) -> Recent {
        self.serial = Some(delta.serial);
        self.health.deltas += 1;
        let kind = match delta.delta {
            Sign::Positive => {
                if !self.blocked.contains_key(&delta.ip) {
                    let country = (self.country_of)(delta.ip);
                    self.blocked.insert(delta.ip, country);
                    *self.per_country.entry(country_text(country)).or_default() += 1;
                }
                RecentKind::Added
            }
            Sign::Negative => {
                if let Some(country) = self.blocked.remove(&delta.ip) {
                    let key = country_text(country);
                    if let Some(count) = self.per_country.get_mut(&key) {
                        *count -= 1;
                        if *count == 0 {
                            self.per_country.remove(&key);
                        }
                    }
                }
                RecentKind::Removed
            }
        };
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(Change { at: now, ip: delta.ip, added: kind == RecentKind::Added, serial: delta.serial });
        self.remember(now, delta.ip, kind, Some(delta.serial))
    }

    fn resync(&mut self) {
        self.phase = Phase::Resyncing;
        self.health.resyncs += 1;
        self.waiting.clear();
    }

    fn remember(&mut self, at: DateTime<Utc>, ip: IpAddr, kind: RecentKind, serial: Option<u64>) -> Recent {
        let country = match self.blocked.get(&ip) {
            Some(country) => country_text(*country),
            None => country_text((self.country_of)(ip)),
        };
        let item = Recent { at, ip, country, kind, serial };
        if self.recent.len() == RECENT {
            self.recent.pop_back();
        }
        self.recent.push_front(item.clone());
        item
    }

    /// Keeps one size point per second (the last one of it).
    fn sample_size(&mut self, now: DateTime<Utc>) {
        let size = self.blocked.len();
        match self.sizes.back_mut() {
            Some((at, last)) if at.timestamp() == now.timestamp() => *last = size,
            _ => {
                if self.sizes.len() == SIZE_POINTS {
                    self.sizes.pop_front();
                }
                self.sizes.push_back((now, size));
            }
        }
    }

    /// The applied deltas (of the last [`HISTORY`]) whose address `wanted` accepts, oldest first:
    /// an address's add/remove history since the feed (or its restart) began.
    pub fn history(&self, wanted: &dyn Fn(IpAddr) -> bool) -> Vec<Change> {
        self.history.iter().filter(|c| wanted(c.ip)).copied().collect()
    }

    /// The current serial (`None` before the first list).
    pub fn serial(&self) -> Option<u64> {
        self.serial
    }

    /// Where the sequence stands.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The health counters.
    pub fn health(&self) -> &Health {
        &self.health
    }

    /// How many addresses are blocked.
    pub fn len(&self) -> usize {
        self.blocked.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.blocked.is_empty()
    }

    /// Whether `ip` is blocked, and its country when it is.
    pub fn lookup(&self, ip: IpAddr) -> Option<String> {
        self.blocked.get(&ip).map(|c| country_text(*c))
    }

    /// The blocked addresses with their countries, sorted by address.
    pub fn blocked(&self) -> Vec<(IpAddr, String)> {
        let mut list: Vec<_> = self.blocked.iter().map(|(ip, c)| (*ip, country_text(*c))).collect();
        list.sort_unstable();
        list
    }

    /// The blocked addresses `wanted` accepts with their countries, sorted.
    pub fn blocked_where(&self, wanted: &dyn Fn(IpAddr) -> bool) -> Vec<(IpAddr, String)> {
        let mut list: Vec<_> = self.blocked.iter().filter(|(ip, _)| wanted(**ip)).map(|(ip, c)| (*ip, country_text(*c))).collect();
        list.sort_unstable();
        list
    }

    /// The blocked addresses, sorted.
    pub fn addresses(&self) -> Vec<IpAddr> {
        let mut list: Vec<_> = self.blocked.keys().copied().collect();
        list.sort_unstable();
        list
    }

    /// Blocked addresses per country, most first (ties by code; empty code: unknown).
    pub fn per_country(&self) -> Vec<(String, usize)> {
        let mut counts: Vec<_> = self.per_country.iter().map(|(c, n)| (c.clone(), *n)).collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        counts
    }

    /// The last [`RECENT`] deltas and events, newest first.
    pub fn recent(&self) -> impl Iterator<Item = &Recent> {
        self.recent.iter()
    }

    /// The set's size over time (oldest first).
    pub fn sizes(&self) -> impl Iterator<Item = &(DateTime<Utc>, usize)> {
        self.sizes.iter()
    }
}

#[cfg(test)]
#[path = "feed_tests.rs"]
mod tests;

//! A running feed shared by every front end: frames in ([`FeedHandle::receive`], from the
//! subscriber or the demo replay), the set, a status summary and a live relay out, and the last
//! state persisted ([`super::persist`]) so that a restart starts from it.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::{broadcast, watch};

use super::feed::{Applied, CountryOf, Feed, Health, Phase, PreparedList, Recent};
use super::message::{self, Message};
use super::persist::{self, Saved};
use crate::error::Result;

/// Where a feed's messages come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The replayed demo feed (`vantage demo`): not a real Sentinel list.
    Demo,
    /// A ZeroMQ endpoint.
    Endpoint(String),
}

/// The connection as the socket's monitor reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Link {
    /// Whether a CURVE handshake succeeded on the current connection.
    pub up: bool,
    /// TCP connections made.
    pub connects: u64,
    /// Connections lost (the socket reconnects by itself, with backoff).
    pub disconnects: u64,
    /// CURVE handshakes completed.
    pub handshakes: u64,
    /// CURVE handshakes that failed with a reason.
    pub handshake_failures: u64,
}

/// What the socket's monitor saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkEvent {
    /// TCP connected.
    Connected,
    /// The CURVE handshake succeeded.
    HandshakeSucceeded,
    /// The CURVE handshake failed.
    HandshakeFailed,
    /// The connection was lost.
    Disconnected,
}

/// A country and how many blocked addresses it has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CountryCount {
    /// ISO code (empty: unknown).
    pub country: String,
    /// Blocked addresses.
    pub count: usize,
}

/// The feed at a glance (`vantage dynfw status`, the live views): everything but the set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedStatus {
    /// Where the messages come from.
    pub source: Source,
    /// Whether this is the demo's replayed feed.
    pub demo: bool,
    /// Where the serial sequence stands.
    pub phase: Phase,
    /// The current serial (none before the first list).
    pub serial: Option<u64>,
    /// Blocked addresses.
    pub size: usize,
    /// Re-syncs so far (also in `health`).
    pub resyncs: u64,
    /// The feed's counters.
    pub health: Health,
    /// The connection.
    pub link: Link,
    /// When the set was restored from the state file (a restart), if it was.
    pub restored_at: Option<DateTime<Utc>>,
    /// Seconds since the last list (none before one).
    pub since_last_list_secs: Option<i64>,
    /// Blocked addresses per country, most first.
    pub per_country: Vec<CountryCount>,
    /// The last deltas and events, newest first.
    pub recent: Vec<Recent>,
    /// The set's size over time: (Unix seconds, size), oldest first.
    pub sizes: Vec<(i64, usize)>,
}

struct Shared {
    feed: Mutex<Feed>,
    link: Mutex<Link>,
    source: Source,
    dir: Option<PathBuf>,
    restored_at: Option<DateTime<Utc>>,
    relay: broadcast::Sender<Applied>,
    changes: watch::Sender<u64>,
    dirty: AtomicBool,
    stopped: AtomicBool,
}

/// A shared, running feed (cheap to clone).
#[derive(Clone)]
pub struct FeedHandle(Arc<Shared>);

impl std::fmt::Debug for FeedHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedHandle").field("source", &self.0.source).finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl FeedHandle {
    /// A feed from `source`, starting from the state saved in `dir` when there is one (a
    /// damaged state file is logged and ignored: the next list rebuilds the set).
    pub fn new(source: Source, country_of: CountryOf, dir: Option<PathBuf>, now: DateTime<Utc>) -> FeedHandle {
        let saved = dir.as_deref().and_then(|d| persist::load(d).unwrap_or_else(|e| {
            tracing::warn!("dynfw: ignoring the saved state: {e}");
            None
        }));
        let (feed, restored_at) = match saved {
            Some(Saved { serial, saved_at, list }) => (Feed::restored(country_of, serial, list, now), Some(saved_at)),
            None => (Feed::new(country_of), None),
        };
        let (relay, _) = broadcast::channel(1024);
        FeedHandle(Arc::new(Shared {
            feed: Mutex::new(feed),
            link: Mutex::new(Link::default()),
            source,
            dir,
            restored_at,
            relay,
            changes: watch::channel(0).0,
            dirty: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
        }))
    }

    /// Decodes and applies one received message (bad ones are counted and skipped), tells
    /// the relay's listeners and saves the state after a list.
    pub fn receive(&self, frames: &[impl AsRef<[u8]>], now: DateTime<Utc>) -> Applied {
        let applied = match message::decode(frames) {
            // a big list's country lookups run without holding the feed the views read
            Ok(Message::List(list)) => {
                let country_of = lock(&self.0.feed).country_of();
                let prepared = PreparedList::new(list, &country_of);
                lock(&self.0.feed).apply_list(prepared, now)
            }
            Ok(message) => lock(&self.0.feed).apply(message, now),
            Err(error) => {
                tracing::debug!("dynfw: skipped a message: {error}");
                lock(&self.0.feed).skipped(&error, now);
                Applied::Nothing
            }
        };
        if applied != Applied::Nothing {
            self.0.dirty.store(true, Ordering::Relaxed);
            let _ = self.0.relay.send(applied.clone());
        }
        self.0.changes.send_modify(|n| *n += 1);
        if matches!(applied, Applied::List { .. })
            && let Err(e) = self.save(now)
        {
            tracing::warn!("dynfw: could not save the state: {e}");
        }
        applied
    }

    /// Records what the socket's monitor saw.
    pub fn link_event(&self, event: LinkEvent) {
        {
            let mut link = lock(&self.0.link);
            match event {
                LinkEvent::Connected => link.connects += 1,
                LinkEvent::HandshakeSucceeded => {
                    link.handshakes += 1;
                    link.up = true;
                }
                LinkEvent::HandshakeFailed => {
                    link.handshake_failures += 1;
                    link.up = false;
                }
                LinkEvent::Disconnected => {
                    link.disconnects += 1;
                    link.up = false;
                }
            }
        }
        self.0.changes.send_modify(|n| *n += 1);
    }

    /// Writes the state file when the set changed since the last save (no directory: nothing).
    pub fn save(&self, now: DateTime<Utc>) -> Result<()> {
        let Some(dir) = &self.0.dir else { return Ok(()) };
        if !self.0.dirty.swap(false, Ordering::Relaxed) {
            return Ok(());
        }
        let saved = {
            let feed = lock(&self.0.feed);
            let Some(serial) = feed.serial() else { return Ok(()) };
            Saved { serial, saved_at: now, list: feed.addresses() }
        };
        persist::save(dir, &saved)
    }

    /// The status summary at `now`.
    pub fn status(&self, now: DateTime<Utc>) -> FeedStatus {
        let feed = lock(&self.0.feed);
        let health = feed.health().clone();
        FeedStatus {
            demo: self.0.source == Source::Demo,
            source: self.0.source.clone(),
            phase: feed.phase(),
            serial: feed.serial(),
            size: feed.len(),
            resyncs: health.resyncs,
            since_last_list_secs: health.last_list_at.map(|t| (now - t).num_seconds()),
            health,
            link: lock(&self.0.link).clone(),
            restored_at: self.0.restored_at,
            per_country: feed.per_country().into_iter().map(|(country, count)| CountryCount { country, count }).collect(),
            recent: feed.recent().cloned().collect(),
            sizes: feed.sizes().map(|(t, n)| (t.timestamp(), *n)).collect(),
        }
    }

    /// The serial and the blocked addresses with their countries, sorted.
    pub fn blocked(&self) -> (Option<u64>, Vec<(IpAddr, String)>) {
        let feed = lock(&self.0.feed);
        (feed.serial(), feed.blocked())
    }

    /// Whether `ip` is blocked (with its country).
    pub fn lookup(&self, ip: IpAddr) -> Option<String> {
        lock(&self.0.feed).lookup(ip)
    }

    /// The add/remove history of the addresses `wanted` accepts ([`Feed::history`]).
    pub fn history(&self, wanted: &dyn Fn(IpAddr) -> bool) -> Vec<super::feed::Change> {
        lock(&self.0.feed).history(wanted)
    }

    /// Whether any of the blocked addresses `wanted` accepts, with their countries (a network's
    /// dossier; one address asks [`FeedHandle::lookup`]).
    pub fn blocked_where(&self, wanted: &dyn Fn(IpAddr) -> bool) -> Vec<(IpAddr, String)> {
        lock(&self.0.feed).blocked_where(wanted)
    }

    /// Where the messages come from.
    pub fn source(&self) -> &Source {
        &self.0.source
    }

    /// Every change applied from now on (lists, deltas, events), for live relays.
    pub fn relay(&self) -> broadcast::Receiver<Applied> {
        self.0.relay.subscribe()
    }

    /// Ticks on every received message or link event (the dashboards redraw on it).
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.0.changes.subscribe()
    }

    /// Asks the subscriber or replay feeding this handle to stop.
    pub fn stop(&self) {
        self.0.stopped.store(true, Ordering::Relaxed);
        self.0.changes.send_modify(|n| *n += 1);
    }

    /// Whether [`FeedHandle::stop`] was called.
    pub fn is_stopped(&self) -> bool {
        self.0.stopped.load(Ordering::Relaxed)
    }

    /// Waits until the feed holds a list received in this run (not only a restored one), or
    /// `timeout` passes; true when it does.
    pub async fn wait_for_list(&self, timeout: Duration) -> bool {
        let mut changes = self.changes();
        let has_list = |h: &FeedHandle| lock(&h.0.feed).health().lists > 0;
        tokio::time::timeout(timeout, async {
            while !has_list(self) {
                if changes.changed().await.is_err() {
                    return false;
                }
            }
            true
        })
        .await
        .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynfw::message::{Delta, List, Sign, encode};

    fn no_country() -> CountryOf {
        Arc::new(|_| None)
    }

    #[tokio::test]
    async fn a_restart_starts_from_the_saved_set_and_continues_its_serials() {
        let dir = tempfile::tempdir().expect("tempdir");
        let now = Utc::now();
        let ip = |s: &str| -> IpAddr { s.parse().expect("ip") };
        let feed = FeedHandle::new(Source::Endpoint("tcp://x:1".into()), no_country(), Some(dir.path().into()), now);
        let mut relay = feed.relay();
        feed.receive(&encode(&Message::List(List { serial: 4, list: vec![ip("192.0.2.1")], ts: None, version: None })), now);
        assert!(feed.wait_for_list(Duration::from_secs(1)).await);
        feed.receive(&encode(&Message::Delta(Delta { serial: 5, delta: Sign::Positive, ip: ip("192.0.2.2"), ts: None })), now);
        assert_eq!(relay.recv().await.expect("relayed"), Applied::List { serial: 4, size: 1 });
        assert!(matches!(relay.recv().await.expect("relayed"), Applied::Deltas(d) if d.len() == 1));
        feed.save(now).expect("save");
        feed.receive(&[b"dynfw/delta".to_vec()], now);
        drop(feed);

        let again = FeedHandle::new(Source::Endpoint("tcp://x:1".into()), no_country(), Some(dir.path().into()), now);
        let status = again.status(now);
        assert_eq!((status.serial, status.size, status.phase, status.restored_at.is_some()), (Some(5), 2, Phase::Synced, true));
        again.receive(&encode(&Message::Delta(Delta { serial: 6, delta: Sign::Negative, ip: ip("192.0.2.1"), ts: None })), now);
        assert_eq!(again.blocked(), (Some(6), vec![(ip("192.0.2.2"), String::new())]));
        assert!(!again.wait_for_list(Duration::from_millis(10)).await, "a restored set is not a list of this run");
    }
}

//! The demo's replayed feed (`vantage demo`): a deterministic list of addresses, then a
//! delta or event every [`INTERVAL`], decoded by the same path as a real feed's frames.
//! Front ends label a [`super::service::Source::Demo`] feed as demo: it is not Sentinel's list.

use std::net::IpAddr;
use std::time::Duration;

use rand::{RngExt as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;

use super::message::{Delta, Event, List, Message, Sign, encode};
use super::service::FeedHandle;
use crate::clock::Clock;

/// Time between two replayed messages.
pub const INTERVAL: Duration = Duration::from_millis(400);

/// Events the replay picks from (Sentinel's names).
pub const EVENTS: &[&str] = &["haas_logged", "telnet_login", "http_invalid", "fwlogs_big_port_scan", "smtp_login", "ftp_login"];

/// An endless, deterministic feed over `pool`: first a list of its first half, then deltas that
/// add addresses of the pool not listed and remove listed ones, and events about any of them.
pub struct Replay {
    pool: Vec<IpAddr>,
    listed: Vec<bool>,
    serial: u64,
    rng: ChaCha8Rng,
    started: bool,
}

impl Replay {
    /// A replay over `pool` (at least one address) from `seed`.
    pub fn new(pool: Vec<IpAddr>, seed: u64) -> Replay {
        let listed = (0..pool.len()).map(|i| i < pool.len().div_ceil(2)).collect();
        Replay { pool, listed, serial: 1000, rng: ChaCha8Rng::seed_from_u64(seed), started: false }
    }
}

impl Iterator for Replay {
    type Item = Message;

    fn next(&mut self) -> Option<Message> {
        if self.pool.is_empty() {
            return None;
        }
        if !self.started {
            self.started = true;
            let list = self.pool.iter().zip(&self.listed).filter(|(_, l)| **l).map(|(ip, _)| *ip).collect();
            return Some(Message::List(List { serial: self.serial, list, ts: None, version: Some(1) }));
        }
        let i = self.rng.random_range(0..self.pool.len());
        let ip = self.pool[i];
        if self.rng.random_range(0..3) == 0 {
            let event = EVENTS[self.rng.random_range(0..EVENTS.len())].to_string();
            return Some(Message::Event(Event { event, ip, ts: None }));
        }
        self.serial += 1;
        self.listed[i] = !self.listed[i];
        let delta = if self.listed[i] { Sign::Positive } else { Sign::Negative };
        Some(Message::Delta(Delta { serial: self.serial, delta, ip, ts: None }))
    }
}

/// Replays `pool` into `handle` every [`INTERVAL`] until the handle is stopped.
pub async fn run(handle: FeedHandle, pool: Vec<IpAddr>, clock: Clock) {
    let mut ticks = tokio::time::interval(INTERVAL);
    for message in Replay::new(pool, 7) {
        if handle.is_stopped() {
            break;
        }
        handle.receive(&encode(&message), clock.now());
        ticks.tick().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_replay_is_a_valid_sequence_the_feed_follows() {
        let pool: Vec<IpAddr> = (1..=20u8).map(|n| IpAddr::from([198, 51, 100, n])).collect();
        let mut feed = crate::dynfw::feed::Feed::new(std::sync::Arc::new(|_| None));
        let mut expected: std::collections::BTreeSet<IpAddr> = pool[..10].iter().copied().collect();
        for message in Replay::new(pool, 1).take(500) {
            if let Message::Delta(d) = &message {
                if d.delta == Sign::Positive { expected.insert(d.ip) } else { expected.remove(&d.ip) };
            }
            feed.apply(message, chrono::Utc::now());
        }
        assert_eq!(feed.addresses(), expected.into_iter().collect::<Vec<_>>());
        assert_eq!((feed.health().resyncs, feed.health().duplicates), (0, 0));
        assert!(feed.health().events > 100 && feed.health().deltas > 250, "{:?}", feed.health());
    }
}

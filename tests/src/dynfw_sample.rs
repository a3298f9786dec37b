//! A demo-like DynFW feed with pinned times, for the dashboards' tests: a
//! [`Source::Demo`](vantage_core::dynfw::service::Source::Demo) feed fed the demo's own
//! deterministic replay ([`Replay`]) through [`FeedHandle::receive`], one message every
//! [`STEP`] from a given instant, so that its status (recent changes, sizes, countries) and
//! the screens drawn from it are the same on every run.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use vantage_core::dynfw::demo::Replay;
use vantage_core::dynfw::feed::CountryOf;
use vantage_core::dynfw::message::encode;
use vantage_core::dynfw::service::{FeedHandle, Source};

/// Time between two messages of the sample feed.
pub const STEP: Duration = Duration::seconds(20);

/// A demo feed over `pool`: the replay's list at `start`, then `messages` more of its deltas
/// and events, one every [`STEP`]. Returns the feed and the time of its last message.
pub fn demo_feed(pool: Vec<IpAddr>, country_of: CountryOf, start: DateTime<Utc>, messages: usize) -> (FeedHandle, DateTime<Utc>) {
    let feed = FeedHandle::new(Source::Demo, country_of, None, start);
    let mut at = start;
    for (i, message) in Replay::new(pool, 7).take(messages + 1).enumerate() {
        at = start + STEP * i as i32;
        feed.receive(&encode(&message), at);
    }
    (feed, at)
}

/// Twenty documentation addresses (198.51.100.1 …), the sample feed's pool.
pub fn pool() -> Vec<IpAddr> {
    (1..=20u8).map(|n| IpAddr::from([198, 51, 100, n])).collect()
}

/// Countries by the address's last byte: CZ, CN, US, DE, and unknown for every fifth.
pub fn countries() -> CountryOf {
    Arc::new(|ip| {
        let last = match ip {
            IpAddr::V4(v4) => v4.octets()[3],
            IpAddr::V6(v6) => v6.octets()[15],
        };
        [Some(*b"CZ"), Some(*b"CN"), Some(*b"US"), Some(*b"DE"), None][usize::from(last % 5)]
    })
}

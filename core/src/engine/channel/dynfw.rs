//! The DynFW requests a dashboard sends through the [`Channel`](super::Channel)
//! ([`DynfwRequest`], inside [`Request::Dynfw`](crate::engine::Request::Dynfw)) and their
//! answers ([`DynfwUpdate`], inside [`Update::Dynfw`](super::Update::Dynfw)): starting the feed
//! (the configured subscriber, or the demo's replay), its status, and whether an address is
//! blocked by it and on the greylist. Each is answered by the engine's
//! [`DynfwApi`](crate::engine::dynfw::DynfwApi) and the statistics' greylist ([`answer`]).
//!
//! **Live.** Once started, the feed's status is pushed again whenever the feed changes
//! ([`follow`]: on the feed's change notification, at most one every [`FOLLOW_EVERY`]), for as
//! long as the dashboard runs, so a dashboard never polls it.

use std::net::IpAddr;
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use super::Update;
use crate::dynfw::service::{FeedHandle, FeedStatus};
use crate::engine::{Engine, RequestKind, Result};
use crate::statistics::greylist::Entry;

/// At most one pushed status in this time (the changes in between are shown together).
pub const FOLLOW_EVERY: Duration = Duration::from_millis(500);

/// A DynFW request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DynfwRequest {
    /// Starts the feed once per engine — the demo's replay with `demo`, else the configured
    /// subscriber (none without `[dynfw]`) — answers [`DynfwUpdate::Started`], then pushes
    /// [`DynfwUpdate::Status`] as the feed changes.
    Start {
        /// The demo's replayed feed (`vantage demo`, `vantage-gui --demo`).
        demo: bool,
    },
    /// The running feed's status now.
    Status,
    /// An address searched on the DynFW view: blocked? on the greylist?
    Lookup {
        /// The address.
        ip: IpAddr,
    },
    /// The same for the attacker detail.
    Membership {
        /// The address.
        ip: IpAddr,
    },
}

impl DynfwRequest {
    /// Its [`RequestKind`].
    pub fn kind(&self) -> RequestKind {
        match self {
            DynfwRequest::Start { .. } => RequestKind::DynfwStart,
            DynfwRequest::Status => RequestKind::DynfwStatus,
            DynfwRequest::Lookup { .. } => RequestKind::DynfwLookup,
            DynfwRequest::Membership { .. } => RequestKind::DynfwMembership,
        }
    }
}

/// Whether an address is on the DynFW list and on the greylist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// The address asked about.
    pub ip: IpAddr,
    /// `None`: no feed runs; `Some(None)`: not blocked; `Some(Some(country))`: blocked (the
    /// country empty when GeoIP does not know it).
    pub dynfw: Option<Option<String>>,
    /// Its greylist entry by the `[greylist]` rule at the clock's time, when it is listed.
    pub greylist: Option<Entry>,
    /// Whether the running feed is the demo's replay (not Sentinel's list).
    pub demo: bool,
}

/// The answer to a [`DynfwRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DynfwUpdate {
    /// The feed started (or was running): its status; `None` when no feed runs (no `[dynfw]`).
    Started(Option<Box<FeedStatus>>),
    /// The feed's status now (pushed on changes, or asked): `None` when no feed runs.
    Status(Option<Box<FeedStatus>>),
    /// Answer to [`DynfwRequest::Lookup`].
    Lookup(Membership),
    /// Answer to [`DynfwRequest::Membership`].
    Membership(Membership),
}

/// Whether `ip` is on `feed`'s list (no feed: not known) and on the greylist.
pub async fn membership(engine: &Engine, feed: Option<&FeedHandle>, ip: IpAddr) -> Result<Membership> {
    let greylist = engine.statistics().greylist_of(&[ip]).await?.into_iter().next();
    Ok(Membership { ip, dynfw: feed.map(|f| f.lookup(ip)), greylist, demo: feed.is_some_and(|f| *f.source() == crate::dynfw::service::Source::Demo) })
}

/// Answers a request; a [`DynfwRequest::Start`] also starts following the feed, its statuses
/// sent to `events` ([`follow`]).
pub async fn answer(engine: &Engine, request: DynfwRequest, events: &std_mpsc::Sender<Update>) -> Result<DynfwUpdate> {
    let dynfw = engine.dynfw();
    Ok(match request {
        DynfwRequest::Start { demo } => {
            let running = dynfw.feed().is_some();
            let feed = if demo { Some(dynfw.start_demo().await?) } else { dynfw.start()? };
            if let Some(feed) = &feed
                && !running
            {
                tokio::spawn(follow(engine.clone(), feed.clone(), events.clone()));
            }
            DynfwUpdate::Started(dynfw.status().map(Box::new))
        }
        DynfwRequest::Status => DynfwUpdate::Status(dynfw.status().map(Box::new)),
        DynfwRequest::Lookup { ip } => DynfwUpdate::Lookup(membership(engine, dynfw.feed().as_ref(), ip).await?),
        DynfwRequest::Membership { ip } => DynfwUpdate::Membership(membership(engine, dynfw.feed().as_ref(), ip).await?),
    })
}

/// Sends the feed's status to `events` whenever it changes (at most one every
/// [`FOLLOW_EVERY`]) until the feed stops or nobody listens any more.
pub async fn follow(engine: Engine, feed: FeedHandle, events: std_mpsc::Sender<Update>) {
    let mut changes = feed.changes();
    while changes.changed().await.is_ok() && !feed.is_stopped() {
        let Some(status) = engine.dynfw().status() else { return };
        if events.send(Update::Dynfw(DynfwUpdate::Status(Some(Box::new(status))))).is_err() {
            return;
        }
        // a rate limit, not a wait for anything: what changes meanwhile goes out next time
        tokio::time::sleep(FOLLOW_EVERY).await;
    }
}

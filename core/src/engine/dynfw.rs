//! The DynFW feed through the engine: started once per engine (the configured subscriber, or
//! the demo's replay), shared by every front end; its status, set, membership and exports.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use super::Engine;
use super::error::{Error, Result};
use crate::dynfw::demo;
use crate::dynfw::export::{self, Format};
use crate::dynfw::feed::{Country, CountryOf};
use crate::dynfw::service::{FeedHandle, FeedStatus, Source};
use crate::dynfw::DynfwConfig;

/// How many greylisted attackers the demo's replayed feed is made of, at most.
const DEMO_POOL: usize = 400;

/// The DynFW methods of an [`Engine`].
pub struct DynfwApi<'a> {
    pub(super) engine: &'a Engine,
}

/// What `vantage dynfw status` reports: the status and the set.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FollowReport {
    /// The feed's status when following ended.
    #[serde(flatten)]
    pub status: FeedStatus,
    /// The blocked addresses, sorted.
    pub blocked: Vec<IpAddr>,
}

impl DynfwApi<'_> {
    /// The `[dynfw]` settings, when the section is there.
    pub fn config(&self) -> Option<&DynfwConfig> {
        self.engine.deployment.dynfw.as_deref()
    }

    /// The running feed, if one was started ([`DynfwApi::start`], [`DynfwApi::start_demo`]).
    pub fn feed(&self) -> Option<FeedHandle> {
        self.engine.dynfw.get().cloned()
    }

    fn country_of(&self) -> CountryOf {
        let engine = self.engine.clone();
        Arc::new(move |ip| -> Country {
            let code = engine.geoip().lookup(ip).country?;
            let bytes = code.as_bytes();
            (bytes.len() == 2).then(|| [bytes[0], bytes[1]])
        })
    }

    /// Starts the configured subscriber once (later calls return the same feed); `None` when
    /// there is no `[dynfw]` section. Fails when this build has no ZeroMQ (cargo feature
    /// `zmq`) or the socket cannot be set up.
    pub fn start(&self) -> Result<Option<FeedHandle>> {
        if let Some(feed) = self.feed() {
            return Ok(Some(feed));
        }
        let Some(config) = self.config().cloned() else { return Ok(None) };
        let clock = self.engine.deployment.backends.clock;
        let handle = FeedHandle::new(Source::Endpoint(config.endpoint.clone()), self.country_of(), Some(config.dir.clone()), clock.now());
        if self.engine.dynfw.set(handle.clone()).is_err() {
            return Ok(self.feed());
        }
        subscribe(&config, handle.clone(), clock)?;
        Ok(Some(handle))
    }

    /// Starts the demo's replayed feed over the greylisted demo attackers (once; a started
    /// feed, demo or not, is returned as it is). Needs a tokio runtime.
    pub async fn start_demo(&self) -> Result<FeedHandle> {
        if let Some(feed) = self.feed() {
            return Ok(feed);
        }
        let mut greylist = self.engine.statistics().greylist().await?;
        greylist.sort_by(|a, b| b.count.cmp(&a.count).then(a.address.cmp(&b.address)));
        let pool: Vec<IpAddr> = greylist.into_iter().take(DEMO_POOL).map(|e| e.address).collect();
        let clock = self.engine.deployment.backends.clock;
        let handle = FeedHandle::new(Source::Demo, self.country_of(), None, clock.now());
        if self.engine.dynfw.set(handle.clone()).is_err() {
            return self.feed().ok_or_else(|| Error::not_found("no DynFW feed".into()));
        }
        tokio::spawn(demo::run(handle.clone(), pool, clock));
        Ok(handle)
    }

    /// Starts the configured feed and follows it for `duration`: the status and set at the
    /// end. Fails when no list arrived in that time, saying what to check.
    pub async fn follow(&self, duration: Duration) -> Result<FollowReport> {
        let feed = self.start()?.ok_or_else(not_configured)?;
        let started = tokio::time::Instant::now();
        if !feed.wait_for_list(duration).await {
            let now = self.engine.deployment.backends.clock.now();
            let status = feed.status(now);
            let endpoint = self.config().map(|c| c.endpoint.clone()).unwrap_or_default();
            let link = &status.link;
            let seen = if link.connects == 0 {
                "no connection was made".to_string()
            } else if link.handshakes == 0 {
                format!("connected {} time(s) but the CURVE handshake never completed", link.connects)
            } else {
                "connected, but no list was published".to_string()
            };
            return Err(Error::Unavailable(crate::Error::Remote(format!(
                "no DynFW list from {endpoint} within {duration:?} ({seen}): check `endpoint` and `server_key` in [dynfw] (CURVE gives no error of its own for a wrong server key)"
            ))));
        }
        tokio::time::sleep_until(started + duration).await;
        Ok(self.report(&feed))
    }

    /// The running feed's status and set, without waiting.
    pub fn report(&self, feed: &FeedHandle) -> FollowReport {
        let status = feed.status(self.engine.deployment.backends.clock.now());
        let blocked = feed.blocked().1.into_iter().map(|(ip, _)| ip).collect();
        FollowReport { status, blocked }
    }

    /// The running feed's status (none when no feed runs).
    pub fn status(&self) -> Option<FeedStatus> {
        self.feed().map(|f| f.status(self.engine.deployment.backends.clock.now()))
    }

    /// Whether `ip` is on the running feed's list (`None`: no feed runs), with its country.
    pub fn membership(&self, ip: IpAddr) -> Option<Option<String>> {
        self.feed().map(|f| f.lookup(ip))
    }

    /// The running feed's list in `format` ([`export`]).
    pub fn export(&self, feed: &FeedHandle, format: Format) -> String {
        let (serial, blocked) = feed.blocked();
        export::render(format, serial, &blocked)
    }
}

fn not_configured() -> Error {
    Error::InvalidArgument(crate::Error::Config("no [dynfw] section: set endpoint (tcp://host:7087) and server_key (the server's public key file)".into()))
}

#[cfg(feature = "zmq")]
fn subscribe(config: &DynfwConfig, handle: FeedHandle, clock: crate::clock::Clock) -> Result<()> {
    crate::dynfw::subscriber::spawn(config, handle, clock)?;
    Ok(())
}

#[cfg(not(feature = "zmq"))]
fn subscribe(_: &DynfwConfig, _: FeedHandle, _: crate::clock::Clock) -> Result<()> {
    Err(Error::Failed(crate::Error::Config(
        "this build has no ZeroMQ: rebuild with `--features zmq` (needs libzmq3-dev and pkg-config), as scripts/test.sh does".into(),
    )))
}

//! The engine: the one door every front end (CLI, `serve`, dashboard) goes through.
//!
//! [`Engine::open`] assembles the configured deployment once and returns its [`Engine`], whose
//! typed async methods are grouped by capability — [`Engine::statistics`], [`Engine::passwords`],
//! [`Engine::events`], [`Engine::pcap`] and [`Engine::ops`] (planner, jobs, cache, workers, GeoIP) —
//! and fail with a typed [`Error`]. The dashboard talks to a core through the non-blocking
//! channel adapter [`Channel::start`] ([`channel`]): typed [`Request`]s in, [`Update`]s out.
//! [`Engine::demo`] ([`demo`]) fills every view with demo data, composed from each
//! capability's own demo part.
//!
//! A resource being refreshed is answered at once with what the cache holds, and again when
//! the fresh value lands: [`statistics::StatisticsApi::fresh`] waits for the cache's change
//! notification ([`crate::cache::Cache::subscribe`]), not by polling.

pub mod cancel;
pub mod channel;
pub mod demo;
pub mod dossier;
pub mod dynfw;
mod error;
pub mod events;
pub mod flows;
mod flows_import;
mod open;
pub mod ops;
pub mod passwords;
pub mod pcap;
mod request;
pub mod statistics;
mod watch;

use std::sync::{Arc, OnceLock};

pub use channel::{Channel, Update};
pub use request::{Import, Request, RequestId, RequestKind};
pub use error::{Error, Result};
pub use open::Parts;

use crate::config::Config;
use crate::geo::GeoIp;
use crate::deployment::Deployment;

/// An open deployment and the typed methods front ends call (from [`Engine::open`]). Cheap to
/// clone (all clones share the deployment).
#[derive(Clone)]
pub struct Engine {
    deployment: Deployment,
    geo: Arc<OnceLock<GeoIp>>,
    dynfw: Arc<OnceLock<crate::dynfw::service::FeedHandle>>,
    config: Arc<Config>,
}

impl Engine {
    /// Loads the configuration from file, environment and `overrides`, and validates every
    /// capability's section ([`crate::deployment::load_config`]): a bad `[pcap]` key fails at
    /// start-up, naming the file, line and key.
    pub fn load_config(overrides: crate::config::Overrides) -> crate::Result<Config> {
        crate::deployment::load_config(overrides)
    }

    /// Opens the configured store, cache and queue (with their migrations); the error names
    /// the part that could not be opened ([`Error::Open`]).
    pub async fn open(config: &Config) -> Result<Engine> {
        Self::open_parts(config, Parts::All).await
    }

    /// Opens `parts` of the deployment ([`Parts::StoreOnly`]: no Redis connection).
    pub async fn open_parts(config: &Config, parts: Parts) -> Result<Engine> {
        let deployment = open::open(config, parts).await?;
        Ok(Engine { deployment, geo: Arc::default(), dynfw: Arc::default(), config: Arc::new(config.clone()) })
    }
}

impl Engine {
    /// Statistics: resources, aggregation, ingest, demo data.
    pub fn statistics(&self) -> statistics::StatisticsApi<'_> {
        statistics::StatisticsApi { engine: self }
    }

    /// Leaked passwords: checks, top list, imports.
    pub fn passwords(&self) -> passwords::PasswordsApi<'_> {
        passwords::PasswordsApi { engine: self }
    }

    /// Incident events: questions, imports, aggregation.
    pub fn events(&self) -> events::EventsApi<'_> {
        events::EventsApi { engine: self }
    }

    /// Flow analytics: raw flow imports.
    pub fn flows(&self) -> flows::FlowsApi<'_> {
        flows::FlowsApi { engine: self }
    }

    /// The IP dossier: every capability's knowledge of one address, network or ASN.
    pub fn dossier(&self) -> dossier::DossierApi<'_> {
        dossier::DossierApi { engine: self }
    }

    /// The DynFW feed: the configured subscriber or the demo's replay, shared by front ends.
    pub fn dynfw(&self) -> dynfw::DynfwApi<'_> {
        dynfw::DynfwApi { engine: self }
    }

    /// Packet captures on the deployment's queue.
    pub fn pcap(&self) -> pcap::PcapApi {
        pcap::PcapApi { service: self.deployment.pcap.clone() }
    }

    /// Operations: the refresh planner, jobs, cache entries, workers, GeoIP.
    pub fn ops(&self) -> ops::OpsApi<'_> {
        ops::OpsApi { engine: self }
    }

    /// `sqlite` or `postgres`.
    pub fn store_backend(&self) -> String {
        self.deployment.backends.store.backend().to_string()
    }

    /// Where the store's data lives, safe to print.
    pub fn store_location(&self) -> String {
        self.deployment.backends.store.location()
    }

    /// `memory` or `redis`.
    pub fn cache_kind(&self) -> &'static str {
        self.deployment.backends.cache.kind()
    }

    /// `memory` or `redis`.
    pub fn queue_kind(&self) -> &'static str {
        self.deployment.backends.queue.kind()
    }

    /// Whether the queue is in-process: then nothing outside this process runs its jobs, and a
    /// front end runs them itself ([`ops::OpsApi::run_queued`], [`ops::OpsApi::run_workers`]).
    pub fn in_process_queue(&self) -> bool {
        self.queue_kind() == "memory"
    }

    /// The HTTP API of `vantage serve` on this deployment (leaked-password APIs limited to
    /// `password_rate` requests per second and client, 0: unlimited).
    /// It serves the IP dossier `GET /api/ip/{target}` ([`dossier::api`]).
    /// With a running DynFW feed ([`Engine::dynfw`]) it also serves `/dynfw/list.json` and
    /// the WebSocket `/dynfw/ws`.
    pub fn http_api(&self, password_rate: u32) -> crate::deployment::HttpApi {
        let mut extra = dossier::api::routes(self.clone());
        if let Some(feed) = self.dynfw().feed() {
            extra = extra.merge(crate::dynfw::api::routes(feed, self.deployment.backends.clock));
        }
        self.deployment.http_api(password_rate, extra)
    }

    /// The clock's time (`--now` when pinned).
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.deployment.backends.clock.now()
    }

    /// The configuration the engine was opened with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Closes the store (waits for its connections to finish).
    pub async fn close(&self) {
        self.deployment.backends.store.close().await;
    }
}

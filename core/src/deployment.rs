//! The composition root: one deployment built once from the [`Config`] — the shared
//! [`Backends`], the capability services on top of them, the job handlers they register and
//! the HTTP API assembled from their routes. Only this module (with `lib` and `engine`)
//! names every capability.
//!
//! Configuration: [`load_config`] loads the file and validates every capability's section
//! ([`validate`]), so a bad `[pcap]` key fails every command at start-up.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::sync::watch;

use crate::backends::Backends;
use crate::config::{Config, Overrides};
use crate::error::Result;
use crate::http::{Metrics, Server};
use crate::jobs::Handlers;
use crate::flows::settings::FlowsConfig;
use crate::passwords::api::{self as passwords_api, RateLimit};
use crate::pcap::service::PcapService;
use crate::pcap::settings::{self as pcap_settings, PcapConfig};
use crate::statistics::api::ResourceApi;
use crate::statistics::greylist::{self, GreylistConfig};
use crate::dynfw::DynfwConfig;
use crate::statistics::service::Statistics;
use crate::worker::WorkerOptions;

/// The capabilities' top-level configuration tables.
pub const SECTIONS: &[&str] = &[pcap_settings::SECTION, crate::flows::enrich::SECTION, greylist::SECTION, crate::dynfw::SECTION, crate::http::tokens::SECTION];

/// Loads the configuration ([`Config::load`]) and validates it ([`validate`]).
pub fn load_config(overrides: Overrides) -> Result<Config> {
    let config = Config::load(overrides)?;
    validate(&config)?;
    Ok(config)
}

/// Refuses unknown top-level keys and invalid capability sections (errors name the file,
/// line and key).
pub fn validate(config: &Config) -> Result<()> {
    config.check_keys(SECTIONS)?;
    PcapConfig::from_config(config)?;
    FlowsConfig::from_config(config)?;
    GreylistConfig::from_config(config)?;
    DynfwConfig::from_config(config)?;
    crate::http::tokens::ServeSettings::from_config(config)?;
    Ok(())
}

/// The HTTP API of a deployment: the generic server state and the router with every route.
pub struct HttpApi {
    /// Health, metrics and connection counting.
    pub server: Arc<Server>,
    /// Every route, ready to serve.
    pub router: Router,
}

/// The HTTP API over `backends`: `/api/resource`, the leaked-password APIs (at most
/// `password_rate` requests per second and client, 0: unlimited), the pcap endpoints when
/// `pcap` is given, the flow analytics reads (with the `[flows]` settings of `flows`: beacon
/// weights, safelists, the storyboard's enrichment), the greylist files when `greylist_dir` is given,
/// `/healthz` and `/metrics`.
pub fn http_api(backends: &Backends, pcap: Option<Arc<PcapService>>, flows: Arc<FlowsConfig>, greylist_dir: Option<std::path::PathBuf>, password_rate: u32) -> HttpApi {
    http_api_with(backends, pcap, flows, greylist_dir, password_rate, Router::new())
}

/// [`http_api`] with `extra` routes (the engine's own: the dossier, DynFW) merged before the
/// 404 fallback and the JSON error layer, so that they answer like every other route.
fn http_api_with(
    backends: &Backends,
    pcap: Option<Arc<PcapService>>,
    flows: Arc<FlowsConfig>,
    greylist_dir: Option<std::path::PathBuf>,
    password_rate: u32,
    extra: Router,
) -> HttpApi {
    let resources = ResourceApi::new(Statistics::new(backends.clone()));
    let mut routes = resources
        .routes()
        .merge(passwords_api::routes(backends.store.clone(), RateLimit::new(password_rate, backends.cache.clone())))
        .merge(crate::flows::api::routes(backends.store.clone(), flows));
    if let Some(dir) = greylist_dir {
        routes = routes.merge(greylist::api::routes(dir));
    }
    if let Some(pcap) = pcap {
        routes = routes.merge(crate::pcap::api::routes(pcap));
    }
    let server = Server::new(backends.clone(), vec![resources as Arc<dyn Metrics>]);
    HttpApi { router: server.router(routes.merge(extra)), server }
}

/// A deployment: backends, capability services and the job handlers they registered.
#[derive(Clone)]
pub struct Deployment {
    /// Store, cache, queue and clock.
    pub backends: Backends,
    /// Statistics: cached reads, the refresh planner, aggregation jobs.
    pub stats: Statistics,
    /// Packet-capture retrieval.
    pub pcap: Arc<PcapService>,
    /// The `[flows]` settings (beacon weights, enrichment and safelist files, the reputation
    /// service) and the mmdb directory.
    pub flows: Arc<FlowsConfig>,
    /// The `[greylist]` settings: the membership rule and the files' directory.
    pub greylist: Arc<GreylistConfig>,
    /// The `[dynfw]` settings, when the section is there (the feed itself runs in the engine).
    pub dynfw: Option<Arc<DynfwConfig>>,
    /// Every job kind's handler.
    pub handlers: Arc<Handlers>,
}

impl Deployment {
    /// Opens the configured backends and builds the deployment on them.
    pub async fn open(config: &Config) -> Result<Deployment> {
        Deployment::with_backends(config, Backends::open(config).await?)
    }

    /// The deployment of `config` on already opened `backends`.
    pub fn with_backends(config: &Config, backends: Backends) -> Result<Deployment> {
        let pcap = PcapService::new(PcapConfig::from_config(config)?, backends.queue.clone(), backends.clock);
        let mut deployment = Deployment::assemble(backends, pcap, Arc::new(FlowsConfig::from_config(config)?), Arc::new(GreylistConfig::from_config(config)?));
        deployment.dynfw = DynfwConfig::from_config(config)?.map(Arc::new);
        Ok(deployment)
    }

    /// The capability services on `backends`, their job handlers registered.
    pub fn assemble(backends: Backends, pcap: Arc<PcapService>, flows: Arc<FlowsConfig>, greylist: Arc<GreylistConfig>) -> Deployment {
        let stats = Statistics::new(backends.clone());
        let mut handlers = Handlers::default();
        crate::statistics::jobs::register(&mut handlers, &stats);
        greylist::schedule::register(&mut handlers, backends.store.clone(), backends.clock, greylist.clone());
        crate::pcap::service::register(&mut handlers, &pcap);
        Deployment { backends, stats, pcap, flows, greylist, dynfw: None, handlers: Arc::new(handlers) }
    }

    /// The HTTP API of this deployment with the composition root's `extra` routes (see
    /// [`http_api`]).
    pub fn http_api(&self, password_rate: u32, extra: Router) -> HttpApi {
        http_api_with(&self.backends, Some(self.pcap.clone()), self.flows.clone(), Some(self.greylist.dir.clone()), password_rate, extra)
    }

    /// Workers running this deployment's jobs until `shutdown` turns true ([`crate::worker::run`]).
    pub fn workers(&self, options: WorkerOptions, shutdown: watch::Receiver<bool>) -> impl Future<Output = Result<()>> + Send + 'static {
        crate::worker::run(self.backends.clone(), self.handlers.clone(), options, shutdown)
    }

    /// Runs every queued job in this process until none is left ([`crate::worker::drain`]).
    pub async fn drain(&self, lease: Duration) -> Result<usize> {
        crate::worker::drain(&self.backends.queue, &self.handlers, lease).await
    }

    /// Closes the store.
    pub async fn close(&self) {
        self.backends.store.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capability_sections_are_checked_at_load() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("vantage.toml");
        let load = || load_config(Overrides { config_file: Some(path.clone()), ..Overrides::default() });
        std::fs::write(&path, "[pcap]\nexpire_time = \"2h\"\n").expect("write");
        assert_eq!(PcapConfig::from_config(&load().expect("loads")).expect("pcap").expire_time, Duration::from_secs(7200));
        std::fs::write(&path, "[pcap]\nexpire = 3\n").expect("write");
        let err = load().expect_err("unknown pcap key").to_string();
        assert!(err.contains("vantage.toml:2:1: unknown field `expire`"), "{err}");
        std::fs::write(&path, "[pcap]\nexpire_time = \"2 fortnights\"\n").expect("write");
        assert!(load().expect_err("bad value").to_string().contains("pcap.expire_time"));
        std::fs::write(&path, "[flows.reputation_service]\nurl = \"ftp://rep.example/\"\n").expect("write");
        let err = load().expect_err("not http").to_string();
        assert!(err.contains("[flows.reputation_service] url `ftp://rep.example/`: http or https expected"), "{err}");
        std::fs::write(&path, "[flows.reputation_service]\nurl = \"http://rep.example/\"\nbatch_size = 3\n").expect("write");
        let err = load().expect_err("unknown key").to_string();
        assert!(err.contains("vantage.toml:3:1: unknown field `batch_size`"), "{err}");
        std::fs::write(&path, "[flows]\nsafelist = [\"safe.txt\"]\n[flows.reputation_service]\nurl = \"http://rep.example/\"\n").expect("write");
        let flows = FlowsConfig::from_config(&load().expect("loads")).expect("flows");
        assert_eq!(flows.settings.safelist, [dir.path().join("safe.txt")], "beside the configuration file");
        assert_eq!(flows.settings.reputation_service.map(|s| (s.name, s.batch, s.timeout_ms)), Some(("http".into(), 100, 5000)), "the defaults");
        std::fs::write(&path, "databse_url = \"x\"\n").expect("write");
        let err = load().expect_err("typo").to_string();
        assert!(err.contains("vantage.toml:1:1: unknown field `databse_url`, expected one of `database_url`, `redis_url`, `data_dir`, `geoip_dir`, `now`, `pcap`"), "{err}");
        std::fs::write(&path, "[greylist]\nmin_incidents = -1\n").expect("write");
        assert!(load().expect_err("bad greylist").to_string().contains("greylist.min_incidents"));
    }
}

//! Operations through the engine: the refresh planner, the job queue, cache entries and
//! timeouts, workers, GeoIP.

use std::net::IpAddr;
use std::time::Duration;

use tokio::sync::watch;

use super::Engine;
use super::error::Result;
use crate::backends::Health;
use crate::cache::{EntryInfo, keys};
use crate::geo::{GeoInfo, GeoIp};
use crate::jobs::Snapshot;
use crate::statistics::periods::Period;
use crate::statistics::resources::{Params, Resource};
use crate::statistics::service::{Statistics, Suggestion};
use crate::worker::WorkerOptions;

/// Lease of the jobs a front end runs itself on the in-process queue.
const LEASE: Duration = Duration::from_secs(60);

/// What the refresh planner is asked to plan.
#[derive(Debug, Clone)]
pub enum Plan {
    /// Everything due (`vantage refresh`).
    Refresh,
    /// Every resource of a period (`vantage cache-period`).
    Period(Period),
    /// One resource (`vantage cache-resource`).
    Resource {
        /// The resource.
        resource: &'static Resource,
        /// Its period.
        period: Period,
        /// Its parameters.
        params: Params,
    },
}

/// The planner's decisions, and how many jobs ran in this process.
#[derive(Debug, Clone)]
pub struct Planned {
    /// One per key, in first-seen order.
    pub suggestions: Vec<Suggestion>,
    /// Jobs run here (in-process queue only).
    pub ran: usize,
}

/// One planning round.
async fn round(stats: &Statistics, plan: &Plan, dry_run: bool) -> crate::Result<Vec<Suggestion>> {
    Ok(match plan {
        Plan::Refresh => stats.refresh(dry_run).await?,
        Plan::Period(period) => stats.cache_period(*period, dry_run).await?,
        Plan::Resource { resource, period, params } => vec![stats.suggest_caching(resource, *period, params, dry_run).await?],
    })
}

/// The operations methods of a [`Engine`].
pub struct OpsApi<'a> {
    pub(super) engine: &'a Engine,
}

impl OpsApi<'_> {
    /// Plans once (`dry_run`: nothing is queued).
    pub async fn plan(&self, plan: &Plan, dry_run: bool) -> Result<Vec<Suggestion>> {
        Ok(round(&self.engine.deployment.stats, plan, dry_run).await?)
    }

    /// Plans and sees it done, as a one-shot command must: on the in-process queue, where
    /// nothing else would run the jobs, plans, runs what was queued, and plans again until a
    /// round queues nothing new ([`crate::statistics::jobs::plan_to_fixed_point`]); otherwise plans once.
    pub async fn settle(&self, plan: &Plan) -> Result<Planned> {
        if !self.engine.in_process_queue() {
            return Ok(Planned { suggestions: self.plan(plan, false).await?, ran: 0 });
        }
        let (suggestions, ran) = crate::statistics::jobs::plan_to_fixed_point(&self.engine.deployment.stats, LEASE, async || round(&self.engine.deployment.stats, plan, false).await).await?;
        Ok(Planned { suggestions, ran })
    }

    /// Queued, running and failed jobs.
    pub async fn jobs(&self) -> Result<Snapshot> {
        Ok(self.engine.deployment.stats.queue.snapshot().await?)
    }

    /// Cache entries under a key prefix (e.g. `vantage:timeout:`).
    pub async fn entries(&self, prefix: &str) -> Result<Vec<EntryInfo>> {
        Ok(self.engine.deployment.stats.cache.scan(prefix).await?)
    }

    /// Deletes the cached resources (`all`: every Vantage key); returns how many keys.
    pub async fn clear_cache(&self, all: bool) -> Result<u64> {
        let cache = &self.engine.deployment.stats.cache;
        let prefix = if all { keys::PREFIX.to_string() } else { keys::resource("") };
        let keys: Vec<String> = cache.scan(&prefix).await?.into_iter().map(|e| e.key).collect();
        Ok(cache.del(&keys).await?)
    }

    /// Clears refresh timeouts of one kind (`aggregation` or `resource`) for a precision or
    /// display period; returns how many.
    pub async fn clear_timeouts(&self, kind: &str, period: &str) -> Result<u64> {
        Ok(self.engine.deployment.stats.clear_timeouts(kind, period).await?)
    }

    /// Runs workers (and, with `options.schedule`, the planner) until `shutdown` turns true;
    /// they run the deployment's pcap steps too.
    pub async fn run_workers(&self, options: WorkerOptions, shutdown: watch::Receiver<bool>) -> Result<()> {
        Ok(self.engine.deployment.workers(options, shutdown).await?)
    }

    /// Runs every queued job in this process until none is left; returns how many ran.
    pub async fn run_queued(&self) -> Result<usize> {
        Ok(self.engine.deployment.drain(LEASE).await?)
    }

    /// Whether the store and the cache answer now (what `/healthz` answers; each probe given
    /// at most [`crate::backends::HEALTH_TIMEOUT`]).
    pub async fn health(&self) -> Health {
        self.engine.deployment.backends.health().await
    }

    /// Opens the GeoIP databases of the configured directory now (instead of at the first
    /// lookup); when they cannot be read, lookups answer nothing and this says why.
    pub fn open_geoip(&self) -> Result<()> {
        let mut failed = None;
        self.engine.geo.get_or_init(|| GeoIp::open_dir(&self.engine.config.geoip_dir).unwrap_or_else(|e| {
            failed = Some(e);
            GeoIp::default()
        }));
        failed.map_or(Ok(()), |e| Err(e.into()))
    }

    /// What the GeoIP databases know about an address, and which databases were consulted
    /// (file names; empty: none configured or readable).
    pub fn geo(&self, ip: IpAddr) -> (GeoInfo, Vec<String>) {
        let geo = self.engine.geoip();
        (geo.lookup(ip), geo.sources())
    }
}

impl Engine {
    /// The GeoIP databases, opened at the first use (empty when they cannot be read, see
    /// [`OpsApi::open_geoip`]).
    pub(super) fn geoip(&self) -> &GeoIp {
        let _ = self.ops().open_geoip();
        self.geo.get_or_init(GeoIp::default)
    }
}

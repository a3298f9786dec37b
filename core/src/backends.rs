//! The shared backends of a deployment, opened once from the [`Config`]: the store, the cache,
//! the job queue and the clock. Capabilities take them; none opens its own.

use std::sync::Arc;
use std::time::Duration;

use crate::cache::Cache;
use crate::clock::Clock;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::jobs::Queue;
use crate::store::Store;

/// Store, cache, queue and clock of one deployment (cheap to clone: shared handles).
#[derive(Clone)]
pub struct Backends {
    /// The store (SQLite or PostgreSQL).
    pub store: Arc<dyn Store>,
    /// The cache (in-process or Redis).
    pub cache: Arc<dyn Cache>,
    /// The job queue (in-process or Redis).
    pub queue: Arc<dyn Queue>,
    /// The clock every window and TTL decision uses.
    pub clock: Clock,
}

impl Backends {
    /// Opens the configured store (applying migrations), cache and queue.
    pub async fn open(config: &Config) -> Result<Backends> {
        Ok(Backends {
            store: crate::store::open(config).await?,
            cache: crate::cache::open(config).await?,
            queue: crate::jobs::open(config).await?,
            clock: config.clock,
        })
    }

    /// Whether the queue is in-process: nothing outside this process can run its jobs.
    pub fn in_process(&self) -> bool {
        self.queue.kind() == "memory"
    }
}

/// How long a health probe waits for the store and for the cache before calling them
/// unavailable.
pub const HEALTH_TIMEOUT: Duration = Duration::from_secs(1);

/// Whether the store and the cache answer: `Ok`, or why not in one line
/// (`cache unavailable: redis: …`). `/healthz` answers it; the engine watches it for the
/// dashboards' headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// The store's probe.
    pub store: std::result::Result<(), String>,
    /// The cache's probe.
    pub cache: std::result::Result<(), String>,
}

impl Health {
    /// What is unavailable, `; `-separated (None: both answer).
    pub fn outage(&self) -> Option<String> {
        let reasons: Vec<&str> = [&self.store, &self.cache].into_iter().filter_map(|r| r.as_ref().err().map(String::as_str)).collect();
        (!reasons.is_empty()).then(|| reasons.join("; "))
    }
}

impl Backends {
    /// Probes the store (a trivial query) and the cache (a read) at once, each given at most
    /// [`HEALTH_TIMEOUT`].
    pub async fn health(&self) -> Health {
        let (store, cache) = tokio::join!(probe("store", self.store.ping()), probe("cache", self.cache.get("vantage:healthz")));
        Health { store, cache }
    }
}

/// The outcome of one health probe: `Ok`, or why `what` is unavailable.
async fn probe<T>(what: &str, check: impl std::future::Future<Output = Result<T, Error>>) -> std::result::Result<(), String> {
    match tokio::time::timeout(HEALTH_TIMEOUT, check).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(format!("{what} unavailable: {e}")),
        Err(_) => Err(format!("{what} unavailable: no answer within {} ms (timeout)", HEALTH_TIMEOUT.as_millis())),
    }
}

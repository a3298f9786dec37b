//! The shared backends of a deployment, opened once from the [`Config`]: the store, the cache,
//! the job queue and the clock. Capabilities take them; none opens its own.

use std::sync::Arc;

use crate::cache::Cache;
use crate::clock::Clock;
use crate::config::Config;
use crate::error::Result;
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

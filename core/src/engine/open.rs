//! Assembling the deployment an [`Engine`](super::Engine) answers from (store, cache, queue,
//! clock and the packet-capture service), once, from the configuration.

use std::sync::Arc;

use super::error::{Error, Result};
use crate::backends::Backends;
use crate::config::Config;
use crate::deployment::Deployment;

/// Which parts of the deployment are opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parts {
    /// Store, cache and queue as configured.
    All,
    /// The store only; cache and queue are in-process (and unused): for front ends that
    /// read and write the store alone, so they keep working while Redis is down.
    StoreOnly,
}

/// Opens the parts; an error names the part (`opening the store at …`, `opening the cache`,
/// `opening the job queue`).
pub(super) async fn open(config: &Config, parts: Parts) -> Result<Deployment> {
    let location = match &config.database_url {
        Some(url) => url.redacted(),
        None => config.data_dir.join("vantage.db").display().to_string(),
    };
    let store = crate::store::open(config).await.map_err(|source| Error::Open { what: format!("the store at {location}"), source })?;
    let (cache, queue): (Arc<dyn crate::cache::Cache>, Arc<dyn crate::jobs::Queue>) = match parts {
        Parts::All => (
            crate::cache::open(config).await.map_err(|source| Error::Open { what: "the cache".into(), source })?,
            crate::jobs::open(config).await.map_err(|source| Error::Open { what: "the job queue".into(), source })?,
        ),
        Parts::StoreOnly => (Arc::new(crate::cache::memory::MemoryCache::default()), Arc::new(crate::jobs::memory::MemoryQueue::default())),
    };
    Ok(Deployment::with_backends(config, Backends { store, cache, queue, clock: config.clock })?)
}

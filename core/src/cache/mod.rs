//! Key-value cache with TTLs, used for computed resources, refresh timeouts, job bookkeeping
//! and rate limits. Two implementations with the same semantics:
//!
//! - [`memory::MemoryCache`]: in-process (the embedded default);
//! - [`redis::RedisCache`]: Redis, shared by every process of a deployment.
//!
//! TTLs run in real time on both (like Redis itself); *which* TTL to set is decided by the
//! callers from the injectable clock. [`Cache::set_nx`] is `SET key value NX EX ttl`: the
//! atomic claim that keeps two planners from queueing the same job.
//!
//! ## Change notification
//!
//! Writing a resource value (a key under `vantage:resource:`) announces the key to every
//! [`Cache::subscribe`]r — in process (a broadcast channel) and, on Redis, in every process
//! of the deployment (`PUBLISH vantage:changes <key>`) — so a reader waits for a fresh value
//! instead of polling the cache.
//!
//! ## Key layout
//!
//! All keys start with `vantage:`. See [`keys`] for the full list.

pub mod connection;
pub mod memory;
pub mod redis;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::config::Config;
use crate::error::Result;

/// A cache entry's metadata, for `view-cache`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EntryInfo {
    /// The key.
    pub key: String,
    /// Remaining time to live (None = no expiry).
    pub ttl_seconds: Option<u64>,
    /// Size of the value in bytes.
    pub size: u64,
}

/// Announcements of written keys, from [`Cache::subscribe`]: each message is a key (without
/// any namespace). A receiver that falls behind gets `Lagged` (something may have been
/// missed: read again); `Closed` means the subscription was lost (subscribe again).
pub type Changes = tokio::sync::broadcast::Receiver<String>;

/// Announcements a subscriber may fall behind by before it is told it lagged.
pub const CHANGES_BUFFER: usize = 256;

/// The cache interface.
#[async_trait]
pub trait Cache: Send + Sync {
    /// Which implementation (`memory` or `redis`).
    fn kind(&self) -> &'static str;
    /// The value of `key`, if present and not expired.
    async fn get(&self, key: &str) -> Result<Option<String>>;
    /// Sets `key` with a TTL.
    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<()>;
    /// Sets `key` only if absent (`SET NX EX`); true when this call set it.
    async fn set_nx(&self, key: &str, value: &str, ttl: Duration) -> Result<bool>;
    /// Deletes keys; returns how many existed.
    async fn del(&self, keys: &[String]) -> Result<u64>;
    /// Keys starting with `prefix`, with TTL and size.
    async fn scan(&self, prefix: &str) -> Result<Vec<EntryInfo>>;
    /// Increments a counter that expires `window` after its first increment; returns the count.
    async fn incr_window(&self, key: &str, window: Duration) -> Result<i64>;
    /// Announces that `key` was written to every subscriber ([`Cache::set`] does this itself
    /// for resource keys, see [`keys::announced`]).
    async fn publish(&self, key: &str) -> Result<()>;
    /// Subscribes to the announcements of written keys; the subscription is in place when
    /// this returns, so a value written afterwards is never missed.
    async fn subscribe(&self) -> Result<Changes>;
}

/// Opens Redis when `redis_url` is configured, the in-process cache otherwise.
pub async fn open(config: &Config) -> Result<Arc<dyn Cache>> {
    Ok(match &config.redis_url {
        Some(url) => Arc::new(redis::RedisCache::connect(url).await?),
        None => Arc::new(memory::MemoryCache::default()),
    })
}

/// The key layout (everything under `vantage:`).
pub mod keys {
    /// Prefix of every key.
    pub const PREFIX: &str = "vantage:";
    /// The channel written keys are announced on (Redis pub/sub).
    pub const CHANGES: &str = "vantage:changes";
    /// Whether writing `key` is announced to subscribers: resource values are.
    pub fn announced(key: &str) -> bool {
        key.starts_with("vantage:resource:")
    }
    /// `vantage:resource:<name>:<period>[:<param>]` → `{"computed_at", "data"}` JSON.
    pub fn resource(id: &str) -> String {
        format!("vantage:resource:{id}")
    }
    /// `vantage:timeout:resource:<id>` → set while the resource is fresh enough.
    pub fn resource_timeout(id: &str) -> String {
        format!("vantage:timeout:resource:{id}")
    }
    /// `vantage:timeout:aggregation:<precision>` → set until the next run is allowed.
    pub fn aggregation_timeout(precision: &str) -> String {
        format!("vantage:timeout:aggregation:{precision}")
    }
    /// `vantage:pending:<job key>` → id of the queued or running job for that key.
    pub fn pending(job_key: &str) -> String {
        format!("vantage:pending:{job_key}")
    }
    /// `vantage:failed:<job key>` → error of the last failed job for that key.
    pub fn failed(job_key: &str) -> String {
        format!("vantage:failed:{job_key}")
    }
    /// `vantage:ratelimit:<client>` → on-demand computations in the current minute.
    pub fn rate_limit(client: &str) -> String {
        format!("vantage:ratelimit:{client}")
    }
    /// `vantage:pwrate:<client ip>:<unix second>` → password API requests of that client in
    /// that second, counted by every `serve` sharing the cache.
    pub fn password_rate(client: std::net::IpAddr, second: u64) -> String {
        format!("vantage:pwrate:{client}:{second}")
    }
    /// `vantage:lock:<name>` → held by the one scheduler among many workers.
    pub fn lock(name: &str) -> String {
        format!("vantage:lock:{name}")
    }
}

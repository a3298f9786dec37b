//! Redis cache: one self-repairing connection ([`RedisConn`]) shared by all calls, and one
//! pub/sub connection of its own per process for [`Cache::subscribe`] (opened by the first
//! subscriber, opened again by the next one after it was lost).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt as _;
use redis::AsyncCommands;
use tokio::sync::broadcast;

use super::connection::{CONNECT_TIMEOUT, RedisConn, redis_error};
use super::{CHANGES_BUFFER, Cache, Changes, EntryInfo, keys};
use crate::config::SecretUrl;
use crate::error::Result;

/// Redis implementation of [`Cache`].
#[derive(Clone)]
pub struct RedisCache {
    conn: RedisConn,
    ns: String,
    /// Where the pub/sub connection's announcements go, while it is up.
    changes: Arc<tokio::sync::Mutex<Option<broadcast::Sender<String>>>>,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedisCache")
    }
}

impl RedisCache {
    /// Connects (and reconnects by itself after outages).
    pub async fn connect(url: &SecretUrl) -> Result<Self> {
        Self::connect_namespaced(url, "").await
    }

    /// Like [`RedisCache::connect`], with every key prefixed by `ns` (isolates tests or
    /// deployments sharing one Redis).
    pub async fn connect_namespaced(url: &SecretUrl, ns: &str) -> Result<Self> {
        Ok(RedisCache { conn: RedisConn::connect(url).await?, ns: ns.to_string(), changes: Arc::default() })
    }

    fn k(&self, key: &str) -> String {
        format!("{}{key}", self.ns)
    }

    /// The shared connection, for other Redis users in this crate.
    pub fn connection(&self) -> RedisConn {
        self.conn.clone()
    }
}

fn millis(d: Duration) -> u64 {
    (d.as_millis() as u64).max(1)
}

#[async_trait]
impl Cache for RedisCache {
    fn kind(&self) -> &'static str {
        "redis"
    }

    async fn get(&self, key: &str) -> Result<Option<String>> {
        self.conn.clone().get(self.k(key)).await.map_err(redis_error)
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<()> {
        let mut pipe = redis::pipe();
        pipe.atomic().cmd("SET").arg(self.k(key)).arg(value).arg("PX").arg(millis(ttl)).ignore();
        if keys::announced(key) {
            pipe.cmd("PUBLISH").arg(self.k(keys::CHANGES)).arg(key).ignore();
        }
        pipe.query_async(&mut self.conn.clone()).await.map_err(redis_error)
    }

    async fn set_nx(&self, key: &str, value: &str, ttl: Duration) -> Result<bool> {
        let r: Option<String> = redis::cmd("SET")
            .arg(self.k(key))
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(millis(ttl))
            .query_async(&mut self.conn.clone())
            .await
            .map_err(redis_error)?;
        Ok(r.is_some())
    }

    async fn del(&self, keys: &[String]) -> Result<u64> {
        if keys.is_empty() {
            return Ok(0);
        }
        let keys: Vec<String> = keys.iter().map(|k| self.k(k)).collect();
        self.conn.clone().del(keys).await.map_err(redis_error)
    }

    async fn scan(&self, prefix: &str) -> Result<Vec<EntryInfo>> {
        let mut conn = self.conn.clone();
        let mut cursor: u64 = 0;
        let mut keys: Vec<String> = Vec::new();
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{}*", self.k(prefix)))
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await
                .map_err(redis_error)?;
            keys.extend(batch);
            if next == 0 {
                break;
            }
            cursor = next;
        }
        keys.sort();
        keys.dedup();
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let ttl: i64 = conn.pttl(&key).await.map_err(redis_error)?;
            let size: u64 = redis::cmd("STRLEN").arg(&key).query_async(&mut conn).await.unwrap_or(0);
            if ttl == -2 {
                continue;
            }
            out.push(EntryInfo { key: key[self.ns.len()..].to_string(), ttl_seconds: (ttl >= 0).then_some(ttl as u64 / 1000), size });
        }
        Ok(out)
    }

    async fn incr_window(&self, key: &str, window: Duration) -> Result<i64> {
        let key = &self.k(key);
        let mut conn = self.conn.clone();
        let (n,): (i64,) = redis::pipe()
            .atomic()
            .incr(key, 1)
            .cmd("PEXPIRE")
            .arg(key)
            .arg(millis(window))
            .arg("NX")
            .ignore()
            .query_async(&mut conn)
            .await
            .map_err(redis_error)?;
        Ok(n)
    }

    async fn publish(&self, key: &str) -> Result<()> {
        redis::cmd("PUBLISH").arg(self.k(keys::CHANGES)).arg(key).query_async(&mut self.conn.clone()).await.map_err(redis_error)
    }

    async fn subscribe(&self) -> Result<Changes> {
        let mut slot = self.changes.lock().await;
        if let Some(sender) = slot.as_ref() {
            return Ok(sender.subscribe());
        }
        let timeout = |_| crate::Error::Redis(format!("subscribing to {}: timed out", keys::CHANGES));
        let mut pubsub = tokio::time::timeout(CONNECT_TIMEOUT, self.conn.client().get_async_pubsub()).await.map_err(timeout)?.map_err(redis_error)?;
        tokio::time::timeout(CONNECT_TIMEOUT, pubsub.subscribe(self.k(keys::CHANGES))).await.map_err(timeout)?.map_err(redis_error)?;
        let (sender, receiver) = broadcast::channel(CHANGES_BUFFER);
        *slot = Some(sender.clone());
        let shared = self.changes.clone();
        tokio::spawn(async move {
            let mut messages = pubsub.into_on_message();
            while let Some(message) = messages.next().await {
                if let Ok(key) = message.get_payload::<String>() {
                    let _ = sender.send(key);
                }
            }
            tracing::info!("redis: the {} subscription was lost", keys::CHANGES);
            // dropping both senders tells every receiver (Closed); the next subscriber reconnects
            shared.lock().await.take();
        });
        Ok(receiver)
    }
}

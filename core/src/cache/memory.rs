//! In-process cache: a map guarded by a mutex, entries expiring in real time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use tokio::sync::broadcast;

use super::{CHANGES_BUFFER, Cache, Changes, EntryInfo, keys};
use crate::error::Result;

/// The embedded default cache.
#[derive(Debug)]
pub struct MemoryCache {
    entries: Mutex<HashMap<String, (String, Option<Instant>)>>,
    changes: broadcast::Sender<String>,
}

impl Default for MemoryCache {
    fn default() -> Self {
        MemoryCache { entries: Mutex::default(), changes: broadcast::channel(CHANGES_BUFFER).0 }
    }
}

impl MemoryCache {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, (String, Option<Instant>)>) -> T) -> T {
        let mut map = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        map.retain(|_, (_, exp)| exp.is_none_or(|e| e > now));
        f(&mut map)
    }
}

#[async_trait]
impl Cache for MemoryCache {
    fn kind(&self) -> &'static str {
        "memory"
    }

    async fn get(&self, key: &str) -> Result<Option<String>> {
        Ok(self.with(|m| m.get(key).map(|(v, _)| v.clone())))
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<()> {
        self.with(|m| m.insert(key.to_string(), (value.to_string(), Some(Instant::now() + ttl))));
        if keys::announced(key) {
            self.publish(key).await?;
        }
        Ok(())
    }

    async fn set_nx(&self, key: &str, value: &str, ttl: Duration) -> Result<bool> {
        Ok(self.with(|m| {
            if m.contains_key(key) {
                false
            } else {
                m.insert(key.to_string(), (value.to_string(), Some(Instant::now() + ttl)));
                true
            }
        }))
    }

    async fn del(&self, keys: &[String]) -> Result<u64> {
        Ok(self.with(|m| keys.iter().filter(|k| m.remove(*k).is_some()).count() as u64))
    }

    async fn scan(&self, prefix: &str) -> Result<Vec<EntryInfo>> {
        let now = Instant::now();
        let mut out: Vec<EntryInfo> = self.with(|m| {
            m.iter()
                .filter(|(k, _)| k.starts_with(prefix))
                .map(|(k, (v, exp))| EntryInfo {
                    key: k.clone(),
                    ttl_seconds: exp.map(|e| e.saturating_duration_since(now).as_secs()),
                    size: v.len() as u64,
                })
                .collect()
        });
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    async fn incr_window(&self, key: &str, window: Duration) -> Result<i64> {
        Ok(self.with(|m| {
            let entry = m.entry(key.to_string()).or_insert_with(|| ("0".to_string(), Some(Instant::now() + window)));
            let n = entry.0.parse::<i64>().unwrap_or(0) + 1;
            entry.0 = n.to_string();
            n
        }))
    }

    async fn publish(&self, key: &str) -> Result<()> {
        // no subscriber is not an error
        let _ = self.changes.send(key.to_string());
        Ok(())
    }

    async fn subscribe(&self) -> Result<Changes> {
        Ok(self.changes.subscribe())
    }
}

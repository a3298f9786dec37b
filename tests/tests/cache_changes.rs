//! The cache's change notification on both cache kinds: a resource value written through one
//! handle wakes a reader subscribed through another (in process, or another connection to the
//! same Redis), and the engine's wait for a fresh value is woken by it — no polling, no sleeps.

use std::sync::Arc;
use std::time::{Duration, Instant};

use vantage_core::cache::redis::RedisCache;
use vantage_core::cache::{Cache, keys};
use vantage_core::config::SecretUrl;
use vantage_core::engine::Engine;
use vantage_core::statistics::periods::Period;
use vantage_core::statistics::resources::{self, Params};
use vantage_tests::{BOTH, Kind, TestStore, redis_namespace, redis_url, t};

/// Longest a wake-up may take before the test fails (the engine would otherwise wait 120 s).
const WAKE: Duration = Duration::from_secs(20);

/// Two handles on one cache: the same in-process cache, or two connections to Redis.
async fn two_handles(kind: Kind) -> (Arc<dyn Cache>, Arc<dyn Cache>) {
    match kind {
        Kind::Sqlite => {
            let cache: Arc<dyn Cache> = Arc::new(vantage_core::cache::memory::MemoryCache::default());
            (cache.clone(), cache)
        }
        Kind::Postgres => {
            let (url, ns) = (SecretUrl::new(redis_url()), redis_namespace());
            let reader = RedisCache::connect_namespaced(&url, &ns).await.expect("Redis is required (run scripts/test.sh)");
            let writer = RedisCache::connect_namespaced(&url, &ns).await.expect("redis");
            (Arc::new(reader), Arc::new(writer))
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_written_resource_wakes_a_subscriber_of_another_handle() {
    for kind in BOTH {
        let (reader, writer) = two_handles(kind).await;
        let mut changes = reader.subscribe().await.expect("subscribe");
        let key = keys::resource("top_traps_graph:1h");
        // a timeout is not announced; the resource value is
        writer.set(&keys::resource_timeout("top_traps_graph:1h"), "1", Duration::from_secs(60)).await.expect("set timeout");
        writer.set(&key, "{}", Duration::from_secs(60)).await.expect("set resource");
        let woke = tokio::time::timeout(WAKE, changes.recv()).await.expect("woken in time").expect("announcement");
        assert_eq!(woke, key, "{kind:?}: the resource key, and only it, is announced");
        writer.publish("vantage:resource:other").await.expect("publish");
        assert_eq!(tokio::time::timeout(WAKE, changes.recv()).await.expect("woken").expect("announcement"), "vantage:resource:other");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_engine_waits_for_a_fresh_value_by_notification() {
    for kind in BOTH {
        let ts = TestStore::new(kind, t("2024-06-15T12:40:00Z")).await;
        let mut config = ts.config.clone();
        if kind == Kind::Postgres {
            // a database of its own on the shared Redis: the engine's keys are not namespaced
            config.redis_url = Some(SecretUrl::new(format!("{}/13", redis_url().trim_end_matches('/'))));
        }
        let reader = Engine::open(&config).await.expect("open reader");
        // in process a clone shares the cache (as the in-process workers do); on Redis another
        // deployment writes it, as a `vantage --worker` would
        let writer = if kind == Kind::Sqlite { reader.clone() } else { Engine::open(&config).await.expect("open writer") };
        assert_eq!(reader.cache_kind(), if kind == Kind::Sqlite { "memory" } else { "redis" });
        let resource = resources::find("selected_attacker_incidents_graph").expect("resource");
        let params = Params { ip: Some(format!("192.0.2.{}", std::process::id() % 250 + 1)), ..Params::default() };
        let before = reader.statistics().read(resource, Period::Hour, &params).await.expect("read");
        assert!(before.data.is_none(), "{kind:?}: not cached yet");
        let started = Instant::now();
        let waiting = {
            let (reader, params, before) = (reader.clone(), params.clone(), before.clone());
            tokio::spawn(async move { reader.statistics().fresh(resource, Period::Hour, &params, &before).await })
        };
        writer.statistics().compute(resource, Period::Hour, &params).await.expect("compute");
        let fresh = tokio::time::timeout(WAKE, waiting).await.expect("woken in time, not after the 120 s limit").expect("task").expect("fresh");
        let fresh = fresh.expect("a fresh value");
        assert!(fresh.data.is_some() && fresh.computed_at.is_some(), "{kind:?}: {fresh:?}");
        assert!(started.elapsed() < WAKE);
        if kind == Kind::Postgres {
            writer.ops().clear_cache(true).await.expect("clean up db 13");
        }
        reader.close().await;
        writer.close().await;
    }
}

//! The Redis cache and queue recover by themselves: after Redis restarted with another
//! password (authentication fails) and then with the right one again, the same client objects
//! work again without being recreated. Runs on a redis-server of its own, never the shared one.

use std::time::{Duration, Instant};

use vantage_core::cache::Cache;
use vantage_core::cache::redis::RedisCache;
use vantage_core::config::SecretUrl;
use vantage_core::jobs::redis::RedisQueue;
use vantage_core::jobs::{Job, Queue};
use vantage_core::statistics::tasks::aggregate_task;
use vantage_core::statistics::aggregation::Precision;
use vantage_tests::process::RedisServer;
use vantage_tests::t;

/// Polls `f` every 50 ms until it returns Some; panics after `limit`.
async fn eventually<T, F: std::future::Future<Output = Option<T>>>(limit: Duration, what: &str, mut f: impl FnMut() -> F) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn job() -> Job {
    Job::new("aggregation", "test:auth".into(), aggregate_task(Precision::Quarterly, t("2024-06-15T12:00:00Z")).expect("task"), t("2024-06-15T12:40:00Z"))
}

#[tokio::test]
async fn cache_and_queue_reconnect_after_an_authentication_failure() {
    let mut redis = RedisServer::start(Some("pw-a"));
    let url = SecretUrl::new(redis.url(Some("pw-a")));
    let cache = RedisCache::connect(&url).await.expect("cache");
    let queue = RedisQueue::connect(&url).await.expect("queue");
    cache.set("vantage:k", "before", Duration::from_secs(60)).await.expect("set");
    let all = vec!["aggregation".to_string()];

    // restarted with another password: every operation fails with an authentication error
    redis.restart(Some("pw-b"));
    let err = eventually(Duration::from_secs(30), "an authentication failure", || async {
        cache.get("vantage:k").await.err().filter(|e| e.to_string().to_lowercase().contains("authentication"))
    })
    .await;
    assert!(!err.to_string().contains("pw-a"), "{err}");
    eventually(Duration::from_secs(30), "the queue failing too", || async {
        queue.push(&job()).await.err().filter(|e| e.to_string().to_lowercase().contains("authentication"))
    })
    .await;

    // back with the right password: the same objects work again by themselves
    redis.restart(Some("pw-a"));
    eventually(Duration::from_secs(30), "the cache working again", || async {
        cache.set("vantage:k", "after", Duration::from_secs(60)).await.ok()?;
        cache.get("vantage:k").await.ok().flatten()
    })
    .await;
    assert_eq!(cache.get("vantage:k").await.expect("get").as_deref(), Some("after"));
    let pushed = job();
    eventually(Duration::from_secs(30), "the queue working again", || async { queue.push(&pushed).await.ok() }).await;
    let popped = eventually(Duration::from_secs(30), "the job popped", || async {
        queue.pop(&all, "w1", Duration::from_secs(30), Duration::from_millis(200)).await.ok().flatten()
    })
    .await;
    assert_eq!(popped.id, pushed.id);
    queue.complete(&popped).await.expect("complete");
}

#[tokio::test]
async fn the_first_operation_after_redis_returns_succeeds() {
    let mut redis = RedisServer::start(None);
    let url = SecretUrl::new(redis.url(None));
    let cache = RedisCache::connect(&url).await.expect("cache");
    let queue = RedisQueue::connect(&url).await.expect("queue");
    cache.set("vantage:k", "v", Duration::from_secs(60)).await.expect("set");

    // an outage during which operations fail
    redis.stop();
    assert!(cache.get("vantage:k").await.is_err(), "Redis is down");
    assert!(queue.snapshot().await.is_err(), "Redis is down");
    // back (empty, no persistence): the very next operations succeed
    redis.restart(None);
    assert_eq!(cache.get("vantage:k").await.expect("first get after the outage"), None);
    queue.snapshot().await.expect("first snapshot after the outage");

    // a restart nobody noticed (no operation in between): the first operation succeeds too
    cache.set("vantage:k", "v", Duration::from_secs(60)).await.expect("set");
    redis.restart(None);
    assert_eq!(cache.get("vantage:k").await.expect("first get after an unnoticed restart"), None);
}

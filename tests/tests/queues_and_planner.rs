//! Cache, job queues and the refresh planner on both deployments: embedded (SQLite +
//! in-process cache/queue) and production (PostgreSQL + Redis).

use std::sync::Arc;
use std::time::Duration;

use vantage_core::Clock;
use vantage_core::cache::keys;
use vantage_core::backends::Backends;
use vantage_core::jobs::Job;
use vantage_core::statistics::tasks::aggregate_task;
use vantage_core::statistics::aggregation::Precision;
use vantage_core::statistics::periods::Period;
use vantage_core::statistics::resources::{self, Params};
use vantage_core::statistics::service::{Outcome, Statistics};
use vantage_tests::{BOTH, TestStore, cache_and_queue, t};

fn all_queues() -> Vec<String> {
    vantage_core::jobs::PRIORITY.iter().map(|q| q.to_string()).collect()
}

fn job(queue: &str, n: u32) -> Job {
    Job::new(queue, format!("test:{n}"), aggregate_task(Precision::Quarterly, t("2024-06-15T12:00:00Z")).expect("task"), t("2024-06-15T12:40:00Z"))
}

#[tokio::test]
async fn cache_set_nx_is_an_atomic_claim() {
    for kind in BOTH {
        let (cache, _) = cache_and_queue(kind).await;
        let claims = futures_join(cache.clone()).await;
        assert_eq!(claims.iter().filter(|c| **c).count(), 1, "{kind:?}: exactly one of 8 concurrent claims wins");
        cache.set("vantage:x", "v", Duration::from_secs(60)).await.expect("set");
        assert_eq!(cache.get("vantage:x").await.expect("get").as_deref(), Some("v"));
        let listed = cache.scan("vantage:").await.expect("scan");
        assert_eq!(listed.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(), vec!["vantage:claim", "vantage:x"], "{kind:?}");
        assert!(listed[1].ttl_seconds.is_some_and(|s| s <= 60) && listed[1].size == 1);
        assert_eq!(cache.del(&["vantage:x".to_string(), "vantage:nope".to_string()]).await.expect("del"), 1);
        for _ in 0..3 {
            cache.incr_window("vantage:ratelimit:c", Duration::from_secs(60)).await.expect("incr");
        }
        assert_eq!(cache.incr_window("vantage:ratelimit:c", Duration::from_secs(60)).await.expect("incr"), 4);
    }
}

async fn futures_join(cache: Arc<dyn vantage_core::cache::Cache>) -> Vec<bool> {
    let mut handles = Vec::new();
    for _ in 0..8 {
        let c = cache.clone();
        handles.push(tokio::spawn(async move { c.set_nx("vantage:claim", "me", Duration::from_secs(60)).await.expect("set_nx") }));
    }
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("join"));
    }
    out
}

#[tokio::test]
async fn workers_always_take_the_highest_priority_queue() {
    for kind in BOTH {
        let (_, queue) = cache_and_queue(kind).await;
        let (slow, quick, agg, slow2) = (job("slow-cache", 1), job("quick-cache", 2), job("aggregation", 3), job("slow-cache", 4));
        for j in [&slow, &quick, &agg, &slow2] {
            queue.push(j).await.expect("push");
        }
        let mut order = Vec::new();
        while let Some(j) = queue.pop(&all_queues(), "w1", Duration::from_secs(30), Duration::ZERO).await.expect("pop") {
            order.push(j.id.clone());
            queue.complete(&j).await.expect("complete");
        }
        assert_eq!(order, vec![agg.id, quick.id, slow.id, slow2.id], "{kind:?}");
        // a worker serving only slow-cache never sees the others
        queue.push(&job("aggregation", 5)).await.expect("push");
        assert!(queue.pop(&["slow-cache".to_string()], "w2", Duration::from_secs(30), Duration::ZERO).await.expect("pop").is_none());
    }
}

#[tokio::test]
async fn blocked_pop_wakes_up_when_a_job_arrives() {
    for kind in BOTH {
        let (_, queue) = cache_and_queue(kind).await;
        let q2 = queue.clone();
        let waiter = tokio::spawn(async move { q2.pop(&all_queues(), "w", Duration::from_secs(30), Duration::from_secs(10)).await });
        let j = job("quick-cache", 1);
        queue.push(&j).await.expect("push");
        let got = waiter.await.expect("join").expect("pop");
        assert_eq!(got.map(|g| g.id), Some(j.id), "{kind:?}");
    }
}

#[tokio::test]
async fn lost_leases_are_requeued_then_failed() {
    for kind in BOTH {
        let (_, queue) = cache_and_queue(kind).await;
        let j = job("aggregation", 1);
        queue.push(&j).await.expect("push");
        for attempt in 1..=vantage_core::jobs::MAX_ATTEMPTS {
            let taken = queue.pop(&all_queues(), "dying", Duration::from_millis(1), Duration::ZERO).await.expect("pop").expect("job");
            assert_eq!(taken.id, j.id);
            // the worker "dies": no heartbeat, the 1 ms lease runs out
            let mut expired = queue.requeue_expired().await.expect("requeue");
            while expired.requeued.is_empty() && expired.failed.is_empty() {
                tokio::task::yield_now().await;
                expired = queue.requeue_expired().await.expect("requeue");
            }
            if attempt < vantage_core::jobs::MAX_ATTEMPTS {
                assert_eq!(expired.requeued, vec![j.id.clone()], "{kind:?}");
            } else {
                assert_eq!(expired.failed.len(), 1, "{kind:?}");
                assert!(expired.failed[0].error.as_deref().is_some_and(|e| e.contains("lease lost 3 times")));
            }
        }
        let snap = queue.snapshot().await.expect("snapshot");
        assert!(snap.running.is_empty() && snap.queued.iter().all(|(_, q)| q.is_empty()));
        assert_eq!(snap.failed.len(), 1);
        assert_eq!(queue.clear_failed().await.expect("clear"), 1);
    }
}

#[tokio::test]
async fn a_released_job_goes_back_to_the_head_of_its_queue_without_an_attempt() {
    for kind in BOTH {
        let (_, queue) = cache_and_queue(kind).await;
        let (first, second) = (job("aggregation", 1), job("aggregation", 2));
        queue.push(&first).await.expect("push");
        queue.push(&second).await.expect("push");
        // released more often than a job may lose its lease: never failed, always first again
        for _ in 0..=vantage_core::jobs::MAX_ATTEMPTS {
            let taken = queue.pop(&all_queues(), "outage", Duration::from_secs(60), Duration::ZERO).await.expect("pop").expect("job");
            assert_eq!(taken.id, first.id, "{kind:?}");
            queue.release(&taken).await.expect("release");
            assert!(queue.snapshot().await.expect("snapshot").running.is_empty(), "{kind:?}");
        }
        let taken = queue.pop(&all_queues(), "back", Duration::from_secs(60), Duration::ZERO).await.expect("pop").expect("job");
        assert_eq!((taken.id.as_str(), taken.attempts), (first.id.as_str(), 0), "{kind:?}");
        queue.complete(&taken).await.expect("complete");
        // a job no longer leased (finished, or re-queued when its lease ran out) is not queued again
        queue.release(&taken).await.expect("release of a finished job");
        let snap = queue.snapshot().await.expect("snapshot");
        let queued: Vec<&str> = snap.queued.iter().flat_map(|(_, q)| q.iter().map(|j| j.id.as_str())).collect();
        assert_eq!(queued, [second.id.as_str()], "{kind:?}");
        assert!(snap.failed.is_empty(), "{kind:?}");
    }
}

async fn service(kind: vantage_tests::Kind, now: &str) -> (TestStore, Statistics) {
    let ts = TestStore::new(kind, t(now)).await;
    let (cache, queue) = cache_and_queue(kind).await;
    let s = Statistics::new(Backends { store: ts.store.clone(), cache, queue, clock: Clock::Fixed(t(now)) });
    (ts, s)
}

fn queued(s: &[vantage_core::statistics::service::Suggestion]) -> usize {
    s.iter().filter(|x| matches!(x.outcome, Outcome::Queued { .. })).count()
}

#[tokio::test]
async fn refresh_twice_queues_nothing_the_second_time_and_two_planners_queue_once() {
    for kind in BOTH {
        let (ts, s) = service(kind, "2024-06-15T12:40:00Z").await;
        let dry = s.refresh(true).await.expect("dry run");
        assert_eq!(dry.iter().filter(|x| x.outcome == Outcome::WouldQueue).count(), 23 * 7 + 3);
        assert_eq!(s.queue.snapshot().await.expect("snap").queued.iter().map(|(_, q)| q.len()).sum::<usize>(), 0, "dry run queues nothing");

        // two planners at once: 23 resources of 1h and the quarterly aggregation, each once;
        // everything depending on quarterly waits (Blocked) while it is pending
        let s2 = s.clone();
        let (a, b) = tokio::join!(s.refresh(false), s2.refresh(false));
        let (a, b) = (a.expect("a"), b.expect("b"));
        assert_eq!(queued(&a) + queued(&b), 23 + 1, "{kind:?}");
        assert!(a.iter().chain(&b).any(|x| x.key == "aggregation:hourly" && x.outcome == Outcome::Blocked { on: Precision::Quarterly }));
        assert!(a.iter().chain(&b).any(|x| x.key.starts_with("resource:all_incidents_graph:6h") && x.outcome == Outcome::Blocked { on: Precision::Quarterly }));
        // the keys each planner claimed go out as one job per data type (a shared scan), so
        // the 24 keys travel in 4 jobs — up to 7 when the planners split a data type's keys
        let snap = s.queue.snapshot().await.expect("snap");
        let total: usize = snap.queued.iter().map(|(_, q)| q.len()).sum();
        let ids: std::collections::HashSet<&str> = a
            .iter()
            .chain(&b)
            .filter_map(|x| match &x.outcome {
                Outcome::Queued { job_id } => Some(job_id.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(total, ids.len(), "{kind:?}: no duplicate jobs");
        assert!((4..=7).contains(&total), "{kind:?}: {total} jobs");

        let again = s.refresh(false).await.expect("again");
        assert_eq!(queued(&again), 0, "{kind:?}: second refresh queues nothing");
        ts.finish().await;
    }
}

#[tokio::test]
async fn jobs_run_fill_the_cache_and_unblock_dependents() {
    for kind in BOTH {
        let (ts, s) = service(kind, "2024-06-15T12:40:00Z").await;
        s.refresh(false).await.expect("refresh");
        // the quarterly aggregation, and the 23 resources of 1h in one job per data type
        let snap = s.queue.snapshot().await.expect("snap");
        let mut jobs: Vec<(String, String)> = snap.queued.iter().flat_map(|(_, q)| q.iter().map(|j| (j.key.clone(), j.task.kind().to_string()))).collect();
        jobs.sort();
        let expected = [
            ("aggregation:quarterly", "aggregate"),
            ("resources:incidents:1h", "cache_resources"),
            ("resources:passwords:1h", "cache_resources"),
            ("resources:ports:1h", "cache_resources"),
        ];
        assert_eq!(jobs, expected.map(|(k, t)| (k.to_string(), t.to_string())), "{kind:?}");
        // run everything queued (the aggregation first: strict priority)
        let mut first = None;
        while let Some(j) = s.queue.pop(&all_queues(), "w", Duration::from_secs(30), Duration::ZERO).await.expect("pop") {
            first.get_or_insert(j.queue.clone());
            s.run_job(&j).await.expect("job runs");
            s.queue.complete(&j).await.expect("complete");
        }
        assert_eq!(first.as_deref(), Some("aggregation"));
        let r = resources::find("all_incidents_graph").expect("r");
        let read = s.read(r, Period::Hour, &Params::default(), None).await.expect("read");
        assert_eq!(read.data.as_ref().and_then(|d| d.as_array()).map(Vec::len), Some(55), "{kind:?}: cached 1h graph");
        assert!(read.computed_at.is_some() && !read.refreshing);
        // every member of the shared jobs is cached, its value the one of its own query
        for other in resources::precached() {
            let read = s.read(other, Period::Hour, &Params::default(), None).await.expect("read");
            let own = resources::compute(s.store.as_ref(), other, Period::Hour, &Params::default(), s.clock.now()).await.expect("compute");
            assert_eq!(read.data.as_ref(), Some(&own), "{kind:?}: {}", other.name);
            assert!(!read.refreshing, "{kind:?}: {} is no longer pending", other.name);
        }
        // quarterly done → hourly is no longer blocked by it (it waits for its own timeout only)
        let h = s.suggest_aggregation(Precision::Hourly, false).await.expect("hourly");
        assert!(matches!(h.outcome, Outcome::Queued { .. }), "{kind:?}: {h:?}");
        let six = s.suggest_caching(r, Period::SixHours, &Params::default(), false).await.expect("6h");
        assert!(matches!(six.outcome, Outcome::Queued { .. }), "{kind:?}: 6h reads quarterly, which is done: {six:?}");
        let week = s.suggest_caching(r, Period::Week, &Params::default(), false).await.expect("1w");
        assert_eq!(week.outcome, Outcome::Blocked { on: Precision::Hourly }, "{kind:?}: 1w waits for the pending hourly run");
        ts.finish().await;
    }
}

#[tokio::test]
async fn expired_timeout_requeues_and_failed_jobs_wait_for_their_timeout() {
    // 200 ms before the next minute: the 1h refresh timeout lasts 200 ms
    for kind in BOTH {
        let (ts, s) = service(kind, "2024-06-15T12:40:59.800Z").await;
        let r = resources::find("all_incidents_graph").expect("r");
        let first = s.suggest_caching(r, Period::Hour, &Params::default(), false).await.expect("first");
        let Outcome::Queued { .. } = first.outcome else { panic!("{kind:?}: {first:?}") };
        let j = s.queue.pop(&all_queues(), "w", Duration::from_secs(30), Duration::ZERO).await.expect("pop").expect("job");
        // its task cannot be done (a resource this version does not know): the job fails and
        // is recorded with its error (an unreachable store would put it back instead)
        let task = vantage_core::jobs::Task::new(vantage_core::statistics::tasks::CACHE_RESOURCE, &serde_json::json!({"name": "no_such_resource", "period": "1h", "params": {}})).expect("task");
        let j = Job { task, ..j };
        let err = s.run_job(&j).await.expect_err("unknown resource");
        assert!(!err.is_unavailable(), "{err}");
        s.queue.fail(&j, &err.to_string()).await.expect("fail");
        assert!(s.cache.get(&keys::failed(&j.key)).await.expect("get").is_some());
        assert_eq!(s.queue.snapshot().await.expect("snap").failed.len(), 1);
        // not retried while its timeout holds …
        let again = s.suggest_caching(r, Period::Hour, &Params::default(), false).await.expect("again");
        assert_eq!(again.outcome, Outcome::UpToDate, "{kind:?}");
        // … and re-queued once it expired
        tokio::time::sleep(Duration::from_millis(400)).await;
        let later = s.suggest_caching(r, Period::Hour, &Params::default(), false).await.expect("later");
        assert!(matches!(later.outcome, Outcome::Queued { .. }), "{kind:?}: {later:?}");
        ts.finish().await;
    }
}

#[tokio::test]
async fn clear_timeouts_clears_exactly_the_chosen_kind() {
    for kind in BOTH {
        let (ts, s) = service(kind, "2024-06-15T12:40:00Z").await;
        s.refresh(false).await.expect("refresh");
        let count = |prefix: &'static str| {
            let cache = s.cache.clone();
            async move { cache.scan(prefix).await.expect("scan").len() }
        };
        assert_eq!(count("vantage:timeout:aggregation:").await, 1, "{kind:?}: quarterly claimed");
        assert_eq!(count("vantage:timeout:resource:").await, 23, "{kind:?}: the 1h resources claimed");
        assert_eq!(s.clear_timeouts("aggregation", "quarterly").await.expect("clear"), 1);
        assert_eq!(count("vantage:timeout:aggregation:").await, 0);
        assert_eq!(count("vantage:timeout:resource:").await, 23, "{kind:?}: resource timeouts untouched");
        assert_eq!(s.clear_timeouts("resource", "6h").await.expect("clear"), 0, "no 6h timeouts were claimed");
        assert_eq!(s.clear_timeouts("resource", "1h").await.expect("clear"), 23);
        assert!(s.clear_timeouts("resource", "2h").await.is_err());
        assert!(s.clear_timeouts("everything", "1h").await.is_err());
        ts.finish().await;
    }
}

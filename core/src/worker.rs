//! The job runner behind `vantage --worker` (and the TUI's embedded workers): N slots
//! taking jobs from the queues in strict priority, a heartbeat extending each job's lease,
//! and a scheduler that — under a lock so only one of many workers schedules — runs the
//! handlers' periodic planning every minute and re-queues jobs of dead workers. A job runs on
//! the [`JobHandler`](crate::jobs::JobHandler) registered for its kind in [`Handlers`]; a queue
//! no handler serves is not served, and each served handler's upkeep (pcap: crash recovery,
//! spool cleanup) runs every few seconds.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::backends::Backends;
use crate::cache::keys;
use crate::error::Result;
use crate::jobs::{Handlers, Job, Queue};

/// Worker settings.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Queues to serve (any order; always taken by priority).
    pub queues: Vec<String>,
    /// Concurrent jobs.
    pub concurrency: usize,
    /// Name shown in `view-jobs` (host:pid by default).
    pub name: String,
    /// Lease of a taken job; the heartbeat renews it every third of it.
    pub lease: Duration,
    /// Run the handlers' planning every minute (under the scheduler lock).
    pub schedule: bool,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            queues: crate::jobs::PRIORITY.iter().map(|q| q.to_string()).collect(),
            concurrency: 2,
            name: format!("{}:{}", hostname(), std::process::id()),
            lease: Duration::from_secs(60),
            schedule: true,
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_else(|_| "localhost".into())
}

/// How often expired leases are looked for.
const REQUEUE_EVERY: Duration = Duration::from_secs(5);
/// How long a worker waits after a job found the store or cache unavailable.
const OUTAGE_BACKOFF: Duration = Duration::from_secs(2);
/// How often the planner runs.
const PLAN_EVERY: Duration = Duration::from_secs(60);

/// Runs one job with a heartbeat on the handler of its kind; completes or fails it in the queue.
pub async fn run_one(queue: &Arc<dyn Queue>, handlers: &Handlers, job: &Job, lease: Duration) -> Result<()> {
    let beat_queue = queue.clone();
    let beat_job = job.clone();
    let heartbeat = tokio::spawn(async move {
        loop {
            tokio::time::sleep(lease / 3).await;
            if let Err(e) = beat_queue.extend(&beat_job, lease).await {
                tracing::warn!(job = %beat_job.id, "lease renewal failed: {e}");
            }
        }
    });
    let result = handlers.run(job).await;
    heartbeat.abort();
    match &result {
        Ok(()) => queue.complete(job).await?,
        Err(e) if e.is_unavailable() => {
            tracing::warn!(job = %job.id, key = %job.key, "job put back, the store or cache is unavailable: {e}");
            queue.release(job).await?;
        }
        Err(e) => {
            tracing::warn!(job = %job.id, key = %job.key, "job failed: {e}");
            queue.fail(job, &e.to_string()).await?;
        }
    }
    result
}

/// Runs jobs of the queues in `options` that some handler serves until `shutdown` turns true;
/// the job in hand is finished first.
pub async fn run(backends: Backends, handlers: Arc<Handlers>, options: WorkerOptions, shutdown: watch::Receiver<bool>) -> Result<()> {
    let mut queues = crate::jobs::ordered(&options.queues)?;
    let served = handlers.queues();
    queues.retain(|q| served.contains(&q.as_str()));
    let mut tasks = Vec::new();
    for slot in 0..options.concurrency.max(1) {
        let (queue, handlers, queues, mut stop) = (backends.queue.clone(), handlers.clone(), queues.clone(), shutdown.clone());
        let name = format!("{}#{slot}", options.name);
        let lease = options.lease;
        tasks.push(tokio::spawn(async move {
            while !*stop.borrow() {
                let next = tokio::select! {
                    r = queue.pop(&queues, &name, lease, Duration::from_secs(5)) => r,
                    _ = stop.changed() => break,
                };
                match next {
                    Ok(Some(job)) => {
                        tracing::info!(job = %job.id, key = %job.key, queue = %job.queue, "running");
                        if let Err(e) = run_one(&queue, &handlers, &job, lease).await
                            && e.is_unavailable()
                        {
                            // the job is back in its queue: wait before taking it again
                            tokio::select! {
                                _ = tokio::time::sleep(OUTAGE_BACKOFF) => {}
                                _ = stop.changed() => break,
                            }
                        }
                    }
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!("queue unavailable: {e}");
                        tokio::select! {
                            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                            _ = stop.changed() => break,
                        }
                    }
                }
            }
        }));
    }
    tasks.push(tokio::spawn(scheduler(backends, handlers, queues, options, shutdown)));
    for t in tasks {
        let _ = t.await;
    }
    Ok(())
}

/// Re-queues expired leases and runs the served handlers' upkeep every [`REQUEUE_EVERY`];
/// every [`PLAN_EVERY`] (when `options.schedule`), the handlers' planning under the
/// scheduler lock.
async fn scheduler(backends: Backends, handlers: Arc<Handlers>, queues: Vec<String>, options: WorkerOptions, mut stop: watch::Receiver<bool>) {
    let mut requeue = tokio::time::interval(REQUEUE_EVERY);
    let mut plan = tokio::time::interval(PLAN_EVERY);
    loop {
        tokio::select! {
            _ = requeue.tick() => {
                match backends.queue.requeue_expired().await {
                    Ok(expired) => {
                        for id in &expired.requeued {
                            tracing::warn!(job = %id, "lease expired, job re-queued");
                        }
                        for job in &expired.failed {
                            let _ = handlers.abandoned(job, job.error.as_deref().unwrap_or("lease lost")).await;
                        }
                    }
                    Err(e) => tracing::warn!("re-queue check failed: {e}"),
                }
                for (handler, _) in handlers.each().filter(|(_, qs)| qs.iter().any(|q| queues.contains(q))) {
                    handler.upkeep(options.lease).await;
                }
            }
            _ = plan.tick(), if options.schedule => {
                match backends.cache.set_nx(&keys::lock("scheduler"), &options.name, PLAN_EVERY - Duration::from_secs(5)).await {
                    Ok(true) => {
                        for (handler, _) in handlers.each() {
                            handler.schedule().await;
                        }
                    }
                    Ok(false) => {}
                    Err(e) => tracing::warn!("scheduler lock unavailable: {e}"),
                }
            }
            _ = stop.changed() => break,
        }
    }
}

/// Runs every queued job of the queues `handlers` serve in this process until none is left
/// (how one-shot CLI commands finish their work when the queue is in-process and no worker
/// could see it).
pub async fn drain(queue: &Arc<dyn Queue>, handlers: &Handlers, lease: Duration) -> Result<usize> {
    let served = handlers.queues();
    let queues: Vec<String> = crate::jobs::PRIORITY.iter().filter(|q| served.contains(q)).map(|q| q.to_string()).collect();
    let mut n = 0;
    while let Some(job) = queue.pop(&queues, "cli", lease, Duration::ZERO).await? {
        let _ = run_one(queue, handlers, &job, lease).await;
        n += 1;
    }
    Ok(n)
}

//! The job runner behind `vantage --worker` (and the TUI's embedded workers): N slots
//! taking jobs from the queues in strict priority, a heartbeat extending each job's lease,
//! and a scheduler that — under a lock so only one of many workers schedules — runs the
//! refresh planner every minute and re-queues jobs of dead workers. A worker given a
//! [`PcapService`] also runs the pcap steps (queues `pcap-query`, `pcap-io`) and recovers pcap
//! jobs abandoned by dead workers and cleans the spool every `cleanup_period`; without one it
//! does not serve those queues.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::cache::keys;
use crate::error::Error;
use crate::error::Result;
use crate::jobs::Job;
use crate::pcap::service::PcapService;
use crate::statistics::service::Statistics;

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
    /// Run the refresh planner every minute (under the scheduler lock).
    pub schedule: bool,
    /// Runs the pcap steps; `None`: the pcap queues are not served.
    pub pcap: Option<Arc<PcapService>>,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            queues: crate::jobs::PRIORITY.iter().map(|q| q.to_string()).collect(),
            concurrency: 2,
            name: format!("{}:{}", hostname(), std::process::id()),
            lease: Duration::from_secs(60),
            schedule: true,
            pcap: None,
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_else(|_| "localhost".into())
}

/// How often expired leases are looked for.
const REQUEUE_EVERY: Duration = Duration::from_secs(5);
/// How often the planner runs.
const PLAN_EVERY: Duration = Duration::from_secs(60);

/// Runs one job with a heartbeat (pcap steps on `pcap`, the rest on `stats`); completes or
/// fails it in the queue.
pub async fn run_one(stats: &Statistics, pcap: Option<&PcapService>, job: &Job, lease: Duration) -> Result<()> {
    let queue = stats.queue.clone();
    let beat_job = job.clone();
    let heartbeat = tokio::spawn(async move {
        loop {
            tokio::time::sleep(lease / 3).await;
            if let Err(e) = queue.extend(&beat_job, lease).await {
                tracing::warn!(job = %beat_job.id, "lease renewal failed: {e}");
            }
        }
    });
    let result = match (job.task.is_pcap(), pcap) {
        (false, _) => stats.run_job(job).await,
        (true, Some(pcap)) => pcap.run_job(job).await,
        (true, None) => Err(Error::Config("this worker has no [pcap] configuration".into())),
    };
    heartbeat.abort();
    match &result {
        Ok(()) => stats.queue.complete(job).await?,
        Err(e) => {
            tracing::warn!(job = %job.id, key = %job.key, "job failed: {e}");
            stats.queue.fail(job, &e.to_string()).await?;
        }
    }
    result
}

/// Runs jobs until `shutdown` turns true; the job in hand is finished first.
pub async fn run(stats: Statistics, options: WorkerOptions, shutdown: watch::Receiver<bool>) -> Result<()> {
    let mut queues = crate::jobs::ordered(&options.queues)?;
    if options.pcap.is_none() {
        queues.retain(|q| !q.starts_with("pcap-"));
    }
    let mut tasks = Vec::new();
    for slot in 0..options.concurrency.max(1) {
        let (stats, queues, mut stop, pcap) = (stats.clone(), queues.clone(), shutdown.clone(), options.pcap.clone());
        let name = format!("{}#{slot}", options.name);
        let lease = options.lease;
        tasks.push(tokio::spawn(async move {
            while !*stop.borrow() {
                let next = tokio::select! {
                    r = stats.queue.pop(&queues, &name, lease, Duration::from_secs(5)) => r,
                    _ = stop.changed() => break,
                };
                match next {
                    Ok(Some(job)) => {
                        tracing::info!(job = %job.id, key = %job.key, queue = %job.queue, "running");
                        let _ = run_one(&stats, pcap.as_deref(), &job, lease).await;
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
    let (sched_stats, mut stop, name, schedule) = (stats.clone(), shutdown.clone(), options.name.clone(), options.schedule);
    let (pcap, lease) = (options.pcap.clone().filter(|_| queues.iter().any(|q| q.starts_with("pcap-"))), options.lease);
    tasks.push(tokio::spawn(async move {
        let mut requeue = tokio::time::interval(REQUEUE_EVERY);
        let mut plan = tokio::time::interval(PLAN_EVERY);
        loop {
            tokio::select! {
                _ = requeue.tick() => {
                    match sched_stats.queue.requeue_expired().await {
                        Ok(expired) => {
                            for id in &expired.requeued {
                                tracing::warn!(job = %id, "lease expired, job re-queued");
                            }
                            for job in &expired.failed {
                                let _ = sched_stats.record_failure(job, job.error.as_deref().unwrap_or("lease lost")).await;
                            }
                        }
                        Err(e) => tracing::warn!("re-queue check failed: {e}"),
                    }
                    if let Some(pcap) = &pcap {
                        if let Err(e) = pcap.recover(lease).await {
                            tracing::warn!("pcap recovery check failed: {e}");
                        }
                        // runs only when cleanup_period has passed (a marker in the spool)
                        if let Err(e) = pcap.cleanup(false) {
                            tracing::warn!("pcap cleanup failed: {e}");
                        }
                    }
                }
                _ = plan.tick(), if schedule => {
                    match sched_stats.cache.set_nx(&keys::lock("scheduler"), &name, PLAN_EVERY - Duration::from_secs(5)).await {
                        Ok(true) => match sched_stats.refresh(false).await {
                            Ok(s) => tracing::info!(queued = s.iter().filter(|x| matches!(x.outcome, crate::statistics::service::Outcome::Queued { .. })).count(), "refresh planned"),
                            Err(e) => tracing::warn!("refresh failed: {e}"),
                        },
                        Ok(false) => {}
                        Err(e) => tracing::warn!("scheduler lock unavailable: {e}"),
                    }
                }
                _ = stop.changed() => break,
            }
        }
    }));
    for t in tasks {
        let _ = t.await;
    }
    Ok(())
}

/// Runs every queued job in this process until none is left (how one-shot CLI commands
/// finish their work when the queue is in-process and no worker could see it); pcap jobs only
/// when `pcap` is given.
pub async fn drain(stats: &Statistics, pcap: Option<&PcapService>, lease: Duration) -> Result<usize> {
    let queues: Vec<String> = crate::jobs::PRIORITY.iter().filter(|q| pcap.is_some() || !q.starts_with("pcap-")).map(|q| q.to_string()).collect();
    let mut n = 0;
    while let Some(job) = stats.queue.pop(&queues, "cli", lease, Duration::ZERO).await? {
        let _ = run_one(stats, pcap, &job, lease).await;
        n += 1;
    }
    Ok(n)
}

/// Most planning rounds [`plan_to_fixed_point`] runs; more would mean a planner that queues
/// something new every time, which it must not.
pub const MAX_PLAN_ROUNDS: usize = 16;

/// Plans with `plan`, runs what it queued in this process ([`drain`]), and plans again until a
/// round queues nothing new: what a one-shot planner command must do on the in-process queue,
/// where the jobs that a first round unblocks (the 6h … 1y resources waiting for the quarterly
/// aggregation) have no other process to queue and run them. Returns every round's suggestions
/// merged per key (a key keeps its `Queued` outcome from the round that queued it, otherwise
/// the last round's) in first-seen order, and how many jobs ran.
pub async fn plan_to_fixed_point(
    stats: &Statistics,
    lease: Duration,
    plan: impl AsyncFn() -> Result<Vec<crate::statistics::service::Suggestion>>,
) -> Result<(Vec<crate::statistics::service::Suggestion>, usize)> {
    use crate::statistics::service::Outcome;
    let mut merged: Vec<crate::statistics::service::Suggestion> = Vec::new();
    let mut ran = 0;
    for _ in 0..MAX_PLAN_ROUNDS {
        let round = plan().await?;
        let queued_now = round.iter().any(|s| matches!(s.outcome, Outcome::Queued { .. }));
        for s in round {
            match merged.iter_mut().find(|m| m.key == s.key) {
                Some(m) if matches!(m.outcome, Outcome::Queued { .. }) => {}
                Some(m) => *m = s,
                None => merged.push(s),
            }
        }
        ran += drain(stats, None, lease).await?;
        if !queued_now {
            break;
        }
    }
    Ok((merged, ran))
}

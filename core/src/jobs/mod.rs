//! Job queues with strict priority, leases and failure records. Two implementations:
//!
//! - [`memory::MemoryQueue`]: in-process (the embedded default), jobs run on worker tasks of
//!   the same process;
//! - [`redis::RedisQueue`]: a reliable queue in Redis shared by any number of
//!   `vantage --worker` processes on any hosts.
//!
//! A worker serving several queues always takes the highest-priority non-empty one
//! ([`PRIORITY`]). A taken job is *leased*: if its worker dies (no heartbeat extends the
//! lease), [`Queue::requeue_expired`] puts it back at the head of its queue; after
//! [`MAX_ATTEMPTS`] lost leases it is failed. A job whose task returns an error is failed at
//! once and kept with its error; the refresh planner retries its key after the key's timeout.
//! A job whose task could not reach the store or the cache ([`crate::Error::is_unavailable`])
//! is released instead ([`Queue::release`]): back at the head of its queue, its attempts
//! unchanged, so that an outage of any length loses no job.
//!
//! A job is an envelope ([`Task`]: kind + payload) that the queues carry without knowing it;
//! each capability registers a [`JobHandler`] for its kinds in [`Handlers`].

mod handlers;
pub mod memory;
pub mod redis;
mod task;

pub use handlers::{Handlers, JobHandler};
pub use task::Task;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::Result;

/// Queues from highest to lowest priority.
pub const PRIORITY: &[&str] = &["aggregation", "quick-cache", "slow-cache", "pcap-query", "pcap-io"];

/// Leases a worker may lose (die holding) before the job is failed.
pub const MAX_ATTEMPTS: u32 = 3;

/// A queued, running or failed job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Random id (16 hex digits).
    pub id: String,
    /// The queue it belongs to.
    pub queue: String,
    /// Bookkeeping key (`aggregation:<precision>`, `resource:<id>`, `resources:<table>:<periods>` or `pcap:<id>`).
    pub key: String,
    /// What to do: its kind and the capability's payload.
    pub task: Task,
    /// Leases lost so far.
    pub attempts: u32,
    /// When it was queued.
    pub enqueued_at: DateTime<Utc>,
    /// Why it failed (failed jobs only).
    pub error: Option<String>,
}

impl Job {
    /// A new job with a random id.
    pub fn new(queue: &str, key: String, task: Task, now: DateTime<Utc>) -> Job {
        let id: String = (0..16).map(|_| char::from(b"0123456789abcdef"[rand::random_range(0..16usize)])).collect();
        Job { id, queue: queue.to_string(), key, task, attempts: 0, enqueued_at: now, error: None }
    }
}

/// A job currently leased by a worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Running {
    /// The job.
    pub job: Job,
    /// The worker holding it.
    pub worker: String,
    /// Milliseconds until its lease runs out (negative: expired, waiting for re-queue).
    pub lease_left_ms: i64,
}

/// What [`Queue::requeue_expired`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expired {
    /// Ids put back at the head of their queue.
    pub requeued: Vec<String>,
    /// Jobs failed because they lost [`MAX_ATTEMPTS`] leases.
    pub failed: Vec<Job>,
}

/// Everything the queues hold, for `view-jobs`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    /// Queued jobs per queue in priority order, oldest first.
    pub queued: Vec<(String, Vec<Job>)>,
    /// Running jobs.
    pub running: Vec<Running>,
    /// Failed jobs, newest first.
    pub failed: Vec<Job>,
}

/// The queue interface.
#[async_trait]
pub trait Queue: Send + Sync {
    /// `memory` or `redis`.
    fn kind(&self) -> &'static str;
    /// Appends a job to its queue.
    async fn push(&self, job: &Job) -> Result<()>;
    /// Takes the oldest job of the highest-priority non-empty queue among `queues`, leased
    /// to `worker` for `lease`; waits up to `wait` for one.
    async fn pop(&self, queues: &[String], worker: &str, lease: Duration, wait: Duration) -> Result<Option<Job>>;
    /// Extends the lease of a running job (the worker's heartbeat).
    async fn extend(&self, job: &Job, lease: Duration) -> Result<()>;
    /// Removes a finished job.
    async fn complete(&self, job: &Job) -> Result<()>;
    /// Records a failed job with its error.
    async fn fail(&self, job: &Job, error: &str) -> Result<()>;
    /// Puts a running job back at the head of its queue without counting an attempt (its task
    /// could not reach the store or cache: it is run again once they answer).
    async fn release(&self, job: &Job) -> Result<()>;
    /// Re-queues jobs whose lease ran out (their worker died); fails those out of attempts.
    async fn requeue_expired(&self) -> Result<Expired>;
    /// What is queued, running and failed.
    async fn snapshot(&self) -> Result<Snapshot>;
    /// Forgets failed jobs; returns how many.
    async fn clear_failed(&self) -> Result<u64>;
}

/// Opens the Redis queue when `redis_url` is configured, the in-process queue otherwise.
pub async fn open(config: &Config) -> Result<Arc<dyn Queue>> {
    Ok(match &config.redis_url {
        Some(url) => Arc::new(redis::RedisQueue::connect(url).await?),
        None => Arc::new(memory::MemoryQueue::default()),
    })
}

/// The queues of `wanted` in priority order (unknown names are an error listing valid ones).
pub fn ordered(wanted: &[String]) -> Result<Vec<String>> {
    for w in wanted {
        if !PRIORITY.contains(&w.as_str()) {
            return Err(crate::error::Error::InvalidArgument(format!("unknown queue `{w}`; valid: {}", PRIORITY.join(", "))));
        }
    }
    Ok(PRIORITY.iter().filter(|q| wanted.iter().any(|w| w == *q)).map(|q| q.to_string()).collect())
}

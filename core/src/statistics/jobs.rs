//! The statistics job kinds (`aggregate`, `cache_resource`) with their payloads, the handler
//! a worker runs them on, and the one-shot planner's run to a fixed point.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::aggregation::Precision;
use super::periods::Period;
use super::resources::Params;
use super::service::{Outcome, Statistics, Suggestion};
use crate::error::Result;
use crate::jobs::{Handlers, Job, JobHandler, Task};

/// Kind of a job aggregating one window of a precision (exactly once).
pub const AGGREGATE: &str = "aggregate";
/// Kind of a job computing a resource and storing it in the cache.
pub const CACHE_RESOURCE: &str = "cache_resource";
/// The statistics job kinds.
pub const KINDS: &[&str] = &[AGGREGATE, CACHE_RESOURCE];
/// The queues statistics jobs travel on.
pub const QUEUES: &[&str] = &["aggregation", "quick-cache", "slow-cache"];

/// Payload of an [`AGGREGATE`] job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aggregate {
    /// Target precision.
    pub precision: Precision,
    /// Window start.
    pub window_start: DateTime<Utc>,
}

/// Payload of a [`CACHE_RESOURCE`] job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheResource {
    /// Resource name.
    pub name: String,
    /// Display period.
    pub period: Period,
    /// Parameters.
    pub params: Params,
    /// Clock pinned by the planner (`--now`), if any.
    pub now: Option<DateTime<Utc>>,
}

/// The task aggregating the window of `precision` starting at `window_start`.
pub fn aggregate_task(precision: Precision, window_start: DateTime<Utc>) -> Result<Task> {
    Task::new(AGGREGATE, &Aggregate { precision, window_start })
}

/// The task computing and caching a resource.
pub fn cache_resource_task(payload: &CacheResource) -> Result<Task> {
    Task::new(CACHE_RESOURCE, payload)
}

/// Runs the statistics jobs; plans the refresh every minute.
pub struct StatisticsJobs(pub Statistics);

#[async_trait]
impl JobHandler for StatisticsJobs {
    async fn run(&self, job: &Job) -> Result<()> {
        self.0.run_job(job).await
    }

    async fn abandoned(&self, job: &Job, error: &str) -> Result<()> {
        self.0.record_failure(job, error).await
    }

    async fn schedule(&self) {
        match self.0.refresh(false).await {
            Ok(s) => tracing::info!(queued = s.iter().filter(|x| matches!(x.outcome, Outcome::Queued { .. })).count(), "refresh planned"),
            Err(e) => tracing::warn!("refresh failed: {e}"),
        }
    }
}

/// Registers the statistics handler for its kinds and queues.
pub fn register(handlers: &mut Handlers, stats: &Statistics) {
    handlers.register(KINDS, QUEUES, Arc::new(StatisticsJobs(stats.clone())));
}

/// Most planning rounds [`plan_to_fixed_point`] runs; more would mean a planner that queues
/// something new every time, which it must not.
pub const MAX_PLAN_ROUNDS: usize = 16;

/// Plans with `plan`, runs what it queued in this process ([`crate::worker::drain`], the
/// statistics queues only), and plans again until a round queues nothing new: what a one-shot
/// planner command must do on the in-process queue, where the jobs that a first round unblocks
/// (the 6h … 1y resources waiting for the quarterly aggregation) have no other process to queue
/// and run them. Returns every round's suggestions merged per key (a key keeps its `Queued`
/// outcome from the round that queued it, otherwise the last round's) in first-seen order, and
/// how many jobs ran.
pub async fn plan_to_fixed_point(stats: &Statistics, lease: Duration, plan: impl AsyncFn() -> Result<Vec<Suggestion>>) -> Result<(Vec<Suggestion>, usize)> {
    let mut handlers = Handlers::default();
    register(&mut handlers, stats);
    let mut merged: Vec<Suggestion> = Vec::new();
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
        ran += crate::worker::drain(&stats.queue, &handlers, lease).await?;
        if !queued_now {
            break;
        }
    }
    Ok((merged, ran))
}

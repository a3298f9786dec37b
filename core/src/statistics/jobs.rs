//! The handler a worker runs the statistics jobs ([`super::tasks`]) on, and the one-shot
//! planner's run to a fixed point.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::service::{Outcome, Statistics, Suggestion};
use super::tasks::{KINDS, QUEUES};
use crate::error::Result;
use crate::jobs::{Handlers, Job, JobHandler};

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

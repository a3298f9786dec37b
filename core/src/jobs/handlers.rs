//! Who runs which job: each capability registers a [`JobHandler`] for its job kinds and the
//! queues they travel on; a worker runs a popped job by looking up its kind in [`Handlers`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::Job;
use crate::error::{Error, Result};

/// Runs the jobs of the kinds it was registered for, and the capability's periodic work.
#[async_trait]
pub trait JobHandler: Send + Sync {
    /// Runs one job (its queue's complete/fail is the worker's business).
    async fn run(&self, job: &Job) -> Result<()>;

    /// A job of this handler was failed because its workers died holding it
    /// ([`super::MAX_ATTEMPTS`] lost leases); `error` says so.
    async fn abandoned(&self, _job: &Job, _error: &str) -> Result<()> {
        Ok(())
    }

    /// Upkeep every few seconds in each worker serving this handler's queues (crash
    /// recovery, cleanup); `lease` is the worker's lease.
    async fn upkeep(&self, _lease: Duration) {}

    /// Periodic planning, every minute in exactly one of the running workers (under the
    /// scheduler lock).
    async fn schedule(&self) {}
}

/// The job handlers of a deployment, by kind, with the queues each serves.
#[derive(Clone, Default)]
pub struct Handlers {
    by_kind: BTreeMap<String, Arc<dyn JobHandler>>,
    /// Each handler once, in registration order, with its queues.
    handlers: Vec<(Arc<dyn JobHandler>, Vec<String>)>,
}

impl std::fmt::Debug for Handlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handlers").field("kinds", &self.by_kind.keys().collect::<Vec<_>>()).field("queues", &self.queues()).finish()
    }
}

impl Handlers {
    /// Registers `handler` for jobs of `kinds`, which travel on `queues`.
    pub fn register(&mut self, kinds: &[&str], queues: &[&str], handler: Arc<dyn JobHandler>) {
        for kind in kinds {
            self.by_kind.insert(kind.to_string(), handler.clone());
        }
        self.handlers.push((handler, queues.iter().map(|q| q.to_string()).collect()));
    }

    /// The handler of `kind`.
    pub fn get(&self, kind: &str) -> Option<&Arc<dyn JobHandler>> {
        self.by_kind.get(kind)
    }

    /// Runs `job` on the handler of its kind.
    pub async fn run(&self, job: &Job) -> Result<()> {
        match self.get(job.task.kind()) {
            Some(handler) => handler.run(job).await,
            None => Err(Error::Config(format!("this worker has no handler for `{}` jobs", job.task.kind()))),
        }
    }

    /// Tells the handler of a job failed by lost leases (none: nothing to do).
    pub async fn abandoned(&self, job: &Job, error: &str) -> Result<()> {
        match self.get(job.task.kind()) {
            Some(handler) => handler.abandoned(job, error).await,
            None => Ok(()),
        }
    }

    /// Every queue some handler serves.
    pub fn queues(&self) -> Vec<&str> {
        self.handlers.iter().flat_map(|(_, q)| q.iter().map(String::as_str)).collect()
    }

    /// Each handler once with its queues, in registration order.
    pub fn each(&self) -> impl Iterator<Item = (&Arc<dyn JobHandler>, &[String])> {
        self.handlers.iter().map(|(h, q)| (h, q.as_slice()))
    }
}

//! The packet-capture service: the [`pipeline`] on the job queues shared with statistics
//! (queues `pcap-query` for the sensor requests, `pcap-io` for merges), the spool's cleanup and
//! free-space check, crash recovery and the sensors' stats. Front ends (the HTTP API, the CLI,
//! the dashboard) go through [`PcapService`].
//!
//! Job metadata lives in the spool, next to the captures: `SPOOL/<id>/query.json` and
//! `status.json`. Every process that reaches the spool (server, workers, CLI) therefore sees
//! every job, whichever queue (in-process or Redis) carried it.
//!
//! Crash recovery: a step holds the job directory's `flock` while it runs, so a job that is
//! not final, not locked, has no queued or running queue job and whose `status.json` has not
//! changed for a lease was abandoned by a dead worker. [`PcapService::recover`] (run by every
//! worker serving the pcap queues, at start and every few seconds) re-queues its current step;
//! after [`crate::jobs::MAX_ATTEMPTS`] recoveries the job is set to Error. With Redis, a dead
//! worker's leased queue job is re-queued by the queue itself first.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::jobs::{Handlers, Job, JobHandler, MAX_ATTEMPTS, Queue, Task};
use crate::pcap::client::StenoClient;
use crate::pcap::pipeline::{self, IdleCache, JobState, JobStatus, STATUS};
use crate::pcap::request::Request;
use crate::pcap::settings::PcapConfig;
use crate::pcap::spool::{self, CleanupReport, Space};

/// Queue of the sensor requests.
pub const QUERY_QUEUE: &str = "pcap-query";
/// Queue of the merges.
pub const IO_QUEUE: &str = "pcap-io";

/// Kind of the step asking the sensors of a pcap job (queue [`QUERY_QUEUE`]).
pub const QUERY: &str = "pcap_query";
/// Kind of the step merging the sensors' answers of a pcap job (queue [`IO_QUEUE`]).
pub const MERGE: &str = "pcap_merge";

/// Payload of a [`QUERY`] or [`MERGE`] step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// The pcap job id.
    pub id: String,
}

/// Whether a queue job is a pcap step.
pub fn is_step(job: &Job) -> bool {
    [QUERY, MERGE].contains(&job.task.kind())
}

fn step(kind: &str, id: &str, now: chrono::DateTime<chrono::Utc>) -> Result<Job> {
    let queue = if kind == QUERY { QUERY_QUEUE } else { IO_QUEUE };
    Ok(Job::new(queue, job_key(id), Task::new(kind, &Step { id: id.to_string() })?, now))
}

/// Registers `service` as the handler of the pcap steps and their queues.
pub fn register(handlers: &mut Handlers, service: &Arc<PcapService>) {
    handlers.register(&[QUERY, MERGE], &[QUERY_QUEUE, IO_QUEUE], service.clone());
}

/// The bookkeeping key of job `id`'s queue jobs.
pub fn job_key(id: &str) -> String {
    format!("pcap:{id}")
}

/// One sensor's `/debug/stats` counters, or why they could not be read.
pub type SensorStats = (String, std::result::Result<HashMap<String, String>, String>);

/// Packet-capture retrieval over the configured sensors, spool and queue.
pub struct PcapService {
    /// The `[pcap]` settings.
    pub config: PcapConfig,
    /// The queue the steps run from.
    pub queue: Arc<dyn Queue>,
    /// The clock of job times and the cleanup.
    pub clock: Clock,
    idle: IdleCache,
}

impl std::fmt::Debug for PcapService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcapService").field("spool_dir", &self.config.spool_dir).field("sensors", &self.config.sensors.len()).finish()
    }
}

impl PcapService {
    /// A service over `config`'s sensors and spool, queueing on `queue`.
    pub fn new(config: PcapConfig, queue: Arc<dyn Queue>, clock: Clock) -> Arc<PcapService> {
        Arc::new(PcapService { config, queue, clock, idle: IdleCache::default() })
    }

    /// Accepts a request: refuses it with [`Error::SpoolFull`] (and forces a cleanup) when the
    /// spool is low on space; otherwise creates the job, or reuses an equal one (same id), and
    /// queues its sensor requests when it is new.
    pub async fn submit(&self, request: &Request) -> Result<JobStatus> {
        if let Err(e) = spool::check_space(&self.config) {
            if let Err(c) = self.cleanup(true) {
                tracing::warn!(target: "vantage::pcap", "forced cleanup failed: {c}");
            }
            return Err(e);
        }
        let now = self.clock.now();
        let (status, created) = pipeline::create(request, &self.config, now)?;
        if created {
            self.queue.push(&step(QUERY, &status.id, now)?).await?;
        }
        Ok(status)
    }

    /// Runs one step from the queue: the sensor requests (then queues the merge) or the merge
    /// (then a cleanup when one is due).
    pub async fn run_job(&self, job: &Job) -> Result<()> {
        match job.task.kind() {
            QUERY => {
                let Step { id } = job.task.payload()?;
                let now = self.clock.now();
                if let Some(s) = pipeline::request(&self.config, &id, now, &self.idle).await?
                    && s.state == JobState::RequestComplete
                {
                    self.push_merge(&id).await?;
                }
                Ok(())
            }
            MERGE => {
                let Step { id } = job.task.payload()?;
                pipeline::merge(&self.config, &id, self.clock.now()).await?;
                self.cleanup(false).map(|_| ())
            }
            _ => Err(Error::InvalidArgument(format!("not a pcap job: {:?}", job.task))),
        }
    }

    async fn push_merge(&self, id: &str) -> Result<()> {
        self.queue.push(&step(MERGE, id, self.clock.now())?).await
    }

    /// Re-queues jobs abandoned by dead workers (see the module docs); `grace` is how long an
    /// unfinished, unlocked job's status must be unchanged. Returns the ids handled.
    pub async fn recover(&self, grace: Duration) -> Result<Vec<String>> {
        // cheap checks first (a file's mtime, then its state); the queue is read only when
        // some job looks abandoned — this runs every few seconds in every worker
        let (dir, now) = (&self.config.spool_dir, SystemTime::now());
        let mut candidates = Vec::new();
        for (id, _) in spool::job_dirs(dir)? {
            // a job being created has no status yet: not abandoned
            let Ok(changed) = std::fs::metadata(dir.join(&id).join(STATUS)).and_then(|m| m.modified()) else { continue };
            if changed + grace <= now
                && let Some(status) = pipeline::status(dir, &id)?
                && !status.state.is_final()
            {
                candidates.push(status);
            }
        }
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let snapshot = self.queue.snapshot().await?;
        let busy: HashSet<&str> =
            snapshot.queued.iter().flat_map(|(_, jobs)| jobs.iter()).chain(snapshot.running.iter().map(|r| &r.job)).map(|j| j.key.as_str()).collect();
        let mut handled = Vec::new();
        for status in candidates.into_iter().filter(|s| !busy.contains(job_key(&s.id).as_str())) {
            let Some(recovered) = pipeline::recover(&self.config, &status.id, self.clock.now(), MAX_ATTEMPTS)? else { continue };
            tracing::warn!(target: "vantage::pcap", job = %status.id, state = %status.state, "abandoned job recovered: {}", recovered.state);
            match recovered.state {
                JobState::Created | JobState::Requesting => self.queue.push(&step(QUERY, &status.id, self.clock.now())?).await?,
                JobState::RequestComplete | JobState::Merging => self.push_merge(&status.id).await?,
                _ => {}
            }
            handled.push(status.id);
        }
        Ok(handled)
    }

    /// Runs the cleanup now when `force`, else only when `cleanup_period` has passed.
    pub fn cleanup(&self, force: bool) -> Result<CleanupReport> {
        spool::cleanup(&self.config, self.clock.now(), force, &spool::space)
    }

    /// Free space and inodes of the spool.
    pub fn space(&self) -> Result<Space> {
        spool::space(&self.config.spool_dir)
    }

    /// The status of job `id` (`None` when unknown; an error for a malformed id).
    pub fn status(&self, id: &str) -> Result<Option<JobStatus>> {
        pipeline::status(&self.config.spool_dir, id)
    }

    /// Asks to cancel job `id` ([`pipeline::cancel`]): `None` when unknown, an error when final.
    pub fn cancel(&self, id: &str) -> Result<Option<JobStatus>> {
        pipeline::cancel(&self.config, id, self.clock.now())
    }

    /// Every job in the spool, oldest first.
    pub fn statuses(&self) -> Result<Vec<JobStatus>> {
        pipeline::statuses(&self.config.spool_dir)
    }

    /// Asks the named sensors (all when `names` is empty) for `/debug/stats`, concurrently, in
    /// configuration order. An unknown name is an error listing the configured ones.
    pub async fn sensor_stats(&self, names: &[String]) -> Result<Vec<SensorStats>> {
        let sensors = &self.config.sensors;
        if let Some(unknown) = names.iter().find(|n| !sensors.iter().any(|s| &s.name == *n)) {
            let known: Vec<&str> = sensors.iter().map(|s| s.name.as_str()).collect();
            return Err(Error::InvalidArgument(format!("unknown sensor `{unknown}`; configured: {}", known.join(", "))));
        }
        let chosen = sensors.iter().filter(|s| names.is_empty() || names.contains(&s.name));
        Ok(futures::future::join_all(chosen.map(|s| async move {
            let result = async { StenoClient::new(s)?.with_stat_timeout(self.config.stat_timeout).stats().await }.await;
            (s.name.clone(), result.map_err(|e| e.to_string()))
        }))
        .await)
    }
}

#[async_trait]
impl JobHandler for PcapService {
    async fn run(&self, job: &Job) -> Result<()> {
        self.run_job(job).await
    }

    /// Recovers jobs abandoned by dead workers and cleans the spool every `cleanup_period`.
    async fn upkeep(&self, lease: Duration) {
        if let Err(e) = self.recover(lease).await {
            tracing::warn!("pcap recovery check failed: {e}");
        }
        // runs only when cleanup_period has passed (a marker in the spool)
        if let Err(e) = self.cleanup(false) {
            tracing::warn!("pcap cleanup failed: {e}");
        }
    }
}

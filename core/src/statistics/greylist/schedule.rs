//! The worker's daily greylist snapshot: registered as a job handler without jobs whose
//! planning (every minute, in exactly one worker, under the scheduler lock) writes
//! `greylist-latest.csv` and the day's archive file when the clock's day has none yet.

use std::sync::Arc;

use async_trait::async_trait;

use super::{GreylistConfig, compute, files};
use crate::clock::Clock;
use crate::error::Result;
use crate::geo::GeoIp;
use crate::jobs::{Handlers, Job, JobHandler};
use crate::store::StatisticsStore;

/// Writes the day's snapshot from the scheduler.
pub struct DailySnapshot {
    store: Arc<dyn StatisticsStore>,
    clock: Clock,
    rule: Arc<GreylistConfig>,
}

impl DailySnapshot {
    /// Writes the snapshot of the clock's day unless its archive file exists; returns whether
    /// it wrote. GeoIP databases that cannot be read give no countries (and a warning).
    pub async fn run_once(&self) -> Result<bool> {
        let now = self.clock.now();
        let date = now.date_naive();
        if self.rule.dir.join(files::archive_path(date)).exists() {
            return Ok(false);
        }
        let geo = GeoIp::open_dir(&self.rule.geoip_dir).unwrap_or_else(|e| {
            tracing::warn!("greylist: no GeoIP countries: {e}");
            GeoIp::default()
        });
        let entries = compute(self.store.as_ref(), &self.rule, now, &geo).await?;
        files::write_snapshot(&self.rule.dir, date, &entries)?;
        Ok(true)
    }
}

#[async_trait]
impl JobHandler for DailySnapshot {
    async fn run(&self, job: &Job) -> Result<()> {
        Err(crate::error::Error::Config(format!("the greylist snapshot runs no `{}` jobs", job.task.kind())))
    }

    async fn schedule(&self) {
        match self.run_once().await {
            Ok(true) => tracing::info!(dir = %self.rule.dir.display(), "greylist snapshot written"),
            Ok(false) => {}
            Err(e) => tracing::warn!("greylist snapshot failed: {e}"),
        }
    }
}

/// Registers the daily snapshot (no job kinds, no queues: only its planning runs).
pub fn register(handlers: &mut Handlers, store: Arc<dyn StatisticsStore>, clock: Clock, rule: Arc<GreylistConfig>) {
    handlers.register(&[], &[], Arc::new(DailySnapshot { store, clock, rule }));
}

//! Packet captures through the engine: requests, job statuses, sensors, summaries, cleanup.

use std::sync::Arc;

use super::error::{Error, Result};
use crate::config::Config;
use crate::pcap::pipeline::JobStatus;
use crate::pcap::request::Request;
use crate::pcap::service::{PcapService, SensorStats};
use crate::pcap::settings::PcapConfig;
use crate::pcap::spool::CleanupReport;
use crate::pcap::summary::{self, CaptureSummary};

/// Rows of a capture's summary: the top talkers, ports and protocols.
const SUMMARY_TOP: usize = 20;
/// Packets in a capture summary's preview.
const SUMMARY_PREVIEW: usize = 200;

/// The packet-capture methods of a [`Engine`](super::Engine), or of the spool and sensors alone
/// ([`PcapApi::offline`]).
#[derive(Clone)]
pub struct PcapApi {
    pub(super) service: Arc<PcapService>,
}

impl PcapApi {
    /// The spool and the sensors of the configuration without a deployment (no store, cache
    /// or queue): for the commands that only read the spool or ask the sensors.
    pub fn offline(config: &Config) -> Result<PcapApi> {
        let settings = PcapConfig::from_config(config)?;
        Ok(PcapApi { service: PcapService::new(settings, Arc::new(crate::jobs::memory::MemoryQueue::default()), config.clock) })
    }

    /// The `[pcap]` settings.
    pub fn settings(&self) -> &PcapConfig {
        &self.service.config
    }

    /// Submits a capture request given as the text an analyst typed (URL-form clauses or a
    /// raw Stenographer query, see [`Request::from_text`]).
    pub async fn submit_text(&self, text: &str) -> Result<JobStatus> {
        let service = &self.service;
        let request =
            Request::from_text(text, &service.config.request_settings(), service.clock.now()).map_err(|e| crate::Error::InvalidArgument(e.message))?;
        self.submit(&request).await
    }

    /// Submits a capture request: a new job, or the equal existing one.
    pub async fn submit(&self, request: &Request) -> Result<JobStatus> {
        Ok(self.service.submit(request).await?)
    }

    /// Every job in the spool, oldest first.
    pub fn statuses(&self) -> Result<Vec<JobStatus>> {
        Ok(self.service.statuses()?)
    }

    /// One job's status; None when the spool has no such job.
    pub fn status(&self, id: &str) -> Result<Option<JobStatus>> {
        Ok(self.service.status(id)?)
    }

    /// Asks to cancel job `id`: its status, Cancelled at once when no worker is running one of
    /// its steps, else as the worker left it (which then stops within a fraction of a second).
    /// [`Error::NotFound`] for an unknown job, [`Error::InvalidArgument`] for a final one.
    pub fn cancel(&self, id: &str) -> Result<JobStatus> {
        self.service.cancel(id)?.ok_or_else(|| Error::not_found(format!("no pcap job {id}")))
    }

    /// The `/debug/stats` counters (or error) of the named sensors (all when empty), asked
    /// concurrently.
    pub async fn sensors(&self, names: &[String]) -> Result<Vec<SensorStats>> {
        Ok(self.service.sensor_stats(names).await?)
    }

    /// The spool's free bytes; None when they could not be measured.
    pub fn free_bytes(&self) -> Option<u64> {
        self.service.space().ok().map(|s| s.free_bytes)
    }

    /// The summary of a completed job's capture ([`Error::NotFound`] without one).
    pub async fn summary(&self, id: &str) -> Result<CaptureSummary> {
        let status = self.status(id)?.ok_or_else(|| Error::not_found(format!("no pcap job {id}")))?;
        let path = status.merged.ok_or_else(|| Error::not_found(format!("pcap job {id} has no capture ({})", status.state)))?;
        let summary = tokio::task::spawn_blocking(move || summary::summarize(&path, SUMMARY_TOP, SUMMARY_PREVIEW))
            .await
            .map_err(|e| crate::Error::Pcap(format!("summary task: {e}")))??;
        Ok(summary)
    }

    /// Deletes expired jobs (`force`: now, and for space) and reports what was deleted.
    pub fn cleanup(&self, force: bool) -> Result<CleanupReport> {
        Ok(self.service.cleanup(force)?)
    }
}

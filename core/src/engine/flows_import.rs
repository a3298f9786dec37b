//! Flow imports that read captures: files given by path, and the captures of packet-capture
//! jobs (the engine, as the composition root, is where the two capabilities meet: flows never
//! imports pcap).

use std::sync::Arc;

use super::error::{Error, Result};
use super::flows::FlowsApi;
use crate::flows::import::{self, Captures, ImportReport, Input};
use crate::progress::Progress;

impl FlowsApi<'_> {
    /// Imports flow files, the flows built from `captures` and those of the completed capture
    /// jobs `jobs` (their merged capture, built with `captures.settings`), all in one
    /// transaction; `strict`: nothing is stored if any record is bad.
    pub async fn import_with_captures(&self, inputs: Vec<Input>, mut captures: Captures, jobs: &[String], strict: bool, progress: Arc<dyn Progress>) -> Result<ImportReport> {
        let pcap = self.engine.pcap();
        for id in jobs {
            let status = pcap.status(id)?.ok_or_else(|| Error::not_found(format!("no pcap job {id}")))?;
            let merged = status.merged.ok_or_else(|| Error::not_found(format!("pcap job {id} has no capture ({})", status.state)))?;
            captures.paths.push(merged);
        }
        Ok(import::import_all(self.engine.deployment.stats.store.as_ref(), inputs, &captures, strict, progress).await?)
    }
}

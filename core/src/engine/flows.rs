//! Flow analytics through the engine: raw flow imports and what is stored.

use std::sync::Arc;

use super::Engine;
use super::error::Result;
use crate::flows::import::{self, ImportReport, Input};
use crate::progress::Progress;
use crate::store::flows::FlowsStatus;

/// The flow-analytics methods of an [`Engine`].
pub struct FlowsApi<'a> {
    pub(super) engine: &'a Engine,
}

impl FlowsApi<'_> {
    /// Imports raw flow files (nfdump CSV, Zeek conn.log) in one transaction; `strict`:
    /// nothing is stored if any record is bad.
    pub async fn import(&self, inputs: Vec<Input>, strict: bool, progress: Arc<dyn Progress>) -> Result<ImportReport> {
        Ok(import::import(self.engine.deployment.stats.store.as_ref(), inputs, strict, progress).await?)
    }

    /// How many flows are stored and the span of their start times.
    pub async fn status(&self) -> Result<FlowsStatus> {
        Ok(self.engine.deployment.stats.store.flows_status().await?)
    }
}

//! Flow analytics through the engine: raw flow imports, what is stored, the OA run of a date
//! and what it stored.

use std::sync::Arc;

use super::Engine;
use super::error::Result;
use chrono::NaiveDate;

use crate::flows::enrich::{Enricher, FlowsSettings};
use crate::flows::import::{self, ImportReport, Input};
use crate::flows::oa::{self, OaReport, Scored};
use crate::store::flows::oa::OaOutputs;
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

    /// Runs the OA steps 1–8 for `date` over `rows` (most suspicious first), enriched with the
    /// `[flows]` section's data, replacing the date's previous outputs.
    pub async fn oa(&self, date: NaiveDate, rows: &[Scored]) -> Result<OaReport> {
        let config = &self.engine.config;
        let enricher = Enricher::load(&FlowsSettings::from_config(config)?, &config.geoip_dir)?;
        Ok(oa::run(self.engine.deployment.stats.store.as_ref(), &enricher, date, rows).await?)
    }

    /// What the last OA run of `date` stored (empty when none ran).
    pub async fn outputs(&self, date: NaiveDate) -> Result<OaOutputs> {
        Ok(self.engine.deployment.stats.store.oa_outputs(date).await?)
    }
}

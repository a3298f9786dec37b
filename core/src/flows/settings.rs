//! The flow analytics' settings as a deployment holds them: the `[flows]` section read and
//! checked at start-up, and the mmdb directory; the data files they name are loaded when a run
//! or a read needs them — the safelists by every read, so an edited file changes the next
//! answer without a restart, a re-import or a re-run.

use std::path::PathBuf;

use super::enrich::{Enricher, FlowsSettings};
use super::safelist::{Safelist, Screen};
use crate::config::Config;
use crate::error::Result;

/// The `[flows]` section and the mmdb directory.
#[derive(Debug, Clone, Default)]
pub struct FlowsConfig {
    /// The resolved `[flows]` section.
    pub settings: FlowsSettings,
    /// Where the mmdb files are (the geolocation without `iploc`).
    pub geoip_dir: PathBuf,
}

impl FlowsConfig {
    /// The flow settings of `config` (errors name the file, line and key).
    pub fn from_config(config: &Config) -> Result<FlowsConfig> {
        Ok(FlowsConfig { settings: FlowsSettings::from_config(config)?, geoip_dir: config.geoip_dir.clone() })
    }

    /// The enrichment data, read now.
    pub fn enricher(&self) -> Result<Enricher> {
        Enricher::load(&self.settings, &self.geoip_dir)
    }

    /// The safelists, read now.
    pub fn safelist(&self) -> Result<Safelist> {
        Safelist::load(&self.settings.safelist)
    }

    /// The safelists with what tells an address's domain, read now.
    pub fn screen(&self) -> Result<Screen> {
        Screen::load(&self.settings, &self.geoip_dir)
    }
}

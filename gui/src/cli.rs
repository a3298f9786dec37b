//! The `vantage-gui` command line: the global options of `vantage` (the very same clap
//! definitions, so `--config`, `--data-dir`, `--database-url`, `--redis-url`, `--now` and the
//! `VANTAGE_*` variables mean the same) and the demo switch.

use clap::Parser;
use vantage_core::engine::Engine;
use vantage_core::Config;
use vantage_views::cli::GlobalArgs;

use crate::demo::DemoOptions;

/// Vantage desktop app — the analyst workstation's dashboard in a window.
#[derive(Debug, Parser)]
#[command(name = "vantage-gui", version)]
pub struct GuiCli {
    #[allow(missing_docs, reason = "a doc comment here would be clap help text")]
    #[command(flatten)]
    pub global: GlobalArgs,
    /// Fill an empty store with a year of demo data (like `vantage demo`) and open on it.
    #[arg(long)]
    pub demo: bool,
    /// Demo: random seed; the same seed and --now give the same data.
    #[arg(long, default_value_t = 42, requires = "demo")]
    pub seed: u64,
    /// Demo: volume multiplier (1.0 ≈ 1.1 million raw rows).
    #[arg(long, default_value_t = 1.0, requires = "demo")]
    pub scale: f64,
}

impl GuiCli {
    /// The configuration from file, environment and flags, every capability section validated.
    pub fn config(&self) -> anyhow::Result<Config> {
        Ok(Engine::load_config(self.global.overrides())?)
    }

    /// The demo to run before the dashboard opens, if asked for (the scale checked).
    pub fn demo(&self) -> anyhow::Result<Option<DemoOptions>> {
        if !self.demo {
            return Ok(None);
        }
        if !(self.scale > 0.0 && self.scale <= 100.0) {
            anyhow::bail!("--scale {}: must be > 0 and ≤ 100", self.scale);
        }
        Ok(Some(DemoOptions { seed: self.seed, scale: self.scale }))
    }
}

//! `vantage-gui --demo`: fills an empty store with the demo year before the dashboard reads
//! it, as `vantage demo` does — the demo statistics, the demo device token registered for My
//! devices, the attempted passwords imported into the leaked-password store. A store that
//! already holds statistics is left as it is.

use std::sync::Arc;

use vantage_core::engine::{Engine, Parts};
use vantage_core::progress::Progress;
use vantage_core::{Config, devices};

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DemoOptions {
    /// Random seed; the same seed and clock give the same data.
    pub seed: u64,
    /// Volume multiplier (1.0 ≈ 1.1 million raw rows).
    pub scale: f64,
}

/// What the fill did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filled {
    /// The demo device token, now registered (None: the store already had data).
    pub token: Option<String>,
    /// One line for the status bar.
    pub summary: String,
}

/// Fills the configured store (blocking: run it off the UI thread).
pub fn fill(config: &Config, options: DemoOptions, progress: Arc<dyn Progress>) -> anyhow::Result<Filled> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(async {
        let engine = Engine::open_parts(config, Parts::StoreOnly).await?;
        let filled = generate(&engine, config, options, progress).await;
        engine.close().await;
        filled
    })
}

async fn generate(engine: &Engine, config: &Config, options: DemoOptions, progress: Arc<dyn Progress>) -> anyhow::Result<Filled> {
    let totals = engine.statistics().table_totals().await?;
    let existing: i64 = totals.iter().filter(|t| ["incidents", "passwords", "ports"].contains(&t.table)).map(|t| t.rows).sum();
    if existing > 0 {
        return Ok(Filled { token: None, summary: format!("{} already holds {existing} raw statistics rows: no demo generated", engine.store_location()) });
    }
    let report = engine.statistics().demo(options.seed, options.scale, progress.clone()).await?;
    let mut tokens = devices::load(&config.data_dir)?;
    if !tokens.contains(&report.demo_device_token) {
        tokens.push(report.demo_device_token.clone());
    }
    devices::save(&config.data_dir, &tokens)?;
    let leaked = engine.passwords().import_statistics(progress).await?;
    let summary = format!(
        "demo data: {} incidents, {} passwords, {} ports from {} devices; {} leaked-password hashes",
        report.rows.incidents, report.rows.passwords, report.rows.ports, report.devices, leaked.hashes
    );
    Ok(Filled { token: Some(report.demo_device_token), summary })
}

//! `vantage-gui --demo`: fills the empty parts of the store with demo data before the
//! dashboard reads it, through the same [`Engine::demo`] as `vantage demo` (statistics with
//! the demo device token and leaked passwords, the sample events, a demo capture, a flows day).

use std::sync::Arc;

use vantage_core::engine::{Engine, Parts};
use vantage_core::progress::Progress;
use vantage_core::Config;

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
        let filled = generate(&engine, options, progress).await;
        engine.close().await;
        filled
    })
}

async fn generate(engine: &Engine, options: DemoOptions, progress: Arc<dyn Progress>) -> anyhow::Result<Filled> {
    let report = engine.demo(options.seed, options.scale, progress).await?;
    let mut parts = Vec::new();
    let token = report.statistics.as_ref().map(|s| {
        let rows = &s.report.rows;
        parts.push(format!("{} incidents, {} passwords, {} ports; {} leaked-password hashes", rows.incidents, rows.passwords, rows.ports, s.leaked.hashes));
        s.report.demo_device_token.clone()
    });
    if let Some(events) = &report.events {
        parts.push(format!("{} sample events", events.import.imported));
    }
    if report.capture_created {
        parts.push("a demo capture".to_string());
    }
    if let Some(flows) = &report.flows {
        parts.push(format!("{} flows on {} ({} suspicious)", flows.imported, flows.oa.date, flows.oa.scores));
    }
    let summary = if parts.is_empty() {
        format!("{} already holds demo data: nothing generated", engine.store_location())
    } else {
        format!("demo data: {}", parts.join("; "))
    };
    Ok(Filled { token, summary })
}

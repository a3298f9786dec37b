//! `vantage demo`

use std::process::ExitCode;
use std::sync::Arc;

use vantage_core::{Config, devices};
use vantage_core::statistics::demo;

use super::open_store;
use crate::output::table;
use crate::progress::Bars;

/// Fills the store with a year of demo data (unless it already holds statistics) and prints
/// a summary, registers the demo device token (My devices), then opens the dashboard
/// unless `--no-tui`.
pub async fn run(config: &Config, args: crate::cli::DemoArgs, global: crate::cli::GlobalArgs) -> anyhow::Result<ExitCode> {
    if !(args.scale > 0.0 && args.scale <= 100.0) {
        anyhow::bail!("--scale {}: must be > 0 and ≤ 100", args.scale);
    }
    let engine = open_store(config).await?;
    let totals = engine.statistics().table_totals().await?;
    let existing: i64 = totals.iter().filter(|t| ["incidents", "passwords", "ports"].contains(&t.table)).map(|t| t.rows).sum();
    let started = std::time::Instant::now();
    if existing > 0 {
        println!("{} already holds {existing} raw statistics rows; not generating more (use another --data-dir for a fresh demo)", engine.store_location());
    } else {
        let now = config.clock.now();
        let report = engine.statistics().demo(args.seed, args.scale, Arc::new(Bars::default())).await?;
        println!(
            "demo data in {}: {} incidents, {} passwords, {} ports from {} devices, {} days up to {} (seed {}), {:.1} s",
            engine.store_location(),
            report.rows.incidents,
            report.rows.passwords,
            report.rows.ports,
            report.devices,
            demo::DEMO_DAYS,
            now.format("%Y-%m-%d %H:%M UTC"),
            args.seed,
            started.elapsed().as_secs_f64()
        );
        let mut tokens = devices::load(&config.data_dir)?;
        tokens.push(report.demo_device_token.clone());
        devices::save(&config.data_dir, &tokens)?;
        println!("demo device token registered for My devices in {}", devices::path(&config.data_dir).display());
        let leaked = engine.passwords().import_statistics(Arc::new(Bars::default())).await?;
        println!("leaked-password store: {} attempted passwords imported as {} hashes", leaked.lines, leaked.hashes);
    }
    let rows: Vec<Vec<String>> = engine
        .statistics()
        .table_totals()
        .await?
        .into_iter()
        .map(|t| vec![t.table.to_string(), t.rows.to_string(), t.sum.to_string()])
        .collect();
    print!("{}", table(&["table", "rows", "sum(raw_count)"], &rows));
    engine.close().await;
    if !args.no_tui {
        let config = config.clone();
        tokio::task::spawn_blocking(move || super::dashboard(config, &global)).await??;
    }
    Ok(ExitCode::SUCCESS)
}

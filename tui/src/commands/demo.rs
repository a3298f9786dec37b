//! `vantage demo`

use std::process::ExitCode;
use std::sync::Arc;

use vantage_core::Config;
use vantage_core::engine::demo::DemoReport;
use vantage_core::statistics::demo;

use super::open_store;
use crate::output::table;
use crate::progress::Bars;

/// Fills every empty part of the store with demo data ([`vantage_core::engine::Engine::demo`]:
/// a year of statistics with the demo device token for My devices, IntelMQ's sample events,
/// a demo capture), prints what it filled, then opens the dashboard unless `--no-tui`.
pub async fn run(config: &Config, args: crate::cli::DemoArgs, global: crate::cli::GlobalArgs) -> anyhow::Result<ExitCode> {
    if !(args.scale > 0.0 && args.scale <= 100.0) {
        anyhow::bail!("--scale {}: must be > 0 and ≤ 100", args.scale);
    }
    let engine = open_store(config).await?;
    let report = engine.demo(args.seed, args.scale, Arc::new(Bars::default())).await?;
    print_report(&report, &engine.store_location(), config, args.seed);
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
        tokio::task::spawn_blocking(move || super::dashboard_with(config, &global, true)).await??;
    }
    Ok(ExitCode::SUCCESS)
}

/// One or two lines per part: what was filled, or why it was left alone.
fn print_report(report: &DemoReport, location: &str, config: &Config, seed: u64) {
    let now = config.clock.now();
    match &report.statistics {
        None => println!(
            "{location} already holds {} raw statistics rows; not generating more (use another --data-dir for a fresh demo)",
            report.statistics_before
        ),
        Some(s) => {
            let r = &s.report;
            println!(
                "demo data in {location}: {} incidents, {} passwords, {} ports from {} devices, {} days up to {} (seed {seed}), {:.1} s",
                r.rows.incidents,
                r.rows.passwords,
                r.rows.ports,
                r.devices,
                demo::DEMO_DAYS,
                now.format("%Y-%m-%d %H:%M UTC"),
                s.seconds
            );
            println!("demo device token registered for My devices in {}", s.devices_file.display());
            println!("leaked-password store: {} attempted passwords imported as {} hashes", s.leaked.lines, s.leaked.hashes);
        }
    }
    match &report.events {
        None => println!("events: the store already holds {} events; the IntelMQ sample is not imported again", report.events_before),
        Some(e) => {
            let days = e.days.map_or("no days".to_string(), |(first, last)| format!("{} days {first} … {last}", (last - first).num_days() + 1));
            let rows: u64 = e.import.aggregation.as_ref().map_or(0, |a| a.outcome.rows_written.iter().sum());
            println!("demo events: {} IntelMQ sample events re-dated onto {days}, aggregated into {rows} daily rows", e.import.imported);
        }
    }
    let c = &report.capture;
    let verb = if report.capture_created { "written" } else { "already in the spool" };
    println!("demo capture {verb}: pcap job {} {} ({} bytes, sensor `demo`, no sensor asked)", c.id, c.state, c.bytes);
    match &report.flows {
        None => println!("flows: the store already holds {} flows; the demo day is not imported again", report.flows_before),
        Some(f) => println!(
            "demo flows: {} flows on {} (nfdump samples and a synthetic beacon), OA: {} suspicious, {} edges, {} chords",
            f.imported, f.oa.date, f.oa.scores, f.oa.edges, f.oa.chords
        ),
    }
}

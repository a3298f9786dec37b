//! `vantage aggregate-period` and `vantage migrate-period`

use std::process::ExitCode;
use std::sync::Arc;

use vantage_core::Config;
use vantage_core::progress::NoProgress;
use vantage_core::statistics::aggregation::{AggregationReport, Precision};

use super::open_store;
use crate::cli::{AggregateArgs, MigrateArgs};
use crate::output::table;
use crate::progress::Bars;

/// Aggregates the precision's current window (the last complete one at `--now`).
pub async fn aggregate_period(config: &Config, args: AggregateArgs) -> anyhow::Result<ExitCode> {
    let precision: Precision = args.period.parse()?;
    let engine = open_store(config).await?;
    let report = engine.statistics().aggregate(precision, args.dry_run, Arc::new(NoProgress)).await?;
    engine.close().await;
    print_report(&report, args.json);
    Ok(exit_code(&report))
}

/// Back-fills the last `--days` days window by window.
pub async fn migrate_period(config: &Config, args: MigrateArgs) -> anyhow::Result<ExitCode> {
    let precision: Precision = args.period.parse()?;
    let days = args.days.unwrap_or_else(|| precision.default_backfill_days());
    if days == 0 || days > 36_600 {
        anyhow::bail!("--days {days}: must be between 1 and 36600");
    }
    let engine = open_store(config).await?;
    let report = engine.statistics().backfill(precision, days, args.dry_run, Arc::new(Bars::default())).await?;
    engine.close().await;
    print_report(&report, args.json);
    Ok(exit_code(&report))
}

/// 1 when a window could not be aggregated (each was reported on stderr), else 0.
fn exit_code(report: &AggregationReport) -> ExitCode {
    for f in &report.failed {
        eprintln!("error: {}", f.error);
    }
    if report.failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

fn print_report(report: &AggregationReport, json: bool) {
    if json {
        println!("{}", serde_json::to_string(report).unwrap_or_default());
        return;
    }
    let precision = report.precision.map(|p| p.to_string()).unwrap_or_default();
    if report.dry_run {
        println!("dry run: {precision}, {} windows examined, {} need work", report.windows, report.pending.len());
        let rows: Vec<Vec<String>> = report
            .pending
            .iter()
            .map(|p| {
                let mut row = vec![p.window.to_string()];
                row.extend(p.actions.iter().map(|a| format!("{a:?}").to_lowercase()));
                row
            })
            .collect();
        if !rows.is_empty() {
            print!("{}", table(&["window", "incidents", "passwords", "ports"], &rows));
        }
        return;
    }
    println!(
        "{precision}: {} windows in {:.2} s — {} written, {} replaced (late rows), {} already done, {} empty; {} aggregated rows",
        report.windows,
        report.elapsed.as_secs_f64(),
        report.inserted,
        report.replaced,
        report.skipped,
        report.empty,
        report.rows_written
    );
    if !report.failed.is_empty() {
        println!("{} windows failed (see the errors); the others were aggregated", report.failed.len());
    }
}

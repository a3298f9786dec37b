//! `vantage flows …`: raw flow imports and status (flows.md).

use std::process::ExitCode;
use std::sync::Arc;

use vantage_core::Config;
use vantage_core::flows::import::{ImportReport, Input};

use super::{import_exit, open_inputs, open_store, report_rejections};
use crate::cli::{FlowsCommand, FlowsImportArgs};
use crate::progress::Bars;

/// Runs one `vantage flows` command.
pub async fn run(config: &Config, command: FlowsCommand) -> anyhow::Result<ExitCode> {
    match command {
        FlowsCommand::Import(args) => import(config, args).await,
        FlowsCommand::Status(args) => {
            let engine = open_store(config).await?;
            let status = engine.flows().status().await;
            engine.close().await;
            let status = status?;
            if args.json {
                println!("{}", serde_json::to_string(&status)?);
            } else {
                let time = |t: Option<chrono::DateTime<chrono::Utc>>| t.map_or("-".to_string(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string());
                println!("{} flows, started {} … {}", status.flows, time(status.first), time(status.last));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `vantage flows import`: bad lines are reported as `file:line: field: reason` (exit 3);
/// with `--strict` nothing is stored then (exit 1).
async fn import(config: &Config, args: FlowsImportArgs) -> anyhow::Result<ExitCode> {
    let inputs = open_inputs(&args.files)?.into_iter().map(|(name, reader)| Input { name, reader }).collect();
    let engine = open_store(config).await?;
    let report = engine.flows().import(inputs, args.strict, Arc::new(Bars::default())).await;
    engine.close().await;
    let report = report?;
    report_rejections(&report.rejected, report.rejected_records);
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_import(&report);
    }
    Ok(import_exit(report.committed, report.rejected_records))
}

fn print_import(report: &ImportReport) {
    if report.committed {
        println!("imported {} flows of {} records in {:.2} s; {} rejected", report.imported, report.records, report.seconds, report.rejected_records);
    } else {
        println!("nothing imported: {} rejected records (--strict)", report.rejected_records);
    }
}

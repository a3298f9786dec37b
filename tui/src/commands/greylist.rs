//! `vantage greylist export`

use std::process::ExitCode;

use vantage_core::Config;

use super::on_store;
use crate::cli::GreylistCommand;

/// Runs a `vantage greylist …` command.
pub async fn run(config: &Config, command: GreylistCommand) -> anyhow::Result<ExitCode> {
    match command {
        GreylistCommand::Export(args) => {
            let written = on_store(config, async |engine| engine.statistics().export_greylist(args.out.as_deref()).await).await?;
            if args.json {
                println!("{}", serde_json::to_string(&written)?);
            } else {
                println!("greylist of {}: {} addresses → {} and {}", written.date, written.addresses, written.latest.display(), written.archive.display());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

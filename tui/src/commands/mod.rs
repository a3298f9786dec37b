//! Command implementations: each turns parsed arguments into calls on `vantage-core`.

mod aggregate;
mod demo;
mod ingest;
mod resource;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use vantage_core::config::{Config, Overrides};
use vantage_core::store::{self, Store};

use crate::cli::{Cli, Command, GlobalArgs, IngestCommand};

/// Exit status when an import stored the valid lines but rejected others.
pub const EXIT_REJECTED_LINES: u8 = 3;

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = load_config(&cli.global)?;
    match cli.command {
        Command::Ingest(IngestCommand::Sentinel(args)) => ingest::sentinel(&config, args).await,
        Command::Demo(args) => demo::run(&config, args).await,
        Command::AggregatePeriod(args) => aggregate::aggregate_period(&config, args).await,
        Command::MigratePeriod(args) => aggregate::migrate_period(&config, args).await,
        Command::Resource(args) => resource::run(&config, args).await,
    }
}

fn load_config(global: &GlobalArgs) -> anyhow::Result<Config> {
    Ok(Config::load(Overrides {
        config_file: global.config.clone(),
        database_url: global.database_url.clone(),
        redis_url: global.redis_url.clone(),
        data_dir: global.data_dir.clone(),
        now: global.now.clone(),
    })?)
}

/// Opens the configured store (applying migrations).
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let location = match &config.database_url {
        Some(url) => url.redacted(),
        None => config.data_dir.join("vantage.db").display().to_string(),
    };
    store::open(config).await.with_context(|| format!("opening the store at {location}"))
}

//! Command implementations: each turns parsed arguments into calls on `vantage-core`.

mod aggregate;
mod demo;
mod dynfw;
mod events;
mod export;
mod flows;
mod greylist;
mod ip;
mod ingest;
mod passwords;
mod pcap;
mod planner;
mod resource;
mod token;

use std::process::ExitCode;

use vantage_core::config::Config;
use vantage_core::engine::{Engine, Parts};

use crate::cli::{Cli, Command, GlobalArgs, IngestCommand, PasswordsCommand, PcapCommand};

/// Exit status when an import stored the valid lines but rejected others.
pub const EXIT_REJECTED_LINES: u8 = 3;

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = load_config(&cli.global)?;
    let command = match (cli.command, cli.worker) {
        (Some(c), false) => c,
        (None, true) | (Some(Command::Worker(_)), true) => Command::Worker(crate::cli::WorkerArgs { concurrency: 2, lease_secs: 60, ..Default::default() }),
        (Some(_), true) => anyhow::bail!("--worker takes no subcommand"),
        (None, false) => {
            dashboard(config, &cli.global)?;
            return Ok(ExitCode::SUCCESS);
        }
    };
    match command {
        Command::Refresh(args) => planner::refresh(&config, args).await,
        Command::CachePeriod(args) => planner::cache_period(&config, args).await,
        Command::CacheResource(args) => planner::cache_resource(&config, args).await,
        Command::ViewJobs(args) => planner::view_jobs(&config, args).await,
        Command::ViewTimeouts(args) => planner::view_timeouts(&config, args).await,
        Command::ViewCache(args) => planner::view_cache(&config, args).await,
        Command::ClearCache(args) => planner::clear_cache(&config, args).await,
        Command::ClearTimeouts(args) => planner::clear_timeouts(&config, args).await,
        Command::Worker(args) => planner::worker(&config, args).await,
        Command::Serve(args) => planner::serve(&config, args).await,
        Command::Ingest(IngestCommand::Sentinel(args)) => ingest::sentinel(&config, args).await,
        Command::Passwords(PasswordsCommand::Import(args)) => passwords::import(&config, args).await,
        Command::Passwords(PasswordsCommand::Check(args)) => passwords::check(&config, args).await,
        Command::Pcap(PcapCommand::Merge(args)) => pcap::merge(args).await,
        Command::Pcap(PcapCommand::Stats(args)) => pcap::stats(&config, args).await,
        Command::Pcap(PcapCommand::Query(args)) => pcap::query(&config, args).await,
        Command::Pcap(PcapCommand::Status(args)) => pcap::status(&config, args),
        Command::Pcap(PcapCommand::Cancel(args)) => pcap::cancel(&config, args).await,
        Command::Pcap(PcapCommand::Fetch(args)) => pcap::fetch(&config, args),
        Command::Pcap(PcapCommand::Cleanup(args)) => pcap::cleanup(&config, args),
        Command::Demo(args) => demo::run(&config, args, cli.global).await,
        Command::AggregatePeriod(args) => aggregate::aggregate_period(&config, args).await,
        Command::MigratePeriod(args) => aggregate::migrate_period(&config, args).await,
        Command::Resource(args) => resource::run(&config, args).await,
        Command::Events(command) => events::run(&config, command).await,
        Command::Flows(command) => flows::run(&config, command).await,
        Command::Greylist(command) => greylist::run(&config, command).await,
        Command::Dynfw(command) => dynfw::run(&config, command).await,
        Command::Ip(args) => ip::run(&config, args).await,
        Command::Token(command) => token::run(&config, command),
    }
}

/// Opens the dashboard with the global dashboard options.
pub fn dashboard(config: Config, global: &GlobalArgs) -> anyhow::Result<()> {
    dashboard_with(config, global, false)
}

/// The dashboard, its DynFW tab on the demo's replayed feed when `demo_feed` (`vantage demo`)
/// instead of the configured one.
pub fn dashboard_with(config: Config, global: &GlobalArgs, demo_feed: bool) -> anyhow::Result<()> {
    let mut options = crate::dashboard::Options::new(&config, global.ascii, global.export_dir.clone());
    options.demo_feed = demo_feed;
    let started = crate::STARTED.get().copied().unwrap_or_else(std::time::Instant::now);
    crate::dashboard::run(config, options, started)
}

/// The configuration from file, environment and flags, every capability section validated.
pub fn load_config(global: &GlobalArgs) -> anyhow::Result<Config> {
    Ok(Engine::load_config(global.overrides())?)
}

/// Opens the engine on the configured deployment (store, cache and queue).
pub async fn open_engine(config: &Config) -> anyhow::Result<Engine> {
    Ok(Engine::open(config).await?)
}

/// Opens the engine on the configured store alone (applying migrations): for commands that
/// touch nothing else, so they work while Redis is down.
pub async fn open_store(config: &Config) -> anyhow::Result<Engine> {
    Ok(Engine::open_parts(config, Parts::StoreOnly).await?)
}

/// Runs `f` on the engine of the configured store alone ([`open_store`]) and closes it,
/// whatever `f` returned.
pub async fn on_store<T>(config: &Config, f: impl AsyncFnOnce(&Engine) -> vantage_core::engine::Result<T>) -> anyhow::Result<T> {
    let engine = open_store(config).await?;
    let result = f(&engine).await;
    engine.close().await;
    Ok(result?)
}

/// Prints an import's rejections on stderr, one per line, noting when only the first were kept.
pub fn report_rejections(shown: &[impl std::fmt::Display], total: u64) {
    for r in shown {
        eprintln!("{r}");
    }
    if total as usize > shown.len() {
        eprintln!("… see --json for the count; only the first {} rejections are listed", shown.len());
    }
}

/// An import's exit status: 1 when nothing was stored, 3 when some lines were rejected.
pub fn import_exit(committed: bool, rejected: u64) -> ExitCode {
    match (committed, rejected) {
        (false, _) => ExitCode::FAILURE,
        (true, 0) => ExitCode::SUCCESS,
        (true, _) => ExitCode::from(EXIT_REJECTED_LINES),
    }
}

/// Opens the files an import names (`-`: standard input) as (name, buffered reader).
pub fn open_inputs(files: &[String]) -> anyhow::Result<Vec<(String, Box<dyn std::io::BufRead + Send>)>> {
    let mut inputs = Vec::new();
    for name in files {
        let reader: Box<dyn std::io::BufRead + Send> = if name == "-" {
            Box::new(std::io::BufReader::new(std::io::stdin()))
        } else {
            Box::new(std::io::BufReader::with_capacity(1 << 20, vantage_core::error::open_file(std::path::Path::new(name))?))
        };
        inputs.push((name.clone(), reader));
    }
    Ok(inputs)
}

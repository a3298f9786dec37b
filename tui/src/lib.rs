//! `vantage`: the Vantage binary — terminal dashboard, CLI commands, worker and HTTP server.
//! All work is done by `vantage-core`; this crate parses arguments, shows progress, prints
//! results and draws the dashboard. The library form exists so the dashboard can be
//! rendered by tests and benchmarks; `src/main.rs` only calls [`main`].

mod commands;
pub mod dashboard;
mod output;
mod progress;

use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::Instant;

use clap::{CommandFactory, FromArgMatches};
use vantage_views::cli::{self, Cli};

/// When the process started (for the dashboard's time-to-first-frame log line).
static STARTED: OnceLock<Instant> = OnceLock::new();

/// The `vantage` command line: parses arguments, sets up logging, runs the command.
pub fn main() -> ExitCode {
    STARTED.get_or_init(Instant::now);
    let cli = parse_args();
    let dashboard = match &cli.command {
        None => !cli.worker,
        Some(cli::Command::Demo(args)) => !args.no_tui,
        Some(_) => false,
    };
    // the dashboard draws on the terminal: its logs go to <data_dir>/vantage.log instead
    let log_file = dashboard
        .then(|| commands::load_config(&cli.global).ok())
        .flatten()
        .and_then(|c| std::fs::create_dir_all(&c.data_dir).ok().map(|_| c.data_dir.join("vantage.log")))
        .and_then(|p| std::fs::OpenOptions::new().create(true).append(true).open(p).ok());
    init_tracing(cli.global.verbose, log_file);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", output::error_chain(&e));
            ExitCode::FAILURE
        }
    }
}

/// The command line; `--help` describes the binary with this package's description.
fn parse_args() -> Cli {
    let matches = Cli::command().about(env!("CARGO_PKG_DESCRIPTION")).get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.format(&mut Cli::command()).exit())
}

/// Logs go to stderr (warnings by default, `-v` info, `-vv` debug, or `RUST_LOG`), as JSON
/// lines when stderr is not a terminal — or, for the dashboard, to `log_file`.
fn init_tracing(verbose: u8, log_file: Option<std::fs::File>) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "info,sqlx=warn",
        _ => "debug,sqlx=info",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    if let Some(file) = log_file {
        tracing_subscriber::fmt().with_env_filter(filter).with_ansi(false).with_writer(std::sync::Mutex::new(file)).init();
        return;
    }
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if std::io::stderr().is_terminal() {
        builder.init();
    } else {
        builder.json().init();
    }
}

//! The `vantage dynfw …` grammar (statistics.md, "Greylist and DynFW"): the live DynFW feed
//! configured in `[dynfw]`, followed for a while.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use vantage_core::dynfw::export::Format;
use vantage_core::pcap::request::parse_duration;

/// `vantage dynfw …`
#[derive(Debug, Subcommand)]
pub enum DynfwCommand {
    /// Follow the `[dynfw]` feed for a while, then print its serial, size, phase, re-syncs,
    /// health, connection, counts per country and the blocked set. Fails (exit 1) when no
    /// list arrived in that time, saying what to check.
    Status(DynfwStatusArgs),
    /// Follow the `[dynfw]` feed until its first list, then write the blocked set to a file
    /// in the form firewalls load.
    Export(DynfwExportArgs),
}

/// `vantage dynfw status`
#[derive(Debug, Args)]
pub struct DynfwStatusArgs {
    /// How long to follow the feed before reporting, e.g. 10s, 1m, 1m30s.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub follow_for: Duration,
    /// Print the report as JSON (`{"serial", "size", "phase", "resyncs", "health", "link",
    /// "per_country", "recent", "blocked": […], …}`).
    #[arg(long)]
    pub json: bool,
}

/// `vantage dynfw export`
#[derive(Debug, Args)]
pub struct DynfwExportArgs {
    /// The file to write (replaced once complete).
    #[arg(short, long, value_name = "FILE")]
    pub out: PathBuf,
    /// plain (one address per line), csv (`address,country`), ipset (`ipset restore` input)
    /// or nft (an `nft -f` file).
    #[arg(long, default_value = "plain", value_parser = parse_format)]
    pub format: Format,
    /// How long to wait for the first list at most, e.g. 30s.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub follow_for: Duration,
}

fn parse_format(text: &str) -> Result<Format, String> {
    text.parse()
}

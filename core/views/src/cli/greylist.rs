//! The `vantage greylist …` grammar (statistics.md, "Greylist and DynFW").

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// `vantage greylist …`
#[derive(Debug, Subcommand)]
pub enum GreylistCommand {
    /// Write the greylist by the `[greylist]` rule (seen in the last `days` days with at
    /// least `min_incidents` incidents) as DIR/greylist-latest.csv and
    /// DIR/archive/YYYY/greylist-YYYY-MM-DD.csv for the clock's day (replacing that day's file).
    Export(GreylistExportArgs),
}

/// `vantage greylist export`
#[derive(Debug, Args)]
pub struct GreylistExportArgs {
    /// Directory to write to (default: `[greylist] dir`, i.e. <data_dir>/greylist).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print the result as JSON (`{date, addresses, latest, archive}`).
    #[arg(long)]
    pub json: bool,
}

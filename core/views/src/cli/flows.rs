//! The `vantage flows …` grammar (flow analytics, flows.md).

use clap::{Args, Subcommand};

/// `vantage flows …`
#[derive(Debug, Subcommand)]
pub enum FlowsCommand {
    /// Import raw flows from `nfdump -o csv` output (either header dialect) or Zeek conn.log
    /// (TSV or JSON lines), all files in one transaction; bad lines are reported and skipped.
    Import(FlowsImportArgs),
    /// Stored flows and the span of their start times.
    Status(FlowsJsonArg),
}

/// `vantage flows import`
#[derive(Debug, Args)]
pub struct FlowsImportArgs {
    /// Flow files (`-` for standard input); each file's format is recognised by its first line.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<String>,
    /// Store nothing if any line is invalid (default: import the valid lines, report the rest).
    #[arg(long)]
    pub strict: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `--json` alone.
#[derive(Debug, Args)]
pub struct FlowsJsonArg {
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

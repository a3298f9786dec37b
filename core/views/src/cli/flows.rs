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
    /// The OA run of a date (flows.md steps 1–8): the first N scored connections enriched,
    /// the raw flows around them, the threats' peers, the flows per minute; replaces the date's
    /// previous outputs.
    Oa(FlowsOaArgs),
    /// The suspicious connections of a date by rank (the 20 flow_scores columns).
    Suspicious(FlowsSuspiciousArgs),
    /// The raw flows between two addresses in the minute of a suspicious connection.
    Edges(FlowsEdgesArgs),
    /// Bytes and packets of the day between a threat address and its suspicious peers.
    Chords(FlowsChordsArgs),
    /// The day's raw flows per minute (`{tdate, total}`).
    IngestSummary(FlowsDateArgs),
    /// Beacons (RITA v5's score per pair), long connections and strobes of a date.
    Beacons(FlowsBeaconsArgs),
    /// An address's connections of a date grouped by (sip, dip, sport, dport), its peers by
    /// direction, the top 20 by bytes and by flows.
    Threat(FlowsChordsArgs),
    /// The storyboard of a threat address: impact summary, incident progression, map points,
    /// timeline, and the analyst's title and text (`--title` / `--text-file` save them).
    Storyboard(FlowsStoryboardArgs),
    /// Delete a date's storyboards (scores and feedback stay).
    Reset(FlowsResetArgs),
    /// The built-in scorer over a date's flows (lower = more suspicious), with every analyst
    /// score so far; `--out` writes spot-ml's flow_results.csv.
    Score(FlowsScoreArgs),
    /// Score the suspicious connections of a date matching the given fields: 1 high, 2 medium,
    /// 3 low/benign (the scorer's feedback; appended to `<data_dir>/flows/<date>/ml_feedback.csv`).
    ScoreConnection(FlowsScoreConnectionArgs),
}

/// `vantage flows storyboard`
#[derive(Debug, Args)]
pub struct FlowsStoryboardArgs {
    /// The date, YYYY-MM-DD.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: chrono::NaiveDate,
    /// The threat address.
    #[arg(long, value_name = "IP")]
    pub ip: std::net::IpAddr,
    /// Save this title (with the text of `--text-file`, or an empty one).
    #[arg(long, value_name = "TITLE")]
    pub title: Option<String>,
    /// Save the text of this file (UTF-8, any characters and lines; `-`: standard input).
    #[arg(long, value_name = "FILE", requires = "title")]
    pub text_file: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `vantage flows reset`
#[derive(Debug, Args)]
pub struct FlowsResetArgs {
    /// The date, YYYY-MM-DD.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: chrono::NaiveDate,
}

/// `vantage flows beacons`
#[derive(Debug, Args)]
pub struct FlowsBeaconsArgs {
    /// The date, YYYY-MM-DD.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: chrono::NaiveDate,
    /// Also the pairs scored below the threshold.
    #[arg(long)]
    pub all: bool,
    /// Print JSON (`{beacons, long_connections, strobes}`).
    #[arg(long)]
    pub json: bool,
}

/// `vantage flows score`
#[derive(Debug, Args)]
pub struct FlowsScoreArgs {
    /// The date, YYYY-MM-DD.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: chrono::NaiveDate,
    /// The traffic the probabilities come from: the date and the days before it.
    #[arg(long, default_value_t = 1, value_name = "DAYS")]
    pub window_days: u32,
    /// Write all scored flows as spot-ml's flow_results.csv (TAB-separated, most suspicious first).
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
    /// How many of the most suspicious to print.
    #[arg(long, default_value_t = vantage_core::flows::api::SCORE_LIMIT)]
    pub limit: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `vantage flows score-connection`
#[derive(Debug, Args)]
pub struct FlowsScoreConnectionArgs {
    /// The OA date, YYYY-MM-DD.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: chrono::NaiveDate,
    /// 1 high, 2 medium, 3 low/benign.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=3))]
    pub sev: u8,
    /// Source address.
    #[arg(long, value_name = "IP")]
    pub src: Option<std::net::IpAddr>,
    /// Destination address.
    #[arg(long, value_name = "IP")]
    pub dst: Option<std::net::IpAddr>,
    /// Source port.
    #[arg(long)]
    pub sport: Option<u16>,
    /// Destination port.
    #[arg(long)]
    pub dport: Option<u16>,
    /// Print the rows scored as JSON.
    #[arg(long)]
    pub json: bool,
}

/// A date of the OA outputs.
#[derive(Debug, Args)]
pub struct FlowsDateArgs {
    /// The date, YYYY-MM-DD.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: chrono::NaiveDate,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `vantage flows oa`
#[derive(Debug, Args)]
pub struct FlowsOaArgs {
    /// The date, YYYY-MM-DD.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: chrono::NaiveDate,
    /// How many of the most suspicious connections.
    #[arg(long, default_value_t = 3000)]
    pub limit: usize,
    /// spot-ml's scored results (`flow_results.csv`: TAB-separated, 18 fields, most suspicious
    /// first); default: the built-in scorer over the date's stored flows.
    #[arg(long, value_name = "FILE")]
    pub results: Option<std::path::PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `vantage flows suspicious`
#[derive(Debug, Args)]
pub struct FlowsSuspiciousArgs {
    /// The date, YYYY-MM-DD.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: chrono::NaiveDate,
    /// Only connections from or to this address.
    #[arg(long, value_name = "IP")]
    pub ip: Option<std::net::IpAddr>,
    /// Print JSON (an array of objects keyed by the flow_scores columns).
    #[arg(long)]
    pub json: bool,
}

/// `vantage flows edges`
#[derive(Debug, Args)]
pub struct FlowsEdgesArgs {
    /// The suspicious connection's start, `YYYY-MM-DD HH:MM:SS` (its minute is shown).
    #[arg(long, value_name = "TIME")]
    pub tstart: String,
    /// One address.
    #[arg(long, value_name = "IP")]
    pub src: std::net::IpAddr,
    /// The other.
    #[arg(long, value_name = "IP")]
    pub dst: std::net::IpAddr,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `vantage flows chords`
#[derive(Debug, Args)]
pub struct FlowsChordsArgs {
    /// The date, YYYY-MM-DD.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: chrono::NaiveDate,
    /// The threat address.
    #[arg(long, value_name = "IP")]
    pub ip: std::net::IpAddr,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `vantage flows import`
#[derive(Debug, Args)]
pub struct FlowsImportArgs {
    /// Flow files (`-` for standard input); each file's format is recognised by its first line.
    #[arg(value_name = "FILE", required_unless_present_any = ["pcap", "job"])]
    pub files: Vec<String>,
    /// A capture (pcap or pcapng) to build flows from, as nfpcapd does (repeatable).
    #[arg(long, value_name = "FILE")]
    pub pcap: Vec<std::path::PathBuf>,
    /// A completed packet-capture job whose capture to build flows from (repeatable).
    #[arg(long, value_name = "ID")]
    pub job: Vec<String>,
    /// Seconds after which a flow still going ends (nfpcapd's active timeout).
    #[arg(long, value_name = "SECONDS", default_value_t = 300, value_parser = clap::value_parser!(i64).range(1..=3600))]
    pub active: i64,
    /// Seconds without packets after which a flow ends (nfpcapd's inactive timeout).
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(i64).range(1..=3600))]
    pub idle: i64,
    /// Build two-way flows from captures (the reverse direction in opkt/obyt) instead of
    /// nfpcapd's one-way flows.
    #[arg(long)]
    pub biflow: bool,
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

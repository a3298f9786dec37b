//! The `vantage ip …` grammar: the IP dossier.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::Args;

/// `vantage ip <addr|cidr|ASN>`
#[derive(Debug, Args)]
pub struct IpArgs {
    /// An address (192.0.2.1, 2001:db8::1), a network (192.0.2.0/24) or an ASN (AS64500).
    pub target: String,
    /// First UTC day (default: the start of the display period 1y's window).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub from: Option<NaiveDate>,
    /// Last UTC day, included (default: the 1y window's end, today's midnight).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub to: Option<NaiveDate>,
    /// Print the dossier as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write the CSV per section, the timeline (PNG, SVG) and the Markdown and HTML
    /// reports into this directory.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

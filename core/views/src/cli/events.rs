//! The `vantage events …` grammar (incident events, events.md) and the export options its
//! questions (and `resource`) share.

use clap::{Args, Subcommand};

/// `vantage events …`
#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Import IntelMQ JSON Lines (or an IntelMQ eventDB with --eventdb-url) in one transaction,
    /// then re-aggregate the days touched.
    Import(EventsImportArgs),
    /// Re-aggregate the days imports marked (default), a range of days, or everything (--full).
    Aggregate(EventsAggregateArgs),
    /// Stored events, events without time.source, days waiting for aggregation, table sizes.
    Status(EventsJsonArg),
    /// The values of a dimension in the data, with their events (pick-lists).
    Values(EventsValuesArgs),
    /// Events per day, overall or per taxonomy / type / identifier / … (--by).
    PerDay(EventsByArgs),
    /// Distinct source IPs per day, and exactly over the whole range.
    DistinctIps(EventsView),
    /// Events per ASN per feed provider.
    AsnFeeds(EventsView),
    /// The top-N ASNs per taxonomy (or --by type / identifier).
    TopAsns(EventsTopAsnsArgs),
    /// ASNs with steady increases (Mann–Kendall over the range), ranked, with their series.
    RisingAsns(EventsRisingArgs),
    /// The top-N problems (taxonomy, type, identifier) in a country (--country).
    TopProblems(EventsTopArgs),
    /// Per feed volume per day; flags days far from the feed's usual volume.
    FeedHealth(EventsFeedHealthArgs),
    /// Network-operator view of the ASNs in --asn: events per day (trend), or per taxonomy,
    /// type, malware, application (--by).
    Operator(EventsByArgs),
    /// Write a Grafana dashboard (PostgreSQL datasource) over the production tables.
    Grafana(EventsGrafanaArgs),
}

/// `vantage events import`
#[derive(Debug, Args)]
pub struct EventsImportArgs {
    /// IntelMQ JSON Lines files (`-` for standard input).
    #[arg(value_name = "FILE", required_unless_present = "eventdb_url", conflicts_with = "eventdb_url")]
    pub files: Vec<String>,
    /// Import from an existing IntelMQ eventDB (PostgreSQL `events` table, only read): the rows
    /// added since the last such import.
    #[arg(long, env = "VANTAGE_EVENTDB_URL", value_name = "URL", hide_env_values = true)]
    pub eventdb_url: Option<String>,
    /// Store nothing if any line is invalid (default: import the valid lines, report the rest).
    #[arg(long)]
    pub strict: bool,
    /// Only mark the days; do not re-aggregate now (`vantage events aggregate` later).
    #[arg(long)]
    pub no_aggregate: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `vantage events aggregate`
#[derive(Debug, Args)]
pub struct EventsAggregateArgs {
    /// Rebuild every day from all events.
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub full: bool,
    /// Also re-aggregate the days from this one (YYYY-MM-DD), e.g. after IntelMQ wrote into the table.
    #[arg(long, value_name = "DATE", requires = "to")]
    pub from: Option<chrono::NaiveDate>,
    /// … to this one (included).
    #[arg(long, value_name = "DATE", requires = "from")]
    pub to: Option<chrono::NaiveDate>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `--json` alone.
#[derive(Debug, Args)]
pub struct EventsJsonArg {
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Filters and outputs every events question takes.
#[derive(Debug, Args)]
pub struct EventsView {
    /// First UTC day (default: 29 days before --to).
    #[arg(long, value_name = "DATE")]
    pub from: Option<chrono::NaiveDate>,
    /// Last UTC day, included (default: today by the clock, see --now).
    #[arg(long, value_name = "DATE")]
    pub to: Option<chrono::NaiveDate>,
    /// One taxonomy as spelled in the data (`vantage events values taxonomy`); `all` (default)
    /// is every taxonomy but `test`; `any` includes `test`.
    #[arg(long)]
    pub taxonomy: Option<String>,
    /// Only these ASNs (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "ASN")]
    pub asn: Vec<i64>,
    /// Only this country (two letters).
    #[arg(long, value_name = "CC")]
    pub country: Option<String>,
    /// Print the table as JSON.
    #[arg(long)]
    pub json: bool,
    #[allow(missing_docs, reason = "a doc comment here would be clap help text")]
    #[command(flatten)]
    pub export: ExportArgs,
}

/// Files a command that prints a table also writes (`vantage events …`, `vantage resource`).
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Also write the table as CSV.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<std::path::PathBuf>,
    /// Also draw the series (per-day table or resource graph) as a 1200×600 PNG chart.
    #[arg(long, value_name = "FILE")]
    pub png: Option<std::path::PathBuf>,
    /// Also draw the series (per-day table or resource graph) as a 1200×600 SVG chart.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<std::path::PathBuf>,
}

/// `vantage events per-day` / `operator`
#[derive(Debug, Args)]
pub struct EventsByArgs {
    /// Split by this dimension (taxonomy, type, identifier, malware, application, feed, provider, country, asn, …).
    #[arg(long)]
    pub by: Option<String>,
    #[allow(missing_docs, reason = "a doc comment here would be clap help text")]
    #[command(flatten)]
    pub view: EventsView,
}

/// `vantage events values`
#[derive(Debug, Args)]
pub struct EventsValuesArgs {
    /// The dimension (taxonomy, type, identifier, malware, application, transport, feed, provider, code, country, asn, port, network, domain_suffix, or an IntelMQ name).
    pub dimension: String,
    #[allow(missing_docs, reason = "a doc comment here would be clap help text")]
    #[command(flatten)]
    pub view: EventsView,
}

/// `vantage events top-asns`
#[derive(Debug, Args)]
pub struct EventsTopAsnsArgs {
    /// Rank ASNs within each value of this dimension.
    #[arg(long, default_value = "taxonomy")]
    pub by: String,
    /// How many ASNs per value.
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    #[allow(missing_docs, reason = "a doc comment here would be clap help text")]
    #[command(flatten)]
    pub view: EventsView,
}

/// `vantage events top-problems`
#[derive(Debug, Args)]
pub struct EventsTopArgs {
    /// How many rows.
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    #[allow(missing_docs, reason = "a doc comment here would be clap help text")]
    #[command(flatten)]
    pub view: EventsView,
}

/// `vantage events rising-asns`
#[derive(Debug, Args)]
pub struct EventsRisingArgs {
    /// How many ASNs.
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    /// Leave out ASNs with fewer events in the range.
    #[arg(long, default_value_t = 10)]
    pub min_events: i64,
    #[allow(missing_docs, reason = "a doc comment here would be clap help text")]
    #[command(flatten)]
    pub view: EventsView,
}

/// `vantage events feed-health`
#[derive(Debug, Args)]
pub struct EventsFeedHealthArgs {
    /// Only the flagged days (missing, high, low).
    #[arg(long)]
    pub flagged: bool,
    #[allow(missing_docs, reason = "a doc comment here would be clap help text")]
    #[command(flatten)]
    pub view: EventsView,
}

/// `vantage events grafana`
#[derive(Debug, Args)]
pub struct EventsGrafanaArgs {
    /// Write the dashboard here (default: standard output).
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
}

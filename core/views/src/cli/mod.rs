//! Command-line definitions (clap derive) of the `vantage` binary, here so that the dashboard's
//! `:` palette (in the terminal and the desktop app) parses the very same commands.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

mod dynfw;
mod events;
mod flows;
mod greylist;
mod ip;
pub use dynfw::*;
pub use events::*;
pub use flows::*;
pub use greylist::*;
pub use ip::*;

/// Vantage — analyst workstation for network-security teams.
#[derive(Debug, Parser)]
#[command(name = "vantage", version)]
pub struct Cli {
    #[allow(missing_docs, reason = "a doc comment here would be clap help text")]
    #[command(flatten)]
    pub global: GlobalArgs,
    /// Run as a headless worker (same as `vantage worker`).
    #[arg(long)]
    pub worker: bool,
    #[allow(missing_docs, reason = "a doc comment here would be clap help text")]
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options every command accepts.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Configuration file (default: ./vantage.toml, then $XDG_CONFIG_HOME/vantage/vantage.toml).
    #[arg(long, global = true, env = "VANTAGE_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// PostgreSQL (postgres://…) or SQLite (sqlite://…) URL; default: SQLite in the data dir.
    #[arg(long, global = true, env = "VANTAGE_DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Redis URL for cache and queues; default: in-process.
    #[arg(long, global = true, env = "VANTAGE_REDIS_URL", value_name = "URL", hide_env_values = true)]
    pub redis_url: Option<String>,
    /// Directory for the embedded store, logs and exports.
    #[arg(long, global = true, env = "VANTAGE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Directory of GeoIP `.mmdb` files (MaxMind GeoLite2/GeoIP2, DB-IP); default <data_dir>/geoip.
    #[arg(long, global = true, env = "VANTAGE_GEOIP_DIR", value_name = "DIR")]
    pub geoip_dir: Option<PathBuf>,
    /// Pin the clock (RFC 3339), e.g. 2024-06-15T12:40:00Z.
    #[arg(long, global = true, env = "VANTAGE_NOW", value_name = "RFC3339")]
    pub now: Option<String>,
    /// Dashboard: draw with plain ASCII (no braille or box-drawing characters); also chosen
    /// when the locale is set and is not UTF-8.
    #[arg(long, global = true, env = "VANTAGE_ASCII")]
    pub ascii: bool,
    /// Dashboard: directory for CSV / PNG / SVG exports (default: <data_dir>/exports).
    #[arg(long, global = true, env = "VANTAGE_EXPORT_DIR", value_name = "DIR")]
    pub export_dir: Option<PathBuf>,
    /// More log output on stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

impl GlobalArgs {
    /// What these options override of the configuration file and defaults (for
    /// `Engine::load_config`), so every front end reads `--config`, `--data-dir`, `--now`, … alike.
    pub fn overrides(&self) -> vantage_core::config::Overrides {
        vantage_core::config::Overrides {
            config_file: self.config.clone(),
            database_url: self.database_url.clone(),
            redis_url: self.redis_url.clone(),
            data_dir: self.data_dir.clone(),
            geoip_dir: self.geoip_dir.clone(),
            now: self.now.clone(),
        }
    }
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import raw reports.
    #[command(subcommand)]
    Ingest(IngestCommand),
    /// Fill the store with a realistic year of demo statistics and print a summary.
    Demo(DemoArgs),
    /// Aggregate the last complete window of a precision (exactly once).
    AggregatePeriod(AggregateArgs),
    /// Back-fill a precision window by window over the last N days (safe to re-run).
    MigratePeriod(MigrateArgs),
    /// Compute and print a statistics resource (graph, top list or map) for a period.
    Resource(ResourceArgs),
    /// Run the refresh planner once (what cron ran every minute in sview).
    Refresh(PlanArgs),
    /// Suggest caching every precached resource of a period.
    CachePeriod(CachePeriodArgs),
    /// Suggest caching one resource.
    CacheResource(CacheResourceArgs),
    /// Show queued, running and failed jobs.
    ViewJobs(JsonArg),
    /// Show refresh timeouts of aggregations and resources.
    ViewTimeouts(JsonArg),
    /// Show cached resources (key, TTL, size, total).
    ViewCache(JsonArg),
    /// Delete cached resources (`--all`: every Vantage key — timeouts, markers, locks; sview's clear-redis-cache).
    ClearCache(ClearCacheArgs),
    /// Clear the refresh timeouts of one kind for a period so it can be scheduled again.
    ClearTimeouts(ClearTimeoutsArgs),
    /// Leaked-password store: import lists, check passwords (k-anonymity).
    #[command(subcommand)]
    Passwords(PasswordsCommand),
    /// Packet captures: merge pcap / pcapng files into one chronologically ordered pcap.
    #[command(subcommand)]
    Pcap(PcapCommand),
    /// Run jobs from the queues (headless worker); stops gracefully on SIGTERM / Ctrl-C.
    Worker(WorkerArgs),
    /// Serve the HTTP API (resources, leaked passwords, packet capture, flows, the greylist, /healthz, /metrics).
    Serve(ServeArgs),
    /// Incident events (IntelMQ eventDB): import, daily aggregation (stats-portal's tables), questions, Grafana.
    #[command(subcommand)]
    Events(EventsCommand),
    /// Flow analytics (NetFlow via nfdump, Zeek conn.log): import raw flows, status.
    #[command(subcommand)]
    Flows(FlowsCommand),
    /// Greylist of hostile attacker addresses: export the CSV and its dated archive.
    #[command(subcommand)]
    Greylist(GreylistCommand),
    /// DynFW, Sentinel's live dynamic-firewall list (`[dynfw]`): follow it, show its status, export it.
    #[command(subcommand)]
    Dynfw(DynfwCommand),
    /// The IP dossier: everything Vantage knows about an address, a network or an ASN —
    /// incidents, events, flows, greylist, DynFW, captures, GeoIP.
    Ip(IpArgs),
    /// API tokens of `vantage serve` (`[serve] tokens_file`): add, list, remove.
    #[command(subcommand)]
    Token(TokenCommand),
}

/// `vantage serve`
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Password API requests per second and client IP before 429 (0: no limit).
    #[arg(long, default_value_t = vantage_core::passwords::api::DEFAULT_RATE)]
    pub password_rate: u32,
    /// Seconds a client has to send a request's headers (from connecting, or from the previous
    /// answer on a kept-alive connection) before the connection is closed.
    #[arg(long, value_name = "SECONDS", default_value_t = vantage_core::http::DEFAULT_HEADER_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout: u64,
    /// Seconds without any byte read or written before a connection is closed.
    #[arg(long, value_name = "SECONDS", default_value_t = vantage_core::http::DEFAULT_IDLE_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout: u64,
    /// Connections served at once; more clients wait until one closes.
    #[arg(long, value_name = "N", default_value_t = vantage_core::http::DEFAULT_MAX_CONNECTIONS as u64, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: u64,
    /// A host name accepted in the Host header besides the listen address, loopback addresses
    /// and localhost (repeatable; DNS-rebinding protection).
    #[arg(long = "allowed-host", value_name = "NAME", env = "VANTAGE_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<String>,
    /// Allow a --listen address beyond loopback (0.0.0.0, a LAN address): the API is then
    /// reachable from other machines — configure `[serve] tokens_file`.
    #[arg(long)]
    pub public: bool,
}

/// `vantage token …`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a new token: printed once, only its SHA-256 is written to the tokens file.
    Add(TokenNameArgs),
    /// The names of the tokens in the file.
    List(TokenFileArgs),
    /// Remove a token by name (serve reads the file when it starts).
    Remove(TokenNameArgs),
}

/// The tokens file of `vantage token` (`[serve] tokens_file` unless given).
#[derive(Debug, Args)]
pub struct TokenFileArgs {
    /// The tokens file (default: `[serve] tokens_file` of the configuration).
    #[arg(long, value_name = "PATH")]
    pub file: Option<std::path::PathBuf>,
}

/// `vantage token add|remove NAME`
#[derive(Debug, Args)]
pub struct TokenNameArgs {
    /// Who or what the token is for (letters, digits, - _ . @).
    pub name: String,
    /// The tokens file.
    #[command(flatten)]
    pub file: TokenFileArgs,
}

/// `vantage passwords …`
#[derive(Debug, Subcommand)]
pub enum PasswordsCommand {
    /// Merge a list into the store: plaintext (`password` or `password<TAB>count` per line) or
    /// HIBP `SHA1:COUNT` lines; counts are added and sources united; one transaction.
    Import(PasswordsImportArgs),
    /// Check passwords against the store (or a remote Vantage / HIBP-compatible server): only
    /// the first 5 hex digits of the SHA-1 are ever looked up.
    Check(PasswordsCheckArgs),
}

/// `vantage pcap …`
#[derive(Debug, Subcommand)]
pub enum PcapCommand {
    /// Merge captures (pcap with µs or ns time stamps in either byte order, pcapng) into one
    /// classic pcap ordered by time, packet for packet what `mergecap -F pcap` writes.
    Merge(PcapMergeArgs),
    /// Ask every configured Stenographer sensor (`[[pcap.sensors]]`) for its `/debug/stats`.
    Stats(PcapStatsArgs),
    /// Request a capture: the sensors are asked concurrently and their answers merged into
    /// `<spool_dir>/<id>/merged.pcap` (an equal request in the same window reuses the job).
    /// With the in-process queue the job runs here; with Redis a `vantage worker` runs it.
    Query(PcapQueryArgs),
    /// Show the status of a capture job (all jobs in the spool directory without an id).
    Status(PcapStatusArgs),
    /// Cancel a capture job that has not completed: at once when no worker runs it, else its
    /// worker stops it within a second (the sensors' partial answers are deleted). An equal
    /// request afterwards starts a new job.
    Cancel(PcapCancelArgs),
    /// Copy a completed job's merged capture to a file.
    Fetch(PcapFetchArgs),
    /// Delete expired jobs now, then the oldest while the spool is short of `expire_space`.
    Cleanup(JsonArg),
}

/// `vantage pcap cancel`
#[derive(Debug, Args)]
pub struct PcapCancelArgs {
    /// The job id.
    #[arg(value_name = "ID")]
    pub id: String,
    /// Wait until the job's worker has stopped it.
    #[arg(long)]
    pub wait: bool,
    /// Print the job status as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `vantage pcap fetch`
#[derive(Debug, Args)]
pub struct PcapFetchArgs {
    /// The job id.
    #[arg(value_name = "ID")]
    pub id: String,
    /// Where to write the capture.
    #[arg(short, long, value_name = "FILE")]
    pub out: PathBuf,
}

/// `vantage pcap query`
#[derive(Debug, Args)]
pub struct PcapQueryArgs {
    /// URL form clauses, e.g. `host 192.168.2.1 udp after 5m`, or a whole `/api/uri/...` path;
    /// words with `and`/`or`/parentheses are a raw Stenographer query, e.g.
    /// `host 1.2.3.4 and (port 53 or port 80)`.
    #[arg(required = true, value_name = "CLAUSE")]
    pub clauses: Vec<String>,
    /// The words form a raw Stenographer query (even without `and`/`or`).
    #[arg(long)]
    pub raw: bool,
    /// With a Redis queue: wait until a worker has finished the job (the in-process queue
    /// always runs it before returning).
    #[arg(long)]
    pub wait: bool,
    /// Only ask these sensors (repeatable; default: all configured).
    #[arg(long = "sensor", value_name = "NAME")]
    pub sensors: Vec<String>,
    /// Copy the merged capture to FILE.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print the job status as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `vantage pcap status`
#[derive(Debug, Args)]
pub struct PcapStatusArgs {
    /// The job id (default: all jobs).
    #[arg(value_name = "ID")]
    pub id: Option<String>,
    /// Print JSON (`{id: status}`).
    #[arg(long)]
    pub json: bool,
}

/// `vantage pcap stats`
#[derive(Debug, Args)]
pub struct PcapStatsArgs {
    /// Only these sensors (default: all configured).
    #[arg(value_name = "SENSOR")]
    pub sensors: Vec<String>,
    /// Print JSON: `{sensor: {counter: value} | {"error": message}}`.
    #[arg(long)]
    pub json: bool,
}

/// `vantage pcap merge`
#[derive(Debug, Args)]
pub struct PcapMergeArgs {
    /// The captures to merge (all of the same link type).
    #[arg(required = true, value_name = "IN")]
    pub inputs: Vec<PathBuf>,
    /// The merged capture (written to OUT.tmp, renamed when complete).
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
    /// Merge with Wireshark's `mergecap -F pcap -w` instead of the native merge (same output).
    #[arg(long)]
    pub mergecap: bool,
}

/// `vantage passwords import`
#[derive(Debug, Args)]
pub struct PasswordsImportArgs {
    /// The list (`-` = stdin).
    #[arg(required_unless_present_any = ["from_statistics", "from_passy"], conflicts_with_all = ["from_statistics", "from_passy"])]
    pub file: Option<String>,
    /// Import the attempted passwords of the statistics `passwords` table reported since the
    /// last such import (sources from the traps of the login incidents).
    #[arg(long, conflicts_with_all = ["format", "source", "from_passy"])]
    pub from_statistics: bool,
    /// Import passy's `passwords(password_hash, count, password_source)` table from the
    /// PostgreSQL database at URL (only read).
    #[arg(long, value_name = "URL", conflicts_with_all = ["format", "source"])]
    pub from_passy: Option<String>,
    /// plain or hibp (default: guessed from the first line).
    #[arg(long)]
    pub format: Option<String>,
    /// Honeypot service the passwords were seen through: telnet, smtp, ftp, http or haas.
    #[arg(long)]
    pub source: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `vantage passwords check`
#[derive(Debug, Args)]
pub struct PasswordsCheckArgs {
    /// The password to check (prefer --stdin: command lines end up in shell history).
    #[arg(conflicts_with_all = ["sha1", "stdin", "file"])]
    pub password: Option<String>,
    /// Check a SHA-1 (40 hex digits) instead of a password.
    #[arg(long, value_name = "HASH", conflicts_with_all = ["stdin", "file"])]
    pub sha1: Option<String>,
    /// Read one password per line from standard input.
    #[arg(long, conflicts_with = "file")]
    pub stdin: bool,
    /// Check every line of a file (passwords, or SHA-1s with --hashes), with a summary.
    #[arg(long, value_name = "FILE")]
    pub file: Option<String>,
    /// The lines of --file / --stdin are SHA-1s.
    #[arg(long)]
    pub hashes: bool,
    /// Ask a remote Vantage or Have I Been Pwned compatible server (e.g.
    /// https://api.pwnedpasswords.com) instead of the local store; only 5 hex digits of each
    /// SHA-1 are sent.
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,
    /// Print JSON lines.
    #[arg(long)]
    pub json: bool,
}

/// `--json` only.
#[derive(Debug, Args)]
pub struct JsonArg {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Planner commands' options.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Show what would be queued without queueing.
    #[arg(short = 'd', long)]
    pub dry_run: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `vantage cache-period`
#[derive(Debug, Args)]
pub struct CachePeriodArgs {
    /// 1h, 6h, 1d, 1w, 1m, 3m or 1y.
    pub period: String,
    #[allow(missing_docs, reason = "a doc comment here would be clap help text")]
    #[command(flatten)]
    pub plan: PlanArgs,
}

/// `vantage cache-resource`
#[derive(Debug, Args)]
pub struct CacheResourceArgs {
    /// Resource name.
    pub name: String,
    /// Period.
    pub period: String,
    #[allow(missing_docs, reason = "a doc comment here would be clap help text")]
    #[command(flatten)]
    pub params: ResourceParams,
    #[allow(missing_docs, reason = "a doc comment here would be clap help text")]
    #[command(flatten)]
    pub plan: PlanArgs,
}

/// `vantage clear-cache`
#[derive(Debug, Args)]
pub struct ClearCacheArgs {
    /// Also clear timeouts, pending/failed markers, locks and rate limits.
    #[arg(long)]
    pub all: bool,
}

/// `vantage clear-timeouts`
#[derive(Debug, Args)]
pub struct ClearTimeoutsArgs {
    /// aggregation or resource.
    pub kind: String,
    /// A precision (quarterly, hourly, daily) for aggregation, a period (1h … 1y) for resource.
    pub period: String,
}

/// `vantage worker`
#[derive(Debug, Args, Default)]
pub struct WorkerArgs {
    /// Queues to serve, comma-separated (default: all); always taken by priority.
    #[arg(long, value_delimiter = ',')]
    pub queues: Vec<String>,
    /// Concurrent jobs.
    #[arg(long, default_value_t = 2)]
    pub concurrency: usize,
    /// Do not run the refresh planner every minute.
    #[arg(long)]
    pub no_schedule: bool,
    /// Lease of a taken job in seconds: a job whose worker stops renewing it (died) is
    /// re-queued after this.
    #[arg(long, default_value_t = 60)]
    pub lease_secs: u64,
}

/// Parameters of the parametrised and personal resources.
#[derive(Debug, Args)]
pub struct ResourceParams {
    /// Attacker IP for selected_attacker_incidents_graph.
    #[arg(long)]
    pub ip: Option<String>,
    /// Password for selected_password_by_usages_graph and logins_of_password_by_usages_list.
    #[arg(long)]
    pub password: Option<String>,
    /// Device token for the my_* resources (repeatable).
    #[arg(long = "device-token", value_name = "TOKEN")]
    pub device_token: Vec<String>,
}

/// `vantage resource`
#[derive(Debug, Args)]
pub struct ResourceArgs {
    /// Resource name, e.g. all_incidents_graph (an unknown name lists the valid ones).
    pub name: String,
    /// Period: 1h, 6h, 1d, 1w, 1m, 3m or 1y.
    pub period: String,
    #[allow(missing_docs, reason = "a doc comment here would be clap help text")]
    #[command(flatten)]
    pub params: ResourceParams,
    /// Print the API's JSON (`{"resource_name", "data"}`).
    #[arg(long)]
    pub json: bool,
    /// Compute now even when a cached value exists (a value not cached yet is always computed).
    #[arg(long)]
    pub wait: bool,
    #[allow(missing_docs, reason = "a doc comment here would be clap help text")]
    #[command(flatten)]
    pub export: ExportArgs,
}

/// `vantage ingest …`
#[derive(Debug, Subcommand)]
pub enum IngestCommand {
    /// Sentinel reports (incidents, passwords, ports) from JSON Lines or CSV files, `-` = stdin.
    Sentinel(IngestSentinelArgs),
}

/// `vantage ingest sentinel`
#[derive(Debug, Args)]
pub struct IngestSentinelArgs {
    /// Files to import (`-` for standard input).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
    /// Store nothing if any line is invalid (default: import the valid lines, report the rest).
    #[arg(long)]
    pub strict: bool,
    /// Input format instead of guessing from the extension / first byte.
    #[arg(long, value_parser = ["jsonl", "csv"])]
    pub format: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `vantage demo`
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Only fill the store; do not open the dashboard.
    #[arg(long)]
    pub no_tui: bool,
    /// Random seed; the same seed and --now give the same data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Volume multiplier (1.0 ≈ 1.1 million raw rows).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
}

/// `vantage aggregate-period`
#[derive(Debug, Args)]
pub struct AggregateArgs {
    /// quarterly, hourly or daily (the target precision).
    #[arg(value_name = "PERIOD")]
    pub period: String,
    /// Show what would be aggregated without writing.
    #[arg(short = 'd', long)]
    pub dry_run: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `vantage migrate-period`
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// quarterly, hourly or daily (the target precision).
    #[arg(value_name = "PERIOD")]
    pub period: String,
    /// Days to back-fill (default 9 / 8 / 7 for quarterly / hourly / daily).
    #[arg(long)]
    pub days: Option<u32>,
    /// Show what would be aggregated without writing.
    #[arg(short = 'd', long)]
    pub dry_run: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

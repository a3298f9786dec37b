//! # vantage-core
//!
//! The UI-free core of Vantage, an analyst workstation for network-security teams.
//! Everything that is not drawing pixels lives here; the front ends (`vantage` TUI/CLI,
//! later the desktop app) are thin layers over this crate.
//!
//! Layers, bottom-up:
//! - [`clock`]: the injectable clock (`--now`), used for every window and TTL decision.
//! - [`config`]: configuration from TOML, `VANTAGE_*` environment and flags; secrets redacted.
//! - [`geo`]: GeoIP lookups (country, city, ASN) from the `.mmdb` files in the GeoIP directory.
//! - [`packets`]: captured packets: the pcap/pcapng reader and a shallow header decoder.
//! - [`store`]: the storage trait with its SQLite (embedded default) and PostgreSQL
//!   implementations, each with its own migrations.
//! - [`statistics`]: Sentinel statistics: the data model, ingest parsers, exactly-once
//!   multi-precision aggregation and the demo data generator.
//! - [`passwords`]: leaked-password store lookups, imports and the three k-anonymity APIs.
//! - [`pcap`]: packet-capture retrieval: Docket requests, Stenographer queries, pcap merge.
//! - [`cache`]: in-process or Redis key-value cache with TTLs and atomic claims.
//! - [`jobs`]: priority job queues (in-process or Redis) with leases.
//! - [`backends`]: store, cache, queue and clock of a deployment, opened once.
//! - [`worker`]: the job runner and scheduler behind `vantage --worker`.
//! - [`deployment`]: the composition root: backends + capability services + job handlers +
//!   the HTTP API, built once from the configuration (which it validates).
//! - [`dynfw`]: the live DynFW feed (Sentinel's dynamic-firewall list over ZeroMQ CURVE): the
//!   blocked set by the serial rules, its exports and `serve` routes.
//! - [`devices`]: the analyst's registered device tokens (My devices), stored 0600.
//! - [`engine`]: the one door of every front end: typed async methods per capability
//!   ([`engine::Engine`]), the IP dossier composed from every capability's part ([`engine::dossier`]) and the dashboard's non-blocking channel adapter ([`engine::Channel`]).
//! - [`http`]: the generic HTTP server of `vantage serve` (accept loop, JSON errors, health, metrics).
//! - [`tally`]: counts by key and by day (the IP dossier's shape).
//! - [`export`]: statistics values to files: CSV tables, PNG/SVG line charts.
//! - [`progress`]: the progress-reporting interface long operations talk to.

pub mod backends;
pub mod cache;
pub mod clock;
pub mod config;
pub mod deployment;
pub mod devices;
pub mod dynfw;
pub mod engine;
pub mod error;
pub mod events;
pub mod export;
pub mod flows;
pub mod geo;
pub mod http;
pub mod jobs;
pub mod packets;
pub mod passwords;
pub mod pcap;
pub mod progress;
pub mod secret;
pub mod statistics;
pub mod store;
pub mod tally;
pub mod timebucket;
pub mod worker;

pub use clock::Clock;
pub use config::Config;
pub use error::{Error, Result};

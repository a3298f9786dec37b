//! Packet-capture retrieval (pcap.md): Docket-compatible requests turned into Stenographer
//! queries, and captures merged into one chronologically ordered pcap.
//!
//! - [`request`]: Docket request forms (URL clauses, form/JSON fields), times and durations, the
//!   time window, the canonical Stenographer query string, its id and the weight check.
//! - [`steno`]: a validating parser of Stenographer's query language (the raw form).
//! - [`named`]: the hosts and networks a query names (which jobs included an address).
//! - [`merge`]: reading pcap (µs/ns, both byte orders) and pcapng, and the native k-way merge
//!   into classic pcap.
//! - [`client`]: the mutual-TLS HTTPS client of one Stenographer sensor (X.509 v1 certificates).
//! - [`settings`]: the `[pcap]` configuration section.
//! - [`pipeline`]: the job steps: dedup and create, concurrent sensor queries, merge, status files.
//! - [`spool`]: job directories, their locks, free space and the cleanup.
//! - [`service`]: the steps on the job queues, crash recovery, sensor stats — what front ends use.
//! - [`api`]: the Docket-compatible HTTP endpoints under `/api` and `/results`.
//! - [`demo`]: the demo job, a completed capture of a shipped sample pcap (no sensor asked).
//! - [`summary`]: a finished capture's summary (packets, bytes, span, top talkers and ports,
//!   first packets) for the dashboard and the CLI.

pub mod api;
pub mod client;
pub mod demo;
pub mod merge;
pub mod named;
pub mod pipeline;
pub mod request;
pub mod service;
pub mod settings;
pub mod spool;
pub mod steno;
pub mod summary;

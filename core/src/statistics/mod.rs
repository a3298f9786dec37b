//! Sentinel statistics: honeypot and firewall reports.
//!
//! - [`model`]: the report types and enums (trap, action, protocol) of the sview schema
//!   (kept with the store trait that exchanges them, `store::statistics`).
//! - [`ingest`]: JSON Lines / CSV parsers with located errors, and the import driver.
//! - [`aggregation`]: quarterly / hourly / daily aggregation, exactly once per window.
//! - [`demo`]: a deterministic generator of a realistic year of data.
//! - [`periods`]: the display periods (1h … 1y) with their windows and buckets.
//! - [`query`]: the query shape resources are built from, run by each store (also in
//!   `store::statistics`).
//! - [`resources`]: the 29 named graphs, lists and maps.
//! - [`service`]: cached reads, the refresh planner and job execution.
//! - [`tasks`]: the statistics job kinds, their queues and payloads.
//! - [`jobs`]: the handler running them, the one-shot planner's fixed point.
//! - [`dossier`]: an address set's incidents for the IP dossier.
//! - [`greylist`]: the greylist rule, its CSV files and `GET /greylist/…`.
//! - [`api`]: `GET /api/resource` of `vantage serve`.

pub mod aggregation;
pub mod api;
pub mod demo;
pub mod dossier;
pub mod greylist;
pub mod ingest;
pub mod jobs;
pub mod periods;
pub mod resources;
pub mod service;
pub mod tasks;

pub use crate::store::statistics::{model, query};

pub use aggregation::Precision;
pub use model::{Action, Incident, PasswordAttempt, PortScan, Protocol, Report, ReportBatch, Trap};

//! Sentinel statistics: honeypot and firewall reports.
//!
//! - [`model`]: the report types and enums (trap, action, protocol) of the sview schema.
//! - [`ingest`]: JSON Lines / CSV parsers with located errors, and the import driver.
//! - [`aggregation`]: quarterly / hourly / daily aggregation, exactly once per window.
//! - [`demo`]: a deterministic generator of a realistic year of data.

pub mod aggregation;
pub mod demo;
pub mod ingest;
pub mod model;
pub mod periods;

pub use aggregation::Precision;
pub use model::{Action, Incident, PasswordAttempt, PortScan, Protocol, Report, ReportBatch, Trap};

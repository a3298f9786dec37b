//! Incident-event statistics (events.md): the IntelMQ eventDB and stats-portal's daily
//! aggregation, done incrementally.
//!
//! - [`model`]: the stored IntelMQ fields (dotted names, allow-list) and the three daily tables.
//! - [`parse`]: validation of IntelMQ JSON Lines, located errors per field.
//! - [`import`]: imports of files or an existing eventDB in one transaction, marking touched days.
//! - [`aggregate`]: exactly-once re-aggregation of the marked days, full rebuilds.
//! - [`demo`]: IntelMQ's sample events re-dated to end today, for `vantage demo`.
//! - [`query`]: the one query shape (grouped count with the views' filters).
//! - [`questions`]: the questions, each answered with a [`table::Table`].
//! - [`dossier`]: the events of a set of source addresses (or an ASN) for the IP dossier.
//! - [`trend`]: least-squares slope, Mann–Kendall, modified z-scores.
//! - [`grafana`]: a Grafana dashboard over the production tables.
//!
//! Storage goes through [`crate::store::EventStore`] only; [`model`] and [`query`] are the
//! types it exchanges, kept with it in `store::events`.

pub mod aggregate;
pub mod demo;
pub mod dossier;
pub mod grafana;
pub mod import;
pub mod parse;
pub mod questions;
pub mod table;
pub mod trend;

pub use crate::store::events::{EventsStatus, model, query};

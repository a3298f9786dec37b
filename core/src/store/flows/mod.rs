//! Storage of raw flow records (Spot's raw flow table, flows.md): the trait, the import
//! session it opens and the row type ([`model::RawFlow`]). Written once for both backends
//! ([`shared`]); times as each backend's codec stores them, addresses as canonical text. The
//! outputs of an OA run have their own trait and rows ([`oa`]).

pub mod model;
pub mod oa;
pub(crate) mod oa_shared;
pub(crate) mod shared;

use std::net::IpAddr;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use self::model::RawFlow;
use crate::error::Result;

/// What the flow store holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowsStatus {
    /// Stored raw flows.
    pub flows: i64,
    /// The earliest flow start.
    pub first: Option<DateTime<Utc>>,
    /// The latest flow start.
    pub last: Option<DateTime<Utc>>,
}

/// An open flow import transaction. Dropping it without [`FlowSession::commit`] rolls back.
#[async_trait]
pub trait FlowSession: Send {
    /// Writes flows inside the transaction.
    async fn write(&mut self, flows: &[RawFlow]) -> Result<()>;
    /// Commits everything written.
    async fn commit(self: Box<Self>) -> Result<()>;
    /// Discards everything written.
    async fn rollback(self: Box<Self>) -> Result<()>;
}

/// Storage of raw flows.
#[async_trait]
pub trait FlowStore: Send + Sync {
    /// Starts a flow import transaction.
    async fn begin_flows_import(&self) -> Result<Box<dyn FlowSession>>;
    /// The flows that started in `[from, to)`, by start time (then in import order).
    async fn flows_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<RawFlow>>;
    /// The flows that started in `[from, to)` between the two addresses of one of `pairs`
    /// (either way), by start time (none for no pairs).
    async fn flows_between_pairs(&self, from: DateTime<Utc>, to: DateTime<Utc>, pairs: &[(IpAddr, IpAddr)]) -> Result<Vec<RawFlow>>;
    /// The flows that started in `[from, to)` from or to `ip`, by start time.
    async fn flows_touching(&self, from: DateTime<Utc>, to: DateTime<Utc>, ip: IpAddr) -> Result<Vec<RawFlow>>;
    /// How many flows are stored and the span of their start times.
    async fn flows_status(&self) -> Result<FlowsStatus>;
    /// Whether any flow is stored (one row looked at, not counted).
    async fn flows_stored(&self) -> Result<bool>;
}

//! The one query shape every statistics resource is built from, executed by each store in
//! its own SQL dialect (`store::statistics::sql`): filter a table to a time range, optionally group by an
//! origin-aligned bucket and some columns, measure `SUM(raw_count)` or `COUNT(DISTINCT ip)`,
//! optionally keep the top N by the measure.

use chrono::{DateTime, Duration, Utc};

use super::model::{DataType, Level};

/// A groupable / filterable column of the statistics tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Col {
    /// incidents.trap
    Trap,
    /// incidents.action
    Action,
    /// incidents.ip (rendered without prefix length)
    Ip,
    /// incidents.country
    Country,
    /// passwords.username
    Username,
    /// passwords.password
    Password,
    /// ports.port
    Port,
    /// ports.protocol
    Protocol,
}

impl Col {
    /// The column name (from this fixed list only).
    pub fn name(self) -> &'static str {
        match self {
            Col::Trap => "trap",
            Col::Action => "action",
            Col::Ip => "ip",
            Col::Country => "country",
            Col::Username => "username",
            Col::Password => "password",
            Col::Port => "port",
            Col::Protocol => "protocol",
        }
    }
}

/// What is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// N = `SUM(raw_count)`.
    Sum,
    /// D = `COUNT(DISTINCT ip)`.
    DistinctIp,
}

/// A row filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// Not NULL.
    NotNull(Col),
    /// "valid": not NULL, not '' and not a single newline.
    Valid(Col),
    /// Equal to a value (compared as text).
    Eq(Col, String),
    /// One of the values (compared as text).
    OneOf(Col, Vec<String>),
    /// `(port, protocol)` is one of the pairs.
    PortOneOf(Vec<(i64, String)>),
    /// The incident's identity has one of these device tokens.
    Devices(Vec<String>),
}

/// One statistics query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatQuery {
    /// Which data.
    pub data: DataType,
    /// Which precision's table.
    pub level: Level,
    /// Inclusive lower time bound.
    pub from: DateTime<Utc>,
    /// Exclusive upper time bound.
    pub to: DateTime<Utc>,
    /// Group by the origin-aligned bucket of this width.
    pub bucket: Option<Duration>,
    /// Group by these columns.
    pub group: Vec<Col>,
    /// The measure.
    pub measure: Measure,
    /// Row filters (all must hold).
    pub filters: Vec<Filter>,
    /// Keep only the top N groups by the measure (ties broken by the keys, byte order).
    pub limit: Option<usize>,
}

/// One result row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatRow {
    /// Bucket start, when grouped by bucket.
    pub bucket: Option<DateTime<Utc>>,
    /// Group keys as text, in `group` order.
    pub keys: Vec<Option<String>>,
    /// The measure.
    pub value: i64,
}

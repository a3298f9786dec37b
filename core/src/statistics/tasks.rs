//! The statistics job kinds (`aggregate`, `cache_resource`, `cache_resources`), the queues
//! they travel on and their payloads: what the planner queues and the handler
//! ([`super::jobs`]) runs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::aggregation::Precision;
use super::periods::Period;
use super::resources::Params;
use crate::error::Result;
use crate::jobs::Task;

/// Kind of a job aggregating one window of a precision (exactly once).
pub const AGGREGATE: &str = "aggregate";
/// Kind of a job computing a resource and storing it in the cache.
pub const CACHE_RESOURCE: &str = "cache_resource";
/// Kind of a job computing several precached resources of one data type from one scan of
/// the level their periods read, and storing each in the cache.
pub const CACHE_RESOURCES: &str = "cache_resources";
/// The statistics job kinds.
pub const KINDS: &[&str] = &[AGGREGATE, CACHE_RESOURCE, CACHE_RESOURCES];
/// The queues statistics jobs travel on.
pub const QUEUES: &[&str] = &["aggregation", "quick-cache", "slow-cache"];

/// Payload of an [`AGGREGATE`] job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aggregate {
    /// Target precision.
    pub precision: Precision,
    /// Window start.
    pub window_start: DateTime<Utc>,
}

/// Payload of a [`CACHE_RESOURCE`] job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheResource {
    /// Resource name.
    pub name: String,
    /// Display period.
    pub period: Period,
    /// Parameters.
    pub params: Params,
    /// Clock pinned by the planner (`--now`), if any.
    pub now: Option<DateTime<Utc>>,
}

/// One resource of a [`CacheResources`] job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Resource name (a precached resource: no parameters).
    pub name: String,
    /// Display period.
    pub period: Period,
}

/// Payload of a [`CACHE_RESOURCES`] job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheResources {
    /// The resources, all of one data type, their periods reading one level.
    pub members: Vec<Member>,
    /// Clock pinned by the planner (`--now`), if any.
    pub now: Option<DateTime<Utc>>,
}

/// The task aggregating the window of `precision` starting at `window_start`.
pub fn aggregate_task(precision: Precision, window_start: DateTime<Utc>) -> Result<Task> {
    Task::new(AGGREGATE, &Aggregate { precision, window_start })
}

/// The task computing and caching a resource.
pub fn cache_resource_task(payload: &CacheResource) -> Result<Task> {
    Task::new(CACHE_RESOURCE, payload)
}

/// The task computing and caching several resources from one scan.
pub fn cache_resources_task(payload: &CacheResources) -> Result<Task> {
    Task::new(CACHE_RESOURCES, payload)
}

//! Raw flows on SQLite: imports under `BEGIN IMMEDIATE` (SQLite's write lock up front).

use super::SqliteStore;
use crate::store::flows::oa_shared::flow_oa_store;
use crate::store::flows::shared::flow_store;

flow_store!(SqliteStore, sqlx::Sqlite, SqliteFlows, begin: "BEGIN IMMEDIATE");

flow_oa_store!(SqliteStore, sqlx::Sqlite, begin: "BEGIN IMMEDIATE");

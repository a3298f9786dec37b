//! Raw flows on PostgreSQL.

use super::PgStore;
use crate::store::flows::shared::flow_store;

flow_store!(PgStore, sqlx::Postgres, PgFlows, begin: "BEGIN");

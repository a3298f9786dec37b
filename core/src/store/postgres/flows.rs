//! Raw flows on PostgreSQL.

use super::PgStore;
use crate::store::flows::oa_shared::flow_oa_store;
use crate::store::flows::shared::flow_store;

flow_store!(PgStore, sqlx::Postgres, PgFlows, begin: "BEGIN");

flow_oa_store!(PgStore, sqlx::Postgres, begin: "BEGIN");

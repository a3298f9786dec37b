//! The PostgreSQL store: Sentinel View compatible schema, COPY ingest, advisory-locked
//! aggregation. TimescaleDB hypertables are used when the extension can be enabled.
//!
//! One module per concern: [`statistics`], [`passwords`], [`events`], [`flows`].

mod events;
mod flows;
mod passwords;
mod statistics;

use std::time::Duration;

use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use super::shared::store_common;
use super::{Backend, migrator};
use crate::config::SecretUrl;
use crate::error::Result;

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "statistics", include_str!("../migrations/postgres/0001_statistics.sql")),
    (2, "counters", include_str!("../migrations/postgres/0002_counters.sql")),
    (3, "events", include_str!("../migrations/postgres/0003_events.sql")),
    (4, "flows", include_str!("../migrations/postgres/0004_flows.sql")),
    (5, "flow oa", include_str!("../migrations/postgres/0005_flow_oa.sql")),
];

/// PostgreSQL implementation of [`crate::store::Store`].
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    location: String,
}

impl PgStore {
    /// Connects and applies pending migrations.
    pub async fn connect(url: &SecretUrl) -> Result<Self> {
        // a day's scan (OA, beacons, scorer) runs for seconds by design: slow statements are
        // logged at debug level only, never on an analyst's terminal
        let options = <PgConnectOptions as std::str::FromStr>::from_str(url.expose())?.log_slow_statements(log::LevelFilter::Debug, Duration::from_secs(1));
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        migrator(MIGRATIONS).run(&pool).await?;
        Ok(PgStore { pool, location: url.redacted() })
    }

    /// The connection pool, for other modules of this crate.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

store_common!(PgStore, sqlx::Postgres, Backend::Postgres);

/// Appends a value in COPY text format (backslash escapes for the special characters).
fn push_text(buf: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => buf.push_str("\\\\"),
            '\t' => buf.push_str("\\t"),
            '\n' => buf.push_str("\\n"),
            '\r' => buf.push_str("\\r"),
            c => buf.push(c),
        }
    }
}

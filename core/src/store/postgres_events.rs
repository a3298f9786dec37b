//! The events capability on PostgreSQL: COPY imports, aggregation under an advisory lock,
//! queries, and reading an existing IntelMQ eventDB.

use std::collections::BTreeSet;
use std::time::Duration;

use async_trait::async_trait;
use chrono::NaiveDate;
use serde_json::{Map, Value as Json};
use sqlx::postgres::PgPoolOptions;
use sqlx::{AssertSqlSafe, Postgres, Row, Transaction};

use super::events_sql::{self, WITHOUT_TIME_SOURCE, day_runs};
use super::postgres::{PgStore, push_text};
use super::sql::Dialect;
use super::{EventSession, bind_events, event_rows, sorted_texts, texts};
use crate::config::SecretUrl;
use crate::error::Result;
use crate::events::EventsStatus;
use crate::events::aggregate::{AggregateOutcome, Scope};
use crate::events::model::{AggTable, Event, Field, Kind};
use crate::events::query::{EventQuery, EventRow};

const D: Dialect = Dialect::Postgres;

/// Advisory lock of the events aggregation ("VANT" << 16 | 0x0e): exclusive for aggregation,
/// shared by import commits.
const EVENTS_LOCK: i64 = 0x5641_4e54_000e;

/// Events per COPY statement.
const EVENTS_PER_COPY: usize = 20_000;

impl PgStore {
    pub(super) async fn events_begin(&self) -> Result<Box<dyn EventSession>> {
        Ok(Box::new(PgEvents { tx: self.pool().begin().await?, days: BTreeSet::new(), buf: String::new() }))
    }

    pub(super) async fn events_aggregate_impl(&self, scope: Scope) -> Result<AggregateOutcome> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(EVENTS_LOCK).execute(&mut *tx).await?;
        let mut outcome = AggregateOutcome { full: scope == Scope::Full, ..AggregateOutcome::default() };
        if let Scope::Days(from, to) = scope {
            sqlx::query("INSERT INTO vantage_events_dirty_days (day) SELECT generate_series($1::date, $2::date, '1 day')::date ON CONFLICT DO NOTHING")
                .bind(from)
                .bind(to)
                .execute(&mut *tx)
                .await?;
        }
        if outcome.full {
            outcome.rows_written = rebuild(&mut tx).await?;
        } else {
            outcome.days = sqlx::query_scalar("SELECT day FROM vantage_events_dirty_days ORDER BY day").fetch_all(&mut *tx).await?;
        }
        for (a, b) in day_runs(&outcome.days) {
            for (i, table) in AggTable::ALL.into_iter().enumerate() {
                sqlx::query(AssertSqlSafe(events_sql::delete(D, table, true))).bind(a).bind(b).execute(&mut *tx).await?;
                let insert = sqlx::query(AssertSqlSafe(events_sql::aggregate(D, table, true))).bind(a).bind(b);
                outcome.rows_written[i] += insert.execute(&mut *tx).await?.rows_affected();
            }
        }
        outcome.without_time_source = sqlx::query_scalar(WITHOUT_TIME_SOURCE).fetch_one(&mut *tx).await?;
        sqlx::query("DELETE FROM vantage_events_dirty_days").execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    pub(super) async fn events_query_impl(&self, q: &EventQuery) -> Result<Vec<EventRow>> {
        let (sql, binds) = events_sql::query(D, q);
        let query = bind_events(sqlx::query(AssertSqlSafe(sql)), binds);
        Ok(event_rows(&query.fetch_all(self.pool()).await?, q)?)
    }

    pub(super) async fn events_table_rows_impl(&self, table: AggTable) -> Result<Vec<Vec<Option<String>>>> {
        let rows = sqlx::query(AssertSqlSafe(events_sql::table_rows(D, table))).fetch_all(self.pool()).await?;
        Ok(sorted_texts(&rows, table.dimensions().len() + 2)?)
    }

    pub(super) async fn events_status_impl(&self) -> Result<EventsStatus> {
        let (events, without, first, last): (i64, i64, Option<NaiveDate>, Option<NaiveDate>) = sqlx::query_as(
            "SELECT count(*), count(*) FILTER (WHERE \"time.source\" IS NULL),
                    min(\"time.source\" AT TIME ZONE 'UTC')::date, max(\"time.source\" AT TIME ZONE 'UTC')::date FROM events",
        )
        .fetch_one(self.pool())
        .await?;
        let pending_days = sqlx::query_scalar("SELECT day FROM vantage_events_dirty_days ORDER BY day").fetch_all(self.pool()).await?;
        let mut table_rows = Vec::new();
        for t in AggTable::ALL {
            let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT count(*) FROM {}", t.name()))).fetch_one(self.pool()).await?;
            table_rows.push((t.name().to_string(), n));
        }
        Ok(EventsStatus { events, without_time_source: without, first_day: first, last_day: last, pending_days, table_rows })
    }
}

/// Rebuilds the three tables whole inside `tx`: each is computed by `CREATE TABLE … AS SELECT`
/// into a new table (PostgreSQL runs that SELECT with parallel workers, which an
/// `INSERT … SELECT` never gets), which then replaces the old one, indexes restored (like
/// stats-portal's own tables, a rebuilt `date` column is not declared `NOT NULL`). DDL is
/// transactional: until the commit readers see the old tables, and a failed rebuild leaves
/// nothing behind.
async fn rebuild(tx: &mut Transaction<'static, Postgres>) -> Result<[u64; 3]> {
    let mut rows = [0; 3];
    for (i, table) in AggTable::ALL.into_iter().enumerate() {
        let new = format!("vantage_rebuild_{}", table.name());
        let select = events_sql::aggregate_select(D, table, false, "vantage_rebuild_agg_ndim_day_all_tags");
        rows[i] = sqlx::query(AssertSqlSafe(format!("CREATE TABLE {new} AS {select}"))).execute(&mut **tx).await?.rows_affected();
    }
    for table in AggTable::ALL {
        let name = table.name();
        for sql in [format!("DROP TABLE {name}"), format!("ALTER TABLE vantage_rebuild_{name} RENAME TO {name}")].into_iter().chain(events_sql::indexes(table))
        {
            sqlx::query(AssertSqlSafe(sql)).execute(&mut **tx).await?;
        }
    }
    Ok(rows)
}

/// An events import on PostgreSQL: one COPY per batch inside one transaction.
struct PgEvents {
    tx: Transaction<'static, Postgres>,
    days: BTreeSet<NaiveDate>,
    buf: String,
}

#[async_trait]
impl EventSession for PgEvents {
    async fn write(&mut self, events: &[Event]) -> Result<()> {
        for chunk in events.chunks(EVENTS_PER_COPY) {
            for e in chunk {
                self.days.extend(e.day());
                for (i, v) in e.values.iter().enumerate() {
                    if i > 0 {
                        self.buf.push('\t');
                    }
                    match v.text() {
                        Some(t) => push_text(&mut self.buf, &t),
                        None => self.buf.push_str("\\N"),
                    }
                }
                self.buf.push('\n');
            }
            let mut copy = self.tx.copy_in_raw(&format!("COPY events ({}) FROM STDIN", events_sql::event_columns())).await?;
            copy.send(self.buf.as_bytes()).await?;
            copy.finish().await?;
            self.buf.clear();
        }
        Ok(())
    }

    async fn commit(mut self: Box<Self>, mark: Option<(&str, i64)>) -> Result<Vec<NaiveDate>> {
        // waits for a running aggregation, so it cannot miss these events' days
        sqlx::query("SELECT pg_advisory_xact_lock_shared($1)").bind(EVENTS_LOCK).execute(&mut *self.tx).await?;
        let days: Vec<NaiveDate> = self.days.iter().copied().collect();
        sqlx::query("INSERT INTO vantage_events_dirty_days (day) SELECT unnest($1::date[]) ON CONFLICT DO NOTHING").bind(&days).execute(&mut *self.tx).await?;
        if let Some((name, value)) = mark {
            sqlx::query("INSERT INTO vantage_counters (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value")
                .bind(name)
                .bind(value)
                .execute(&mut *self.tx)
                .await?;
        }
        self.tx.commit().await?;
        Ok(days)
    }

    async fn rollback(self: Box<Self>) -> Result<()> {
        self.tx.rollback().await?;
        Ok(())
    }
}

/// Reads up to `limit` rows with `id > after` from the IntelMQ `events` table of the
/// PostgreSQL database at `url` (only read; IntelMQ's DDL: dotted columns, `id` serial), in id
/// order, as `(id, IntelMQ JSON object)` to be validated like imported lines.
pub async fn read_eventdb(url: &SecretUrl, after: i64, limit: i64) -> Result<Vec<(i64, Map<String, Json>)>> {
    let pool = PgPoolOptions::new().max_connections(1).acquire_timeout(Duration::from_secs(10)).connect(url.expose()).await?;
    let cols: Vec<String> = Field::ALL
        .iter()
        .map(|f| match f.kind() {
            Kind::Time => format!("to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')", f.quoted()),
            Kind::Ip => format!("host({})", f.quoted()),
            Kind::Asn | Kind::Port => format!("{}::bigint::text", f.quoted()),
            _ => format!("{}::text", f.quoted()),
        })
        .collect();
    let sql = format!("SELECT id::bigint, {} FROM events WHERE id > $1 ORDER BY id LIMIT $2", cols.join(", "));
    let rows = sqlx::query(AssertSqlSafe(sql)).bind(after).bind(limit).fetch_all(&pool).await;
    pool.close().await;
    let mut out = Vec::new();
    for r in rows? {
        let values = texts(&r, 1, Field::ALL.len())?;
        let mut map = Map::new();
        for (f, v) in Field::ALL.iter().zip(values) {
            let Some(v) = v else { continue };
            let json = match f.kind() {
                Kind::Asn | Kind::Port => v.parse::<i64>().map_or(Json::String(v), Json::from),
                _ => Json::String(v),
            };
            map.insert(f.name().to_string(), json);
        }
        out.push((r.try_get(0)?, map));
    }
    Ok(out)
}

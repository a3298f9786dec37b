//! Helpers for the incident-event tests: the IntelMQ fixture, imports from text, stats-portal's
//! aggregation SQL as the baseline, an IntelMQ eventDB, and Grafana macro expansion.

use std::path::PathBuf;
use std::sync::Arc;

use sqlx::{AssertSqlSafe, Connection, PgConnection};
use vantage_core::events::import::{self, ImportOptions, ImportReport, Input};
use vantage_core::events::model::AggTable;
use vantage_core::progress::NoProgress;
use vantage_core::store::dialect::Dialect;
use vantage_core::store::Store;
use vantage_core::store::events::sql as events_sql;

use crate::TestPg;

/// The 409 real IntelMQ events (`tests/fixtures/intelmq/`).
pub fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/intelmq/intelmq-events.jsonl")
}

/// The fixture's lines.
pub fn fixture_lines() -> Vec<String> {
    std::fs::read_to_string(fixture()).expect("read the IntelMQ fixture").lines().map(str::to_string).collect()
}

/// Imports `text` as the file `name`.
pub async fn import_text(store: &dyn Store, name: &str, text: &str, options: ImportOptions) -> ImportReport {
    let input = Input { name: name.to_string(), reader: Box::new(std::io::Cursor::new(text.as_bytes().to_vec())) };
    import::import(store, vec![input], options, Arc::new(NoProgress)).await.expect("import")
}

/// Default import options: keep valid lines, aggregate afterwards.
pub const AGGREGATE: ImportOptions = ImportOptions { strict: false, aggregate: true };

/// One IntelMQ event line.
pub fn event(time: &str, ip: &str, asn: i64, taxonomy: &str, kind: &str, provider: &str) -> String {
    serde_json::json!({
        "time.source": time, "source.ip": ip, "source.asn": asn, "classification.taxonomy": taxonomy,
        "classification.type": kind, "feed.provider": provider, "feed.name": format!("{provider} feed"),
        "source.geolocation.cc": "AT", "extra.note": "ignored",
    })
    .to_string()
}

/// The three daily tables of a store, as text rows.
pub async fn tables(store: &dyn Store) -> Vec<Vec<Vec<Option<String>>>> {
    let mut out = Vec::new();
    for t in AggTable::ALL {
        out.push(store.events_table_rows(t).await.expect("table rows"));
    }
    out
}

/// stats-portal's `make_agg_tables.sql` (certtools/stats-portal, the three
/// `CREATE TABLE … AS SELECT date_trunc('day', "time.source" at time zone 'UTC') …`), run in
/// schema `baseline` of `pg` over its `public.events`. Returns the tables' rows with a date as
/// text (the same projection as the store's), and the events of the NULL-date group.
pub async fn stats_portal_baseline(pg: &TestPg) -> (Vec<Vec<Vec<Option<String>>>>, i64) {
    let dims = |t: AggTable| t.dimensions().iter().map(|f| f.quoted()).collect::<Vec<_>>().join(", ");
    let mut sql = String::from("DROP SCHEMA IF EXISTS baseline CASCADE; CREATE SCHEMA baseline; SET search_path = baseline, public;\n");
    for t in AggTable::ALL {
        let count = if t == AggTable::Netobject { "count(distinct \"source.ip\")" } else { "count(*)" };
        sql.push_str(&format!(
            "drop table if exists \"{name}\"; create table \"{name}\" as (select date_trunc('day', \"time.source\" at time zone 'UTC') as \"date\", \
             {count} as \"count\", {d} from events group by \"date\", {d} order by \"date\" desc);\n",
            name = t.name(),
            d = dims(t)
        ));
    }
    let mut conn = PgConnection::connect(&pg.url).await.expect("connect");
    sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut conn).await.expect("stats-portal SQL");
    let mut tables = Vec::new();
    for t in AggTable::ALL {
        let select = events_sql::table_rows(Dialect::Postgres, t)
            .replace(&format!(" FROM {}", t.name()), &format!(" FROM baseline.{} WHERE \"date\" IS NOT NULL", t.name()));
        let rows: Vec<sqlx::postgres::PgRow> = sqlx::query(AssertSqlSafe(select)).fetch_all(&mut conn).await.expect("baseline rows");
        let mut rows: Vec<Vec<Option<String>>> = rows.iter().map(|r| (0..t.dimensions().len() + 2).map(|i| sqlx::Row::get(r, i)).collect()).collect();
        rows.sort();
        tables.push(rows);
    }
    let null_date: i64 = sqlx::query_scalar("SELECT coalesce(sum(\"count\"), 0)::bigint FROM baseline.agg_ndim_day_all_tags WHERE \"date\" IS NULL")
        .fetch_one(&mut conn)
        .await
        .expect("null-date group");
    let _ = conn.close().await;
    (tables, null_date)
}

/// The part of IntelMQ's eventDB DDL (`intelmq_psql_initdb`) Vantage reads, with a few
/// columns it does not, as an existing eventDB has them.
pub const INTELMQ_DDL: &str = r#"
CREATE TABLE events (
    "id" BIGSERIAL UNIQUE PRIMARY KEY,
    "classification.identifier" text,
    "classification.taxonomy" varchar(100),
    "classification.type" text,
    "comment" text,
    "extra" json,
    "feed.code" varchar(100),
    "feed.name" text,
    "feed.provider" text,
    "feed.url" text,
    "malware.name" text,
    "protocol.application" varchar(100),
    "protocol.transport" varchar(11),
    "raw" text,
    "source.asn" integer,
    "source.domain_suffix" text,
    "source.geolocation.cc" varchar(2),
    "source.ip" inet,
    "source.network" inet,
    "source.port" integer,
    "source.url" text,
    "time.observation" timestamp with time zone,
    "time.source" timestamp with time zone
);
"#;

/// Inserts IntelMQ JSON lines into the eventDB's `events` table the way IntelMQ's
/// PostgreSQL output does: column per key (unknown keys dropped).
pub async fn insert_into_eventdb(pg: &TestPg, lines: &[String]) {
    let mut conn = PgConnection::connect(&pg.url).await.expect("connect");
    let columns = "\"classification.identifier\", \"classification.taxonomy\", \"classification.type\", \"comment\", \"feed.code\", \"feed.name\", \
                   \"feed.provider\", \"feed.url\", \"malware.name\", \"protocol.application\", \"protocol.transport\", \"raw\", \"source.asn\", \
                   \"source.domain_suffix\", \"source.geolocation.cc\", \"source.ip\", \"source.network\", \"source.port\", \"source.url\", \
                   \"time.observation\", \"time.source\"";
    let sql = format!("INSERT INTO events ({columns}) SELECT {columns} FROM json_populate_record(NULL::events, $1::json)");
    for line in lines {
        sqlx::query(AssertSqlSafe(sql.clone())).bind(line).execute(&mut conn).await.expect("insert into the eventDB");
    }
    let _ = conn.close().await;
}

/// Replaces Grafana's PostgreSQL macros and the dashboard's variables with literal SQL:
/// days from 1990 to 2100, the given variable values (already SQL literals, comma-separated).
pub fn expand_grafana(sql: &str, taxonomy: &str, asn: &str) -> String {
    let mut out = sql.replace("$taxonomy", taxonomy).replace("$asn", asn);
    for col in ["\"date\"", "\"time.source\""] {
        out = out
            .replace(&format!("$__timeGroupAlias({col}, 1d)"), &format!("floor(extract(epoch from {col})/86400)*86400 AS \"time\""))
            .replace(&format!("$__timeFilter({col})"), &format!("{col} BETWEEN '1990-01-01T00:00:00Z' AND '2100-01-01T00:00:00Z'"));
    }
    out
}

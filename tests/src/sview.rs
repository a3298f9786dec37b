//! Sentinel View's development data (`fixtures/sview-testdata.sql`) with `NOW()` pinned.
//!
//! On PostgreSQL the SQL runs as it is (with `NOW()` replaced) against sview's own schema.
//! For SQLite the same rows are turned into a JSON Lines file and imported with Vantage's
//! ingest, so both backends hold the same data through the two real paths.

use std::path::Path;

use chrono::{DateTime, Utc};

use std::sync::Arc;

use vantage_core::progress::NoProgress;
use vantage_core::statistics::ingest::{self, IngestOptions, Source};

use crate::{Kind, TestStore, minus_interval, t};

/// A store of `kind` holding sview's development data, the clock pinned to `now`: on
/// PostgreSQL an existing sview database (sview's DDL and SQL, then Vantage opens it), on
/// SQLite imported through `ingest`.
pub async fn load(kind: Kind, now: DateTime<Utc>) -> TestStore {
    match kind {
        Kind::Postgres => TestStore::with_existing_pg_schema(kind, now, Some(scheme_sql() + &testdata_sql())).await,
        Kind::Sqlite => {
            let ts = TestStore::new(kind, now).await;
            let file = ts.data_dir().join("sview-testdata.jsonl");
            std::fs::write(&file, testdata_jsonl()).expect("write jsonl");
            let report = ingest::ingest(ts.store.as_ref(), vec![Source::File(file)], IngestOptions::default(), Arc::new(NoProgress))
                .await
                .expect("ingest sview data");
            assert_eq!((report.rows.total(), report.rejected_total), (85, 0));
            ts
        }
    }
}

/// [`load`], then every aggregation back-filled up to `now` (quarterly up to 12:30, hourly
/// up to 12:00, daily up to midnight for the usual `now`), as the refresh planner would have
/// done.
pub async fn load_aggregated(kind: Kind, now: DateTime<Utc>) -> TestStore {
    use vantage_core::statistics::aggregation::{self, Precision};
    let ts = load(kind, now).await;
    for p in Precision::ALL {
        let windows = aggregation::backfill_windows(p, now, 400);
        aggregation::aggregate(ts.store.as_ref(), p, windows, false, now, Arc::new(NoProgress)).await.expect("backfill");
    }
    ts
}

/// The instant `NOW()` is replaced with.
pub const DATA_NOW: &str = "2024-06-15T12:34:56Z";

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// sview's schema DDL (an existing sview database).
pub fn scheme_sql() -> String {
    fixture("sview-scheme.sql")
}

/// The test data SQL with `NOW()` replaced by [`DATA_NOW`].
pub fn testdata_sql() -> String {
    fixture("sview-testdata.sql").replace("NOW()", "TIMESTAMPTZ '2024-06-15 12:34:56+00'")
}

/// Splits `a, 'b, c', d` into fields, keeping quotes out.
fn fields(tuple: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in tuple.chars() {
        match c {
            '\'' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur).trim().to_string()),
            c => cur.push(c),
        }
    }
    out.push(cur.trim().to_string());
    out
}

/// Evaluates `NOW()` or `NOW() - INTERVAL 'n unit'` (quotes already removed).
fn eval_time(expr: &str, now: DateTime<Utc>) -> DateTime<Utc> {
    let expr = expr.trim();
    if expr == "NOW()" {
        return now;
    }
    let rest = expr.strip_prefix("NOW() - INTERVAL").unwrap_or_else(|| panic!("unexpected time expression {expr}")).trim();
    let mut parts = rest.split_whitespace();
    let amount: i64 = parts.next().and_then(|n| n.parse().ok()).expect("interval amount");
    let unit = parts.next().expect("interval unit");
    minus_interval(now, amount, unit)
}

/// The tuples of each `INSERT INTO <table> VALUES …;` statement.
fn tuples(sql: &str, table: &str) -> Vec<Vec<String>> {
    let start = sql.find(&format!("INSERT INTO {table} ")).unwrap_or_else(|| panic!("no {table} insert"));
    let body = &sql[start..];
    let body = &body[..body.find(';').expect("statement end")];
    let mut out = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    let mut quoted = false;
    for c in body.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                if depth > 0 {
                    cur.push(c);
                }
            }
            '(' if !quoted => {
                depth += 1;
                if depth > 1 {
                    cur.push(c);
                }
            }
            ')' if !quoted => {
                depth -= 1;
                if depth == 0 {
                    out.push(fields(&std::mem::take(&mut cur)));
                } else {
                    cur.push(c);
                }
            }
            c if depth > 0 => cur.push(c),
            _ => {}
        }
    }
    // the identity insert's column list `(sn, device_token)` is not a tuple of values
    out.retain(|f| f.len() > 1 && f[0] != "sn");
    out
}

/// The test data as Vantage JSON Lines (incidents carry their identity's sn/token).
pub fn testdata_jsonl() -> String {
    let sql = fixture("sview-testdata.sql");
    let now = t(DATA_NOW);
    let identities = tuples(&sql, "identity");
    let mut out = String::new();
    let ts = |e: &str| eval_time(e, now).to_rfc3339();
    for f in tuples(&sql, "incidents") {
        let id: usize = f[2].parse().expect("identity id");
        let (sn, token) = (&identities[id - 1][0], &identities[id - 1][1]);
        out.push_str(&serde_json::json!({"time": ts(&f[0]), "raw_count": f[1].parse::<i64>().expect("count"), "sn": sn, "device_token": token, "trap": f[3], "action": f[4], "ip": f[5], "country": f[6]}).to_string());
        out.push('\n');
    }
    for f in tuples(&sql, "passwords") {
        out.push_str(&serde_json::json!({"time": ts(&f[0]), "raw_count": f[1].parse::<i64>().expect("count"), "username": f[2], "password": f[3]}).to_string());
        out.push('\n');
    }
    for f in tuples(&sql, "ports") {
        out.push_str(&serde_json::json!({"time": ts(&f[0]), "raw_count": f[1].parse::<i64>().expect("count"), "port": f[2].parse::<i64>().expect("port"), "protocol": f[3]}).to_string());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_converts_to_the_expected_row_counts() {
        let jsonl = testdata_jsonl();
        assert_eq!(jsonl.lines().count(), 59 + 10 + 16);
        assert!(jsonl.contains(r#""time":"2024-05-15T12:34:56+00:00""#), "1 month before is a calendar month");
    }
}

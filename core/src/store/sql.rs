//! SQL text shared by both backends, parameterised by a [`Dialect`].
//!
//! Only fixed fragments go into these strings: table and column names from the allow-lists in
//! [`crate::statistics::model`], bucket widths from [`crate::statistics::Precision`]. Every
//! value is a bound parameter.

use crate::statistics::aggregation::Precision;
use crate::statistics::model::DataType;
use crate::timebucket::{ORIGIN_MICROS, width_micros};

/// The differences between the two SQL dialects that statistics queries need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite: `?` parameters, INTEGER microsecond times.
    Sqlite,
    /// PostgreSQL: `$n` parameters, timestamptz.
    Postgres,
}

impl Dialect {
    /// The `n`-th (1-based) bind parameter.
    pub fn param(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => "?".to_string(),
            Dialect::Postgres => format!("${n}"),
        }
    }

    /// Expression for the origin-aligned bucket of `time` with the precision's width.
    pub fn bucket(self, precision: Precision) -> String {
        let w = width_micros(precision.width());
        match self {
            Dialect::Sqlite => format!("(time - (((time - {ORIGIN_MICROS}) % {w}) + {w}) % {w})"),
            Dialect::Postgres => {
                format!("date_bin('{} seconds'::interval, time, TIMESTAMPTZ '2000-01-03 00:00:00+00')", w / 1_000_000)
            }
        }
    }

    /// Expression rendering a dimension column as text (identities as `sn/device_token`).
    fn dim_text(self, column: &str) -> String {
        match (self, column) {
            (Dialect::Sqlite, "identity_id") => "i.sn || '/' || i.device_token".to_string(),
            (Dialect::Postgres, "identity_id") => "i.sn::text || '/' || i.device_token::text".to_string(),
            (Dialect::Sqlite, c) => format!("CAST(t.{c} AS TEXT)"),
            (Dialect::Postgres, "ip") => "host(t.ip)".to_string(),
            (Dialect::Postgres, c) => format!("t.{c}::text"),
        }
    }

    fn sum(self, expr: &str) -> String {
        match self {
            Dialect::Sqlite => format!("coalesce(sum({expr}), 0)"),
            Dialect::Postgres => format!("coalesce(sum({expr}), 0)::bigint"),
        }
    }

    /// `SELECT bucket, count(*), sum(raw_count)` of a source table over `[$1, $2)`.
    pub fn fingerprint(self, precision: Precision, source: &str) -> String {
        format!(
            "SELECT {bucket} AS bucket, count(*), {sum} FROM {source} WHERE time >= {p1} AND time < {p2} GROUP BY bucket",
            bucket = self.bucket(precision),
            sum = self.sum("raw_count"),
            p1 = self.param(1),
            p2 = self.param(2),
        )
    }

    /// Deletes a target table's rows in `[$1, $2)`.
    pub fn delete_range(self, target: &str) -> String {
        format!("DELETE FROM {target} WHERE time >= {} AND time < {}", self.param(1), self.param(2))
    }

    /// Aggregates source rows in `[$1, $2)` into the target table.
    pub fn aggregate_insert(self, precision: Precision, data: DataType, source: &str, target: &str) -> String {
        let dims = data.dimensions().join(", ");
        format!(
            "INSERT INTO {target} (time, raw_count, {dims}) \
             SELECT {bucket} AS bucket, sum(raw_count), {dims} FROM {source} \
             WHERE time >= {p1} AND time < {p2} GROUP BY bucket, {dims}",
            bucket = self.bucket(precision),
            p1 = self.param(1),
            p2 = self.param(2),
        )
    }

    /// Recorded windows of a precision with start in `[$2, $3)`.
    pub fn done_windows(self) -> String {
        format!(
            "SELECT window_start, incidents_rows, incidents_sum, passwords_rows, passwords_sum, ports_rows, ports_sum \
             FROM vantage_aggregation_window WHERE precision = {} AND window_start >= {} AND window_start < {}",
            self.param(1),
            self.param(2),
            self.param(3)
        )
    }

    /// Upserts one window record (11 parameters in column order).
    pub fn record_window(self) -> String {
        let params: Vec<String> = (1..=10).map(|n| self.param(n)).collect();
        format!(
            "INSERT INTO vantage_aggregation_window (precision, window_start, window_end, incidents_rows, incidents_sum, \
             passwords_rows, passwords_sum, ports_rows, ports_sum, aggregated_at) VALUES ({}) \
             ON CONFLICT (precision, window_start) DO UPDATE SET window_end = excluded.window_end, \
             incidents_rows = excluded.incidents_rows, incidents_sum = excluded.incidents_sum, \
             passwords_rows = excluded.passwords_rows, passwords_sum = excluded.passwords_sum, \
             ports_rows = excluded.ports_rows, ports_sum = excluded.ports_sum, \
             runs = vantage_aggregation_window.runs + 1, aggregated_at = excluded.aggregated_at",
            params.join(", ")
        )
    }

    /// Every row of a statistics table with dimensions as text, sorted.
    pub fn table_rows(self, data: DataType, table: &str) -> String {
        let dims: Vec<String> = data.dimensions().iter().map(|c| self.dim_text(c)).collect();
        let join = if data == DataType::Incidents { " LEFT JOIN identity i ON i.id = t.identity_id" } else { "" };
        format!(
            "SELECT t.time, t.raw_count, {} FROM {table} t{join} ORDER BY 1, 3, 2",
            dims.join(", ")
        )
    }

    /// Row count and sum of a table.
    pub fn totals(self, table: &str) -> String {
        format!("SELECT count(*), {} FROM {table}", self.sum("raw_count"))
    }
}

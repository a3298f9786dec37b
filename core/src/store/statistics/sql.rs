//! The statistics SQL text of both backends, parameterised by a [`Dialect`].
//!
//! Only fixed fragments go into these strings: table and column names from the allow-lists in
//! [`super::model`], bucket widths from [`super::model::Level::bucket_width`]. Every value is a
//! bound parameter.

use chrono::{DateTime, Duration, Utc};

use super::model::DataType;
use super::query::{Col, Filter, Measure, StatQuery};
use super::scan::scan_columns;
use crate::error::Error;
use crate::store::dialect::Dialect;
use crate::timebucket::{ORIGIN_MICROS, width_micros};

/// A value to bind, in the order the placeholders appear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bind {
    /// A timestamp (timestamptz on PostgreSQL, epoch microseconds on SQLite).
    Time(DateTime<Utc>),
    /// Text.
    Text(String),
    /// An integer.
    Int(i64),
}

/// How a scan column travels (see [`Dialect::scan`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// One text column, type-checked.
    Text,
    /// One enum column: its binary form is the label's text.
    Label,
    /// One `integer` column.
    Int,
    /// Two columns: the `inet` in binary, and `host(ip)` where the address is not IPv4.
    Inet,
}

/// The statistics statements of each dialect.
impl Dialect {
    /// Expression for the origin-aligned bucket of width `width` of the column `time`.
    pub fn bucket_of(self, time: &str, width: Duration) -> String {
        let w = width_micros(width);
        match self {
            Dialect::Sqlite => format!("({time} - ((({time} - {ORIGIN_MICROS}) % {w}) + {w}) % {w})"),
            Dialect::Postgres => {
                format!("date_bin('{} seconds'::interval, {time}, TIMESTAMPTZ '2000-01-03 00:00:00+00')", w / 1_000_000)
            }
        }
    }

    /// A statistics column rendered as text (what grouping keys and text filters compare).
    fn col_text(self, col: Col) -> String {
        let c = col.name();
        match (self, col) {
            (Dialect::Postgres, Col::Ip) => "host(t.ip)".to_string(),
            (Dialect::Postgres, Col::Trap | Col::Action | Col::Protocol | Col::Port) => format!("t.{c}::text"),
            (Dialect::Sqlite, Col::Port) => format!("CAST(t.{c} AS TEXT)"),
            _ => format!("t.{c}"),
        }
    }

    fn newline(self) -> &'static str {
        match self {
            Dialect::Sqlite => "char(10)",
            Dialect::Postgres => "E'\\n'",
        }
    }

    /// SQL and binds of a [`StatQuery`].
    pub fn stat_query(self, q: &StatQuery) -> (String, Vec<Bind>) {
        let mut binds = vec![Bind::Time(q.from), Bind::Time(q.to)];
        let next = |binds: &mut Vec<Bind>, b: Bind| {
            binds.push(b);
            self.param(binds.len())
        };
        let mut select = Vec::new();
        let mut group = Vec::new();
        if let Some(w) = q.bucket {
            select.push(format!("{} AS bucket", self.bucket_of("t.time", w)));
            group.push("bucket".to_string());
        }
        // keys sort in byte order on both backends (PostgreSQL: collation "C")
        let collate = match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " COLLATE \"C\"",
        };
        for (i, c) in q.group.iter().enumerate() {
            select.push(format!("{}{collate} AS k{i}", self.col_text(*c)));
            group.push(format!("k{i}"));
        }
        select.push(match q.measure {
            Measure::Sum => format!("{} AS v", self.sum("t.raw_count")),
            Measure::DistinctIp => "count(DISTINCT t.ip) AS v".to_string(),
        });
        let mut wheres = vec![format!("t.time >= {}", self.param(1)), format!("t.time < {}", self.param(2))];
        for f in &q.filters {
            wheres.push(match f {
                Filter::NotNull(c) => format!("t.{} IS NOT NULL", c.name()),
                Filter::Valid(c) => {
                    let c = c.name();
                    format!("(t.{c} IS NOT NULL AND t.{c} <> '' AND t.{c} <> {})", self.newline())
                }
                Filter::Eq(c, v) => format!("{} = {}", self.col_text(*c), next(&mut binds, Bind::Text(v.clone()))),
                Filter::OneOf(c, vs) if vs.is_empty() => format!("{} IS NULL AND 1 = 0", self.col_text(*c)),
                Filter::OneOf(c, vs) => {
                    let ps: Vec<String> = vs.iter().map(|v| next(&mut binds, Bind::Text(v.clone()))).collect();
                    format!("{} IN ({})", self.col_text(*c), ps.join(", "))
                }
                Filter::PortOneOf(pairs) if pairs.is_empty() => "1 = 0".to_string(),
                Filter::PortOneOf(pairs) => {
                    let ors: Vec<String> = pairs
                        .iter()
                        .map(|(port, proto)| {
                            let p = next(&mut binds, Bind::Int(*port));
                            let q = next(&mut binds, Bind::Text(proto.clone()));
                            format!("(t.port = {p} AND {} = {q})", self.col_text(Col::Protocol))
                        })
                        .collect();
                    format!("({})", ors.join(" OR "))
                }
                Filter::Devices(tokens) if tokens.is_empty() => "1 = 0".to_string(),
                Filter::Devices(tokens) => {
                    let ps: Vec<String> = tokens.iter().map(|v| next(&mut binds, Bind::Text(v.clone()))).collect();
                    format!("t.identity_id IN (SELECT id FROM identity WHERE device_token IN ({}))", ps.join(", "))
                }
            });
        }
        let mut sql = format!(
            "SELECT {} FROM {} t WHERE {}",
            select.join(", "),
            q.level.table(q.data),
            wheres.join(" AND ")
        );
        if !group.is_empty() {
            sql.push_str(&format!(" GROUP BY {}", group.join(", ")));
        }
        let keys: Vec<String> = (0..q.group.len()).map(|i| format!("k{i}")).collect();
        if let Some(n) = q.limit {
            let mut order = vec!["v DESC".to_string()];
            order.extend(keys);
            sql.push_str(&format!(" ORDER BY {} LIMIT {n}", order.join(", ")));
        } else if q.bucket.is_some() {
            let mut order = vec!["bucket".to_string()];
            order.extend(keys);
            sql.push_str(&format!(" ORDER BY {}", order.join(", ")));
        }
        (sql, binds)
    }

    /// How a scan reads `col` ([`Dialect::scan`] selects it so).
    pub fn scan_wire(self, col: Col) -> Wire {
        match (self, col) {
            (Dialect::Postgres, Col::Trap | Col::Action | Col::Protocol) => Wire::Label,
            (Dialect::Postgres, Col::Port) => Wire::Int,
            (Dialect::Postgres, Col::Ip) => Wire::Inet,
            _ => Wire::Text,
        }
    }

    /// The rows of `data`'s `table` in `[$1, $2)`: time, each of the [`scan_columns`] as its
    /// [`Dialect::scan_wire`] reads it, `raw_count`; in no particular order. PostgreSQL sends
    /// enum labels, ports and IPv4 addresses in binary, uncast: their texts are made once
    /// per distinct value in the scan, not once per row on the server.
    pub fn scan(self, data: DataType, table: &str) -> String {
        let cols: Vec<String> = scan_columns(data)
            .iter()
            .map(|c| match self.scan_wire(*c) {
                Wire::Text => self.col_text(*c),
                Wire::Label | Wire::Int => format!("t.{}", c.name()),
                Wire::Inet => format!("t.{0}, CASE WHEN family(t.{0}) = 4 THEN NULL ELSE {1} END", c.name(), self.col_text(*c)),
            })
            .collect();
        format!(
            "SELECT t.time, {}, t.raw_count FROM {table} t WHERE t.time >= {} AND t.time < {}",
            cols.join(", "),
            self.param(1),
            self.param(2)
        )
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

    /// `SELECT bucket, count(*), sum(raw_count)` of a source table over `[$1, $2)`.
    pub fn fingerprint(self, width: Duration, source: &str) -> String {
        format!(
            "SELECT {bucket} AS bucket, count(*), {sum} FROM {source} WHERE time >= {p1} AND time < {p2} GROUP BY bucket",
            bucket = self.bucket_of("time", width),
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
    pub fn aggregate_insert(self, width: Duration, data: DataType, source: &str, target: &str) -> String {
        let dims = data.dimensions().join(", ");
        format!(
            "INSERT INTO {target} (time, raw_count, {dims}) \
             SELECT {bucket} AS bucket, sum(raw_count), {dims} FROM {source} \
             WHERE time >= {p1} AND time < {p2} GROUP BY bucket, {dims}",
            bucket = self.bucket_of("time", width),
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

    /// Raw incidents in `[$1, $2]` summed per address, trap and action, with their first and
    /// last time.
    pub fn ip_activity(self, only: usize) -> String {
        let ip = self.col_text(Col::Ip);
        let among = match only {
            0 => String::new(),
            n => format!(" AND {ip} IN ({})", (3..3 + n).map(|i| self.param(i)).collect::<Vec<_>>().join(", ")),
        };
        format!(
            "SELECT {ip}, {trap}, {action}, {sum}, min(t.time), max(t.time) FROM incidents t \
             WHERE t.time >= {p1} AND t.time <= {p2}{among} GROUP BY 1, 2, 3",
            trap = self.col_text(Col::Trap),
            action = self.col_text(Col::Action),
            sum = self.sum("t.raw_count"),
            p1 = self.param(1),
            p2 = self.param(2),
        )
    }

    /// Row count and sum of a table.
    pub fn totals(self, table: &str) -> String {
        format!("SELECT count(*), {} FROM {table}", self.sum("raw_count"))
    }
}

/// A failed aggregation statement on `table`: the database's refusal (e.g. a sum overflowing
/// 64 bits) becomes [`Error::Aggregation`] naming the table, so the caller can report the window
/// and go on with the others; lost connections and other errors stay as they are.
pub(crate) fn aggregation_error(table: &str) -> impl FnOnce(sqlx::Error) -> Error + '_ {
    move |e| match e {
        sqlx::Error::Database(db) => Error::Aggregation(format!("table {table}: {}", db.message())),
        other => Error::Database(other),
    }
}

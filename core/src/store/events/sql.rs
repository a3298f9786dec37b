//! The events SQL text of both backends, parameterised by a [`Dialect`].
//!
//! Identifiers come only from [`Field`] and [`AggTable`] (fixed allow-lists), values are bound.
//! Parameters are numbered (`$n` on PostgreSQL, `?n` on SQLite). Day bounds are bound as
//! dates on PostgreSQL and as `YYYY-MM-DD` text on SQLite, where times are fixed-width UTC text
//! so that `'2024-06-15' <= t < '2024-06-16'` selects one day.

use chrono::NaiveDate;

use super::model::{AggTable, Field, Kind};
use super::query::{Count, EventQuery, Source, Taxonomy};
use crate::store::dialect::Dialect;

/// A value to bind, in placeholder order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventBind {
    /// A UTC day.
    Day(NaiveDate),
    /// Text.
    Text(String),
    /// An integer.
    Int(i64),
}

/// The `n`-th parameter as a day.
fn day_param(d: Dialect, n: usize) -> String {
    match d {
        Dialect::Sqlite => d.param(n),
        Dialect::Postgres => format!("${n}::date"),
    }
}

/// The `n`-th parameter as the instant a day starts (UTC), for comparisons with `time.source`.
fn day_start(d: Dialect, n: usize) -> String {
    match d {
        Dialect::Sqlite => d.param(n),
        Dialect::Postgres => format!("(${n}::date)::timestamp AT TIME ZONE 'UTC'"),
    }
}

/// stats-portal's `date` of an event: the UTC day of `time.source`.
fn event_date(d: Dialect) -> &'static str {
    match d {
        Dialect::Sqlite => "substr(\"time.source\", 1, 10)",
        Dialect::Postgres => "date_trunc('day', \"time.source\" AT TIME ZONE 'UTC')",
    }
}

/// The day of a row of `source` as `YYYY-MM-DD` text.
fn day_text(d: Dialect, source: Source) -> String {
    match (d, source) {
        (Dialect::Sqlite, Source::Agg(_)) => "\"date\"".into(),
        (Dialect::Sqlite, Source::Events) => event_date(d).into(),
        (Dialect::Postgres, Source::Agg(_)) => "to_char(\"date\", 'YYYY-MM-DD')".into(),
        (Dialect::Postgres, Source::Events) => format!("to_char({}, 'YYYY-MM-DD')", event_date(d)),
    }
}

/// A field's value as text (the form group keys and equality filters use).
fn text_of(d: Dialect, field: Field) -> String {
    let c = field.quoted();
    match (d, field.kind()) {
        (Dialect::Sqlite, Kind::Asn | Kind::Port) => format!("CAST({c} AS TEXT)"),
        (Dialect::Sqlite, _) => c,
        (Dialect::Postgres, Kind::Ip) => format!("host({c})"),
        (Dialect::Postgres, _) => format!("{c}::text"),
    }
}

/// `(a, b, …)` of quoted column names.
fn columns(fields: &[Field]) -> String {
    fields.iter().map(|f| f.quoted()).collect::<Vec<_>>().join(", ")
}

/// The WHERE condition restricting `time.source` (events) to `[$1, $2)` days, or to non-NULL.
fn events_range(d: Dialect, range: bool) -> String {
    if range { format!("\"time.source\" >= {} AND \"time.source\" < {}", day_start(d, 1), day_start(d, 2)) } else { "\"time.source\" IS NOT NULL".into() }
}

/// Counts the events without `time.source` (served by the indexes that lead with `time.source`).
pub const WITHOUT_TIME_SOURCE: &str = "SELECT count(*) FROM events WHERE \"time.source\" IS NULL";

/// Deletes a table's rows of the days `[$1, $2)`, or all of them.
pub fn delete(d: Dialect, table: AggTable, range: bool) -> String {
    if range {
        format!("DELETE FROM {} WHERE \"date\" >= {} AND \"date\" < {}", table.name(), day_param(d, 1), day_param(d, 2))
    } else {
        format!("DELETE FROM {}", table.name())
    }
}

/// The SELECT computing `table`'s rows (columns `date`, `count`, dimensions) of the days
/// `[$1, $2)`, or of all events with a `time.source`: stats-portal's grouping. The feed table is
/// summed from `all_tags` (an `agg_ndim_day_all_tags` whose dimensions include all of its own),
/// the others read the events.
pub fn aggregate_select(d: Dialect, table: AggTable, range: bool, all_tags: &str) -> String {
    let dims = columns(table.dimensions());
    let (date, count, source, filter) = match table {
        AggTable::FeedTags => {
            let sum = if d == Dialect::Postgres { "sum(\"count\")::bigint" } else { "sum(\"count\")" };
            let filter = if range { format!(" WHERE \"date\" >= {} AND \"date\" < {}", day_param(d, 1), day_param(d, 2)) } else { String::new() };
            ("\"date\"", sum, all_tags, filter)
        }
        AggTable::AllTags => (event_date(d), "count(*)", "events", format!(" WHERE {}", events_range(d, range))),
        // PostgreSQL sorts every group's input for a `count(DISTINCT …)`; the distinct
        // (day, dimensions, address) rows first (which the planner can hash), then counted per
        // group, are the same figures in about half the time (NULL addresses: `count` skips
        // them as DISTINCT did)
        AggTable::Netobject if d == Dialect::Postgres => {
            let distinct = format!("(SELECT DISTINCT {} AS \"date\", \"source.ip\", {dims} FROM events WHERE {}) AS d", event_date(d), events_range(d, range));
            return format!("SELECT \"date\", count(\"source.ip\") AS \"count\", {dims} FROM {distinct} GROUP BY 1, {dims}");
        }
        AggTable::Netobject => (event_date(d), "count(DISTINCT \"source.ip\")", "events", format!(" WHERE {}", events_range(d, range))),
    };
    format!("SELECT {date} AS \"date\", {count} AS \"count\", {dims} FROM {source}{filter} GROUP BY 1, {dims}")
}

/// Inserts [`aggregate_select`]'s rows into `table`.
pub fn aggregate(d: Dialect, table: AggTable, range: bool) -> String {
    let dims = columns(table.dimensions());
    format!("INSERT INTO {} (\"date\", \"count\", {dims}) {}", table.name(), aggregate_select(d, table, range, AggTable::AllTags.name()))
}

/// The indexes of an aggregation table (as in the migrations), for tables rebuilt whole.
pub fn indexes(table: AggTable) -> Vec<String> {
    let mut out = vec![format!("CREATE INDEX \"idx_{0}_date\" ON {0} (\"date\")", table.name())];
    if table == AggTable::AllTags {
        out.push(format!("CREATE INDEX \"idx_{0}_source.asn\" ON {0} (\"source.asn\", \"date\")", table.name()));
    }
    out
}

/// SQL and binds of an [`EventQuery`]: columns day text (when by day), one text key per group
/// field, then the count. Unordered.
pub fn query(d: Dialect, q: &EventQuery) -> (String, Vec<EventBind>) {
    let mut binds = Vec::new();
    let mut next = |b: EventBind| {
        binds.push(b);
        binds.len()
    };
    let mut select = Vec::new();
    let mut group = Vec::new();
    if q.by_day {
        select.push(format!("{} AS day", day_text(d, q.source)));
        group.push("day".to_string());
    }
    for (i, f) in q.group.iter().enumerate() {
        select.push(format!("{} AS k{i}", text_of(d, *f)));
        group.push(format!("k{i}"));
    }
    select.push(match (q.source, q.count) {
        (Source::Agg(_), _) if d == Dialect::Postgres => "sum(\"count\")::bigint AS v".into(),
        (Source::Agg(_), _) => "sum(\"count\") AS v".into(),
        (Source::Events, Count::Events) => "count(*) AS v".into(),
        (Source::Events, Count::DistinctIps) => "count(DISTINCT \"source.ip\") AS v".into(),
    });
    let f = &q.filter;
    let mut wheres = Vec::new();
    let (table, time) = match q.source {
        Source::Events => ("events", "\"time.source\""),
        Source::Agg(t) => (t.name(), "\"date\""),
    };
    let bound = |n: usize| if q.source == Source::Events { day_start(d, n) } else { day_param(d, n) };
    if q.by_day {
        wheres.push(format!("{time} IS NOT NULL"));
    }
    if let Some(from) = f.from {
        wheres.push(format!("{time} >= {}", bound(next(EventBind::Day(from)))));
    }
    if let Some(to) = f.to.and_then(|t| t.succ_opt()) {
        wheres.push(format!("{time} < {}", bound(next(EventBind::Day(to)))));
    }
    let taxonomy = Field::Taxonomy.quoted();
    match &f.taxonomy {
        Taxonomy::Any => {}
        Taxonomy::AllButTest => wheres.push(format!("({taxonomy} IS NULL OR {taxonomy} <> 'test')")),
        Taxonomy::Is(t) => wheres.push(format!("{taxonomy} = {}", d.param(next(EventBind::Text(t.clone()))))),
    }
    if !f.asns.is_empty() {
        let ps: Vec<String> = f.asns.iter().map(|a| d.param(next(EventBind::Int(*a)))).collect();
        wheres.push(format!("{} IN ({})", Field::SourceAsn.quoted(), ps.join(", ")));
    }
    if let Some(cc) = &f.country {
        wheres.push(format!("{} = {}", Field::Country.quoted(), d.param(next(EventBind::Text(cc.clone())))));
    }
    for (field, value) in &f.equals {
        wheres.push(format!("{} = {}", text_of(d, *field), d.param(next(EventBind::Text(value.clone())))));
    }
    for (field, values) in &f.among {
        let ps: Vec<String> = values.iter().map(|v| d.param(next(EventBind::Text(v.clone())))).collect();
        wheres.push(match ps.is_empty() {
            true => "1 = 0".to_string(),
            false => format!("{} IN ({})", text_of(d, *field), ps.join(", ")),
        });
    }
    let mut sql = format!("SELECT {} FROM {table}", select.join(", "));
    if !wheres.is_empty() {
        sql.push_str(&format!(" WHERE {}", wheres.join(" AND ")));
    }
    if !group.is_empty() {
        sql.push_str(&format!(" GROUP BY {}", group.join(", ")));
    }
    (sql, binds)
}

/// Every row of an aggregation table as text: day, count, dimensions.
pub fn table_rows(d: Dialect, table: AggTable) -> String {
    let dims: Vec<String> = table.dimensions().iter().map(|f| text_of(d, *f)).collect();
    let count = match d {
        Dialect::Sqlite => "CAST(\"count\" AS TEXT)",
        Dialect::Postgres => "\"count\"::text",
    };
    format!("SELECT {}, {count}, {} FROM {}", day_text(d, Source::Agg(table)), dims.join(", "), table.name())
}

/// Every stored event column in [`Field::ALL`] order, for COPY and INSERT.
pub fn event_columns() -> String {
    columns(&Field::ALL)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::events::query::Filter;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("day")
    }

    #[test]
    fn bound_filters() {
        let q = EventQuery {
            source: Source::Agg(AggTable::AllTags),
            by_day: true,
            group: vec![Field::SourceAsn],
            count: Count::Events,
            filter: Filter {
                from: Some(day("2024-06-01")),
                to: Some(day("2024-06-30")),
                taxonomy: Taxonomy::Is("x' OR 1=1".into()),
                asns: vec![1, 2],
                ..Filter::default()
            },
        };
        let (sql, binds) = query(Dialect::Postgres, &q);
        assert!(sql.contains("\"date\" < $2::date AND \"classification.taxonomy\" = $3 AND \"source.asn\" IN ($4, $5)"), "{sql}");
        assert!(!sql.contains("OR 1=1"));
        assert_eq!(binds[1], EventBind::Day(day("2024-07-01")), "to is included");
        assert!(aggregate(Dialect::Sqlite, AggTable::Netobject, true).contains("count(DISTINCT \"source.ip\")"));
    }
}

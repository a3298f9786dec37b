//! The one query shape every events question is built from: a grouped count over the events
//! table or one aggregation table, with the filters of every view.

use chrono::NaiveDate;
use serde::Serialize;

use super::model::{AggTable, Field};

/// Where a query reads from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The events themselves (exact distinct counts over any range).
    Events,
    /// One of the daily aggregation tables.
    Agg(AggTable),
}

/// What a query counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// Events: `sum("count")` of an aggregation table, `count(*)` of events.
    Events,
    /// Distinct `source.ip` of events (only from [`Source::Events`]: summing per-group distinct
    /// counts would over-count).
    DistinctIps,
}

/// Which taxonomies a view includes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Taxonomy {
    /// Every event, `test` included.
    #[default]
    Any,
    /// Every taxonomy but `test` (the views' "all").
    AllButTest,
    /// Exactly this taxonomy.
    Is(String),
}

impl Taxonomy {
    /// From a `--taxonomy` argument: `all` (or nothing) excludes `test`, `any` includes it,
    /// anything else is one taxonomy.
    pub fn from_arg(arg: Option<&str>) -> Taxonomy {
        match arg {
            None | Some("all") => Taxonomy::AllButTest,
            Some("any") => Taxonomy::Any,
            Some(t) => Taxonomy::Is(t.to_string()),
        }
    }
}

/// The filters of every view. Days are UTC days; `to` is included.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    /// First day.
    pub from: Option<NaiveDate>,
    /// Last day (included).
    pub to: Option<NaiveDate>,
    /// Taxonomies.
    pub taxonomy: Taxonomy,
    /// Only these ASNs (empty: all).
    pub asns: Vec<i64>,
    /// Only this country (two letters, upper-case).
    pub country: Option<String>,
    /// Further equalities on the text form of a field (`classification.type = …`).
    pub equals: Vec<(Field, String)>,
    /// Memberships: the text form of a field is one of the values (an empty list matches
    /// nothing).
    pub among: Vec<(Field, Vec<String>)>,
}

impl Filter {
    /// The fields the filter reads (the source must have them).
    pub fn fields(&self) -> Vec<Field> {
        let mut fields: Vec<Field> = self.equals.iter().map(|(f, _)| *f).chain(self.among.iter().map(|(f, _)| *f)).collect();
        if self.taxonomy != Taxonomy::Any {
            fields.push(Field::Taxonomy);
        }
        if !self.asns.is_empty() {
            fields.push(Field::SourceAsn);
        }
        if self.country.is_some() {
            fields.push(Field::Country);
        }
        fields
    }
}

/// A grouped count: per day (optionally) and per `group` fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventQuery {
    /// Where to read.
    pub source: Source,
    /// Group by UTC day too.
    pub by_day: bool,
    /// Group by these fields (their text form; NULL stays NULL).
    pub group: Vec<Field>,
    /// What to count.
    pub count: Count,
    /// Which events.
    pub filter: Filter,
}

impl EventQuery {
    /// The smallest aggregation table that has every field the query groups and filters by,
    /// or the events table (also for distinct IPs).
    pub fn smallest_source(by_day: bool, group: Vec<Field>, count: Count, filter: Filter) -> EventQuery {
        let mut needed = group.clone();
        needed.extend(filter.fields());
        let source = match count {
            Count::DistinctIps => Source::Events,
            Count::Events => [AggTable::FeedTags, AggTable::AllTags].into_iter().find(|t| t.has_all(&needed)).map_or(Source::Events, Source::Agg),
        };
        EventQuery { source, by_day, group, count, filter }
    }
}

/// One result row: the day (when grouped by day), the group keys as text, the count.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct EventRow {
    /// The UTC day.
    pub day: Option<NaiveDate>,
    /// One text key per group field (`None` = NULL).
    pub keys: Vec<Option<String>>,
    /// The count.
    pub value: i64,
}

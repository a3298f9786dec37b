//! Incident events through the engine: the questions, imports, aggregation, status.

use std::sync::Arc;

use super::Engine;
use super::error::Result;
use crate::config::SecretUrl;
use crate::events::EventsStatus;
use crate::events::aggregate::{self, AggregateReport, Scope};
use crate::events::import::{self, ImportOptions, ImportReport, Input};
use crate::events::model::Field;
use crate::events::query::Filter;
use crate::events::questions::{self, View};
use crate::events::table::Table;
use crate::progress::Progress;

/// A question with its own limits, as the CLI asks it (the dashboard asks [`View`]s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Question {
    /// The stored values of a field (pick-lists).
    Values(Field),
    /// Events per day, by a field or overall.
    PerDay(Option<Field>),
    /// The filter's ASNs (an operator) by a field or overall.
    Operator(Option<Field>),
    /// Distinct source addresses.
    DistinctIps,
    /// ASNs and the feeds reporting them.
    AsnFeeds,
    /// The `limit` top ASNs per a field.
    TopAsns {
        /// The field.
        by: Field,
        /// How many.
        limit: usize,
    },
    /// The `limit` fastest rising ASNs with at least `min_events` events.
    RisingAsns {
        /// How many.
        limit: usize,
        /// Fewest events considered.
        min_events: i64,
    },
    /// The `limit` top problems.
    TopProblems {
        /// How many.
        limit: usize,
    },
    /// Feed health per day (`flagged`: flagged days only).
    FeedHealth {
        /// Only flagged days.
        flagged: bool,
    },
}

/// The incident-events methods of a [`Engine`].
pub struct EventsApi<'a> {
    pub(super) engine: &'a Engine,
}

impl EventsApi<'_> {
    /// Answers a dashboard question over the last `days` UTC days up to today by the clock
    /// (`filter`'s own range is replaced).
    pub async fn ask(&self, view: View, filter: &Filter, days: u32) -> Result<Table> {
        let stats = &self.engine.deployment.stats;
        Ok(questions::ask(stats.store.as_ref(), view, &questions::last_days(filter, days, stats.clock.now())).await?)
    }

    /// Answers a question for `filter` as it is.
    pub async fn answer(&self, question: Question, filter: &Filter) -> Result<Table> {
        let store = self.engine.deployment.stats.store.as_ref();
        Ok(match question {
            Question::Values(field) => questions::values(store, filter, field).await?,
            Question::PerDay(by) => questions::per_day(store, filter, by).await?,
            Question::Operator(by) => questions::operator(store, filter, by).await?,
            Question::DistinctIps => questions::distinct_ips(store, filter).await?,
            Question::AsnFeeds => questions::asn_feeds(store, filter).await?,
            Question::TopAsns { by, limit } => questions::top_asns(store, filter, by, limit).await?,
            Question::RisingAsns { limit, min_events } => questions::rising_asns(store, filter, limit, min_events).await?,
            Question::TopProblems { limit } => questions::top_problems(store, filter, limit).await?,
            Question::FeedHealth { flagged } => questions::feed_health(store, filter, flagged).await?,
        })
    }

    /// What is stored: events, days, rows per table, days waiting for aggregation.
    pub async fn status(&self) -> Result<EventsStatus> {
        Ok(self.engine.deployment.stats.store.events_status().await?)
    }

    /// Imports IntelMQ event files (JSON lines or CSV).
    pub async fn import(&self, inputs: Vec<Input>, options: ImportOptions, progress: Arc<dyn Progress>) -> Result<ImportReport> {
        Ok(import::import(self.engine.deployment.stats.store.as_ref(), inputs, options, progress).await?)
    }

    /// Imports the events of an existing IntelMQ eventDB.
    pub async fn import_eventdb(&self, url: &SecretUrl, options: ImportOptions, progress: Arc<dyn Progress>) -> Result<ImportReport> {
        Ok(import::import_eventdb(self.engine.deployment.stats.store.as_ref(), url, options, progress).await?)
    }

    /// Aggregates the daily tables over `scope`.
    pub async fn aggregate(&self, scope: Scope) -> Result<AggregateReport> {
        Ok(aggregate::aggregate(self.engine.deployment.stats.store.as_ref(), scope).await?)
    }
}

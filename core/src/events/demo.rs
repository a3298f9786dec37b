//! The demo's incident events: IntelMQ's sample events (`assets/demo/intelmq-events.jsonl`)
//! re-dated to end on the clock's day and imported through [`super::import`], which also
//! aggregates the days they fall on.
//!
//! Re-dating keeps the sample's shape: its distinct `time.source` days, oldest to newest, are
//! moved onto consecutive days ending today (the newest on today, the one before on yesterday,
//! …), every event by whole days with its day, so each keeps its time of day, its day's
//! companions and its gap to `time.observation`. No time is later than `now` (today's events
//! after `now` and observations moved past it are set to `now`). Events without `time.source`
//! are moved like the newest day. Same `now`, same events.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use serde_json::{Map, Value as Json};

use super::import::{self, ImportOptions, ImportReport, Input};
use super::model::Field;
use super::parse::parse_time;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::store::Store;

/// The sample as shipped: 409 events, flat dotted keys (see `assets/demo/README.md`).
const SAMPLE: &str = include_str!("../../../assets/demo/intelmq-events.jsonl");

/// The name the sample is imported under (in rejections and progress).
pub const SAMPLE_NAME: &str = "assets/demo/intelmq-events.jsonl";

/// What the events demo stored.
#[derive(Debug, Clone)]
pub struct EventsDemo {
    /// The import (and its aggregation).
    pub import: ImportReport,
    /// The first and last UTC day of the re-dated events.
    pub days: Option<(NaiveDate, NaiveDate)>,
}

/// The `time.source` day of an event (None without one, or when it is not a date-time).
fn source_day(event: &Map<String, Json>) -> Option<NaiveDate> {
    event.get(Field::TimeSource.name()).and_then(Json::as_str).and_then(|t| parse_time(t).ok()).map(|t| t.date_naive())
}

/// The sample's events re-dated to end at `now` (see the module docs), as JSON Lines, with
/// the first and last day they fall on.
pub fn redated(now: DateTime<Utc>) -> Result<(String, Option<(NaiveDate, NaiveDate)>)> {
    let mut events: Vec<Map<String, Json>> = SAMPLE
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| Error::InvalidArgument(format!("{SAMPLE_NAME}:{}: {e}", i + 1))))
        .collect::<Result<_>>()?;
    let days: BTreeSet<NaiveDate> = events.iter().filter_map(source_day).collect();
    let today = now.date_naive();
    // newest day → today, the one before → yesterday, …
    let shifts: BTreeMap<NaiveDate, Duration> = days.iter().rev().enumerate().map(|(i, d)| (*d, today - Duration::days(i as i64) - *d)).collect();
    let newest = shifts.values().next_back().copied().unwrap_or_else(Duration::zero);
    for event in &mut events {
        let shift = source_day(event).map_or(newest, |d| shifts[&d]);
        for field in [Field::TimeSource, Field::TimeObservation] {
            let Some(t) = event.get(field.name()).and_then(Json::as_str).and_then(|t| parse_time(t).ok()) else { continue };
            let moved = (t + shift).min(now);
            event.insert(field.name().to_string(), Json::String(moved.to_rfc3339_opts(SecondsFormat::AutoSi, true)));
        }
    }
    let mut lines = String::new();
    for event in &events {
        lines.push_str(&Json::Object(event.clone()).to_string());
        lines.push('\n');
    }
    let span = days.first().map(|_| (today - Duration::days(days.len() as i64 - 1), today));
    Ok((lines, span))
}

/// Imports the re-dated sample into `store` (one transaction) and aggregates its days.
pub async fn run(store: &dyn Store, now: DateTime<Utc>, progress: Arc<dyn Progress>) -> Result<EventsDemo> {
    let (lines, days) = redated(now)?;
    let input = Input { name: SAMPLE_NAME.to_string(), reader: Box::new(std::io::Cursor::new(lines.into_bytes())) };
    let import = import::import(store, vec![input], ImportOptions { strict: true, aggregate: true }, progress).await?;
    if !import.committed {
        return Err(Error::RejectedInput(import.rejected_lines as usize));
    }
    Ok(EventsDemo { import, days })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::parse_instant;

    #[test]
    fn the_sample_ends_today_no_later_than_now_and_keeps_its_days() {
        let now = parse_instant("2024-06-15T12:40:00Z").expect("instant");
        let (lines, span) = redated(now).expect("redated");
        assert_eq!(redated(now).expect("again").0, lines, "same now, same events");
        let events: Vec<Map<String, Json>> = lines.lines().map(|l| serde_json::from_str(l).expect("json")).collect();
        assert_eq!(events.len(), 409);
        let days: BTreeSet<NaiveDate> = events.iter().filter_map(source_day).collect();
        let (first, last) = span.expect("days");
        assert_eq!(last, now.date_naive());
        assert_eq!((days.first(), days.last()), (Some(&first), Some(&last)));
        assert_eq!((last - first).num_days() + 1, days.len() as i64, "consecutive days");
        let original: BTreeSet<NaiveDate> = SAMPLE.lines().filter_map(|l| source_day(&serde_json::from_str(l).expect("json"))).collect();
        assert_eq!(days.len(), original.len());
        for event in &events {
            for field in [Field::TimeSource, Field::TimeObservation] {
                if let Some(t) = event.get(field.name()).and_then(Json::as_str) {
                    assert!(parse_time(t).expect("time") <= now, "{t}");
                }
            }
        }
    }
}

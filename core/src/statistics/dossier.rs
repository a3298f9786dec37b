//! The statistics part of an IP dossier: the incidents of a set of attacker addresses over a
//! time range, by trap, action, country and day (`engine::dossier`).
//!
//! Read from the table a display period of the range's length reads (up to an hour: raw;
//! a day: quarterly; a week: hourly; longer: daily — [`level_for`]), so a range equal to a
//! period's window counts what the resource `selected_attacker_incidents_graph` of that
//! period counts. First and last seen are the first and last days with incidents. Sentinel's
//! password and port reports carry no attacker address, so they have no part here.

use std::net::IpAddr;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use crate::error::Result;
use crate::store::statistics::StatisticsStore;
use crate::store::statistics::model::{DataType, Level};
use crate::store::statistics::query::{Col, Filter, Measure, StatQuery};
use crate::tally::{self, DayTally, Tally};

/// The incidents of the addresses in the range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Incidents {
    /// The table read (`raw`, `quarterly`, `hourly`, `daily`).
    pub table: String,
    /// `SUM(raw_count)`.
    pub incidents: i64,
    /// The first day with incidents.
    pub first_seen: Option<NaiveDate>,
    /// The last day with incidents.
    pub last_seen: Option<NaiveDate>,
    /// By trap.
    pub by_trap: Vec<Tally>,
    /// By action.
    pub by_action: Vec<Tally>,
    /// By country.
    pub by_country: Vec<Tally>,
    /// By UTC day.
    pub per_day: Vec<DayTally>,
}

/// The table a display period as long as `[from, to)` reads.
pub fn level_for(from: DateTime<Utc>, to: DateTime<Utc>) -> Level {
    let span = to - from;
    if span <= Duration::hours(1) {
        Level::Raw
    } else if span <= Duration::days(1) {
        Level::Quarterly
    } else if span <= Duration::days(7) {
        Level::Hourly
    } else {
        Level::Daily
    }
}

fn name(level: Level) -> &'static str {
    match level {
        Level::Raw => "raw",
        Level::Quarterly => "quarterly",
        Level::Hourly => "hourly",
        Level::Daily => "daily",
    }
}

/// The incidents of `ips` in `[from, to)`.
pub async fn incidents(store: &dyn StatisticsStore, ips: &[IpAddr], from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Incidents> {
    let level = level_for(from, to);
    let only: Vec<String> = ips.iter().map(|ip| ip.to_canonical().to_string()).collect();
    let rows = match only.is_empty() {
        true => Vec::new(),
        false => {
            let query = StatQuery {
                data: DataType::Incidents,
                level,
                from,
                to,
                bucket: Some(Duration::days(1)),
                group: vec![Col::Trap, Col::Action, Col::Country],
                measure: Measure::Sum,
                filters: vec![Filter::OneOf(Col::Ip, only)],
                limit: None,
            };
            store.stat_query(&query).await?
        }
    };
    let key = |row: &crate::store::statistics::query::StatRow, i: usize| tally::key_text(row.keys.get(i).and_then(|k| k.as_deref()));
    let per_day = tally::by_day(rows.iter().filter_map(|r| Some((r.bucket?.date_naive(), r.value))));
    Ok(Incidents {
        table: name(level).to_string(),
        incidents: rows.iter().map(|r| r.value).sum(),
        first_seen: per_day.first().map(|d| d.day),
        last_seen: per_day.last().map(|d| d.day),
        by_trap: tally::by_key(rows.iter().map(|r| (key(r, 0), r.value))),
        by_action: tally::by_key(rows.iter().map(|r| (key(r, 1), r.value))),
        by_country: tally::by_key(rows.iter().map(|r| (key(r, 2), r.value))),
        per_day,
    })
}

/// The attacker addresses with incidents in `[from, to)` that `wanted` accepts (a network's or
/// an autonomous system's dossier), by address.
pub async fn addresses(store: &dyn StatisticsStore, from: DateTime<Utc>, to: DateTime<Utc>, wanted: &(dyn Fn(IpAddr) -> bool + Sync)) -> Result<Vec<IpAddr>> {
    let query = StatQuery {
        data: DataType::Incidents,
        level: level_for(from, to),
        from,
        to,
        bucket: None,
        group: vec![Col::Ip],
        measure: Measure::Sum,
        filters: Vec::new(),
        limit: None,
    };
    let mut ips: Vec<IpAddr> = store.stat_query(&query).await?.into_iter().filter_map(|r| r.keys.first()?.as_deref()?.parse().ok()).filter(|ip| wanted(*ip)).collect();
    ips.sort();
    ips.dedup();
    Ok(ips)
}

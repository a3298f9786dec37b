//! The events part of an IP dossier: the IntelMQ events whose `source.ip` is one of a set of
//! addresses (or whose `source.asn` is one ASN) over a range of UTC days, by taxonomy, type,
//! feed, ASN and day — every taxonomy counted, `test` included (`engine::dossier`).

use std::net::IpAddr;

use chrono::NaiveDate;
use serde::Serialize;

use super::model::Field;
use super::query::{Count, EventQuery, Filter, Taxonomy};
use crate::error::Result;
use crate::store::EventStore;
use crate::tally::{self, DayTally, Tally};

/// Which events a dossier counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sources {
    /// Those from one of these addresses.
    Addresses(Vec<IpAddr>),
    /// Those from this autonomous system.
    Asn(i64),
}

/// The events of the sources in the range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Events {
    /// How many.
    pub events: i64,
    /// By `classification.taxonomy`.
    pub by_taxonomy: Vec<Tally>,
    /// By `classification.type`.
    pub by_type: Vec<Tally>,
    /// By `feed.name`.
    pub by_feed: Vec<Tally>,
    /// By `source.asn`.
    pub by_asn: Vec<Tally>,
    /// By UTC day of `time.source`.
    pub per_day: Vec<DayTally>,
}

fn filter(sources: &Sources, from: NaiveDate, to: NaiveDate) -> Filter {
    let base = Filter { from: Some(from), to: Some(to), taxonomy: Taxonomy::Any, ..Filter::default() };
    match sources {
        Sources::Addresses(ips) => Filter { among: vec![(Field::SourceIp, ips.iter().map(|ip| ip.to_canonical().to_string()).collect())], ..base },
        Sources::Asn(asn) => Filter { asns: vec![*asn], ..base },
    }
}

/// The events of `sources` from `from` to `to` (days, both included).
pub async fn events(store: &dyn EventStore, sources: &Sources, from: NaiveDate, to: NaiveDate) -> Result<Events> {
    let group = vec![Field::Taxonomy, Field::Type, Field::FeedName, Field::SourceAsn];
    let rows = store.events_query(&EventQuery::smallest_source(true, group, Count::Events, filter(sources, from, to))).await?;
    let key = |row: &super::query::EventRow, i: usize| tally::key_text(row.keys.get(i).and_then(|k| k.as_deref()));
    Ok(Events {
        events: rows.iter().map(|r| r.value).sum(),
        by_taxonomy: tally::by_key(rows.iter().map(|r| (key(r, 0), r.value))),
        by_type: tally::by_key(rows.iter().map(|r| (key(r, 1), r.value))),
        by_feed: tally::by_key(rows.iter().map(|r| (key(r, 2), r.value))),
        by_asn: tally::by_key(rows.iter().map(|r| (key(r, 3), r.value))),
        per_day: tally::by_day(rows.iter().filter_map(|r| Some((r.day?, r.value)))),
    })
}

/// The source addresses of the events in the range that `wanted` accepts, by address (an ASN
/// gives those of its events; a network filters all of the range's).
pub async fn addresses(store: &dyn EventStore, asn: Option<i64>, from: NaiveDate, to: NaiveDate, wanted: &(dyn Fn(IpAddr) -> bool + Sync)) -> Result<Vec<IpAddr>> {
    let base = Filter { from: Some(from), to: Some(to), taxonomy: Taxonomy::Any, asns: asn.into_iter().collect(), ..Filter::default() };
    let rows = store.events_query(&EventQuery::smallest_source(false, vec![Field::SourceIp], Count::Events, base)).await?;
    let mut ips: Vec<IpAddr> = rows.into_iter().filter_map(|r| r.keys.first()?.as_deref()?.parse().ok()).filter(|ip| wanted(*ip)).collect();
    ips.sort();
    ips.dedup();
    Ok(ips)
}

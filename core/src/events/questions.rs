//! The questions of stats-portal's README (and those its dashboard never answered), each a
//! [`Table`]. Every question takes a [`Filter`] whose `from`/`to` are set (see
//! [`default_days`]); figures come from the daily tables, except distinct IPs, which are
//! counted exactly from the events.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::model::{AggTable, Field};
use super::query::{Count, EventQuery, EventRow, Filter};
use super::table::{Cell, SeriesColumns, Table};
use super::trend::{self, FAR};
use crate::error::{Error, Result};
use crate::store::EventStore;

/// Days a view covers when `--from` is not given (ending at `--to` or today).
pub const DEFAULT_DAYS: i64 = 30;

/// `from`/`to` with the defaults: `to` = the clock's UTC day, `from` = `to` − 29 days.
pub fn default_days(from: Option<NaiveDate>, to: Option<NaiveDate>, now: DateTime<Utc>) -> Result<(NaiveDate, NaiveDate)> {
    let to = to.unwrap_or(now.date_naive());
    let from = from.unwrap_or(to - Duration::days(DEFAULT_DAYS - 1));
    if from > to {
        return Err(Error::InvalidArgument(format!("--from {from} is after --to {to}")));
    }
    Ok((from, to))
}

fn days_of(filter: &Filter) -> Result<(NaiveDate, NaiveDate)> {
    match (filter.from, filter.to) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(Error::InvalidArgument("the question needs a day range (from and to)".into())),
    }
}

/// Every day of the range.
fn each_day((from, to): (NaiveDate, NaiveDate)) -> Vec<NaiveDate> {
    from.iter_days().take_while(|d| *d <= to).collect()
}

async fn run(store: &dyn EventStore, by_day: bool, group: Vec<Field>, count: Count, filter: &Filter) -> Result<Vec<EventRow>> {
    store.events_query(&EventQuery::smallest_source(by_day, group, count, filter.clone())).await
}

/// Events per day, per value of `by` (taxonomy, type, identifier, …) or overall.
pub async fn per_day(store: &dyn EventStore, filter: &Filter, by: Option<Field>) -> Result<Table> {
    let days = days_of(filter)?;
    let rows = run(store, true, by.into_iter().collect(), Count::Events, filter).await?;
    let cells =
        rows.iter().filter_map(|r| Some([vec![Cell::day(r.day?)], r.keys.iter().map(Cell::key).collect(), vec![Cell::Int(r.value)]].concat())).collect();
    Ok(match by {
        Some(f) => Table::new(format!("events per day per {}", f.name()), &["date", f.name(), "events"], cells)
            .with_series(SeriesColumns { day: 0, key: Some(1), value: 2 }, days),
        None => Table::new("events per day", &["date", "events"], cells).with_series(SeriesColumns { day: 0, key: None, value: 1 }, days),
    })
}

/// Distinct source IPs per day, and the exact number over the whole range (not a sum of days).
pub async fn distinct_ips(store: &dyn EventStore, filter: &Filter) -> Result<Table> {
    let days = days_of(filter)?;
    // two scans of the same range: side by side, each on a connection of its own
    let (rows, total) = tokio::try_join!(run(store, true, vec![], Count::DistinctIps, filter), run(store, false, vec![], Count::DistinctIps, filter))?;
    let total = total.first().map_or(0, |r| r.value);
    let cells = rows.iter().filter_map(|r| Some(vec![Cell::day(r.day?), Cell::Int(r.value)])).collect();
    let mut table =
        Table::new("distinct source IPs per day", &["date", "distinct_ips"], cells).with_series(SeriesColumns { day: 0, key: None, value: 1 }, days);
    table.facts.push(("distinct_ips_in_range".into(), Cell::Int(total)));
    Ok(table)
}

/// Rows sorted by count, largest first (ties by keys).
fn largest_first(mut rows: Vec<EventRow>) -> Vec<EventRow> {
    rows.sort_by(|a, b| b.value.cmp(&a.value).then_with(|| a.keys.cmp(&b.keys)));
    rows
}

/// Events per ASN and feed provider, largest first.
pub async fn asn_feeds(store: &dyn EventStore, filter: &Filter) -> Result<Table> {
    let rows = largest_first(run(store, false, vec![Field::SourceAsn, Field::FeedProvider], Count::Events, filter).await?);
    let cells = rows.iter().map(|r| vec![Cell::key(&r.keys[0]), Cell::key(&r.keys[1]), Cell::Int(r.value)]).collect();
    Ok(Table::new("events per ASN per feed provider", &["source.asn", "feed.provider", "events"], cells))
}

/// The `limit` ASNs with most events for each value of `by` (taxonomy, type or identifier);
/// events without an ASN are left out.
pub async fn top_asns(store: &dyn EventStore, filter: &Filter, by: Field, limit: usize) -> Result<Table> {
    let rows = largest_first(run(store, false, vec![by, Field::SourceAsn], Count::Events, filter).await?);
    let mut per_key: BTreeMap<Option<String>, Vec<&EventRow>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.keys[1].is_some()) {
        let list = per_key.entry(r.keys[0].clone()).or_default();
        if list.len() < limit {
            list.push(r);
        }
    }
    let cells = per_key
        .iter()
        .flat_map(|(key, list)| {
            list.iter().enumerate().map(move |(i, r)| vec![Cell::key(key), Cell::Int(i as i64 + 1), Cell::key(&r.keys[1]), Cell::Int(r.value)])
        })
        .collect();
    Ok(Table::new(format!("top {limit} ASNs per {}", by.name()), &[by.name(), "rank", "source.asn", "events"], cells))
}

/// The `limit` (type, identifier) problems with most events in `filter.country` (required).
pub async fn top_problems(store: &dyn EventStore, filter: &Filter, limit: usize) -> Result<Table> {
    let Some(cc) = &filter.country else { return Err(Error::InvalidArgument("top problems need a country (--country CC)".into())) };
    let mut rows = largest_first(run(store, false, vec![Field::Taxonomy, Field::Type, Field::Identifier], Count::Events, filter).await?);
    rows.truncate(limit);
    let cells = rows
        .iter()
        .enumerate()
        .map(|(i, r)| vec![Cell::Int(i as i64 + 1), Cell::key(&r.keys[0]), Cell::key(&r.keys[1]), Cell::key(&r.keys[2]), Cell::Int(r.value)])
        .collect();
    Ok(Table::new(
        format!("top {limit} problems in {cc}"),
        &["rank", "classification.taxonomy", "classification.type", "classification.identifier", "events"],
        cells,
    ))
}

/// Per-key daily series over the range, 0 where a key has no row.
fn series(rows: &[EventRow], days: &[NaiveDate]) -> BTreeMap<Option<String>, Vec<f64>> {
    let mut out: BTreeMap<Option<String>, Vec<f64>> = BTreeMap::new();
    for r in rows {
        let Some(i) = r.day.and_then(|d| days.iter().position(|x| *x == d)) else { continue };
        out.entry(r.keys.first().cloned().flatten()).or_insert_with(|| vec![0.0; days.len()])[i] += r.value as f64;
    }
    out
}

/// ASNs whose daily events rise steadily over the range: Mann–Kendall Z above 1.96
/// (significant at 5 %) and a positive least-squares slope, ranked by Z then slope, with the
/// daily series. ASNs with fewer than `min_events` events in the range are left out.
pub async fn rising_asns(store: &dyn EventStore, filter: &Filter, limit: usize, min_events: i64) -> Result<Table> {
    let days = each_day(days_of(filter)?);
    let rows = run(store, true, vec![Field::SourceAsn], Count::Events, filter).await?;
    /// One ASN's series and its trend.
    struct Rising {
        asn: Option<String>,
        mk: trend::MannKendall,
        slope: f64,
        values: Vec<f64>,
    }
    let mut ranked: Vec<Rising> = series(&rows, &days)
        .into_iter()
        .filter(|(asn, values)| asn.is_some() && values.iter().sum::<f64>() >= min_events as f64)
        .map(|(asn, values)| Rising { asn, mk: trend::mann_kendall(&values), slope: trend::slope(&values), values })
        .filter(|r| r.mk.z > 1.96 && r.slope > 0.0)
        .collect();
    ranked.sort_by(|a, b| b.mk.z.total_cmp(&a.mk.z).then(b.slope.total_cmp(&a.slope)).then_with(|| a.asn.cmp(&b.asn)));
    ranked.truncate(limit);
    let cells = ranked
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let series = r.values.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(" ");
            let total = r.values.iter().sum::<f64>() as i64;
            vec![
                Cell::Int(i as i64 + 1),
                Cell::key(&r.asn),
                Cell::Int(total),
                Cell::Float(r.slope),
                Cell::Float(r.mk.tau),
                Cell::Float(r.mk.z),
                Cell::Text(series),
            ]
        })
        .collect();
    Ok(Table::new(
        "ASNs with steady increases (Mann–Kendall)",
        &["rank", "source.asn", "events", "slope_per_day", "kendall_tau", "mann_kendall_z", "series"],
        cells,
    ))
}

/// Per feed (provider, name) and day: events, the feed's median day, the modified z-score and
/// a flag: `missing` (no events on a day while the median is above 0), `high`/`low` (|z| >
/// [`FAR`]) or `ok`. A feed's days start with its first day with events in the range.
pub async fn feed_health(store: &dyn EventStore, filter: &Filter, flagged_only: bool) -> Result<Table> {
    let range = days_of(filter)?;
    let days = each_day(range);
    let rows = run(store, true, vec![Field::FeedProvider, Field::FeedName], Count::Events, filter).await?;
    let mut feeds: BTreeMap<(Option<String>, Option<String>), Vec<f64>> = BTreeMap::new();
    for r in &rows {
        let Some(i) = r.day.and_then(|d| days.iter().position(|x| *x == d)) else { continue };
        feeds.entry((r.keys[0].clone(), r.keys[1].clone())).or_insert_with(|| vec![0.0; days.len()])[i] += r.value as f64;
    }
    let mut cells = Vec::new();
    for ((provider, name), values) in &feeds {
        let start = values.iter().position(|v| *v > 0.0).unwrap_or(0);
        let (median, z) = trend::modified_z(&values[start..]);
        for (k, (value, z)) in values[start..].iter().zip(z).enumerate() {
            let flag = match () {
                _ if *value == 0.0 && median > 0.0 => "missing",
                _ if z > FAR => "high",
                _ if z < -FAR => "low",
                _ => "ok",
            };
            if flagged_only && flag == "ok" {
                continue;
            }
            cells.push(vec![
                Cell::key(provider),
                Cell::key(name),
                Cell::day(days[start + k]),
                Cell::Int(*value as i64),
                Cell::Float(median),
                Cell::Float(z),
                Cell::Text(flag.into()),
            ]);
        }
    }
    let columns = ["feed.provider", "feed.name", "date", "events", "median", "modified_z", "flag"];
    Ok(Table::new("feed health (events per feed per day)", &columns, cells).with_series(SeriesColumns { day: 2, key: Some(1), value: 3 }, range))
}

/// The network-operator views: events per day in the ASNs of `filter.asns` (required), overall
/// (`by` None: with the least-squares trend as a fact) or per taxonomy, type, malware name,
/// application …
pub async fn operator(store: &dyn EventStore, filter: &Filter, by: Option<Field>) -> Result<Table> {
    if filter.asns.is_empty() {
        return Err(Error::InvalidArgument("the network-operator view needs ASNs (--asn 64496,64497)".into()));
    }
    let mut table = per_day(store, filter, by).await?;
    let asns = filter.asns.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    table.title = format!("{} in AS {asns}", table.title);
    if by.is_none() {
        let values = series(&run(store, true, vec![], Count::Events, filter).await?, &each_day(days_of(filter)?)).remove(&None).unwrap_or_default();
        table.facts.push(("trend_slope_per_day".into(), Cell::Float(trend::slope(&values))));
        table.facts.push(("mann_kendall_z".into(), Cell::Float(trend::mann_kendall(&values).z)));
    }
    Ok(table)
}

/// The values of a field in the data with their events (pick-lists), largest first; NULL
/// included. The range filter applies when set.
pub async fn values(store: &dyn EventStore, filter: &Filter, field: Field) -> Result<Table> {
    if !AggTable::AllTags.has_all(&[field]) {
        return Err(Error::InvalidArgument(format!("{} is not a dimension of the daily tables", field.name())));
    }
    let rows = largest_first(run(store, false, vec![field], Count::Events, filter).await?);
    let cells = rows.iter().map(|r| vec![Cell::key(&r.keys[0]), Cell::Int(r.value)]).collect();
    Ok(Table::new(format!("values of {}", field.name()), &[field.name(), "events"], cells))
}

/// A question as a front end asks it (the dashboard's panels): which answer of this module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    /// [`per_day`] by a field (or overall).
    PerDay(Option<Field>),
    /// [`distinct_ips`].
    DistinctIps,
    /// [`top_asns`] per a field, [`TOP`] each.
    TopAsns(Field),
    /// [`rising_asns`], [`TOP`] of them, at least [`TOP`] events.
    RisingAsns,
    /// [`top_problems`] in the filter's country.
    TopProblems,
    /// [`feed_health`], flagged days only.
    FeedHealth,
    /// [`operator`] (the filter's ASNs) by a field (or overall).
    Operator(Option<Field>),
    /// [`values`] of a field (pick-lists).
    Values(Field),
}

/// Rows of the front ends' top lists.
pub const TOP: usize = 10;

/// Answers `view` for `filter`.
pub async fn ask(store: &dyn EventStore, view: View, filter: &Filter) -> Result<Table> {
    match view {
        View::PerDay(by) => per_day(store, filter, by).await,
        View::DistinctIps => distinct_ips(store, filter).await,
        View::TopAsns(by) => top_asns(store, filter, by, TOP).await,
        View::RisingAsns => rising_asns(store, filter, TOP, TOP as i64).await,
        View::TopProblems => top_problems(store, filter, TOP).await,
        View::FeedHealth => feed_health(store, filter, true).await,
        View::Operator(by) => operator(store, filter, by).await,
        View::Values(field) => values(store, filter, field).await,
    }
}

/// `filter` over the last `days` UTC days up to `now`'s day (how front ends turn a period into
/// a range).
pub fn last_days(filter: &Filter, days: u32, now: DateTime<Utc>) -> Filter {
    let to = now.date_naive();
    Filter { from: Some(to - chrono::Duration::days(i64::from(days.max(1)) - 1)), to: Some(to), ..filter.clone() }
}

//! The OA run of a date as the front ends start it (`vantage flows oa`), from the stored flows
//! to the stored outputs:
//!
//! 1. the `[flows]` enrichment data is loaded first (a bad file stops the run before any work);
//! 2. the day's flows are read once: RITA's beacon analysis runs over them and, without
//!    spot-ml's results, the built-in scorer ranks them (its N most suspicious are the rows);
//! 3. after the N rows, one row per flagged beacon pair that is not among them — its first flow
//!    of the day, score `1 − beacon score` — ranks continuing ([`oa::beacon_rows`],
//!    [`oa::add_beacons`]);
//! 4. the rows' addresses are asked of the HTTP reputation service when one is configured
//!    ([`super::reputation`]; what it cannot answer is unknown, with a warning in the report);
//! 5. steps 1–8 ([`oa::run`]) store the outputs in place of the date's previous ones.

use std::net::IpAddr;

use chrono::NaiveDate;

use super::beacon;
use super::oa::{self, OaReport, Scored};
use super::queries::{blocking, day, score_flows};
use super::reputation::Service;
use super::score::as_scored;
use super::settings::FlowsConfig;
use crate::error::Result;
use crate::store::Store;

/// Runs the OA of `date` over `given` (spot-ml's rows, most suspicious first) or, when `None`,
/// the built-in scorer's `limit` most suspicious flows of the day, with the flagged beacon
/// pairs after them, enriched as `flows` says.
pub async fn run_oa(store: &dyn Store, flows: &FlowsConfig, date: NaiveDate, given: Option<Vec<Scored>>, limit: usize) -> Result<OaReport> {
    let settings = &flows.settings;
    let mut enricher = flows.enricher()?;
    let (from, to) = day(date);
    let raw = store.flows_between(from, to).await?;
    let weights = settings.beacon;
    let (raw, beacons) = blocking("beacons", move || {
        let report = beacon::analyse(&raw, &weights);
        let rows = oa::beacon_rows(&raw, &report);
        (raw, rows)
    })
    .await?;
    let mut rows = match given {
        Some(rows) => rows,
        None => score_flows(store, raw, None).await?.iter().take(limit).map(as_scored).collect(),
    };
    let added = oa::add_beacons(&mut rows, beacons);
    let mut warnings = Vec::new();
    if let Some(service) = &settings.reputation_service {
        let addresses: Vec<IpAddr> = rows.iter().flat_map(|r| [r.sip, r.dip]).collect();
        let answers = Service::new(service)?.ask(&addresses).await;
        enricher.add_answers(answers.values);
        warnings = answers.warnings;
    }
    let mut report = oa::run(store, &enricher, date, &rows, added).await?;
    report.warnings = warnings;
    Ok(report)
}

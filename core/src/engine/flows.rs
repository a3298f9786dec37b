//! Flow analytics through the engine: raw flow imports, what is stored, the built-in scorer,
//! the OA run of a date, what it stored, and the analyst's scores.

use std::io::Write as _;
use std::net::IpAddr;
use std::sync::Arc;

use chrono::NaiveDate;

use super::Engine;
use super::error::{Error, Result};
use crate::flows::beacon::BeaconReport;
use crate::flows::import::{self, ImportReport, Input};
use crate::flows::model::RawFlow;
use crate::flows::oa::{FeedbackRow, FlowChord, FlowEdge, FlowScore, OaOutputs, OaReport, Scored};
use crate::flows::pipeline;
use crate::flows::queries;
use crate::flows::settings::FlowsConfig;
use crate::flows::storyboard::{self, Storyboard};
use crate::progress::Progress;
use crate::store::Store;
use crate::store::flows::FlowsStatus;

/// Which suspicious connections an analyst score applies to: every row of the date matching
/// all the given fields (at least one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pattern {
    /// Source address.
    pub src: Option<IpAddr>,
    /// Destination address.
    pub dst: Option<IpAddr>,
    /// Source port.
    pub sport: Option<u16>,
    /// Destination port.
    pub dport: Option<u16>,
}

impl Pattern {
    fn matches(&self, s: &FlowScore) -> bool {
        self.src.is_none_or(|ip| s.srcip == ip.to_string())
            && self.dst.is_none_or(|ip| s.dstip == ip.to_string())
            && self.sport.is_none_or(|p| s.sport == i32::from(p))
            && self.dport.is_none_or(|p| s.dport == i32::from(p))
    }
}

/// The flow-analytics methods of an [`Engine`].
pub struct FlowsApi<'a> {
    pub(super) engine: &'a Engine,
}

impl FlowsApi<'_> {
    fn store(&self) -> &dyn Store {
        self.engine.deployment.stats.store.as_ref()
    }

    /// The `[flows]` settings the deployment was built with.
    fn settings(&self) -> &FlowsConfig {
        &self.engine.deployment.flows
    }

    /// Imports raw flow files (nfdump CSV, Zeek conn.log) in one transaction; `strict`:
    /// nothing is stored if any record is bad.
    pub async fn import(&self, inputs: Vec<Input>, strict: bool, progress: Arc<dyn Progress>) -> Result<ImportReport> {
        Ok(import::import(self.store(), inputs, strict, progress).await?)
    }

    /// How many flows are stored and the span of their start times.
    pub async fn status(&self) -> Result<FlowsStatus> {
        Ok(queries::status(self.store()).await?)
    }

    /// The built-in scorer ([`crate::flows::score`]) over the flows of `date`, against the
    /// traffic of the `window_days` days ending with it and every analyst score so far; most
    /// suspicious first.
    pub async fn score(&self, date: NaiveDate, window_days: u32) -> Result<Vec<(RawFlow, f64)>> {
        Ok(queries::score(self.store(), date, window_days).await?)
    }

    /// Beacons, long connections and strobes among the flows of `date` ([`crate::flows::beacon`]),
    /// with the `[flows.beacon]` weights and threshold; pairs with a safelisted end left out
    /// (the safelist files read now).
    pub async fn beacons(&self, date: NaiveDate) -> Result<BeaconReport> {
        let flows = self.settings();
        Ok(queries::beacons(self.store(), date, flows.settings.beacon, &flows.screen()?).await?)
    }

    /// Runs the OA steps 1–8 for `date` over `rows` (most suspicious first; `None`: the built-in
    /// scorer's first `limit`) and the flagged beacon pairs not among them, enriched with the
    /// `[flows]` section's data (the HTTP reputation service included: what it cannot answer is
    /// unknown, said in the report's warnings), replacing the date's previous outputs
    /// ([`pipeline::run_oa`]).
    pub async fn oa(&self, date: NaiveDate, rows: Option<Vec<Scored>>, limit: usize) -> Result<OaReport> {
        Ok(pipeline::run_oa(self.store(), self.settings(), date, rows, limit).await?)
    }

    /// The latest date with an OA run's suspicious connections (none: no run yet).
    pub async fn latest_oa_date(&self) -> Result<Option<NaiveDate>> {
        Ok(self.store().latest_oa_date().await?)
    }

    /// What the last OA run of `date` stored (empty when none ran).
    pub async fn outputs(&self, date: NaiveDate) -> Result<OaOutputs> {
        Ok(self.store().oa_outputs(date).await?)
    }

    /// The suspicious connections of `date` by rank that no analyst has scored yet and no
    /// safelist hides, optionally only those from or to `ip` ([`queries::suspicious`]).
    pub async fn suspicious(&self, date: NaiveDate, ip: Option<IpAddr>) -> Result<Vec<FlowScore>> {
        Ok(queries::suspicious(self.store(), date, ip, &self.settings().safelist()?).await?)
    }

    /// The raw flows between `a` and `b` in the minute of `tstart` ([`queries::edges`]).
    pub async fn edges(&self, tstart: &str, a: IpAddr, b: IpAddr) -> Result<Vec<FlowEdge>> {
        Ok(queries::edges(self.store(), tstart, a, b).await?)
    }

    /// The threat investigation of `ip` over `date`, safelisted peers left out
    /// ([`queries::threat`]).
    pub async fn threat(&self, date: NaiveDate, ip: IpAddr) -> Result<queries::Threat> {
        Ok(queries::threat(self.store(), date, ip, &self.settings().screen()?).await?)
    }

    /// The storyboard of `ip` on `date`; with `write` = (title, text), saved first (replacing
    /// the one before).
    pub async fn storyboard(&self, date: NaiveDate, ip: IpAddr, write: Option<(&str, &str)>) -> Result<Storyboard> {
        let store = self.store();
        if let Some((title, text)) = write {
            store.save_storyboard(date, ip, title, text).await?;
        }
        let flows = self.settings();
        Ok(storyboard::storyboard(store, &flows.enricher()?, date, ip, &flows.screen()?).await?)
    }

    /// Deletes the storyboards of `date` (scores and analyst feedback stay); returns how many.
    pub async fn reset(&self, date: NaiveDate) -> Result<u64> {
        Ok(self.store().reset_storyboards(date).await?)
    }

    /// Threat `ip`'s chord rows of `date`, those with a safelisted end left out.
    pub async fn chords(&self, date: NaiveDate, ip: IpAddr) -> Result<Vec<FlowChord>> {
        Ok(queries::chords(self.store(), date, ip, &self.settings().screen()?).await?)
    }

    /// Scores every suspicious connection of `date` matching `pattern` with `sev` (1 high, 2
    /// medium, 3 benign): stored for the next scorer run and the threat views, and appended to
    /// `<data_dir>/flows/<date>/ml_feedback.csv` (Spot's TAB-separated
    /// `sev,tstart,sip,dip,sport,dport,ipkt,ibyt`). Returns the rows scored.
    pub async fn score_connection(&self, date: NaiveDate, sev: u8, pattern: &Pattern) -> Result<Vec<FeedbackRow>> {
        if !(1..=3).contains(&sev) {
            return Err(Error::InvalidArgument(crate::Error::InvalidArgument(format!("--sev {sev}: 1 (high), 2 (medium) or 3 (low/benign)"))));
        }
        if *pattern == Pattern::default() {
            return Err(Error::InvalidArgument(crate::Error::InvalidArgument("give at least one of --src, --dst, --sport, --dport".into())));
        }
        let store = self.store();
        let rows: Vec<FeedbackRow> = store
            .oa_outputs(date)
            .await?
            .scores
            .iter()
            .filter(|s| pattern.matches(s))
            .map(|s| FeedbackRow {
                date: date.to_string(),
                sev: i32::from(sev),
                tstart: s.tstart.clone(),
                srcip: s.srcip.clone(),
                dstip: s.dstip.clone(),
                sport: s.sport,
                dport: s.dport,
                proto: s.proto.clone(),
                ipkt: s.ipkt,
                ibyt: s.ibyt,
            })
            .collect();
        store.add_feedback(&rows).await?;
        let dir = self.engine.config.data_dir.join("flows").join(date.to_string());
        std::fs::create_dir_all(&dir).map_err(|e| crate::Error::io(&dir, e))?;
        let path = dir.join("ml_feedback.csv");
        let fresh = !path.exists();
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&path).map_err(|e| crate::Error::io(&path, e))?;
        let mut text = String::new();
        if fresh {
            text.push_str("sev\ttstart\tsip\tdip\tsport\tdport\tipkt\tibyt\n");
        }
        for r in &rows {
            text.push_str(&format!("{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n", r.sev, r.tstart, r.srcip, r.dstip, r.sport, r.dport, r.ipkt, r.ibyt));
        }
        file.write_all(text.as_bytes()).map_err(|e| crate::Error::io(&path, e))?;
        Ok(rows)
    }
}

//! The flow-analytics requests a dashboard sends through the [`Channel`](super::Channel)
//! ([`FlowsRequest`], inside [`Request::Flows`](crate::engine::Request::Flows)) and their
//! answers ([`FlowsUpdate`], inside [`Update::Flows`](super::Update::Flows)): the day to show,
//! a day's suspicious connections, the raw flows of a pair in a minute, a threat's chord rows,
//! the flows per minute, the beacons, an analyst's score and a storyboard. Each is answered
//! by the engine's [`FlowsApi`](crate::engine::flows::FlowsApi) ([`answer`]).

use std::net::IpAddr;

use chrono::NaiveDate;

use crate::engine::flows::Pattern;
use crate::engine::{Engine, RequestKind, Result};
use crate::flows::beacon::BeaconReport;
use crate::flows::oa::{FeedbackRow, FlowChord, FlowEdge, FlowScore, IngestMinute};
use crate::flows::storyboard::Storyboard;

/// A flow-analytics read or write.
#[derive(Debug, Clone, PartialEq)]
pub enum FlowsRequest {
    /// The day a view opens on: the latest with suspicious connections stored (an OA run),
    /// else today by the clock.
    LatestDay,
    /// The suspicious connections of a day nobody scored yet, by rank.
    Suspicious {
        /// The day.
        date: NaiveDate,
        /// Only those from or to this address.
        ip: Option<IpAddr>,
    },
    /// The raw flows between two addresses (either way) in the minute of `tstart`.
    Edges {
        /// `YYYY-MM-DD HH:MM:SS`.
        tstart: String,
        /// One end.
        src: IpAddr,
        /// The other end.
        dst: IpAddr,
    },
    /// A threat address's chord rows of a day (bytes and packets per pair).
    Chords {
        /// The day.
        date: NaiveDate,
        /// The address.
        ip: IpAddr,
    },
    /// The raw flows per minute of a day, as its OA run counted them.
    Ingest {
        /// The day.
        date: NaiveDate,
    },
    /// Beacons, long connections and strobes among a day's flows.
    Beacons {
        /// The day.
        date: NaiveDate,
    },
    /// Scores the suspicious connections of a day matching a pattern (1 high, 2 medium,
    /// 3 low/benign).
    Score {
        /// The day.
        date: NaiveDate,
        /// Severity.
        sev: u8,
        /// Which connections.
        pattern: Pattern,
    },
    /// The storyboard of an address on a day; with `write` = (title, text), saved first.
    Storyboard {
        /// The day.
        date: NaiveDate,
        /// The address.
        ip: IpAddr,
        /// Title and text to save.
        write: Option<(String, String)>,
    },
}

impl FlowsRequest {
    /// Its [`RequestKind`].
    pub fn kind(&self) -> RequestKind {
        match self {
            FlowsRequest::LatestDay => RequestKind::FlowsLatestDay,
            FlowsRequest::Suspicious { .. } => RequestKind::FlowsSuspicious,
            FlowsRequest::Edges { .. } => RequestKind::FlowsEdges,
            FlowsRequest::Chords { .. } => RequestKind::FlowsChords,
            FlowsRequest::Ingest { .. } => RequestKind::FlowsIngest,
            FlowsRequest::Beacons { .. } => RequestKind::FlowsBeacons,
            FlowsRequest::Score { .. } => RequestKind::FlowsScore,
            FlowsRequest::Storyboard { .. } => RequestKind::FlowsStoryboard,
        }
    }
}

/// The answer to a [`FlowsRequest`], naming what was asked.
#[derive(Debug, Clone)]
pub enum FlowsUpdate {
    /// Answer to [`FlowsRequest::LatestDay`].
    LatestDay(NaiveDate),
    /// Answer to [`FlowsRequest::Suspicious`].
    Suspicious {
        /// The day asked.
        date: NaiveDate,
        /// The address asked.
        ip: Option<IpAddr>,
        /// By rank.
        rows: Vec<FlowScore>,
    },
    /// Answer to [`FlowsRequest::Edges`].
    Edges {
        /// As asked.
        tstart: String,
        /// As asked.
        src: IpAddr,
        /// As asked.
        dst: IpAddr,
        /// The raw flows.
        edges: Vec<FlowEdge>,
    },
    /// Answer to [`FlowsRequest::Chords`].
    Chords {
        /// The day asked.
        date: NaiveDate,
        /// The address asked.
        ip: IpAddr,
        /// Its rows (empty: not a threat address of the day).
        chords: Vec<FlowChord>,
    },
    /// Answer to [`FlowsRequest::Ingest`].
    Ingest {
        /// The day asked.
        date: NaiveDate,
        /// Flows per minute, in time order (minutes without flows left out).
        minutes: Vec<IngestMinute>,
    },
    /// Answer to [`FlowsRequest::Beacons`].
    Beacons {
        /// The day asked.
        date: NaiveDate,
        /// What the analysis found.
        report: BeaconReport,
    },
    /// Answer to [`FlowsRequest::Score`]: the connections scored.
    Scored {
        /// The day asked.
        date: NaiveDate,
        /// The severity given.
        sev: u8,
        /// The rows scored (empty: none matched).
        rows: Vec<FeedbackRow>,
    },
    /// Answer to [`FlowsRequest::Storyboard`].
    Storyboard {
        /// The storyboard (after the save, when one was asked).
        story: Box<Storyboard>,
        /// Whether a title and text were saved.
        saved: bool,
    },
}

/// The latest day with an OA run's suspicious connections, else today by the clock (see
/// [`FlowsRequest::LatestDay`]).
async fn latest_day(engine: &Engine) -> Result<NaiveDate> {
    Ok(engine.flows().latest_oa_date().await?.unwrap_or_else(|| engine.config().clock.now().date_naive()))
}

/// Answers `request` with the engine's flow-analytics methods.
pub async fn answer(engine: &Engine, request: FlowsRequest) -> Result<FlowsUpdate> {
    let flows = engine.flows();
    Ok(match request {
        FlowsRequest::LatestDay => FlowsUpdate::LatestDay(latest_day(engine).await?),
        FlowsRequest::Suspicious { date, ip } => FlowsUpdate::Suspicious { date, ip, rows: flows.suspicious(date, ip).await? },
        FlowsRequest::Edges { tstart, src, dst } => {
            let edges = flows.edges(&tstart, src, dst).await?;
            FlowsUpdate::Edges { tstart, src, dst, edges }
        }
        FlowsRequest::Chords { date, ip } => FlowsUpdate::Chords { date, ip, chords: flows.chords(date, ip).await? },
        FlowsRequest::Ingest { date } => FlowsUpdate::Ingest { date, minutes: flows.outputs(date).await?.ingest },
        FlowsRequest::Beacons { date } => FlowsUpdate::Beacons { date, report: flows.beacons(date).await? },
        FlowsRequest::Score { date, sev, pattern } => FlowsUpdate::Scored { date, sev, rows: flows.score_connection(date, sev, &pattern).await? },
        FlowsRequest::Storyboard { date, ip, write } => {
            let story = flows.storyboard(date, ip, write.as_ref().map(|(title, text)| (title.as_str(), text.as_str()))).await?;
            FlowsUpdate::Storyboard { story: Box::new(story), saved: write.is_some() }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, parse_instant};
    use crate::config::Config;
    use crate::flows::demo;
    use chrono::Duration;

    /// The day the engine says a view opens on.
    async fn day(engine: &Engine) -> NaiveDate {
        match answer(engine, FlowsRequest::LatestDay).await.expect("the day") {
            FlowsUpdate::LatestDay(day) => day,
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn the_view_opens_on_the_last_day_with_an_oa_run_else_on_today() {
        let dir = tempfile::tempdir().expect("tempdir");
        let now = parse_instant("2024-06-15T12:40:00Z").expect("an instant");
        let engine = Engine::open(&Config::embedded(dir.path(), Clock::Fixed(now))).await.expect("engine");
        assert_eq!(day(&engine).await, now.date_naive(), "no flows: today by the clock");
        // the demo's flows on a day, and a few more two days later that no OA run saw
        let scored = demo::day_for(now) - Duration::days(3);
        let mut flows = demo::flows(scored).expect("the demo's flows");
        let mut later = flows[..5].to_vec();
        for f in &mut later {
            f.treceived += Duration::days(2);
        }
        flows.extend(later);
        let mut session = engine.deployment.stats.store.begin_flows_import().await.expect("import");
        session.write(&flows).await.expect("write");
        session.commit().await.expect("commit");
        assert_eq!(day(&engine).await, now.date_naive(), "flows but no OA run: today");
        engine.flows().oa(scored, None, 50).await.expect("the OA run");
        assert_eq!(day(&engine).await, scored, "the day of the OA run, not the later flows' day");
        let after = scored + Duration::days(4);
        let rows = vec![crate::flows::oa::Scored::of(&flows[0], 0.1)];
        engine.flows().oa(after, Some(rows), 10).await.expect("a run over spot-ml's rows on a day without flows");
        assert_eq!(day(&engine).await, after, "an OA run dated after every stored flow is found too");
        engine.close().await;
    }
}

//! What a front end asks the [`Channel`](super::Channel) for: the [`Request`]s, their kinds and
//! ids. A failure names the id the request was sent under and its kind, so a front end routes
//! it to the model that asked without reading any text. This is the one place that names every [`Request`] variant;
//! the flow-analytics ones are grouped in [`FlowsRequest`], DynFW's in [`DynfwRequest`].

use std::net::IpAddr;

use super::channel::dynfw::DynfwRequest;
use super::channel::flows::FlowsRequest;
use crate::events::query::Filter as EventsFilter;
use crate::events::questions::View as EventsView;
use crate::statistics::aggregation::Precision;
use crate::statistics::periods::Period;
use crate::statistics::resources::Params;

/// What a front end can ask for.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// A resource (cached value now, fresh value when computed).
    Resource {
        /// Resource name.
        name: String,
        /// Period.
        period: Period,
        /// Parameters.
        params: Params,
    },
    /// Run the refresh planner.
    Refresh,
    /// Queued / running / failed jobs.
    Jobs,
    /// Cache entries under a key prefix (e.g. `vantage:resource:`, `vantage:timeout:`).
    Entries {
        /// Key prefix.
        prefix: String,
    },
    /// Back-fill a precision over the last `days` days (with progress events).
    Migrate {
        /// Precision.
        precision: Precision,
        /// Days.
        days: u32,
    },
    /// Aggregate the last complete window of a precision (what `aggregate-period` does).
    Aggregate {
        /// Precision.
        precision: Precision,
    },
    /// Delete cached resources (`all`: every Vantage key).
    ClearCache {
        /// Everything, not only resources.
        all: bool,
    },
    /// Clear refresh timeouts of one kind (`aggregation` or `resource`) for a precision or period.
    ClearTimeouts {
        /// `aggregation` or `resource`.
        kind: String,
        /// A precision (aggregation) or a display period (resource).
        period: String,
    },
    /// What the GeoIP databases know about an address.
    Geo {
        /// The address.
        ip: IpAddr,
    },
    /// Is this SHA-1 a leaked password? The front end hashes: a password never reaches the engine.
    CheckHash {
        /// 40 hex digits.
        sha1: String,
    },
    /// The most often seen leaked-password hashes.
    LeakedTop {
        /// How many.
        limit: i64,
    },
    /// Import files in one transaction, with progress (cancelling it stores nothing).
    Import {
        /// What the files hold.
        what: Import,
        /// The files (paths on this machine).
        files: Vec<std::path::PathBuf>,
        /// Store nothing if any line is rejected.
        strict: bool,
    },
    /// Request a packet capture from the text an analyst typed (see
    /// [`crate::pcap::request::Request::from_text`]).
    PcapSubmit {
        /// URL-form clauses or a raw Stenographer query.
        text: String,
    },
    /// Cancel a packet-capture job (answered with its status, [`Update::PcapCancelled`](super::Update::PcapCancelled)).
    PcapCancel {
        /// The job id.
        id: String,
    },
    /// Every packet-capture job in the spool.
    PcapJobs,
    /// The sensors' `/debug/stats` and the spool's free space.
    PcapSensors,
    /// The summary of a completed job's capture.
    PcapSummary {
        /// The job id.
        id: String,
    },
    /// An incident-events question over the last `days` UTC days (up to today by the clock).
    Events {
        /// The question.
        view: EventsView,
        /// Its filters (`from` / `to` are set from `days`).
        filter: EventsFilter,
        /// Days up to today.
        days: u32,
    },
    /// A flow-analytics read or write (answered with [`Update::Flows`](super::Update::Flows)).
    Flows(FlowsRequest),
    /// A DynFW request: start the feed, its status, an address's membership (answered with
    /// [`Update::Dynfw`](super::Update::Dynfw)).
    Dynfw(DynfwRequest),
    /// The IP dossier of an address, a network or an ASN over the display period 1y's window
    /// (answered with [`Update::Dossier`](super::Update::Dossier); a bad target fails as an
    /// invalid argument naming the column).
    Dossier {
        /// `192.0.2.1`, `192.0.2.0/24` or `AS64500`.
        target: String,
    },
}

/// What a [`Request::Import`] imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Import {
    /// IntelMQ events (JSON Lines), re-aggregated after the commit.
    Events,
    /// Flow records (nfdump CSV, Zeek conn.log).
    Flows,
}

impl Import {
    /// The name in messages: `events` or `flows`.
    pub fn name(self) -> &'static str {
        match self {
            Import::Events => "events",
            Import::Flows => "flows",
        }
    }
}

/// The number [`Channel::send`](super::Channel::send) gave a request (counting from 1 per
/// channel); its failure carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// The kind of an engine [`Request`], without its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestKind {
    /// [`Request::Resource`].
    Resource,
    /// [`Request::Refresh`].
    Refresh,
    /// [`Request::Jobs`].
    Jobs,
    /// [`Request::Entries`].
    Entries,
    /// [`Request::Migrate`].
    Migrate,
    /// [`Request::Aggregate`].
    Aggregate,
    /// [`Request::ClearCache`].
    ClearCache,
    /// [`Request::ClearTimeouts`].
    ClearTimeouts,
    /// [`Request::Geo`].
    Geo,
    /// [`Request::CheckHash`].
    CheckHash,
    /// [`Request::LeakedTop`].
    LeakedTop,
    /// [`Request::Import`].
    Import,
    /// [`Request::PcapSubmit`].
    PcapSubmit,
    /// [`Request::PcapCancel`].
    PcapCancel,
    /// [`Request::PcapJobs`].
    PcapJobs,
    /// [`Request::PcapSensors`].
    PcapSensors,
    /// [`Request::PcapSummary`].
    PcapSummary,
    /// [`Request::Events`].
    Events,
    /// [`FlowsRequest::LatestDay`].
    FlowsLatestDay,
    /// [`FlowsRequest::Suspicious`].
    FlowsSuspicious,
    /// [`FlowsRequest::Edges`].
    FlowsEdges,
    /// [`FlowsRequest::Chords`].
    FlowsChords,
    /// [`FlowsRequest::Ingest`].
    FlowsIngest,
    /// [`FlowsRequest::Beacons`].
    FlowsBeacons,
    /// [`FlowsRequest::Score`].
    FlowsScore,
    /// [`FlowsRequest::Storyboard`].
    FlowsStoryboard,
    /// [`DynfwRequest::Start`].
    DynfwStart,
    /// [`DynfwRequest::Status`].
    DynfwStatus,
    /// [`DynfwRequest::Lookup`].
    DynfwLookup,
    /// [`DynfwRequest::Membership`].
    DynfwMembership,
    /// [`Request::Dossier`].
    Dossier,
}

impl RequestKind {
    /// Every kind.
    pub const ALL: [RequestKind; 31] = [
        RequestKind::Resource,
        RequestKind::Refresh,
        RequestKind::Jobs,
        RequestKind::Entries,
        RequestKind::Migrate,
        RequestKind::Aggregate,
        RequestKind::ClearCache,
        RequestKind::ClearTimeouts,
        RequestKind::Geo,
        RequestKind::CheckHash,
        RequestKind::LeakedTop,
        RequestKind::Import,
        RequestKind::PcapSubmit,
        RequestKind::PcapCancel,
        RequestKind::PcapJobs,
        RequestKind::PcapSensors,
        RequestKind::PcapSummary,
        RequestKind::Events,
        RequestKind::FlowsLatestDay,
        RequestKind::FlowsSuspicious,
        RequestKind::FlowsEdges,
        RequestKind::FlowsChords,
        RequestKind::FlowsIngest,
        RequestKind::FlowsBeacons,
        RequestKind::FlowsScore,
        RequestKind::FlowsStoryboard,
        RequestKind::DynfwStart,
        RequestKind::DynfwStatus,
        RequestKind::DynfwLookup,
        RequestKind::DynfwMembership,
        RequestKind::Dossier,
    ];

    /// The kind of `request` (also [`Request::kind`]).
    pub fn of(request: &Request) -> RequestKind {
        match request {
            Request::Resource { .. } => RequestKind::Resource,
            Request::Refresh => RequestKind::Refresh,
            Request::Jobs => RequestKind::Jobs,
            Request::Entries { .. } => RequestKind::Entries,
            Request::Migrate { .. } => RequestKind::Migrate,
            Request::Aggregate { .. } => RequestKind::Aggregate,
            Request::ClearCache { .. } => RequestKind::ClearCache,
            Request::ClearTimeouts { .. } => RequestKind::ClearTimeouts,
            Request::Geo { .. } => RequestKind::Geo,
            Request::CheckHash { .. } => RequestKind::CheckHash,
            Request::LeakedTop { .. } => RequestKind::LeakedTop,
            Request::Import { .. } => RequestKind::Import,
            Request::PcapSubmit { .. } => RequestKind::PcapSubmit,
            Request::PcapCancel { .. } => RequestKind::PcapCancel,
            Request::PcapJobs => RequestKind::PcapJobs,
            Request::PcapSensors => RequestKind::PcapSensors,
            Request::PcapSummary { .. } => RequestKind::PcapSummary,
            Request::Events { .. } => RequestKind::Events,
            Request::Flows(flows) => flows.kind(),
            Request::Dynfw(dynfw) => dynfw.kind(),
            Request::Dossier { .. } => RequestKind::Dossier,
        }
    }
}

impl Request {
    /// What kind of request this is.
    pub fn kind(&self) -> RequestKind {
        RequestKind::of(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_listed_once() {
        let requests = [
            Request::PcapSummary { id: "0123".into() },
            Request::PcapJobs,
            Request::Jobs,
            Request::Entries { prefix: "vantage:".into() },
            Request::Flows(FlowsRequest::LatestDay),
            Request::Flows(FlowsRequest::Ingest { date: chrono::NaiveDate::MIN }),
            Request::Dynfw(DynfwRequest::Start { demo: true }),
            Request::Dynfw(DynfwRequest::Membership { ip: IpAddr::from([192, 0, 2, 1]) }),
            Request::Dossier { target: "192.0.2.1".into() },
        ];
        for r in requests {
            assert_eq!(RequestKind::ALL.iter().filter(|k| **k == r.kind()).count(), 1, "{r:?}");
        }
        assert_eq!(format!("{:?}", RequestKind::PcapSummary), "PcapSummary");
    }
}

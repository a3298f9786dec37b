//! Request kinds and ids of the [`Channel`](super::Channel): a failure names the id the request
//! was sent under and its kind, so a front end routes it to the model that asked without
//! reading any text. This is the one place that names every [`Request`] variant.

use super::channel::Request;

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
    /// [`Request::PcapSubmit`].
    PcapSubmit,
    /// [`Request::PcapJobs`].
    PcapJobs,
    /// [`Request::PcapSensors`].
    PcapSensors,
    /// [`Request::PcapSummary`].
    PcapSummary,
    /// [`Request::Events`].
    Events,
}

impl RequestKind {
    /// Every kind.
    pub const ALL: [RequestKind; 16] = [
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
        RequestKind::PcapSubmit,
        RequestKind::PcapJobs,
        RequestKind::PcapSensors,
        RequestKind::PcapSummary,
        RequestKind::Events,
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
            Request::PcapSubmit { .. } => RequestKind::PcapSubmit,
            Request::PcapJobs => RequestKind::PcapJobs,
            Request::PcapSensors => RequestKind::PcapSensors,
            Request::PcapSummary { .. } => RequestKind::PcapSummary,
            Request::Events { .. } => RequestKind::Events,
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
        let requests = [Request::PcapSummary { id: "0123".into() }, Request::PcapJobs, Request::Jobs, Request::Entries { prefix: "vantage:".into() }];
        for r in requests {
            assert_eq!(RequestKind::ALL.iter().filter(|k| **k == r.kind()).count(), 1, "{r:?}");
        }
        assert_eq!(format!("{:?}", RequestKind::PcapSummary), "PcapSummary");
    }
}

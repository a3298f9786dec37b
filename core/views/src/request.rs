//! Which kind of engine request something is: the dashboard routes the engine's answers and
//! failures to the tab model that asked by this kind. This is the one place that names every
//! [`Request`] variant.

use vantage_core::engine::Request;

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

    /// The kind of `request`.
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

    /// The kind of the request an engine failure names. Today's engine describes the failed
    /// request as text (its variant first, then its arguments); None for failures that are
    /// no request's (opening the deployment, the GeoIP databases).
    pub fn of_failed(described: &str) -> Option<RequestKind> {
        let variant: String = described.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        RequestKind::ALL.into_iter().find(|k| format!("{k:?}") == variant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_name_the_kind_of_their_request() {
        let requests = [Request::PcapSummary { id: "0123".into() }, Request::PcapJobs, Request::Jobs, Request::Entries { prefix: "vantage:".into() }];
        for r in requests {
            assert_eq!(RequestKind::of_failed(&format!("{r:?}")), Some(RequestKind::of(&r)), "{r:?}");
        }
        assert_eq!(RequestKind::of_failed("open"), None);
        assert_eq!(RequestKind::of_failed("GeoIP"), None);
    }
}

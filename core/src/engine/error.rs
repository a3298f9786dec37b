//! The Engine's typed errors: what kind of failure, for exit codes, HTTP statuses and the
//! dashboard's messages. Each wraps the core error it came from and shows it unchanged
//! (`Display` and `source` are the core error's), so messages stay what they were.

/// Why an Engine method failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request named something invalid: a resource, a period, a hash, a capture query.
    #[error(transparent)]
    InvalidArgument(crate::Error),
    /// What the request is about does not exist (e.g. a packet-capture job).
    #[error(transparent)]
    NotFound(crate::Error),
    /// A client asked for too many computations.
    #[error(transparent)]
    RateLimited(crate::Error),
    /// A part of the deployment could not be opened: `what` says which (`the cache`,
    /// `the store at /data/vantage.db`); the source says why.
    #[error("opening {what}")]
    Open {
        /// Which part, e.g. `the job queue`.
        what: String,
        /// Why it could not be opened.
        #[source]
        source: crate::Error,
    },
    /// A backend could not be reached or refused the operation (database, Redis, a remote).
    #[error(transparent)]
    Unavailable(crate::Error),
    /// The operation itself failed (a file, a capture, an aggregation, strict input).
    #[error(transparent)]
    Failed(crate::Error),
}

impl Error {
    /// A [`Error::NotFound`] saying `message` (shown as `invalid argument: <message>`, as before
    /// the errors were typed).
    pub fn not_found(message: String) -> Self {
        Error::NotFound(crate::Error::InvalidArgument(message))
    }

    /// The core error behind this one.
    pub fn core(&self) -> &crate::Error {
        match self {
            Error::InvalidArgument(e) | Error::NotFound(e) | Error::RateLimited(e) | Error::Unavailable(e) | Error::Failed(e) => e,
            Error::Open { source, .. } => source,
        }
    }
}

impl From<crate::Error> for Error {
    fn from(e: crate::Error) -> Self {
        use crate::Error as E;
        match e {
            E::InvalidArgument(_) | E::Config(_) => Error::InvalidArgument(e),
            E::RateLimited(_) => Error::RateLimited(e),
            E::Database(_) | E::Migration(_) | E::Redis(_) | E::Remote(_) => Error::Unavailable(e),
            E::Io { .. } | E::Export(_) | E::GeoIp(_) | E::Pcap(_) | E::SpoolFull(_) | E::RejectedInput(_) | E::Aggregation(_) => Error::Failed(e),
        }
    }
}

/// Result of an Engine method.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_the_core_ones() {
        let e = Error::from(crate::Error::InvalidArgument("unknown resource x".into()));
        assert!(matches!(e, Error::InvalidArgument(_)));
        assert_eq!(e.to_string(), "invalid argument: unknown resource x");
        assert_eq!(Error::not_found("no pcap job 1".into()).to_string(), "invalid argument: no pcap job 1");
        let open = Error::Open { what: "the cache".into(), source: crate::Error::Redis("down".into()) };
        assert_eq!(crate::error::chain_text(&open), "opening the cache: redis: down");
    }
}

//! Typed errors of the core library.

use std::path::PathBuf;

use crate::secret::redact_secrets;

/// Result alias used throughout the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the core, typed so front ends can map it to exit codes
/// and HTTP statuses.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration file, an environment variable or a flag is wrong.
    #[error("configuration: {}", redact_secrets(.0))]
    Config(String),
    /// A caller passed a value outside what the operation accepts.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file that was being read or written.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Drawing or encoding an exported chart failed.
    #[error("export: {0}")]
    Export(String),
    /// The database rejected a statement or could not be reached.
    #[error("database: {}", redact_secrets(&.0.to_string()))]
    Database(#[from] sqlx::Error),
    /// A schema migration failed; nothing of that migration was applied.
    #[error("schema migration: {}", redact_secrets(&.0.to_string()))]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A client queued too many computations.
    #[error("rate limited: {0}")]
    RateLimited(String),
    /// Redis could not be reached or rejected a command.
    #[error("redis: {}", redact_secrets(.0))]
    Redis(String),
    /// A GeoIP database file is not a valid MaxMind DB; the message names the file.
    #[error("GeoIP: {0}")]
    GeoIp(String),
    /// A packet capture is not valid pcap/pcapng, or captures cannot be merged; the message
    /// names the file.
    #[error("pcap: {0}")]
    Pcap(String),
    /// The capture spool has too little free space or too few free inodes for a new request.
    #[error("spool full: {0}")]
    SpoolFull(String),
    /// A remote server could not be reached or answered with an error.
    #[error("remote: {}", redact_secrets(.0))]
    Remote(String),
    /// Input rejected in strict mode: nothing was stored.
    #[error("{0} invalid input line(s); nothing was stored (strict mode)")]
    RejectedInput(usize),
    /// The database refused to aggregate one or more windows (e.g. a sum overflowing 64
    /// bits); the message names the precision, table and window of each. Other windows were
    /// aggregated.
    #[error("aggregation: {0}")]
    Aggregation(String),
}

impl Error {
    /// Whether the store or the cache could not be reached (a connection refused, lost or not
    /// got in time) — an outage, not a fault of the work asked for: the job is run again later.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Error::Database(e) => matches!(e, sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::WorkerCrashed),
            Error::Redis(_) => true,
            _ => false,
        }
    }

    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}

/// Opens an input file for reading; a directory is refused with `PATH: is a directory, expected
/// a file` (opening one succeeds on Linux and only the first read would fail, with an OS error).
pub fn open_file(path: &std::path::Path) -> Result<std::fs::File> {
    if path.is_dir() {
        return Err(Error::io(path, std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory, expected a file")));
    }
    std::fs::File::open(path).map_err(|e| Error::io(path, e))
}

/// An error and its causes on one line, `outer: cause: cause`, with every cause shown once —
/// a cause whose text the messages before it already contain (many errors repeat their source
/// in their own message) is left out — and URL passwords masked ([`redact_secrets`]).
pub fn chain_text(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = String::new();
    let mut next = Some(error);
    while let Some(e) = next {
        let text = e.to_string();
        if !text.is_empty() && !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
        next = e.source();
    }
    redact_secrets(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_show_each_cause_once_and_no_password() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let e = Error::io("/tmp/x", io);
        assert_eq!(chain_text(&e), "/tmp/x: connection refused");
        let e = Error::Redis("redis://:s3cret@host:1: connection refused".into());
        assert_eq!(chain_text(&e), "redis: redis://:***@host:1: connection refused");
    }
}

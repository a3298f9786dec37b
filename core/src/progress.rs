//! Progress reporting for long operations (imports, back-fills, demo generation).
//!
//! The core never draws: it calls a [`Progress`] implementation supplied by the front end
//! (an indicatif bar in the CLI, progress events in the TUI, nothing in tests).

/// Receives progress of one long operation.
pub trait Progress: Send + Sync {
    /// A new phase begins; `total` is the number of units when known.
    fn phase(&self, label: &str, total: Option<u64>);
    /// `n` more units are done.
    fn advance(&self, n: u64);
    /// The current phase ended.
    fn finish(&self);
}

/// Discards all progress.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn phase(&self, _label: &str, _total: Option<u64>) {}
    fn advance(&self, _n: u64) {}
    fn finish(&self) {}
}

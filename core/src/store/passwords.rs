//! Storage of the leaked-password hashes: the trait and the types it exchanges.

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::progress::Progress;

/// Honeypot services a leaked password was seen through (`data_source` in passy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Telnet minipot.
    Telnet,
    /// SMTP minipot.
    Smtp,
    /// FTP minipot.
    Ftp,
    /// HTTP minipot.
    Http,
    /// Honeypot as a Service (SSH).
    Haas,
}

impl Source {
    /// Every source, in the order of passy's enum.
    pub const ALL: [Source; 5] = [Source::Telnet, Source::Smtp, Source::Ftp, Source::Http, Source::Haas];

    /// Its name in the store and the APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Telnet => "telnet",
            Source::Smtp => "smtp",
            Source::Ftp => "ftp",
            Source::Http => "http",
            Source::Haas => "haas",
        }
    }

    /// The source of a statistics trap (`minipot_telnet` → telnet; `fwlogs` has none).
    pub fn from_trap(trap: &str) -> Option<Source> {
        trap.strip_prefix("minipot_").and_then(|s| s.parse().ok())
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Source {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Source::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| Error::InvalidArgument(format!("source `{s}`: one of telnet, smtp, ftp, http, haas")))
    }
}

/// A stored leaked-password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PwnedHash {
    /// SHA-1 of the password, 40 lowercase hex digits.
    pub hash: String,
    /// Times seen (≥ 1).
    pub count: i64,
    /// Services it was seen through, sorted, no duplicates.
    pub sources: Vec<Source>,
}

/// Sorted, deduplicated sources.
pub(crate) fn normalized(mut sources: Vec<Source>) -> Vec<Source> {
    sources.sort();
    sources.dedup();
    sources
}

/// Storage of the leaked-password hashes (`passwords_pwned`).
#[async_trait]
pub trait PasswordStore: Send + Sync {
    /// Merges leaked-password hashes (one row per hash) in one transaction: counts are
    /// added to stored ones, sources united. `mark` = (counter name, value) is set in the
    /// same transaction (an incremental import's watermark, read by `Store::counter`).
    async fn pwned_merge(&self, rows: &[PwnedHash], mark: Option<(&str, i64)>, progress: &dyn Progress) -> Result<()>;

    /// Attempted passwords of the statistics `passwords` table reported after `after`
    /// (micro­seconds since the epoch), summed per (password, source trap); the trap is the
    /// `minipot_*` trap of a login incident reported at the same instant, if any. Also returns
    /// the newest time read (microseconds), or `after` when nothing is newer.
    async fn attempted_passwords(&self, after: i64) -> Result<(Vec<(String, Option<String>, i64)>, i64)>;

    /// Stored leaked-password hashes starting with `prefix` (lowercase hex), sorted, found
    /// by a range scan of the hash index.
    async fn pwned_range(&self, prefix: &str) -> Result<Vec<PwnedHash>>;

    /// Up to `limit` stored leaked-password hashes after `after` in hash order (paging
    /// through the index; `""` starts at the beginning).
    async fn pwned_page(&self, after: &str, limit: i64) -> Result<Vec<PwnedHash>>;

    /// A counter bumped by every [`PasswordStore::pwned_merge`] (0 before the first): readers
    /// holding a copy re-read when it changes.
    async fn pwned_version(&self) -> Result<i64>;

    /// The `limit` most often seen leaked-password hashes (count descending, then hash).
    async fn pwned_top(&self, limit: i64) -> Result<Vec<PwnedHash>>;

    /// Number of stored leaked-password hashes.
    async fn pwned_total(&self) -> Result<i64>;
}

/// The counter bumped by every merge (see [`PasswordStore::pwned_version`]).
pub(crate) const PWNED_VERSION: &str = "passwords_pwned";

/// Rows per leaked-password upsert statement.
pub(crate) const PWNED_ROWS_PER_STATEMENT: usize = 5000;

/// The exclusive upper bound of a hex prefix range: every lowercase hex string starting with
/// `prefix` is ≥ `prefix` and < `prefix` + `g`.
pub(crate) fn prefix_end(prefix: &str) -> String {
    format!("{prefix}g")
}

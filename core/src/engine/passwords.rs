//! Leaked passwords through the engine: checks by hash, the top list, imports.

use std::io::BufRead;
use std::sync::Arc;

use super::Engine;
use super::error::Result;
use crate::config::SecretUrl;
use crate::passwords::import::{self, Format, ImportReport};
use crate::passwords::{self, PwnedHash, Source};
use crate::progress::Progress;

/// The leaked-password methods of a [`Engine`].
pub struct PasswordsApi<'a> {
    pub(super) engine: &'a Engine,
}

impl PasswordsApi<'_> {
    /// The entry of a SHA-1 (40 hex digits; front ends hash, a password never reaches the
    /// engine); None when not leaked.
    pub async fn check_hash(&self, sha1: &str) -> Result<Option<PwnedHash>> {
        Ok(passwords::check_hash(self.engine.deployment.stats.store.as_ref(), sha1).await?)
    }

    /// The `limit` most often seen hashes.
    pub async fn top(&self, limit: i64) -> Result<Vec<PwnedHash>> {
        Ok(self.engine.deployment.stats.store.pwned_top(limit).await?)
    }

    /// Imports a list in `format`, its hashes tagged with `source`.
    pub async fn import(&self, input: impl BufRead, format: Format, source: Option<Source>, progress: Arc<dyn Progress>) -> Result<ImportReport> {
        Ok(import::import(self.engine.deployment.stats.store.as_ref(), input, format, source, progress).await?)
    }

    /// Imports the hashes of an existing passy database.
    pub async fn import_passy(&self, url: &SecretUrl, progress: Arc<dyn Progress>) -> Result<ImportReport> {
        Ok(import::from_passy(self.engine.deployment.stats.store.as_ref(), url, progress).await?)
    }

    /// Imports the passwords attempted in the stored statistics.
    pub async fn import_statistics(&self, progress: Arc<dyn Progress>) -> Result<ImportReport> {
        Ok(import::from_statistics(self.engine.deployment.stats.store.as_ref(), progress).await?)
    }
}

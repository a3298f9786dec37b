//! An in-memory copy of `passwords_pwned` for the range APIs: hashes as 20 bytes, sorted, with
//! a table of where each 5-hex-digit prefix starts, so a lookup is two array reads and a
//! short scan — no query, no allocation beyond the answer. About 32 bytes per hash (10 million
//! hashes ≈ 330 MB) plus 4 MiB for the prefix table.
//!
//! The store stays the source of truth: [`Live`] loads a copy in the background, answers from
//! the store until it is ready, and re-reads whenever [`PasswordStore::pwned_version`] changes (an
//! import by any process), checking every [`RECHECK`].

use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::{PwnedHash, Source};
use crate::error::Result;
use crate::store::{PasswordStore, Store};

/// How often [`Live`] asks the store whether the hashes changed.
pub const RECHECK: Duration = Duration::from_secs(5);

/// Rows read per page while loading.
const PAGE: i64 = 100_000;

#[derive(Debug, Clone, Copy)]
struct Entry {
    hash: [u8; 20],
    sources: u8,
    count: i64,
}

/// A sorted in-memory snapshot of the leaked-password hashes.
#[derive(Debug)]
pub struct HashIndex {
    entries: Vec<Entry>,
    /// `starts[p]` = first entry whose 20-bit prefix is ≥ p; `starts[1 << 20]` = len.
    starts: Vec<u32>,
    /// The store's [`PasswordStore::pwned_version`] when the copy was taken.
    pub version: i64,
}

fn unhex(text: &str) -> Option<[u8; 20]> {
    let mut out = [0u8; 20];
    let bytes = text.as_bytes();
    if bytes.len() != 40 {
        return None;
    }
    for (i, o) in out.iter_mut().enumerate() {
        let hi = (bytes[2 * i] as char).to_digit(16)?;
        let lo = (bytes[2 * i + 1] as char).to_digit(16)?;
        *o = (hi * 16 + lo) as u8;
    }
    Some(out)
}

fn hex(hash: &[u8; 20]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(40);
    for b in hash {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

fn prefix20(hash: &[u8; 20]) -> usize {
    ((hash[0] as usize) << 12) | ((hash[1] as usize) << 4) | ((hash[2] as usize) >> 4)
}

impl HashIndex {
    /// Reads every stored hash (in pages, in hash order).
    pub async fn load(store: &dyn PasswordStore) -> Result<HashIndex> {
        let version = store.pwned_version().await?;
        let mut entries: Vec<Entry> = Vec::with_capacity(usize::try_from(store.pwned_total().await?).unwrap_or(0));
        let mut after = String::new();
        loop {
            let page = store.pwned_page(&after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.hash.clone();
            let full = page.len() as i64 == PAGE;
            entries.extend(page.iter().filter_map(|h| {
                let sources = h.sources.iter().map(|s| 1u8 << (Source::ALL.iter().position(|x| x == s).unwrap_or(0))).fold(0, |a, b| a | b);
                Some(Entry { hash: unhex(&h.hash)?, sources, count: h.count })
            }));
            if !full {
                break;
            }
        }
        Ok(HashIndex::from_sorted(entries, version))
    }

    fn from_sorted(entries: Vec<Entry>, version: i64) -> HashIndex {
        let mut starts = vec![0u32; (1 << 20) + 1];
        let mut i = 0usize;
        for (p, start) in starts.iter_mut().enumerate() {
            while i < entries.len() && prefix20(&entries[i].hash) < p {
                i += 1;
            }
            *start = i as u32;
        }
        HashIndex { entries, starts, version }
    }

    /// Number of hashes held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no hash is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every hash starting with `prefix` (5 to 40 lowercase hex digits, already validated).
    pub fn range(&self, prefix: &str) -> Vec<PwnedHash> {
        let Ok(p) = usize::from_str_radix(prefix.get(..5).unwrap_or(""), 16) else { return Vec::new() };
        let (from, to) = (self.starts[p] as usize, self.starts[p + 1] as usize);
        self.entries[from..to]
            .iter()
            .map(|e| (e, hex(&e.hash)))
            .filter(|(_, h)| h.starts_with(prefix))
            .map(|(e, hash)| PwnedHash { hash, count: e.count, sources: Source::ALL.into_iter().enumerate().filter(|(i, _)| e.sources & (1 << i) != 0).map(|(_, s)| s).collect() })
            .collect()
    }
}

/// The index kept current for a server: answers from the store until the first copy is
/// loaded, then from memory; re-loads in the background when the store's version changes.
#[derive(Clone)]
pub struct Live {
    store: Arc<dyn Store>,
    current: Arc<RwLock<Option<Arc<HashIndex>>>>,
    version: tokio::sync::watch::Receiver<Option<i64>>,
}

impl Live {
    /// Starts keeping a copy of `store` (spawns the loader on the current tokio runtime).
    pub fn start(store: Arc<dyn Store>) -> Live {
        let (tx, version) = tokio::sync::watch::channel(None);
        let live = Live { store, current: Arc::new(RwLock::new(None)), version };
        let (weak, store) = (Arc::downgrade(&live.current), live.store.clone());
        tokio::spawn(async move {
            let mut loaded: Option<i64> = None;
            loop {
                let Some(current) = weak.upgrade() else { return };
                match store.pwned_version().await {
                    Ok(v) if Some(v) != loaded => match HashIndex::load(store.as_ref()).await {
                        Ok(index) => {
                            tracing::info!(hashes = index.len(), version = index.version, "password index loaded");
                            loaded = Some(index.version);
                            if let Ok(mut slot) = current.write() {
                                *slot = Some(Arc::new(index));
                            }
                            let _ = tx.send(loaded);
                        }
                        Err(e) => tracing::warn!("password index: {e}"),
                    },
                    Ok(_) => {}
                    Err(e) => tracing::warn!("password index: {e}"),
                }
                drop(current);
                tokio::time::sleep(RECHECK).await;
            }
        });
        live
    }

    /// Every stored hash starting with `prefix`: from memory once loaded, else from the store.
    pub async fn range(&self, prefix: &str) -> Result<Vec<PwnedHash>> {
        let index = self.current.read().ok().and_then(|g| g.clone());
        match index {
            Some(index) => Ok(index.range(prefix)),
            None => self.store.pwned_range(prefix).await,
        }
    }

    /// Waits until the copy in memory is of store version `at_least` or newer; returns it.
    pub async fn loaded(&self, at_least: i64) -> i64 {
        let mut rx = self.version.clone();
        match rx.wait_for(|v| v.is_some_and(|v| v >= at_least)).await {
            Ok(v) => v.unwrap_or(at_least),
            Err(_) => at_least,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_table_finds_every_range() {
        let mut hashes: Vec<String> = (0..5000).map(|i| super::super::sha1_hex(&format!("pw{i}"))).collect();
        hashes.push("0000000000000000000000000000000000000000".into());
        hashes.push("ffffffffffffffffffffffffffffffffffffffff".into());
        hashes.sort();
        let entries = hashes.iter().map(|h| Entry { hash: unhex(h).expect("hex"), sources: 0b10001, count: 2 }).collect();
        let index = HashIndex::from_sorted(entries, 1);
        for prefix in ["00000", "fffff", &hashes[100][..5], &hashes[2000][..6], &hashes[3000][..], "abcde"] {
            let want: Vec<&String> = hashes.iter().filter(|h| h.starts_with(prefix)).collect();
            let got = index.range(prefix);
            assert_eq!(got.iter().map(|h| &h.hash).collect::<Vec<_>>(), want, "{prefix}");
            assert!(got.iter().all(|h| h.count == 2 && h.sources == [Source::Telnet, Source::Haas]));
        }
        assert_eq!(index.len(), 5002);
    }
}

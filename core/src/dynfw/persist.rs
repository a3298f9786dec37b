//! The feed's last state on disk (`<dir>/state.json`), so that a restart starts from the set it
//! had: written atomically (a temporary file renamed over the old one), read at start.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// What is kept of a feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    /// The serial the set stood at.
    pub serial: u64,
    /// When it was saved.
    pub saved_at: DateTime<Utc>,
    /// The blocked addresses.
    pub list: Vec<IpAddr>,
}

/// The state file in `dir`.
pub fn path(dir: &Path) -> PathBuf {
    dir.join("state.json")
}

/// Writes `saved` to `dir`'s state file, replacing the previous one only once complete.
pub fn save(dir: &Path, saved: &Saved) -> Result<()> {
    let target = path(dir);
    let io = |source| Error::Io { path: target.clone(), source };
    std::fs::create_dir_all(dir).map_err(io)?;
    let temp = dir.join("state.json.tmp");
    let bytes = serde_json::to_vec(saved).map_err(|e| Error::InvalidArgument(e.to_string()))?;
    std::fs::write(&temp, bytes).map_err(io)?;
    std::fs::rename(&temp, &target).map_err(io)
}

/// The state saved in `dir`, if any; a damaged file is an error naming it.
pub fn load(dir: &Path) -> Result<Option<Saved>> {
    let target = path(dir);
    match std::fs::read(&target) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| Error::Config(format!("{}: {e}", target.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Io { path: target, source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_state_loads_back_and_a_damaged_one_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(load(dir.path()).expect("none"), None);
        let saved = Saved { serial: 9, saved_at: Utc::now(), list: vec!["192.0.2.1".parse().expect("ip"), "2001:db8::2".parse().expect("ip")] };
        save(dir.path(), &saved).expect("save");
        assert_eq!(load(dir.path()).expect("load"), Some(saved));
        std::fs::write(path(dir.path()), "{").expect("write");
        assert!(load(dir.path()).expect_err("damaged").to_string().contains("state.json"));
    }
}

//! Configuration: one TOML file, overridden by `VANTAGE_*` environment variables and flags.
//!
//! Precedence (highest first): command-line flag, `VANTAGE_*` environment variable (both
//! resolved by the front end into [`Overrides`]), the TOML file, built-in defaults.
//! The file is `--config PATH`, else `./vantage.toml`, else
//! `$XDG_CONFIG_HOME/vantage/vantage.toml` (`~/.config/vantage/vantage.toml`); a missing
//! default file is fine, a missing explicit one is an error.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::clock::{self, Clock};
use crate::error::{Error, Result};
pub use crate::pcap::settings::PcapConfig;
pub use crate::secret::SecretUrl;
use crate::secret::redact_secrets;

/// The contents of `vantage.toml`. Unknown keys are an error so typos do not go unnoticed.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    redis_url: Option<String>,
    data_dir: Option<PathBuf>,
    geoip_dir: Option<PathBuf>,
    now: Option<String>,
    #[serde(default)]
    pcap: crate::pcap::settings::PcapFile,
}

/// Values given on the command line or in the environment; `None` = not given.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// Explicit config file path (`--config`).
    pub config_file: Option<PathBuf>,
    /// `--database-url` / `VANTAGE_DATABASE_URL`.
    pub database_url: Option<String>,
    /// `--redis-url` / `VANTAGE_REDIS_URL`.
    pub redis_url: Option<String>,
    /// `--data-dir` / `VANTAGE_DATA_DIR`.
    pub data_dir: Option<PathBuf>,
    /// `--geoip-dir` / `VANTAGE_GEOIP_DIR`.
    pub geoip_dir: Option<PathBuf>,
    /// `--now` / `VANTAGE_NOW`.
    pub now: Option<String>,
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// PostgreSQL (`postgres://…`) or SQLite (`sqlite://…`) URL; `None` = SQLite file in the data dir.
    pub database_url: Option<SecretUrl>,
    /// Redis URL; `None` = in-process cache and queues.
    pub redis_url: Option<SecretUrl>,
    /// Where the embedded store, logs and exports live.
    pub data_dir: PathBuf,
    /// Where the GeoIP `.mmdb` files live; default `<data_dir>/geoip`.
    pub geoip_dir: PathBuf,
    /// The clock every window and TTL decision uses.
    pub clock: Clock,
    /// The file the configuration was read from, if any.
    pub source: Option<PathBuf>,
    /// Packet-capture settings.
    pub pcap: PcapConfig,
}

impl Config {
    /// Loads the configuration file (if any) and applies `overrides` on top.
    pub fn load(overrides: Overrides) -> Result<Config> {
        let (file, source) = match &overrides.config_file {
            Some(path) => (read_file(path)?, Some(path.clone())),
            None => match default_config_paths().into_iter().find(|p| p.is_file()) {
                Some(path) => (read_file(&path)?, Some(path)),
                None => (FileConfig::default(), None),
            },
        };
        let now_text = overrides.now.or(file.now);
        let now: Option<DateTime<Utc>> = match now_text {
            Some(text) if !text.trim().is_empty() => Some(clock::parse_instant(&text).map_err(|e| Error::Config(format!("now: {e}")))?),
            _ => None,
        };
        let database_url = overrides.database_url.or(file.database_url).filter(|s| !s.is_empty());
        if let Some(url) = &database_url
            && !(url.starts_with("postgres://") || url.starts_with("postgresql://") || url.starts_with("sqlite:"))
        {
            return Err(Error::Config(format!(
                "database_url `{}` must start with postgres://, postgresql:// or sqlite:",
                SecretUrl::new(url.clone()).redacted()
            )));
        }
        let data_dir = overrides.data_dir.or(file.data_dir).unwrap_or_else(default_data_dir);
        Ok(Config {
            database_url: database_url.map(SecretUrl::new),
            redis_url: overrides.redis_url.or(file.redis_url).filter(|s| !s.is_empty()).map(SecretUrl::new),
            geoip_dir: overrides.geoip_dir.or(file.geoip_dir).unwrap_or_else(|| data_dir.join("geoip")),
            pcap: file.pcap.resolve(&data_dir)?,
            data_dir,
            clock: Clock::from_option(now),
            source,
        })
    }

    /// A configuration for the embedded backend in `data_dir` (tests, demos).
    pub fn embedded(data_dir: impl Into<PathBuf>, clock: Clock) -> Config {
        let data_dir = data_dir.into();
        let pcap = PcapConfig::with_spool(data_dir.join("pcap"));
        Config { database_url: None, redis_url: None, geoip_dir: data_dir.join("geoip"), pcap, data_dir, clock, source: None }
    }
}

fn read_file(path: &Path) -> Result<FileConfig> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    toml::from_str(&text).map_err(|e| parse_error(path, &text, &e))
}

/// `file:line:column: message` for a TOML error, without the source snippet toml's own
/// `Display` shows (that line may hold a password); the message is redacted as well.
fn parse_error(path: &Path, text: &str, e: &toml::de::Error) -> Error {
    let at = match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!(":{line}:{column}")
        }
        None => String::new(),
    };
    Error::Config(format!("{}{at}: {}", path.display(), redact_secrets(e.message().trim_end())))
}

fn default_config_paths() -> Vec<PathBuf> {
    let mut paths = vec![PathBuf::from("vantage.toml")];
    if let Some(dir) = std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from).or_else(|| home().map(|h| h.join(".config"))) {
        paths.push(dir.join("vantage").join("vantage.toml"));
    }
    paths
}

fn default_data_dir() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| home().map(|h| h.join(".local").join("share")))
        .map(|d| d.join("vantage"))
        .unwrap_or_else(|| PathBuf::from(".vantage"))
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_file_and_unknown_keys_are_rejected() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("vantage.toml");
        std::fs::write(&path, "data_dir = \"/from/file\"\nnow = \"2024-01-01T00:00:00Z\"\n").expect("write");
        let cfg = Config::load(Overrides { config_file: Some(path.clone()), now: Some("2024-06-15T12:40:00Z".into()), ..Overrides::default() }).expect("loads");
        assert_eq!(cfg.data_dir, PathBuf::from("/from/file"));
        assert_eq!(cfg.geoip_dir, PathBuf::from("/from/file/geoip"));
        assert_eq!(cfg.clock.now().to_rfc3339(), "2024-06-15T12:40:00+00:00");

        std::fs::write(&path, "databse_url = \"x\"\n").expect("write");
        let err = Config::load(Overrides { config_file: Some(path), ..Overrides::default() }).expect_err("typo");
        assert!(err.to_string().contains("databse_url"), "{err}");
    }

    #[test]
    fn parse_errors_give_line_and_column_without_the_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("vantage.toml");
        std::fs::write(&path, "data_dir = \"/x\"\ndatabse_url = \"postgres://u:s3cret@host/db\"\n").expect("write");
        let err = Config::load(Overrides { config_file: Some(path.clone()), ..Overrides::default() }).expect_err("typo").to_string();
        assert!(err.contains("vantage.toml:2:1: unknown field `databse_url`"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
        std::fs::write(&path, "redis_url = [\"redis://:s3cret@host\"]\n").expect("write");
        let err = Config::load(Overrides { config_file: Some(path), ..Overrides::default() }).expect_err("type").to_string();
        assert!(err.contains("vantage.toml:1:13: "), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
    }

    #[test]
    fn bad_database_url_scheme_is_a_config_error() {
        let err = Config::load(Overrides { config_file: None, database_url: Some("mysql://root:pw@localhost/x".into()), ..Overrides::default() })
            .expect_err("mysql is not supported");
        assert!(!err.to_string().contains("pw@"), "{err}");
    }
}

//! Configuration: one TOML file, overridden by `VANTAGE_*` environment variables and flags.
//!
//! Precedence (highest first): command-line flag, `VANTAGE_*` environment variable (both
//! resolved by the front end into [`Overrides`]), the TOML file, built-in defaults.
//! The file is `--config PATH`, else `./vantage.toml`, else
//! `$XDG_CONFIG_HOME/vantage/vantage.toml` (`~/.config/vantage/vantage.toml`); a missing
//! default file is fine, a missing explicit one is an error.

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::clock::{self, Clock};
use crate::error::{Error, Result};
pub use crate::pcap::settings::PcapConfig;

/// A connection URL that may carry a password; `Display` and `Debug` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(String);

impl SecretUrl {
    /// Wraps a URL.
    pub fn new(url: impl Into<String>) -> Self {
        SecretUrl(url.into())
    }

    /// The URL including its secret, for handing to a driver. Never log this.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with any password replaced by `***`, also when it does not parse as a URL:
    /// everything between the user name's `:` and the last `@` is masked (see [`mask_userinfo`]),
    /// as is a `password=` query parameter.
    pub fn redacted(&self) -> String {
        mask_password_params(&mask_userinfo(&self.0))
    }
}

/// Masks the password of a URL-like text without parsing it: the user info runs from after
/// `://` (or, without `//`, after the `scheme:` and any slashes) to the last `@`; whatever
/// follows its first `:` is replaced by `***`. A text without `@` is returned unchanged.
pub fn mask_userinfo(text: &str) -> String {
    let Some(at) = text.rfind('@') else { return text.to_string() };
    let head = &text[..at];
    let start = match head.find("://") {
        Some(i) => i + 3,
        None => match head.split_once(':') {
            // `scheme:/user:pw` → the user info starts after the slashes; `user:pw` (no
            // scheme) → at the start, so the password is still masked
            Some((scheme, rest)) if rest.contains(':') && !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) => {
                head.len() - rest.trim_start_matches('/').len()
            }
            _ => 0,
        },
    };
    match head[start..].find(':') {
        Some(colon) => format!("{}***{}", &text[..start + colon + 1], &text[at..]),
        None => text.to_string(),
    }
}

/// Masks the value of every `password=` parameter (case-insensitive) up to the next `&`.
fn mask_password_params(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    while let Some(i) = lower[pos..].find("password=") {
        let value = pos + i + "password=".len();
        let end = text[value..].find('&').map_or(text.len(), |j| value + j);
        out.push_str(&text[pos..value]);
        if end > value {
            out.push_str("***");
        }
        pos = end;
    }
    out.push_str(&text[pos..]);
    out
}

/// Masks every URL-like word of a free text (an error message from a driver, say): each
/// word containing `@` or `password=` goes through the same masking as [`SecretUrl::redacted`].
/// Words are separated by white space, quotes and backticks.
pub fn redact_secrets(text: &str) -> String {
    if !text.contains('@') && !text.to_ascii_lowercase().contains("password=") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    for c in text.chars() {
        if c.is_whitespace() || "\"'`()<>,".contains(c) {
            out.push_str(&SecretUrl::new(std::mem::take(&mut word)).redacted());
            out.push(c);
        } else {
            word.push(c);
        }
    }
    out.push_str(&SecretUrl::new(word).redacted());
    out
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretUrl({})", self.redacted())
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

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
    fn secrets_are_redacted_in_debug_and_display() {
        let url = SecretUrl::new("postgres://vantage:hunter2@db.example:5432/sview");
        assert!(!format!("{url:?}").contains("hunter2"));
        assert!(!format!("{url}").contains("hunter2"));
        assert!(format!("{url}").contains("***"));
        assert_eq!(url.expose(), "postgres://vantage:hunter2@db.example:5432/sview");
    }

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
    fn passwords_are_masked_in_urls_that_do_not_parse() {
        for (url, shown) in [
            ("postgres://u:s3cret@host/db", "postgres://u:***@host/db"),
            ("postgres:/u:s3cret@host/x", "postgres:/u:***@host/x"),
            ("postgres:u:s3cret@host/x", "postgres:u:***@host/x"),
            ("u:s3cret@host", "u:***@host"),
            ("redis://:s3cret@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
            ("redis://u:s3cr@t/x@[::1/0", "redis://u:***@[::1/0"),
            ("postgres://host/db?user=u&password=s3cret&sslmode=off", "postgres://host/db?user=u&password=***&sslmode=off"),
            ("postgres://postgres@127.0.0.1:5432/x", "postgres://postgres@127.0.0.1:5432/x"),
            ("sqlite:///tmp/v.db", "sqlite:///tmp/v.db"),
        ] {
            assert_eq!(SecretUrl::new(url).redacted(), shown, "{url}");
        }
        let text = redact_secrets("connecting to `postgres:/u:s3cret@host/x` (\"redis://:pw@h\") failed: me@example.org");
        assert_eq!(text, "connecting to `postgres:/u:***@host/x` (\"redis://:***@h\") failed: me@example.org");
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

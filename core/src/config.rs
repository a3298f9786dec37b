//! Configuration: one TOML file, overridden by `VANTAGE_*` environment variables and flags.
//!
//! Precedence (highest first): command-line flag, `VANTAGE_*` environment variable (both
//! resolved by the front end into [`Overrides`]), the TOML file, built-in defaults.
//! The file is `--config PATH`, else `./vantage.toml`, else
//! `$XDG_CONFIG_HOME/vantage/vantage.toml` (`~/.config/vantage/vantage.toml`); a missing
//! default file is fine, a missing explicit one is an error.
//!
//! This module reads only the top-level settings. A capability's own table (`[pcap]`, …) is
//! read by the capability with [`Config::section`], which re-reads the kept source text so its
//! errors name the file, line and key as well; [`Config::check_keys`] refuses top-level keys
//! that are neither a setting nor a known section. The composition root (`deployment`) does
//! both when the configuration is loaded.

use std::path::{Path, PathBuf};

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, Visitor};

use crate::clock::{self, Clock};
use crate::error::{Error, Result};
pub use crate::secret::SecretUrl;
use crate::secret::redact_secrets;

/// The top-level settings of `vantage.toml` (capability sections are read by their capability;
/// unknown keys are refused by [`Config::check_keys`]).
#[derive(Debug, Default, Deserialize)]
struct FileConfig {
    database_url: Option<String>,
    redis_url: Option<String>,
    data_dir: Option<PathBuf>,
    geoip_dir: Option<PathBuf>,
    now: Option<String>,
}

/// The top-level settings, in the order an unknown key's error lists them.
const SETTINGS: &[&str] = &["database_url", "redis_url", "data_dir", "geoip_dir", "now"];

/// The configuration file as read: its path and text.
#[derive(Debug, Clone)]
struct Source {
    path: PathBuf,
    text: Arc<str>,
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
    /// The text of that file, kept for the capabilities' sections.
    file: Option<Source>,
}

impl Config {
    /// Loads the configuration file (if any) and applies `overrides` on top.
    pub fn load(overrides: Overrides) -> Result<Config> {
        let path = match &overrides.config_file {
            Some(path) => Some(path.clone()),
            None => default_config_paths().into_iter().find(|p| p.is_file()),
        };
        let source = match path {
            Some(path) => Some(Source { text: std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?.into(), path }),
            None => None,
        };
        let file: FileConfig = match &source {
            Some(s) => toml::from_str(&s.text).map_err(|e| parse_error(&s.path, &s.text, &e))?,
            None => FileConfig::default(),
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
            data_dir,
            clock: Clock::from_option(now),
            source: source.as_ref().map(|s| s.path.clone()),
            file: source,
        })
    }

    /// A configuration for the embedded backend in `data_dir` (tests, demos).
    pub fn embedded(data_dir: impl Into<PathBuf>, clock: Clock) -> Config {
        let data_dir = data_dir.into();
        Config { database_url: None, redis_url: None, geoip_dir: data_dir.join("geoip"), data_dir, clock, source: None, file: None }
    }

    /// Refuses a top-level key of the file that is neither a setting of this module nor one of
    /// `sections` (the capabilities' tables): `file:line:column: unknown field …`.
    pub fn check_keys(&self, sections: &[&str]) -> Result<()> {
        let Some(file) = &self.file else { return Ok(()) };
        let expected: Vec<&str> = SETTINGS.iter().chain(sections).copied().collect();
        parse_with(file, TopLevel { expected: &expected })
    }

    /// The top-level table `name` of the file as `T` (`None`: no file or no such table).
    /// Errors name the file, line and column like the file's own.
    pub fn section<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>> {
        let Some(file) = &self.file else { return Ok(None) };
        parse_with(file, Section { name, found: PhantomData })
    }
}

/// Runs `seed` over the file's text, errors located in it.
fn parse_with<'a, S: DeserializeSeed<'a>>(file: &'a Source, seed: S) -> Result<S::Value> {
    let de = toml::Deserializer::parse(&file.text).map_err(|e| parse_error(&file.path, &file.text, &e))?;
    seed.deserialize(de).map_err(|e| parse_error(&file.path, &file.text, &e))
}

/// Checks every top-level key against `expected`, ignoring the values.
struct TopLevel<'e> {
    expected: &'e [&'e str],
}

impl<'de> DeserializeSeed<'de> for TopLevel<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TopLevel<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a table")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        // the key's own error carries the key's position
        while map.next_key_seed(KnownKey(self.expected))?.is_some() {
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }
}

/// A key that must be one of the listed names (serde's "unknown field" message otherwise).
struct KnownKey<'e>(&'e [&'e str]);

impl<'de> DeserializeSeed<'de> for KnownKey<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KnownKey<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, key: &str) -> std::result::Result<(), E> {
        if self.0.contains(&key) {
            return Ok(());
        }
        let names: Vec<String> = self.0.iter().map(|n| format!("`{n}`")).collect();
        let expected = match names.as_slice() {
            [] => "there are no fields".to_string(),
            [one] => format!("expected {one}"),
            [a, b] => format!("expected {a} or {b}"),
            _ => format!("expected one of {}", names.join(", ")),
        };
        Err(E::custom(format!("unknown field `{key}`, {expected}")))
    }
}

/// The value of top-level key `name`, other keys ignored.
struct Section<'n, T> {
    name: &'n str,
    found: PhantomData<T>,
}

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for Section<'_, T> {
    type Value = Option<T>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<Option<T>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for Section<'_, T> {
    type Value = Option<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a table")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Option<T>, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == self.name {
                found = Some(map.next_value::<T>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
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

    /// Loads and checks the top-level keys (no capability sections).
    fn load(overrides: Overrides) -> Result<Config> {
        let config = Config::load(overrides)?;
        config.check_keys(&[])?;
        Ok(config)
    }

    #[test]
    fn flags_override_file_and_unknown_keys_are_rejected() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("vantage.toml");
        std::fs::write(&path, "data_dir = \"/from/file\"\nnow = \"2024-01-01T00:00:00Z\"\n").expect("write");
        let cfg = load(Overrides { config_file: Some(path.clone()), now: Some("2024-06-15T12:40:00Z".into()), ..Overrides::default() }).expect("loads");
        assert_eq!(cfg.data_dir, PathBuf::from("/from/file"));
        assert_eq!(cfg.geoip_dir, PathBuf::from("/from/file/geoip"));
        assert_eq!(cfg.clock.now().to_rfc3339(), "2024-06-15T12:40:00+00:00");

        std::fs::write(&path, "databse_url = \"x\"\n").expect("write");
        let err = load(Overrides { config_file: Some(path), ..Overrides::default() }).expect_err("typo");
        assert!(err.to_string().contains("databse_url"), "{err}");
    }

    #[test]
    fn parse_errors_give_line_and_column_without_the_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("vantage.toml");
        std::fs::write(&path, "data_dir = \"/x\"\ndatabse_url = \"postgres://u:s3cret@host/db\"\n").expect("write");
        let err = load(Overrides { config_file: Some(path.clone()), ..Overrides::default() }).expect_err("typo").to_string();
        assert!(err.contains("vantage.toml:2:1: unknown field `databse_url`"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
        std::fs::write(&path, "redis_url = [\"redis://:s3cret@host\"]\n").expect("write");
        let err = load(Overrides { config_file: Some(path), ..Overrides::default() }).expect_err("type").to_string();
        assert!(err.contains("vantage.toml:1:13: "), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
    }

    #[test]
    fn bad_database_url_scheme_is_a_config_error() {
        let err = load(Overrides { config_file: None, database_url: Some("mysql://root:pw@localhost/x".into()), ..Overrides::default() })
            .expect_err("mysql is not supported");
        assert!(!err.to_string().contains("pw@"), "{err}");
    }

    #[test]
    fn sections_are_read_from_the_file_with_their_position() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Part {
            size: u32,
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("vantage.toml");
        std::fs::write(&path, "now = \"2024-01-01T00:00:00Z\"\n[part]\nsize = 3\n").expect("write");
        let cfg = Config::load(Overrides { config_file: Some(path.clone()), ..Overrides::default() }).expect("loads");
        assert_eq!(cfg.section::<Part>("part").expect("parses").map(|p| p.size), Some(3));
        assert!(cfg.section::<Part>("other").expect("absent").is_none());
        let err = cfg.check_keys(&[]).expect_err("unknown section").to_string();
        assert!(err.contains("vantage.toml:2:2: unknown field `part`, expected one of `database_url`"), "{err}");
        cfg.check_keys(&["part"]).expect("known section");
        std::fs::write(&path, "[part]\nsize = 3\nsise = 4\n").expect("write");
        let cfg = Config::load(Overrides { config_file: Some(path), ..Overrides::default() }).expect("loads");
        let err = cfg.section::<Part>("part").expect_err("typo").to_string();
        assert!(err.contains("vantage.toml:3:1: unknown field `sise`, expected `size`"), "{err}");
    }
}

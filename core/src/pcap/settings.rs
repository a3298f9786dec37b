//! The `[pcap]` configuration section (pcap.md "Configuration"): sensors, spool, timing,
//! cleanup and weight settings. Sizes are numbers of bytes or text such as "500MB"
//! (1024-based); durations are numbers of seconds or text such as "48h" or "2s".
//!
//! ```toml
//! [pcap]
//! spool_dir = "/var/spool/vantage/pcap"
//! expire_time = "48h"
//! expire_space = "500MB"
//! merger = "native"          # or "mergecap" (`mergecap -F pcap -w …`)
//! [[pcap.sensors]]
//! name = "sensor-a"
//! host = "10.0.0.5"
//! port = 1234
//! ca = "/etc/stenographer/certs/ca_cert.pem"
//! cert = "/etc/stenographer/certs/client_cert.pem"
//! key = "/etc/stenographer/certs/client_key.pem"
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::pcap::client::SensorConfig;
use crate::pcap::request::{RequestSettings, Weights, parse_duration, parse_size};

/// How the sensors' answers are merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Merger {
    /// The built-in k-way merge (the default).
    #[default]
    Native,
    /// Wireshark's `mergecap -F pcap -w` (must be on `PATH`).
    Mergecap,
}

/// Packet-capture settings, resolved (defaults filled in).
#[derive(Debug, Clone, PartialEq)]
pub struct PcapConfig {
    /// Stenographer sensors (`[[pcap.sensors]]` with name, host, port, ca, cert, key).
    pub sensors: Vec<SensorConfig>,
    /// Where captures are spooled; default `<data_dir>/pcap`.
    pub spool_dir: PathBuf,
    /// TIME_WINDOW: request times are floored to a multiple of this many seconds (60).
    pub time_window: u32,
    /// LONG_AGO: the default window starts this long before now (24 h).
    pub long_ago: Duration,
    /// Answers of at most this many bytes hold no packets (25).
    pub empty_threshold: u64,
    /// The merged capture is `<merged_name>.pcap` ("merged").
    pub merged_name: String,
    /// A sensor seen idle less than this long ago is not asked for its stats again (5 s).
    pub idle_time: Duration,
    /// How often a busy sensor's `/debug/stats` is polled (2 s).
    pub idle_sleep: Duration,
    /// Timeout of one `GET /debug/stats` (3 s).
    pub stat_timeout: Duration,
    /// Longest wait for a sensor to become idle, and longest `POST /query` (720 s).
    pub query_timeout: Duration,
    /// Jobs whose directory was not touched for this long are deleted by the cleanup (48 h).
    pub expire_time: Duration,
    /// The cleanup deletes the oldest jobs while the spool has less free space (500 MB).
    pub expire_space: u64,
    /// The cleanup runs at most this often unless forced (1 h).
    pub cleanup_period: Duration,
    /// New requests are refused (413) below this many free bytes in the spool (200 MB).
    pub free_bytes: u64,
    /// New requests are refused (413) below this many free inodes in the spool (10111).
    pub free_nodes: u64,
    /// The weight check (enabled when weight_total, weight_threshold and weight_hours are set).
    pub weight: Option<Weights>,
    /// Native merge or `mergecap`.
    pub merger: Merger,
    /// PCAP_WEB_ROOT: the prefix of a capture's URL, `<web_root>/<id>/<merged_name>.pcap` ("/results").
    pub web_root: String,
    /// UI_WEB_ROOT: `GET /api/uri/…` redirects to `<ui_web_root>/#/status/<id>` ("").
    pub ui_web_root: String,
}

/// The name of the configuration table.
pub const SECTION: &str = "pcap";

impl PcapConfig {
    /// The `[pcap]` table of `config`'s file, resolved (defaults when absent; the spool
    /// defaults to `<data_dir>/pcap`). Errors name the file, line and key.
    pub fn from_config(config: &Config) -> Result<PcapConfig> {
        config.section::<PcapFile>(SECTION)?.unwrap_or_default().resolve(&config.data_dir)
    }

    /// The defaults of pcap.md with the spool in `spool_dir` and no sensors.
    pub fn with_spool(spool_dir: PathBuf) -> PcapConfig {
        PcapConfig {
            sensors: Vec::new(),
            spool_dir,
            time_window: 60,
            long_ago: Duration::from_secs(24 * 3600),
            empty_threshold: 25,
            merged_name: "merged".into(),
            idle_time: Duration::from_secs(5),
            idle_sleep: Duration::from_secs(2),
            stat_timeout: Duration::from_secs(3),
            query_timeout: Duration::from_secs(720),
            expire_time: Duration::from_secs(48 * 3600),
            expire_space: 500 << 20,
            cleanup_period: Duration::from_secs(3600),
            free_bytes: 200 << 20,
            free_nodes: 10111,
            weight: None,
            merger: Merger::Native,
            web_root: "/results".into(),
            ui_web_root: String::new(),
        }
    }

    /// The request-building part (time window, default start, weight check).
    pub fn request_settings(&self) -> RequestSettings {
        RequestSettings { time_window: self.time_window, long_ago: self.long_ago, weight: self.weight.clone() }
    }

    /// File name of the merged capture in a job directory.
    pub fn merged_file(&self) -> String {
        format!("{}.pcap", self.merged_name)
    }

    /// The URL of job `id`'s merged capture.
    pub fn url(&self, id: &str) -> String {
        format!("{}/{id}/{}", self.web_root.trim_end_matches('/'), self.merged_file())
    }
}

/// A size or duration as written in TOML: a number or text.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum Amount {
    Number(f64),
    Text(String),
}

impl Amount {
    fn size(&self, key: &str) -> Result<u64> {
        match self {
            Amount::Number(n) if *n >= 0.0 && n.fract() == 0.0 => Ok(*n as u64),
            Amount::Number(n) => Err(Error::Config(format!("pcap.{key}: {n} is not a whole number of bytes"))),
            Amount::Text(t) => parse_size(t).map_err(|e| Error::Config(format!("pcap.{key}: {e}"))),
        }
    }

    fn duration(&self, key: &str) -> Result<Duration> {
        match self {
            Amount::Number(n) => Duration::try_from_secs_f64(*n).map_err(|_| Error::Config(format!("pcap.{key}: {n} is not a duration in seconds"))),
            Amount::Text(t) => parse_duration(t).map_err(|e| Error::Config(format!("pcap.{key}: {e}"))),
        }
    }
}

/// The `[pcap]` section as written in the file (every key optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PcapFile {
    #[serde(default)]
    sensors: Vec<SensorConfig>,
    spool_dir: Option<PathBuf>,
    time_window: Option<u32>,
    long_ago: Option<Amount>,
    empty_threshold: Option<Amount>,
    merged_name: Option<String>,
    idle_time: Option<Amount>,
    idle_sleep: Option<Amount>,
    stat_timeout: Option<Amount>,
    query_timeout: Option<Amount>,
    expire_time: Option<Amount>,
    expire_space: Option<Amount>,
    cleanup_period: Option<Amount>,
    free_bytes: Option<Amount>,
    free_nodes: Option<u64>,
    weight_total: Option<Amount>,
    weight_threshold: Option<Amount>,
    weight_hours: Option<f64>,
    weight_ips: Option<f64>,
    weight_nets: Option<f64>,
    weight_ports: Option<f64>,
    merger: Option<Merger>,
    web_root: Option<String>,
    ui_web_root: Option<String>,
}

impl PcapFile {
    /// Fills in the defaults; the spool defaults to `<data_dir>/pcap`.
    pub(crate) fn resolve(self, data_dir: &Path) -> Result<PcapConfig> {
        let mut c = PcapConfig::with_spool(self.spool_dir.unwrap_or_else(|| data_dir.join("pcap")));
        c.sensors = self.sensors;
        let mut names = std::collections::HashSet::new();
        if let Some(dup) = c.sensors.iter().find(|s| !names.insert(s.name.as_str())) {
            return Err(Error::Config(format!("pcap.sensors: the name `{}` is used twice", dup.name)));
        }
        if let Some(bad) = c.sensors.iter().find(|s| s.name.is_empty() || s.name.starts_with('.') || s.name.contains(['/', '\\', '\0'])) {
            return Err(Error::Config(format!("pcap.sensors: `{}` cannot be used as a file name", bad.name)));
        }
        let durations = [
            (&self.long_ago, "long_ago", &mut c.long_ago),
            (&self.idle_time, "idle_time", &mut c.idle_time),
            (&self.idle_sleep, "idle_sleep", &mut c.idle_sleep),
            (&self.stat_timeout, "stat_timeout", &mut c.stat_timeout),
            (&self.query_timeout, "query_timeout", &mut c.query_timeout),
            (&self.expire_time, "expire_time", &mut c.expire_time),
            (&self.cleanup_period, "cleanup_period", &mut c.cleanup_period),
        ];
        for (value, key, slot) in durations {
            if let Some(v) = value {
                *slot = v.duration(key)?;
            }
        }
        let sizes = [
            (&self.empty_threshold, "empty_threshold", &mut c.empty_threshold),
            (&self.expire_space, "expire_space", &mut c.expire_space),
            (&self.free_bytes, "free_bytes", &mut c.free_bytes),
        ];
        for (value, key, slot) in sizes {
            if let Some(v) = value {
                *slot = v.size(key)?;
            }
        }
        if let Some(tw) = self.time_window {
            c.time_window = tw;
        }
        if let Some(name) = self.merged_name {
            if name.is_empty() || name.contains(['/', '\\', '\0']) || name.starts_with('.') {
                return Err(Error::Config(format!("pcap.merged_name: `{name}` cannot be used as a file name")));
            }
            c.merged_name = name;
        }
        if let Some(n) = self.free_nodes {
            c.free_nodes = n;
        }
        c.merger = self.merger.unwrap_or_default();
        c.web_root = self.web_root.unwrap_or(c.web_root);
        c.ui_web_root = self.ui_web_root.unwrap_or(c.ui_web_root);
        c.weight = match (&self.weight_total, &self.weight_threshold, self.weight_hours) {
            (Some(total), Some(threshold), Some(hours)) => {
                if hours <= 0.0 {
                    return Err(Error::Config("pcap.weight_hours must be positive".into()));
                }
                let mut w = Weights::new(total.size("weight_total")?, threshold.size("weight_threshold")?, hours);
                w.ips = self.weight_ips.unwrap_or(w.ips);
                w.nets = self.weight_nets.unwrap_or(w.nets);
                w.ports = self.weight_ports.unwrap_or(w.ports);
                Some(w)
            }
            (None, None, None) => None,
            _ => return Err(Error::Config("pcap: the weight check needs all of weight_total, weight_threshold and weight_hours".into())),
        };
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<PcapConfig> {
        let file: PcapFile = toml::from_str(text).map_err(|e| Error::Config(e.to_string()))?;
        file.resolve(Path::new("/data"))
    }

    #[test]
    fn defaults_and_overrides() {
        let d = parse("").expect("defaults");
        assert_eq!(d, PcapConfig::with_spool("/data/pcap".into()));
        assert_eq!(d.url("ab"), "/results/ab/merged.pcap");
        let c = parse("expire_time = \"2h\"\nexpire_space = \"1GB\"\nquery_timeout = 30\nfree_nodes = 5\nmerger = \"mergecap\"\nmerged_name = \"all\"\nweight_total = \"1TB\"\nweight_threshold = \"20GB\"\nweight_hours = 24\nweight_ips = 10")
            .expect("parsed");
        assert_eq!(c.expire_time, Duration::from_secs(7200));
        assert_eq!(c.expire_space, 1 << 30);
        assert_eq!(c.query_timeout, Duration::from_secs(30));
        assert_eq!((c.free_nodes, c.merger, c.merged_file()), (5, Merger::Mergecap, "all.pcap".to_string()));
        let w = c.weight.expect("weight");
        assert_eq!((w.total, w.threshold, w.hours, w.ips, w.nets), (1 << 40, 20 << 30, 24.0, 10.0, 2.0));
    }

    #[test]
    fn bad_values_name_the_key() {
        for (text, key) in [
            ("expire_time = \"2 fortnights\"", "pcap.expire_time"),
            ("free_bytes = \"lots\"", "pcap.free_bytes"),
            ("weight_total = \"1TB\"", "weight_threshold"),
            ("merged_name = \"../x\"", "pcap.merged_name"),
            (
                "[[sensors]]\nname=\"a\"\nhost=\"h\"\nport=1\nca=\"c\"\ncert=\"c\"\nkey=\"k\"\n[[sensors]]\nname=\"a\"\nhost=\"h\"\nport=1\nca=\"c\"\ncert=\"c\"\nkey=\"k\"",
                "twice",
            ),
        ] {
            let e = parse(text).expect_err(text).to_string();
            assert!(e.contains(key), "{text}: {e}");
        }
        assert!(parse("expire = 3").is_err(), "unknown keys are refused");
    }
}

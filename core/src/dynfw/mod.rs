//! DynFW: Sentinel's dynamic-firewall list, followed live over ZeroMQ CURVE (statistics.md,
//! "Greylist and DynFW"; docs/dynfw.md).
//!
//! - [`message`]: the two-frame wire messages (topic + msgpack map) and their decoding.
//! - [`feed`]: the blocked set kept by the serial rules, its countries, health and recent changes.
//! - [`service`]: a running feed shared by the front ends ([`service::FeedHandle`]): frames in,
//!   the current set, a status summary and a live relay out; its state persisted.
//! - [`subscriber`] (cargo feature `zmq`): the CURVE SUB socket on the system libzmq.
//! - [`demo`]: a replayed feed for `vantage demo`, labelled as demo.
//! - [`keys`]: the server's public-key file and the client's own keypair.
//! - [`export`]: the list in the forms firewalls load (plain, CSV, ipset, nft).
//! - [`api`]: `GET /dynfw/list.json` and the WebSocket `/dynfw/ws` of `vantage serve`.

pub mod api;
pub mod demo;
pub mod export;
pub mod feed;
pub mod keys;
pub mod message;
pub mod persist;
pub mod service;
#[cfg(feature = "zmq")]
pub mod subscriber;

use std::path::PathBuf;

use serde::Deserialize;

use crate::config::Config;
use crate::error::{Error, Result};

/// The configuration table of the feed.
pub const SECTION: &str = "dynfw";

/// Sentinel's DynFW port, used when the endpoint names none.
pub const DEFAULT_PORT: u16 = 7087;

/// The `[dynfw]` section as written in the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DynfwFile {
    endpoint: Option<String>,
    server_key: Option<String>,
    dir: Option<PathBuf>,
}

/// Where the feed is and how to trust it (from `[dynfw]`; absent: no feed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynfwConfig {
    /// `tcp://host:port` (port [`DEFAULT_PORT`] when not given).
    pub endpoint: String,
    /// The server's public CURVE key (from `server_key`: a certificate file such as
    /// Sentinel's `dynfw.pub`, a file with the bare Z85 key, or the key itself).
    pub server_key: keys::Key,
    /// Where the client's keypair (`client.key`, 0600) and the last state (`state.json`) are
    /// kept (default `<data_dir>/dynfw`).
    pub dir: PathBuf,
}

impl DynfwConfig {
    /// The `[dynfw]` section of `config`, validated; `None` when there is none (no feed).
    /// A relative `server_key` path is read beside the configuration file.
    pub fn from_config(config: &Config) -> Result<Option<DynfwConfig>> {
        let Some(file) = config.section::<DynfwFile>(SECTION)? else { return Ok(None) };
        let endpoint = file.endpoint.ok_or_else(|| Error::Config("dynfw.endpoint: missing (e.g. tcp://sentinel.turris.cz:7087)".into()))?;
        let endpoint = normalize_endpoint(&endpoint).map_err(|e| Error::Config(format!("dynfw.endpoint: {e}")))?;
        let key = file.server_key.ok_or_else(|| Error::Config("dynfw.server_key: missing (the server's public key file, e.g. dynfw.pub)".into()))?;
        let base = config.source.as_deref().and_then(|p| p.parent()).map(PathBuf::from).unwrap_or_default();
        let server_key = keys::server_key(&key, &base).map_err(|e| match e {
            Error::Io { path, source } => Error::Config(format!("dynfw.server_key: {}: {source}", path.display())),
            other => other,
        })?;
        let dir = file.dir.unwrap_or_else(|| config.data_dir.join("dynfw"));
        Ok(Some(DynfwConfig { endpoint, server_key, dir }))
    }
}

/// `tcp://host[:port]` with the port filled in; the error says what is wrong.
fn normalize_endpoint(text: &str) -> std::result::Result<String, String> {
    let rest = text.strip_prefix("tcp://").ok_or_else(|| format!("{text:?} is not tcp://host:port"))?;
    if rest.is_empty() || rest.contains('/') {
        return Err(format!("{text:?} is not tcp://host:port"));
    }
    let has_port = match rest.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(':') && (!host.contains(':') || host.ends_with(']')) => {
            port.parse::<u16>().map_err(|_| format!("{port:?} in {text:?} is not a port"))?;
            true
        }
        _ => false,
    };
    Ok(if has_port { text.to_string() } else { format!("{text}:{DEFAULT_PORT}") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_get_sentinels_port_and_bad_ones_are_refused() {
        assert_eq!(normalize_endpoint("tcp://sentinel.turris.cz").as_deref(), Ok("tcp://sentinel.turris.cz:7087"));
        assert_eq!(normalize_endpoint("tcp://127.0.0.1:9000").as_deref(), Ok("tcp://127.0.0.1:9000"));
        assert_eq!(normalize_endpoint("tcp://[::1]:9000").as_deref(), Ok("tcp://[::1]:9000"));
        assert!(normalize_endpoint("udp://x:1").is_err());
        assert!(normalize_endpoint("tcp://x:port").expect_err("bad port").contains("not a port"));
    }
}

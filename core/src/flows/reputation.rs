//! The HTTP JSON reputation service of OA step 4 (`[flows.reputation_service]`): the addresses
//! of a run's suspicious connections are asked in batches, each once per run (the run's cache:
//! an address of many rows is asked once; nothing is kept between runs, so a re-run sees the
//! service's current answers and an outage does not outlive its run).
//!
//! ```toml
//! [flows.reputation_service]
//! url = "https://rep.example/v1/lookup"   # http or https
//! name = "rep"          # the service in `name:LABEL:value` (default "http")
//! batch = 100           # addresses per request (default 100)
//! timeout_ms = 5000     # per request, connecting included (default 5000)
//! ```
//!
//! Each batch is `POST <url>` with `Content-Type: application/json` and the body
//! `{"ips": ["198.51.100.7", "2001:db8::1"]}`; the answer is `200` with
//! `{"results": [{"ip": "198.51.100.7", "label": "MALWARE", "value": 3}]}` — value −1 unknown,
//! 0 none, 1 low, 2 medium, 3 high; an address the answer leaves out has no reputation there.
//! An address of a batch that failed — the service unreachable, slower than the timeout, an
//! HTTP error, an answer that is not that JSON — is `name:UNKNOWN:-1`, and the run's report
//! carries one warning saying what failed; the run goes on. After a connection failure or a
//! timeout the service is not asked again in that run (its remaining addresses are unknown
//! too), so a dead service costs one timeout, not one per batch.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::SecretUrl;
use crate::error::{Error, Result};

/// The label of an address the service could not answer for.
pub const UNKNOWN: &str = "UNKNOWN";

/// `[flows.reputation_service]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSettings {
    /// Where batches are POSTed (http or https).
    pub url: String,
    /// The service's name in the reputation strings.
    #[serde(default = "default_name")]
    pub name: String,
    /// Addresses per request.
    #[serde(default = "default_batch")]
    pub batch: usize,
    /// Milliseconds a request may take, connecting included.
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
}

fn default_name() -> String {
    "http".into()
}

fn default_batch() -> usize {
    100
}

fn default_timeout() -> u64 {
    5000
}

impl ServiceSettings {
    /// Refuses a URL that is not http(s), a name that would break the `service:LABEL:value`
    /// strings, a batch outside 1–10,000 and a zero timeout.
    pub fn check(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Config(format!("[flows.reputation_service] {m}")));
        let shown = SecretUrl::new(self.url.clone()).redacted();
        match url::Url::parse(&self.url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            Ok(_) => return bad(format!("url `{shown}`: http or https expected")),
            Err(e) => return bad(format!("url `{shown}`: {e}")),
        }
        if self.name.is_empty() || self.name.contains(':') {
            return bad(format!("name `{}`: not empty, no `:`", self.name));
        }
        if !(1..=10_000).contains(&self.batch) {
            return bad(format!("batch {}: 1 to 10000", self.batch));
        }
        if self.timeout_ms == 0 {
            return bad("timeout_ms 0: at least 1".into());
        }
        Ok(())
    }
}

/// A request's body.
#[derive(Serialize)]
struct Request<'a> {
    ips: &'a [IpAddr],
}

/// An answer's body.
#[derive(Deserialize)]
struct Answer {
    results: Vec<Entry>,
}

/// One address of an answer.
#[derive(Deserialize)]
struct Entry {
    ip: IpAddr,
    label: String,
    value: i32,
}

/// What the service said about a run's addresses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answers {
    /// `name:LABEL:value` per address it listed, `name:UNKNOWN:-1` per address it could not
    /// answer for.
    pub values: HashMap<IpAddr, String>,
    /// What failed, one line (none when every batch was answered).
    pub warnings: Vec<String>,
}

/// Why one batch failed, and whether the service is worth asking again.
struct Failure {
    reason: String,
    give_up: bool,
}

/// The service at `settings`.
pub struct Service {
    settings: ServiceSettings,
    shown: String,
    client: reqwest::Client,
}

impl Service {
    /// A client for the service (settings checked by [`ServiceSettings::check`]).
    pub fn new(settings: &ServiceSettings) -> Result<Service> {
        settings.check()?;
        // rustls with the ring provider, as every HTTPS client of Vantage
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.timeout_ms))
            .user_agent(concat!("vantage/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Config(format!("[flows.reputation_service]: HTTP client: {e}")))?;
        Ok(Service { shown: SecretUrl::new(settings.url.clone()).redacted(), settings: settings.clone(), client })
    }

    /// One batch: the listed addresses' strings.
    async fn batch(&self, ips: &[IpAddr]) -> std::result::Result<Vec<(IpAddr, String)>, Failure> {
        let failed = |e: reqwest::Error| Failure {
            give_up: e.is_connect() || e.is_timeout(),
            reason: if e.is_timeout() { format!("no answer within {} ms", self.settings.timeout_ms) } else { crate::error::chain_text(&e.without_url()) },
        };
        let body = serde_json::to_vec(&Request { ips }).map_err(|e| Failure { reason: format!("request: {e}"), give_up: true })?;
        let resp = self.client.post(&self.settings.url).header(reqwest::header::CONTENT_TYPE, "application/json").body(body).send().await.map_err(failed)?;
        let status = resp.status();
        if !status.is_success() {
            return Err(Failure { reason: format!("HTTP {}", status.as_u16()), give_up: false });
        }
        let body = resp.bytes().await.map_err(failed)?;
        let answer: Answer = serde_json::from_slice(&body).map_err(|e| Failure { reason: format!("the answer is not {{\"results\": [{{ip, label, value}}]}}: {e}"), give_up: false })?;
        let mut out = Vec::with_capacity(answer.results.len());
        for e in answer.results {
            if !(-1..=3).contains(&e.value) {
                return Err(Failure { reason: format!("{}: value {} is not one of -1, 0, 1, 2, 3", e.ip, e.value), give_up: false });
            }
            if e.label.is_empty() || e.label.contains(':') {
                return Err(Failure { reason: format!("{}: label `{}`: not empty, no `:`", e.ip, e.label), give_up: false });
            }
            out.push((e.ip, format!("{}:{}:{}", self.settings.name, e.label, e.value)));
        }
        Ok(out)
    }

    /// Asks for every address of `ips` (each once), batch after batch; never fails: what the
    /// service cannot answer is unknown, with a warning.
    pub async fn ask(&self, ips: &[IpAddr]) -> Answers {
        let mut unique: Vec<IpAddr> = ips.to_vec();
        unique.sort_unstable();
        unique.dedup();
        let batches: Vec<&[IpAddr]> = unique.chunks(self.settings.batch).collect();
        let mut answers = Answers::default();
        let unknown = format!("{}:{UNKNOWN}:-1", self.settings.name);
        let (mut failed, mut first, mut stopped, mut lost) = (0, None, false, 0);
        for (i, batch) in batches.iter().enumerate() {
            let result = if stopped { Err(None) } else { self.batch(batch).await.map_err(Some) };
            match result {
                Ok(listed) => {
                    let asked: std::collections::HashSet<&IpAddr> = batch.iter().collect();
                    answers.values.extend(listed.into_iter().filter(|(ip, _)| asked.contains(ip)));
                }
                Err(failure) => {
                    if let Some(f) = failure {
                        failed += 1;
                        stopped = f.give_up;
                        first.get_or_insert(format!("batch {} of {}: {}", i + 1, batches.len(), f.reason));
                    }
                    lost += batch.len();
                    answers.values.extend(batch.iter().map(|ip| (*ip, unknown.clone())));
                }
            }
        }
        if let Some(first) = first {
            let not_asked = if stopped { "; not asked again this run" } else { "" };
            answers.warnings.push(format!(
                "reputation service {}: {failed} of {} batches failed ({first}){not_asked}; {lost} of {} addresses are unknown (-1)",
                self.shown,
                batches.len(),
                unique.len()
            ));
        }
        answers
    }
}

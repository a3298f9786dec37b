//! Checking against a remote Vantage or Have I Been Pwned compatible server: only the first
//! 5 hex digits of the SHA-1 leave the machine (`GET <base>/range/<prefix>` with
//! `Add-Padding: true`, so the response size says nothing either); the suffix is compared here.

use std::time::Duration;

use crate::error::{Error, Result};

/// A range API at a base URL (e.g. `https://api.pwnedpasswords.com` or `http://host:8080`).
#[derive(Debug, Clone)]
pub struct Remote {
    base: String,
    /// `base` with any password masked, for messages.
    shown: String,
    client: reqwest::Client,
}

impl Remote {
    /// A client for the range API under `base` (http or https).
    pub fn new(base: &str) -> Result<Remote> {
        let shown = crate::config::SecretUrl::new(base.trim_end_matches('/')).redacted();
        let url = url::Url::parse(base).map_err(|e| Error::InvalidArgument(format!("--remote `{shown}`: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::InvalidArgument(format!("--remote `{shown}`: http or https URL expected")));
        }
        // rustls with the ring provider (no C toolchain beyond ring's own)
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .user_agent(concat!("vantage/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::InvalidArgument(format!("HTTP client: {e}")))?;
        Ok(Remote { base: base.trim_end_matches('/').to_string(), shown, client })
    }

    /// How often the remote has seen the SHA-1 `hash` (40 hex digits); None when not at all.
    pub async fn count(&self, hash: &str) -> Result<Option<i64>> {
        if !super::is_sha1(hash) {
            return Err(Error::InvalidArgument("a SHA-1 is 40 hex digits".into()));
        }
        let hash = hash.to_ascii_uppercase();
        let url = format!("{}/range/{}", self.base, &hash[..5]);
        // neither the password of the base URL nor the hash prefix (5 hex digits of the
        // user's password hash) appears in errors
        let failed = |e: String| Error::Remote(format!("{}/range/…: {e}", self.shown));
        let resp = self.client.get(&url).header("Add-Padding", "true").send().await.map_err(|e| failed(crate::error::chain_text(&e.without_url())))?;
        if !resp.status().is_success() {
            return Err(failed(format!("HTTP {}", resp.status())));
        }
        let body = resp.text().await.map_err(|e| failed(crate::error::chain_text(&e.without_url())))?;
        Ok(parse_range(&body, &hash[5..]))
    }
}

/// The count of `suffix` (upper case) in a range response; decoys (count 0) are not hits.
fn parse_range(body: &str, suffix: &str) -> Option<i64> {
    body.lines()
        .filter_map(|l| l.trim().split_once(':'))
        .find(|(s, _)| s.eq_ignore_ascii_case(suffix))
        .and_then(|(_, c)| c.trim().replace(',', "").parse::<i64>().ok())
        .filter(|c| *c > 0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn range_bodies_are_parsed_like_hibp_clients_do() {
        let body = "0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n1E4C9B93F3F0682250B6CF8331B7EE68FD8:3,861,493\r\nFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF:0";
        assert_eq!(super::parse_range(body, "1E4C9B93F3F0682250B6CF8331B7EE68FD8"), Some(3_861_493));
        assert_eq!(super::parse_range(body, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"), None, "padding");
        assert_eq!(super::parse_range(body, "0000000000000000000000000000000000A"), None);
    }
}

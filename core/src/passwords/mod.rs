//! Leaked-password checks with k-anonymity (passwords.md).
//!
//! The store keeps `passwords_pwned`: lowercase SHA-1 hex, how often the password was seen and
//! through which honeypot services. A client hashes locally and sends only a prefix of the
//! hash; [`lookup`] returns every stored hash with that prefix, served by the hash index
//! (a range scan, never a table scan).
//!
//! - [`import`]: plaintext lists, HIBP `SHA1:COUNT` files, parsed with located errors.
//! - [`index`]: the in-memory sorted copy the APIs answer from (≥ 50k lookups/s).
//! - [`remote`]: checks against a remote range API (Vantage or HIBP), sending only the prefix.
//! - [`api`]: the three HTTP APIs (sview `/passcheck/apiv1/`, passy `/api/leaked`, HIBP `/range/`).

pub mod api;
pub mod import;
pub mod index;
pub mod remote;

use sha1::{Digest, Sha1};

use crate::error::{Error, Result};
use crate::store::PasswordStore;
pub(crate) use crate::store::passwords::normalized;
pub use crate::store::passwords::{PwnedHash, Source};

/// SHA-1 of a password as 40 lowercase hex digits.
pub fn sha1_hex(password: &str) -> String {
    Sha1::digest(password.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// True for a full SHA-1: 40 hex digits (either case).
pub fn is_sha1(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Validates a hash prefix of `min..=max` hex digits (either case) and lowercases it. The
/// error says what is wrong, without repeating the value.
pub fn prefix(text: &str, min: usize, max: usize) -> std::result::Result<String, String> {
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("the hash prefix must be hexadecimal (0-9, a-f)".into());
    }
    if text.len() < min || text.len() > max {
        return Err(if min == max { format!("the hash prefix must be {min} hex digits, not {}", text.len()) } else { format!("the hash prefix must be {min} to {max} hex digits, not {}", text.len()) });
    }
    Ok(text.to_ascii_lowercase())
}

/// Every stored hash starting with `prefix` (already validated and lowercase).
pub async fn lookup(store: &dyn PasswordStore, prefix: &str) -> Result<Vec<PwnedHash>> {
    store.pwned_range(prefix).await
}

/// The stored entry of one password (hashed here; the store sees only its 5-digit prefix).
pub async fn check(store: &dyn PasswordStore, password: &str) -> Result<Option<PwnedHash>> {
    check_hash(store, &sha1_hex(password)).await
}

/// The stored entry of one SHA-1 (40 hex digits).
pub async fn check_hash(store: &dyn PasswordStore, hash: &str) -> Result<Option<PwnedHash>> {
    if !is_sha1(hash) {
        return Err(Error::InvalidArgument("a SHA-1 is 40 hex digits".into()));
    }
    let hash = hash.to_ascii_lowercase();
    Ok(store.pwned_range(&hash[..5]).await?.into_iter().find(|h| h.hash == hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_sources_and_prefixes() {
        assert_eq!(sha1_hex("password"), "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8");
        assert!(is_sha1("5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8") && !is_sha1("5baa6"));
        assert_eq!(Source::from_trap("minipot_telnet"), Some(Source::Telnet));
        assert_eq!(Source::from_trap("fwlogs"), None);
        assert_eq!(prefix("5BAA6", 5, 5), Ok("5baa6".into()));
        assert!(prefix("5baa", 5, 5).expect_err("short").contains("not 4"));
        assert!(prefix("5baag", 5, 5).expect_err("not hex").contains("hexadecimal"));
        assert!(prefix("5baa61e", 5, 6).expect_err("long").contains("5 to 6"));
        assert_eq!(normalized(vec![Source::Http, Source::Telnet, Source::Http]), vec![Source::Telnet, Source::Http]);
    }
}

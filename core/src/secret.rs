//! Secrets in text: [`SecretUrl`], a connection URL whose `Display` and `Debug` never show
//! its password, and [`redact_secrets`], which masks URL passwords in any message (driver
//! errors quote the URLs they failed on). Knows nothing of the rest of the crate, so every
//! layer — configuration, errors, drivers — can use it.

use std::fmt;

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
}

//! API tokens of `vantage serve` (`[serve] tokens_file`): a request to any route but
//! `/healthz` must carry `Authorization: Bearer <token>` of one of them, else it is a 401.
//!
//! The file holds one token per line as `NAME sha256:HEX` — the SHA-256 of the token, never
//! the token itself (a token is 32 random bytes, so a fast hash is enough: there is nothing
//! to guess from it). Blank lines and `#` comments are allowed. `vantage token add NAME`
//! makes a token, prints it once and appends its line; the file is kept user-only (0600).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::{Error, Result};

/// The `[serve]` table of the configuration file.
pub const SECTION: &str = "serve";

/// What a token's line starts its digest with.
const SCHEME: &str = "sha256:";

/// What every token starts with (recognisable in a leaked log or a secret scanner).
pub const TOKEN_PREFIX: &str = "vt_";

/// `[serve]` as written in the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServeFile {
    /// The tokens file (a relative path is beside the configuration file).
    tokens_file: Option<PathBuf>,
}

/// The `[serve]` settings, resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServeSettings {
    /// The tokens file, when API tokens are required.
    pub tokens_file: Option<PathBuf>,
}

impl ServeSettings {
    /// The `[serve]` table of `config`'s file (none: no tokens required); a relative path is
    /// resolved against the configuration file's directory, as `[flows]` paths are.
    pub fn from_config(config: &Config) -> Result<ServeSettings> {
        let file: ServeFile = config.section(SECTION)?.unwrap_or_default();
        let base = config.source.as_deref().and_then(Path::parent).map(Path::to_path_buf).unwrap_or_default();
        Ok(ServeSettings { tokens_file: file.tokens_file.map(|p| if p.is_relative() { base.join(p) } else { p }) })
    }
}

/// One token's line: its name and digest.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenEntry {
    /// Who or what the token is for.
    pub name: String,
    digest: [u8; 32],
}

impl fmt::Debug for TokenEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenEntry").field("name", &self.name).finish_non_exhaustive()
    }
}

/// The accepted tokens (their digests).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tokens {
    entries: Vec<TokenEntry>,
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Equal without an early exit, so the time taken tells nothing about where they differ.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c))
}

impl Tokens {
    /// Parses a tokens file's text; errors name `path:line`.
    pub fn parse(path: &Path, text: &str) -> Result<Tokens> {
        let mut entries = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = || format!("{}:{}", path.display(), i + 1);
            let (name, hash) = line.split_once(char::is_whitespace).ok_or_else(|| Error::Config(format!("{}: expected `NAME sha256:HEX`", at())))?;
            if !valid_name(name) {
                return Err(Error::Config(format!("{}: `{name}` is not a token name (letters, digits, - _ . @; at most 64)", at())));
            }
            let hex = hash.trim().strip_prefix(SCHEME).ok_or_else(|| Error::Config(format!("{}: the digest must start with `{SCHEME}`", at())))?;
            let mut digest = [0u8; 32];
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(Error::Config(format!("{}: the digest must be 64 hex digits", at())));
            }
            for (k, byte) in digest.iter_mut().enumerate() {
                *byte = u8::from_str_radix(&hex[2 * k..2 * k + 2], 16).map_err(|e| Error::Config(format!("{}: {e}", at())))?;
            }
            if entries.iter().any(|e: &TokenEntry| e.name == name) {
                return Err(Error::Config(format!("{}: the name `{name}` is used twice", at())));
            }
            entries.push(TokenEntry { name: name.to_string(), digest });
        }
        Ok(Tokens { entries })
    }

    /// Reads and parses a tokens file (a missing file is an error: a server told to require
    /// tokens must not start open).
    pub fn load(path: &Path) -> Result<Tokens> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
        Self::parse(path, &text)
    }

    /// The name of the token `presented`, when it is one of them.
    pub fn check(&self, presented: &str) -> Option<&str> {
        let d = digest(presented);
        // every entry compared, so that the time does not tell which one matched
        self.entries.iter().fold(None, |found, e| if same(&e.digest, &d) { Some(e.name.as_str()) } else { found })
    }

    /// The tokens' names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.name.as_str())
    }

    /// How many tokens there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is none (every request would be refused).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A new random token and its line for the file (`NAME sha256:HEX`).
pub fn new_token(name: &str) -> Result<(String, String)> {
    if !valid_name(name) {
        return Err(Error::InvalidArgument(format!("`{name}` is not a token name (letters, digits, - _ . @; at most 64)")));
    }
    let bytes: [u8; 32] = rand::random();
    let token = format!("{TOKEN_PREFIX}{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>());
    let hex: String = digest(&token).iter().map(|b| format!("{b:02x}")).collect();
    Ok((token, format!("{name} {SCHEME}{hex}")))
}

/// Rewrites `path` with `lines` (a header comment first), user-only (0600).
pub fn write_file(path: &Path, lines: &[String]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let io = |e| Error::io(path, e);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp).map_err(io)?;
    let mut text = String::from("# vantage serve API tokens: NAME sha256:HEX (the tokens themselves are not kept; vantage token add NAME)\n");
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    f.write_all(text.as_bytes()).and_then(|()| f.sync_all()).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// The token lines of `path` (none when it does not exist yet), checked.
pub fn read_lines(path: &Path) -> Result<Vec<String>> {
    match std::fs::read_to_string(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::Config(format!("{}: {e}", path.display()))),
        Ok(text) => {
            Tokens::parse(path, &text)?;
            Ok(text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_string).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_token_is_accepted_by_its_line_and_nothing_else() {
        let (token, line) = new_token("analyst-1").expect("token");
        assert!(token.starts_with(TOKEN_PREFIX) && token.len() == 67, "{token}");
        assert!(!line.contains(&token[3..]), "the file must not hold the token");
        let (other, other_line) = new_token("ci").expect("token");
        let tokens = Tokens::parse(Path::new("t"), &format!("# c\n\n{line}\n{other_line}\n")).expect("parse");
        assert_eq!(tokens.check(&token), Some("analyst-1"));
        assert_eq!(tokens.check(&other), Some("ci"));
        assert_eq!(tokens.check(&token[..66]), None);
        assert_eq!(tokens.check(""), None);
        assert_eq!(tokens.names().collect::<Vec<_>>(), ["analyst-1", "ci"]);
        assert!(format!("{tokens:?}").find(&line[line.len() - 64..]).is_none(), "Debug shows no digest");
    }

    #[test]
    fn bad_lines_are_located() {
        let cases = [
            ("a\n", "t:1: expected"),
            ("\n# x\nbad/name sha256:00\n", "t:3: `bad/name` is not a token name"),
            ("a md5:00\n", "t:1: the digest must start"),
            ("a sha256:0g\n", "t:1: the digest must be 64 hex digits"),
        ];
        for (text, want) in cases {
            let e = Tokens::parse(Path::new("t"), text).expect_err(text).to_string();
            assert!(e.contains(want), "{text:?}: {e}");
        }
        let (_, line) = new_token("a").expect("token");
        let e = Tokens::parse(Path::new("t"), &format!("{line}\n{line}\n")).expect_err("twice").to_string();
        assert!(e.contains("t:2: the name `a` is used twice"), "{e}");
        assert!(new_token("").is_err() && new_token("a b").is_err());
    }
}

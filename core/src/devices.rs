//! The analyst's registered device tokens ("My devices"), kept in `<data_dir>/devices.json`
//! with user-only permissions (0600): a token identifies a Turris device and is a secret.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The file holding the tokens.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join("devices.json")
}

/// True when `token` has the form the `my_*` resources accept: 64 characters of `[a-z0-9]`.
pub fn is_valid(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// The registered tokens (none when the file does not exist yet).
pub fn load(data_dir: &Path) -> Result<Vec<String>> {
    let file = path(data_dir);
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(file, e)),
    };
    let tokens: Vec<String> = serde_json::from_str(&text).map_err(|e| Error::Config(format!("{}: {e}", file.display())))?;
    if let Some(bad) = tokens.iter().position(|t| !is_valid(t)) {
        return Err(Error::Config(format!("{}: token {} is not 64 characters of [a-z0-9]", file.display(), bad + 1)));
    }
    Ok(tokens)
}

/// Replaces the registered tokens (sorted, deduplicated), written atomically with mode 0600.
pub fn save(data_dir: &Path, tokens: &[String]) -> Result<()> {
    if let Some(bad) = tokens.iter().find(|t| !is_valid(t)) {
        return Err(Error::InvalidArgument(format!("device token of {} characters: a token is 64 characters of [a-z0-9]", bad.len())));
    }
    let mut tokens = tokens.to_vec();
    tokens.sort();
    tokens.dedup();
    std::fs::create_dir_all(data_dir).map_err(|e| Error::io(data_dir, e))?;
    let file = path(data_dir);
    let tmp = file.with_extension("json.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let text = serde_json::to_string_pretty(&tokens).map_err(|e| Error::InvalidArgument(e.to_string()))?;
    std::io::Write::write_all(&mut options.open(&tmp).map_err(|e| Error::io(&tmp, e))?, text.as_bytes()).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, &file).map_err(|e| Error::io(&file, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_with_user_only_permissions() {
        let dir = tempfile::tempdir().expect("dir");
        assert!(load(dir.path()).expect("no file yet").is_empty());
        let (a, b) = ("b".repeat(64), "a1".repeat(32));
        save(dir.path(), &[a.clone(), b.clone(), a.clone()]).expect("save");
        assert_eq!(load(dir.path()).expect("load"), vec![b, a], "sorted and deduplicated");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(path(dir.path())).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let err = save(dir.path(), &["short".into()]).expect_err("invalid");
        assert!(err.to_string().contains("64 characters"), "{err}");
        assert_eq!(load(dir.path()).expect("still there").len(), 2, "a rejected save keeps the old file");
        std::fs::write(path(dir.path()), "[\"UPPER\"]").expect("write");
        assert!(load(dir.path()).expect_err("bad file").to_string().contains("token 1"));
    }
}

//! CURVE keys as Sentinel publishes and ZeroMQ stores them: Z85 text ([`z85_encode`],
//! [`z85_decode`]), the server's public-key file ([`server_key`]) and the client's own keypair
//! file ([`ClientKeys`]), kept in the data directory with user-only permissions.

use std::path::Path;

use crate::error::{Error, Result};

/// Z85's alphabet (ZeroMQ RFC 32).
const ALPHABET: &[u8; 85] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/// A CURVE key: 32 bytes.
pub type Key = [u8; 32];

/// The 40-character Z85 text of `key`.
pub fn z85_encode(key: &Key) -> String {
    let mut out = String::with_capacity(40);
    for chunk in key.chunks(4) {
        let mut value = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        let mut digits = [0u8; 5];
        for digit in digits.iter_mut().rev() {
            *digit = ALPHABET[(value % 85) as usize];
            value /= 85;
        }
        out.extend(digits.iter().map(|&d| char::from(d)));
    }
    out
}

/// The key a 40-character Z85 text stands for; the error says what is wrong with it.
pub fn z85_decode(text: &str) -> Result<Key, String> {
    let bytes = text.as_bytes();
    if bytes.len() != 40 {
        return Err(format!("a CURVE key in Z85 has 40 characters, this one has {}", bytes.len()));
    }
    let mut key = [0u8; 32];
    for (i, chunk) in bytes.chunks(5).enumerate() {
        let mut value: u64 = 0;
        for &c in chunk {
            let digit = ALPHABET.iter().position(|&a| a == c).ok_or_else(|| format!("{:?} is not a Z85 character", char::from(c)))?;
            value = value * 85 + digit as u64;
        }
        let value = u32::try_from(value).map_err(|_| "a Z85 group is out of range".to_string())?;
        key[i * 4..i * 4 + 4].copy_from_slice(&value.to_be_bytes());
    }
    Ok(key)
}

/// The value of `name = "…"` in a ZeroMQ (ZPL) certificate's text, `#` lines skipped.
fn zpl_value<'t>(text: &'t str, name: &str) -> Option<&'t str> {
    text.lines().map(str::trim).filter(|l| !l.starts_with('#')).find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim() == name).then(|| value.trim().trim_matches('"').trim_matches('\''))
    })
}

/// The server's public key from `source`: a certificate file as Sentinel publishes it
/// (`dynfw.pub`, the line `public-key = "…"`), a file holding the bare Z85 key, or the bare key.
pub fn server_key(source: &str, base: &Path) -> Result<Key> {
    let trimmed = source.trim();
    if trimmed.len() == 40 && !trimmed.contains('/') && z85_decode(trimmed).is_ok() {
        return z85_decode(trimmed).map_err(Error::Config);
    }
    let path = base.join(trimmed);
    let text = std::fs::read_to_string(&path).map_err(|source| Error::Io { path: path.clone(), source })?;
    let z85 = zpl_value(&text, "public-key").unwrap_or(text.trim());
    z85_decode(z85).map_err(|e| Error::Config(format!("dynfw.server_key: {}: {e}", path.display())))
}

/// The client's own CURVE keypair (the server accepts any client key).
#[derive(Clone, PartialEq, Eq)]
pub struct ClientKeys {
    /// Public key.
    pub public: Key,
    /// Secret key.
    pub secret: Key,
}

impl std::fmt::Debug for ClientKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClientKeys {{ public: {}, secret: <redacted> }}", z85_encode(&self.public))
    }
}

impl ClientKeys {
    /// The keypair kept in `path`, or, when there is none yet, `make()`'s, written there in
    /// ZeroMQ's certificate format with user-only permissions (0600).
    pub fn load_or_create(path: &Path, make: impl FnOnce() -> Result<ClientKeys>) -> Result<ClientKeys> {
        let io = |source| Error::Io { path: path.to_path_buf(), source };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let get = |name| {
                    let value = zpl_value(&text, name).ok_or_else(|| Error::Config(format!("{}: no {name}", path.display())))?;
                    z85_decode(value).map_err(|e| Error::Config(format!("{}: {name}: {e}", path.display())))
                };
                Ok(ClientKeys { public: get("public-key")?, secret: get("secret-key")? })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let keys = make()?;
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(io)?;
                }
                let text = format!(
                    "#   ZeroMQ CURVE secret certificate of this Vantage client (DynFW feed)\n#   DO NOT share the secret key\nmetadata\ncurve\n    public-key = \"{}\"\n    secret-key = \"{}\"\n",
                    z85_encode(&keys.public),
                    z85_encode(&keys.secret)
                );
                write_private(path, text.as_bytes()).map_err(io)?;
                Ok(keys)
            }
            Err(e) => Err(io(e)),
        }
    }
}

/// Writes `bytes` to a new file at `path` readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn z85_round_trips_and_matches_the_rfc_example() {
        // ZeroMQ RFC 32's test vector: 0x86 0x4F 0xD2 0x6F 0xB5 0x59 0xF7 0x5B → "HelloWorld"
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&[0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B]);
        let text = z85_encode(&key);
        assert!(text.starts_with("HelloWorld"), "{text}");
        assert_eq!(z85_decode(&text), Ok(key));
        assert!(z85_decode("short").expect_err("short").contains("40 characters"));
        assert!(z85_decode(&"~".repeat(40)).expect_err("bad character").contains("not a Z85 character"));
    }

    #[test]
    fn the_server_key_comes_from_a_certificate_a_bare_file_or_the_text() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = [7u8; 32];
        let z85 = z85_encode(&key);
        std::fs::write(dir.path().join("dynfw.pub"), format!("#   ZeroMQ CURVE Public Certificate\nmetadata\ncurve\n    public-key = \"{z85}\"\n")).expect("write");
        std::fs::write(dir.path().join("bare.key"), format!("{z85}\n")).expect("write");
        assert_eq!(server_key("dynfw.pub", dir.path()).expect("cert"), key);
        assert_eq!(server_key("bare.key", dir.path()).expect("bare file"), key);
        assert_eq!(server_key(&z85, dir.path()).expect("text"), key);
        std::fs::write(dir.path().join("bad.pub"), "curve\n public-key = \"tooshort\"\n").expect("write");
        assert!(server_key("bad.pub", dir.path()).expect_err("bad").to_string().contains("bad.pub"));
    }

    #[test]
    fn the_client_keypair_is_made_once_and_kept_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("dynfw/client.key");
        let made = ClientKeys { public: [1; 32], secret: [2; 32] };
        let first = ClientKeys::load_or_create(&path, || Ok(made.clone())).expect("create");
        assert_eq!(first, made);
        let again = ClientKeys::load_or_create(&path, || Ok(ClientKeys { public: [9; 32], secret: [9; 32] })).expect("load");
        assert_eq!(again, made, "a second start reuses the stored keypair");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(!format!("{first:?}").contains(&z85_encode(&[2; 32])), "Debug redacts the secret");
    }
}

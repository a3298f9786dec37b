//! An HTTPS client of one Stenographer sensor (pcap.md, "Stenographer" and Pipeline step 2).
//!
//! Stenographer's `stenokeys.sh` makes self-signed X.509 **v1** certificates without
//! subjectAltName. webpki (and so rustls' stock verifiers) refuses non-v3 certificates, so
//! [`V1Verifier`] verifies them itself: the presented end-entity certificate must be issued by
//! the configured CA (issuer name = CA subject, signature checked with the CA's public key) and
//! be within its validity period (the CA too); only the host-name check is relaxed. TLS
//! handshake signatures are checked with the certificate's own public key (RSA PKCS#1 and PSS
//! with SHA-256/384/512, ECDSA P-256/SHA-256 and P-384/SHA-384). The same verifier checks
//! client certificates on the server side (the test stand-in uses it).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};
use serde::Deserialize;
use tokio::io::AsyncWriteExt;
use x509_parser::prelude::{ASN1Time, FromDer, X509Certificate};

use crate::error::{Error, Result};

/// One Stenographer sensor as the `[pcap]` configuration section lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SensorConfig {
    /// Sensor name (used for the result file `<name>.pcap` and in messages).
    pub name: String,
    /// Host name or IP address of the Stenographer server.
    pub host: String,
    /// TCP port of the Stenographer server.
    pub port: u16,
    /// PEM file of the CA that signed the server (and client) certificates.
    pub ca: PathBuf,
    /// PEM file of the client certificate.
    pub cert: PathBuf,
    /// PEM file of the client key (PKCS#1 or PKCS#8).
    pub key: PathBuf,
}

/// Reads all PEM certificates of a file; errors name the file.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let pem = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::Config(format!("{}: not a PEM certificate file: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(Error::Config(format!("{}: no PEM certificate found", path.display())));
    }
    Ok(certs)
}

/// Reads a PEM private key (PKCS#1, PKCS#8 or SEC1); errors name the file.
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>> {
    let pem = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| Error::Config(format!("{}: no usable PEM private key: {e}", path.display())))
}

/// Verifies X.509 v1 (and v3) certificates against one configured CA, for both ends of a TLS
/// connection, without a host-name check (see the module documentation).
#[derive(Debug)]
pub struct V1Verifier {
    ca: CertificateDer<'static>,
    subject: DistinguishedName,
}

impl V1Verifier {
    /// A verifier trusting exactly `ca` (DER).
    pub fn new(ca: CertificateDer<'static>) -> Result<V1Verifier> {
        let subject = {
            let (_, parsed) = X509Certificate::from_der(&ca).map_err(|e| Error::Config(format!("CA certificate does not parse: {e}")))?;
            DistinguishedName::from(parsed.subject().as_raw().to_vec())
        };
        Ok(V1Verifier { ca, subject })
    }

    /// A verifier trusting the first certificate of the PEM file `path`.
    pub fn from_pem_file(path: &Path) -> Result<V1Verifier> {
        let mut certs = load_certs(path)?;
        let ca = certs.swap_remove(0);
        V1Verifier::new(ca).map_err(|e| Error::Config(format!("{}: {e}", path.display())))
    }

    /// Checks that `end_entity` is issued and signed by the CA and valid at `now`.
    pub fn verify_chain(&self, end_entity: &CertificateDer<'_>, now: UnixTime) -> std::result::Result<(), rustls::Error> {
        let (_, ca) = X509Certificate::from_der(&self.ca).map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
        let (_, ee) = X509Certificate::from_der(end_entity).map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
        let at = i64::try_from(now.as_secs()).ok().and_then(|s| ASN1Time::from_timestamp(s).ok());
        let Some(at) = at else {
            return Err(rustls::Error::General("current time out of range".into()));
        };
        if !ca.validity().is_valid_at(at) {
            return Err(rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(Arc::new(Msg(
                "the configured CA certificate is expired or not yet valid",
            ))))));
        }
        if ee.issuer().as_raw() != ca.subject().as_raw() {
            return Err(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer));
        }
        ee.verify_signature(Some(ca.public_key())).map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadSignature))?;
        if at < ee.validity().not_before {
            return Err(rustls::Error::InvalidCertificate(CertificateError::NotValidYet));
        }
        if at > ee.validity().not_after {
            return Err(rustls::Error::InvalidCertificate(CertificateError::Expired));
        }
        Ok(())
    }

    /// Verifies a TLS handshake signature over `message` made with the key of `cert`.
    pub fn verify_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
        tls13: bool,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        use ring::signature as sig;
        let alg: &dyn sig::VerificationAlgorithm = match dss.scheme {
            SignatureScheme::RSA_PKCS1_SHA256 if !tls13 => &sig::RSA_PKCS1_2048_8192_SHA256,
            SignatureScheme::RSA_PKCS1_SHA384 if !tls13 => &sig::RSA_PKCS1_2048_8192_SHA384,
            SignatureScheme::RSA_PKCS1_SHA512 if !tls13 => &sig::RSA_PKCS1_2048_8192_SHA512,
            SignatureScheme::RSA_PSS_SHA256 => &sig::RSA_PSS_2048_8192_SHA256,
            SignatureScheme::RSA_PSS_SHA384 => &sig::RSA_PSS_2048_8192_SHA384,
            SignatureScheme::RSA_PSS_SHA512 => &sig::RSA_PSS_2048_8192_SHA512,
            SignatureScheme::ECDSA_NISTP256_SHA256 => &sig::ECDSA_P256_SHA256_ASN1,
            SignatureScheme::ECDSA_NISTP384_SHA384 => &sig::ECDSA_P384_SHA384_ASN1,
            _ => return Err(rustls::Error::PeerMisbehaved(rustls::PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme)),
        };
        let (_, parsed) = X509Certificate::from_der(cert).map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
        let key: &[u8] = &parsed.public_key().subject_public_key.data;
        sig::UnparsedPublicKey::new(alg, key)
            .verify(message, dss.signature())
            .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadSignature))?;
        Ok(HandshakeSignatureValid::assertion())
    }

    /// The signature schemes [`V1Verifier::verify_signature`] supports.
    pub fn schemes() -> Vec<SignatureScheme> {
        vec![
            SignatureScheme::RSA_PSS_SHA256,
            SignatureScheme::RSA_PSS_SHA384,
            SignatureScheme::RSA_PSS_SHA512,
            SignatureScheme::RSA_PKCS1_SHA256,
            SignatureScheme::RSA_PKCS1_SHA384,
            SignatureScheme::RSA_PKCS1_SHA512,
            SignatureScheme::ECDSA_NISTP256_SHA256,
            SignatureScheme::ECDSA_NISTP384_SHA384,
        ]
    }
}

#[derive(Debug)]
struct Msg(&'static str);

impl std::fmt::Display for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Msg {}

impl ServerCertVerifier for V1Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        // Name check relaxed on purpose: stenokeys.sh certificates carry no subjectAltName.
        self.verify_chain(end_entity, now)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.verify_signature(message, cert, dss, false)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.verify_signature(message, cert, dss, true)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        V1Verifier::schemes()
    }
}

impl ClientCertVerifier for V1Verifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        std::slice::from_ref(&self.subject)
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> std::result::Result<ClientCertVerified, rustls::Error> {
        self.verify_chain(end_entity, now)?;
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.verify_signature(message, cert, dss, false)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.verify_signature(message, cert, dss, true)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        V1Verifier::schemes()
    }
}

/// The ring crypto provider all Stenographer connections use.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Pairs a certificate chain with its private key for rustls without webpki's v3-only
/// consistency check (which refuses stenokeys.sh's v1 certificates); `key_path` names the key
/// file in errors.
pub fn certified_key(certs: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>, key_path: &Path) -> Result<CertifiedKey> {
    let signing = provider().key_provider.load_private_key(key).map_err(|e| Error::Config(format!("{}: unusable private key: {e}", key_path.display())))?;
    Ok(CertifiedKey::new(certs, signing))
}

/// What a finished `POST /query` produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryOutcome {
    /// Bytes written to the output file.
    pub bytes: u64,
    /// HTTP status of the answer.
    pub status: u16,
}

/// A client of one Stenographer sensor, with mutual TLS from the sensor's PEM files.
#[derive(Debug, Clone)]
pub struct StenoClient {
    name: String,
    base: String,
    http: reqwest::Client,
    stat_timeout: Duration,
}

impl StenoClient {
    /// Builds a client from the sensor's configuration, reading its CA, certificate and key
    /// files (errors name the file).
    pub fn new(sensor: &SensorConfig) -> Result<StenoClient> {
        let verifier = V1Verifier::from_pem_file(&sensor.ca)?;
        let certs = load_certs(&sensor.cert)?;
        let key = load_key(&sensor.key)?;
        let tls = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Config(format!("sensor {}: TLS: {e}", sensor.name)))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_client_cert_resolver(Arc::new(SingleCertAndKey::from(certified_key(certs, key, &sensor.key)?)));
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| Error::Config(format!("sensor {}: HTTP client: {e}", sensor.name)))?;
        let host = if sensor.host.contains(':') && !sensor.host.starts_with('[') { format!("[{}]", sensor.host) } else { sensor.host.clone() };
        Ok(StenoClient { name: sensor.name.clone(), base: format!("https://{host}:{}", sensor.port), http, stat_timeout: Duration::from_secs(3) })
    }

    /// Sets the timeout of `GET /debug/stats` (default 3 s).
    pub fn with_stat_timeout(mut self, timeout: Duration) -> StenoClient {
        self.stat_timeout = timeout;
        self
    }

    /// The sensor's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn remote(&self, what: &str, e: &reqwest::Error) -> Error {
        let mut msg = format!("sensor {}: {what}: {e}", self.name);
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            msg.push_str(&format!(": {s}"));
            source = s.source();
        }
        if e.is_timeout() && !msg.contains("timed out") {
            msg.push_str(" (timed out)");
        }
        Error::Remote(msg)
    }

    /// `GET /debug/stats`: the server's counters, `name<TAB>value` per line.
    pub async fn stats(&self) -> Result<HashMap<String, String>> {
        let url = format!("{}/debug/stats", self.base);
        let resp = self.http.get(&url).timeout(self.stat_timeout).send().await.map_err(|e| self.remote("GET /debug/stats", &e))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| self.remote("GET /debug/stats", &e))?;
        if !status.is_success() {
            return Err(Error::Remote(format!("sensor {}: GET /debug/stats: HTTP {}: {}", self.name, status.as_u16(), text.trim())));
        }
        Ok(text
            .lines()
            .filter_map(|line| {
                let (k, v) = line.split_once('\t').or_else(|| line.trim().split_once(char::is_whitespace))?;
                Some((k.trim().to_string(), v.trim().to_string()))
            })
            .collect())
    }

    /// Whether the sensor is idle (`indexfile_current_reads == 0`).
    pub async fn is_idle(&self) -> Result<bool> {
        let stats = self.stats().await?;
        let reads =
            stats.get("indexfile_current_reads").ok_or_else(|| Error::Remote(format!("sensor {}: no indexfile_current_reads in /debug/stats", self.name)))?;
        let reads: f64 = reads.parse().map_err(|_| Error::Remote(format!("sensor {}: indexfile_current_reads is not a number: {reads}", self.name)))?;
        Ok(reads == 0.0)
    }

    /// `POST /query` with `query` as body, streaming the answer to `out` chunk by chunk.
    /// HTTP 400 is an error carrying the server's text (e.g. "could not parse query"); any
    /// other non-success status, a TLS failure or exceeding `timeout` (whole request) too.
    pub async fn query_to_file(
        &self,
        query: &str,
        limit_packets: Option<u64>,
        limit_bytes: Option<u64>,
        out: &Path,
        timeout: Duration,
    ) -> Result<QueryOutcome> {
        match tokio::time::timeout(timeout, self.query_inner(query, limit_packets, limit_bytes, out, timeout)).await {
            Ok(r) => r,
            Err(_) => Err(Error::Remote(format!("sensor {}: POST /query timed out after {:?}", self.name, timeout))),
        }
    }

    async fn query_inner(&self, query: &str, limit_packets: Option<u64>, limit_bytes: Option<u64>, out: &Path, timeout: Duration) -> Result<QueryOutcome> {
        let url = format!("{}/query", self.base);
        let mut req = self.http.post(&url).timeout(timeout).body(query.to_string());
        if let Some(n) = limit_packets {
            req = req.header("Steno-Limit-Packets", n.to_string());
        }
        if let Some(n) = limit_bytes {
            req = req.header("Steno-Limit-Bytes", n.to_string());
        }
        let mut resp = req.send().await.map_err(|e| self.remote("POST /query", &e))?;
        let status = resp.status();
        if !status.is_success() {
            let text = resp.text().await.unwrap_or_default();
            return Err(Error::Remote(format!("sensor {}: POST /query: HTTP {}: {}", self.name, status.as_u16(), text.trim())));
        }
        // TLS hands over ~16 KiB records: buffer them so the file sees few large writes
        let mut file = tokio::io::BufWriter::with_capacity(WRITE_BUFFER, tokio::fs::File::create(out).await.map_err(|e| Error::io(out, e))?);
        let mut bytes = 0u64;
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.remote("POST /query (reading the answer)", &e))? {
            file.write_all(&chunk).await.map_err(|e| Error::io(out, e))?;
            bytes += chunk.len() as u64;
        }
        file.flush().await.map_err(|e| Error::io(out, e))?;
        file.get_ref().sync_all().await.map_err(|e| Error::io(out, e))?;
        Ok(QueryOutcome { bytes, status: status.as_u16() })
    }
}

/// Bytes of an answer collected before they are written to the spool file.
const WRITE_BUFFER: usize = 1 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensor_config_deserializes_from_toml() {
        let cfg: SensorConfig =
            toml::from_str("name = \"s1\"\nhost = \"::1\"\nport = 1234\nca = \"/k/ca.cert\"\ncert = \"/k/c.cert\"\nkey = \"/k/c.key\"\n").expect("toml");
        assert_eq!(cfg.port, 1234);
        assert_eq!(cfg.key, PathBuf::from("/k/c.key"));
    }

    #[test]
    fn missing_and_bad_files_are_named() {
        let dir = std::env::temp_dir().join(format!("vantage-steno-client-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let bad = dir.join("bad.pem");
        std::fs::write(&bad, "not pem").expect("write");
        let cfg = SensorConfig { name: "s".into(), host: "h".into(), port: 1, ca: bad.clone(), cert: bad.clone(), key: dir.join("missing.key") };
        let err = StenoClient::new(&cfg).expect_err("bad CA").to_string();
        assert!(err.contains("bad.pem"), "{err}");
        assert!(load_key(&cfg.key).expect_err("missing").to_string().contains("missing.key"));
        assert!(load_key(&bad).expect_err("not a key").to_string().contains("bad.pem"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn garbage_ca_is_refused() {
        assert!(V1Verifier::new(CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x00])).is_err());
    }
}

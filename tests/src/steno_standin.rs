//! A Stenographer stand-in for tests: an HTTPS server on 127.0.0.1 that demands client
//! certificates signed by its CA (X.509 v1, verified by [`vantage_core::pcap::client::V1Verifier`]),
//! serves `GET /debug/stats` and answers `POST /query` by filtering a real pcap file with a
//! small subset of Stenographer's language (`host`, `port`, `tcp`, `udp`, `icmp` joined with
//! `and`; `before`/`after` accepted and ignored). It can be made slow, broken (500 or a body cut
//! short) and "down" ([`crate::process::free_port`]). Certificates are made with the `openssl` CLI the way
//! Stenographer's `stenokeys.sh` makes them: v1, no extensions, no subjectAltName.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::SingleCertAndKey;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use vantage_core::pcap::client::{V1Verifier, certified_key, provider};

/// Runs `openssl` with `args` in `dir`, panicking with its stderr on failure.
pub fn openssl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("openssl").args(args).current_dir(dir).stdin(std::process::Stdio::null()).output().expect("the openssl CLI is required");
    assert!(out.status.success(), "openssl {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A certificate authority: its key and self-signed certificate (PEM files).
#[derive(Debug, Clone)]
pub struct Ca {
    /// The CA's private key.
    pub key: PathBuf,
    /// The CA's self-signed v1 certificate.
    pub cert: PathBuf,
}

/// A certificate signed by a [`Ca`] and its key (PEM files).
#[derive(Debug, Clone)]
pub struct Issued {
    /// The certificate.
    pub cert: PathBuf,
    /// The private key (PKCS#1 or PKCS#8, see [`issue`]).
    pub key: PathBuf,
}

/// Makes a self-signed X.509 v1 CA named `name` in `dir` (files `<name>.key`, `<name>.cert`).
pub fn make_ca(dir: &Path, name: &str) -> Ca {
    let key = format!("{name}.key");
    let csr = format!("{name}.csr");
    let cert = format!("{name}.cert");
    openssl(dir, &["genrsa", "-out", &key, "2048"]);
    openssl(dir, &["req", "-new", "-key", &key, "-subj", &format!("/CN={name}"), "-out", &csr]);
    openssl(dir, &["x509", "-req", "-days", "3650", "-in", &csr, "-signkey", &key, "-out", &cert]);
    Ca { key: dir.join(key), cert: dir.join(cert) }
}

/// Issues a v1 certificate with common name `cn`, valid for `days` (−1 makes an already
/// expired one), signed by `ca`; the key is PKCS#1 (`-traditional`) when `pkcs1`, else PKCS#8.
pub fn issue(dir: &Path, ca: &Ca, name: &str, cn: &str, days: i32, pkcs1: bool) -> Issued {
    let key = format!("{name}.key");
    let csr = format!("{name}.csr");
    let cert = format!("{name}.cert");
    if pkcs1 {
        openssl(dir, &["genrsa", "-traditional", "-out", &key, "2048"]);
    } else {
        openssl(dir, &["genrsa", "-out", &key, "2048"]);
    }
    openssl(dir, &["req", "-new", "-key", &key, "-subj", &format!("/CN={cn}"), "-out", &csr]);
    let ca_cert = ca.cert.to_string_lossy().into_owned();
    let ca_key = ca.key.to_string_lossy().into_owned();
    let serial = format!("{name}.srl");
    openssl(
        dir,
        &["x509", "-req", "-days", &days.to_string(), "-in", &csr, "-CA", &ca_cert, "-CAkey", &ca_key, "-CAcreateserial", "-CAserial", &serial, "-out", &cert],
    );
    Issued { cert: dir.join(cert), key: dir.join(key) }
}

/// Like [`issue`] with an EC key on `curve` (`prime256v1` or `secp384r1`; SEC1 PEM key), valid
/// for a year.
pub fn issue_ec(dir: &Path, ca: &Ca, name: &str, cn: &str, curve: &str) -> Issued {
    let key = format!("{name}.key");
    let csr = format!("{name}.csr");
    let cert = format!("{name}.cert");
    openssl(dir, &["ecparam", "-name", curve, "-genkey", "-noout", "-out", &key]);
    openssl(dir, &["req", "-new", "-key", &key, "-subj", &format!("/CN={cn}"), "-out", &csr]);
    let ca_cert = ca.cert.to_string_lossy().into_owned();
    let ca_key = ca.key.to_string_lossy().into_owned();
    let serial = format!("{name}.srl");
    openssl(dir, &["x509", "-req", "-days", "365", "-in", &csr, "-CA", &ca_cert, "-CAkey", &ca_key, "-CAcreateserial", "-CAserial", &serial, "-out", &cert]);
    Issued { cert: dir.join(cert), key: dir.join(key) }
}

/// `openssl x509 -text -noout` of a certificate file.
pub fn cert_text(cert: &Path) -> String {
    let path = cert.to_string_lossy().into_owned();
    openssl(Path::new("."), &["x509", "-in", &path, "-text", "-noout"])
}

/// The directory of the shared test captures.
pub fn pcap_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/pcaps")
}

/// How the stand-in answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Like Stenographer.
    Normal,
    /// Every request gets HTTP 500.
    Error500,
    /// `POST /query` announces the full length, sends half of it and closes the connection.
    CloseMidBody,
    /// `POST /query` answers every query with the whole capture (benchmarks).
    Everything,
}

struct Shared {
    current_reads: AtomicU64,
    delay_ms: AtomicU64,
    query_delay_ms: AtomicU64,
    behaviour: Mutex<Behaviour>,
    pcap: Vec<u8>,
    requests: Mutex<Vec<Request>>,
}

/// One request the stand-in received.
#[derive(Debug, Clone)]
pub struct Request {
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Headers (names lower-cased).
    pub headers: HashMap<String, String>,
    /// Body text.
    pub body: String,
}

/// A running stand-in; stops when dropped.
pub struct Standin {
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Standin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Standin {
    /// Starts a stand-in with server certificate `server` (its key PKCS#1 or PKCS#8), trusting
    /// client certificates signed by `ca_cert`, answering queries from the capture `pcap`.
    pub async fn start(ca_cert: &Path, server: &Issued, pcap: &Path) -> Standin {
        Standin::start_with(ca_cert, server, pcap, rustls::DEFAULT_VERSIONS).await
    }

    /// Like [`Standin::start`], speaking only the TLS `versions` given.
    pub async fn start_with(ca_cert: &Path, server: &Issued, pcap: &Path, versions: &[&'static rustls::SupportedProtocolVersion]) -> Standin {
        let verifier = V1Verifier::from_pem_file(ca_cert).expect("stand-in CA");
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(&server.cert).expect("server cert").collect::<Result<_, _>>().expect("server cert PEM");
        let key = PrivateKeyDer::from_pem_file(&server.key).expect("server key");
        let config = rustls::ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(versions)
            .expect("protocol versions")
            .with_client_cert_verifier(Arc::new(verifier))
            .with_cert_resolver(Arc::new(SingleCertAndKey::from(certified_key(certs, key, &server.key).expect("server key"))));
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let shared = Arc::new(Shared {
            current_reads: AtomicU64::new(0),
            delay_ms: AtomicU64::new(0),
            query_delay_ms: AtomicU64::new(0),
            behaviour: Mutex::new(Behaviour::Normal),
            pcap: std::fs::read(pcap).expect("read the stand-in's pcap"),
            requests: Mutex::new(Vec::new()),
        });
        let state = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let state = state.clone();
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(tcp).await {
                        serve(tls, state).await;
                    }
                });
            }
        });
        Standin { port, shared, task }
    }

    /// Sets `indexfile_current_reads` reported by `/debug/stats`.
    pub fn set_current_reads(&self, n: u64) {
        self.shared.current_reads.store(n, Ordering::SeqCst);
    }

    /// Delays every answer by `delay`.
    pub fn set_delay(&self, delay: Duration) {
        self.shared.delay_ms.store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// Delays only the answers to `POST /query` by `delay` (after any [`Standin::set_delay`]).
    pub fn set_query_delay(&self, delay: Duration) {
        self.shared.query_delay_ms.store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// Sets how it answers.
    pub fn set_behaviour(&self, b: Behaviour) {
        *self.shared.behaviour.lock().expect("lock") = b;
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.requests.lock().expect("lock").clone()
    }
}

async fn serve(mut tls: tokio_rustls::server::TlsStream<tokio::net::TcpStream>, state: Arc<Shared>) {
    let Some(req) = read_request(&mut tls).await else { return };
    state.requests.lock().expect("lock").push(req.clone());
    let mut delay = state.delay_ms.load(Ordering::SeqCst);
    if req.path == "/query" {
        delay += state.query_delay_ms.load(Ordering::SeqCst);
    }
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let behaviour = *state.behaviour.lock().expect("lock");
    let (status, ctype, body): (u16, &str, Vec<u8>) = if behaviour == Behaviour::Error500 {
        (500, "text/plain", b"internal error".to_vec())
    } else {
        match (req.method.as_str(), req.path.as_str()) {
            ("GET", "/debug/stats") => {
                let text = format!(
                    "indexfile_current_reads\t{}\noldest_timestamp\t1500000000000000000\ncurrent_files\t3\naged_files\t0\npackets_read\t12345\n",
                    state.current_reads.load(Ordering::SeqCst)
                );
                (200, "text/plain", text.into_bytes())
            }
            ("POST", "/query") if behaviour == Behaviour::Everything => (200, "application/octet-stream", state.pcap.clone()),
            ("POST", "/query") => match filter_pcap(&state.pcap, &req.body) {
                Some(data) => (200, "application/octet-stream", data),
                None => (400, "text/plain", b"could not parse query\n".to_vec()),
            },
            _ => (404, "text/plain", b"not found\n".to_vec()),
        }
    };
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        _ => "Internal Server Error",
    };
    let head = format!("HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    if tls.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let cut = behaviour == Behaviour::CloseMidBody && req.path == "/query";
    let send = if cut { &body[..body.len() / 2] } else { &body[..] };
    for chunk in send.chunks(16 * 1024) {
        if tls.write_all(chunk).await.is_err() {
            return;
        }
    }
    let _ = tls.flush().await;
    let _ = tls.shutdown().await;
}

async fn read_request<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> Option<Request> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = s.read(&mut tmp).await.ok()?;
        if n == 0 || buf.len() > 64 * 1024 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers: HashMap<String, String> =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string())).collect();
    let len: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut body = buf[end + 4..].to_vec();
    while body.len() < len {
        let n = s.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&tmp[..n]);
    }
    Some(Request { method, path, headers, body: String::from_utf8_lossy(&body).into_owned() })
}

/// One clause of the stand-in's query subset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clause {
    /// `host IP`: source or destination.
    Host(IpAddr),
    /// `port N`: TCP or UDP source or destination port.
    Port(u16),
    /// `tcp`, `udp`, `icmp`: IP protocol number.
    Proto(u8),
}

/// Parses the stand-in's query subset; `Err` for anything else.
pub fn parse_query(query: &str) -> Option<Vec<Clause>> {
    let words: Vec<&str> = query.split_whitespace().collect();
    if words.is_empty() {
        return None;
    }
    let mut clauses = Vec::new();
    let mut i = 0;
    loop {
        let word = words.get(i).map(|w| w.to_ascii_lowercase())?;
        let arg = words.get(i + 1).copied();
        i += match word.as_str() {
            "host" => {
                clauses.push(Clause::Host(arg?.parse().ok()?));
                2
            }
            "port" => {
                clauses.push(Clause::Port(arg?.parse().ok()?));
                2
            }
            "tcp" | "udp" | "icmp" => {
                clauses.push(Clause::Proto(match word.as_str() {
                    "tcp" => 6,
                    "udp" => 17,
                    _ => 1,
                }));
                1
            }
            "before" | "after" => {
                arg?;
                if words.get(i + 2).is_some_and(|w| *w == "ago") { 3 } else { 2 }
            }
            _ => return None,
        };
        match words.get(i).map(|w| w.to_ascii_lowercase()).as_deref() {
            None => return Some(clauses),
            Some("and") | Some("&&") => i += 1,
            _ => return None,
        }
    }
}

/// What the stand-in's filter looks at in an Ethernet frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IP protocol (next header).
    pub proto: u8,
    /// TCP/UDP ports (source, destination).
    pub ports: Option<(u16, u16)>,
}

/// Decodes an Ethernet frame carrying IPv4 or IPv6 (one optional VLAN tag).
pub fn summarize(frame: &[u8]) -> Option<Summary> {
    let mut off = 12;
    let mut ethertype = u16::from_be_bytes([*frame.get(off)?, *frame.get(off + 1)?]);
    off += 2;
    if ethertype == 0x8100 {
        ethertype = u16::from_be_bytes([*frame.get(off + 2)?, *frame.get(off + 3)?]);
        off += 4;
    }
    let ip = frame.get(off..)?;
    let (src, dst, proto, l4) = match ethertype {
        0x0800 => {
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            let s: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
            let d: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
            (IpAddr::from(s), IpAddr::from(d), *ip.get(9)?, ip.get(ihl..)?)
        }
        0x86dd => {
            let s: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
            let d: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
            (IpAddr::from(s), IpAddr::from(d), *ip.get(6)?, ip.get(40..)?)
        }
        _ => return None,
    };
    let ports =
        if proto == 6 || proto == 17 { Some((u16::from_be_bytes([*l4.first()?, *l4.get(1)?]), u16::from_be_bytes([*l4.get(2)?, *l4.get(3)?]))) } else { None };
    Some(Summary { src, dst, proto, ports })
}

/// Whether a frame matches all clauses.
pub fn matches(frame: &[u8], clauses: &[Clause]) -> bool {
    let Some(s) = summarize(frame) else { return false };
    clauses.iter().all(|c| match c {
        Clause::Host(ip) => s.src == *ip || s.dst == *ip,
        Clause::Port(p) => s.ports.is_some_and(|(a, b)| a == *p || b == *p),
        Clause::Proto(n) => s.proto == *n,
    })
}

/// Filters a little-endian µs classic pcap by `query`: the header plus every matching record.
pub fn filter_pcap(pcap: &[u8], query: &str) -> Option<Vec<u8>> {
    let clauses = parse_query(query)?;
    let mut out = pcap[..24].to_vec();
    let mut off = 24;
    while off + 16 <= pcap.len() {
        let incl = u32::from_le_bytes([pcap[off + 8], pcap[off + 9], pcap[off + 10], pcap[off + 11]]) as usize;
        let end = (off + 16 + incl).min(pcap.len());
        if matches(&pcap[off + 16..end], &clauses) {
            out.extend_from_slice(&pcap[off..end]);
        }
        off = end;
    }
    Some(out)
}

/// A `[[pcap.sensors]]` entry of `vantage.toml` for a stand-in on `port`, trusting `ca_cert`,
/// with `client`'s certificate and key.
pub fn sensor_toml(name: &str, port: u16, ca_cert: &Path, client: &Issued) -> String {
    format!(
        "[[pcap.sensors]]\nname = \"{name}\"\nhost = \"localhost\"\nport = {port}\nca = \"{}\"\ncert = \"{}\"\nkey = \"{}\"\n",
        ca_cert.display(),
        client.cert.display(),
        client.key.display()
    )
}

//! The Stenographer client (`vantage_core::pcap::client`) against the stand-in of
//! `vantage_tests::steno_standin`: mutual TLS with X.509 v1 certificates made by the `openssl`
//! CLI like stenokeys.sh, stats and idleness, streamed queries checked packet by packet, the
//! empty answer, the 400 answer, and every way the connection must fail: client or server
//! certificate from another CA, an expired server certificate, a server that is down, slow,
//! answers 500 or cuts the body short.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use vantage_core::pcap::client::{SensorConfig, StenoClient};
use vantage_core::packets::reader::PacketReader;
use vantage_tests::steno_standin::{self as standin, Behaviour, Ca, Issued, Standin};

struct Pki {
    _dir: tempfile::TempDir,
    ca: Ca,
    server: Issued,
    client_pkcs1: Issued,
    client_pkcs8: Issued,
    other_ca: Ca,
    client_other: Issued,
    server_other: Issued,
    server_expired: Issued,
    server_p256: Issued,
    server_p384: Issued,
    client_p256: Issued,
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        let ca = standin::make_ca(d, "ca");
        let other_ca = standin::make_ca(d, "otherca");
        Pki {
            server: standin::issue(d, &ca, "server", "127.0.0.1", 365, false),
            client_pkcs1: standin::issue(d, &ca, "client1", "client", 365, true),
            client_pkcs8: standin::issue(d, &ca, "client8", "client", 365, false),
            client_other: standin::issue(d, &other_ca, "clientother", "client", 365, true),
            server_other: standin::issue(d, &other_ca, "serverother", "127.0.0.1", 365, true),
            server_expired: standin::issue(d, &ca, "serverexpired", "127.0.0.1", -1, true),
            server_p256: standin::issue_ec(d, &ca, "serverp256", "127.0.0.1", "prime256v1"),
            server_p384: standin::issue_ec(d, &ca, "serverp384", "127.0.0.1", "secp384r1"),
            client_p256: standin::issue_ec(d, &ca, "clientp256", "client", "prime256v1"),
            ca,
            other_ca,
            _dir: dir,
        }
    })
}

fn android() -> PathBuf {
    standin::pcap_dir().join("android.pcap")
}

fn sensor(port: u16, ca: &Path, client: &Issued) -> SensorConfig {
    SensorConfig { name: "s1".into(), host: "127.0.0.1".into(), port, ca: ca.to_path_buf(), cert: client.cert.clone(), key: client.key.clone() }
}

fn client(port: u16, client: &Issued) -> StenoClient {
    StenoClient::new(&sensor(port, &pki().ca.cert, client)).expect("client")
}

const T: Duration = Duration::from_secs(20);

#[test]
fn certificates_are_v1_like_stenokeys() {
    let p = pki();
    for cert in [&p.ca.cert, &p.other_ca.cert, &p.server.cert, &p.client_pkcs1.cert, &p.client_pkcs8.cert, &p.server_expired.cert, &p.server_p256.cert] {
        let text = standin::cert_text(cert);
        assert!(text.contains("Version: 1 (0x0)"), "{}: {text}", cert.display());
        assert!(!text.contains("Subject Alternative Name"), "{}", cert.display());
    }
    let pkcs1 = std::fs::read_to_string(&p.client_pkcs1.key).expect("key");
    let pkcs8 = std::fs::read_to_string(&p.client_pkcs8.key).expect("key");
    assert!(pkcs1.starts_with("-----BEGIN RSA PRIVATE KEY-----"), "{pkcs1}");
    assert!(pkcs8.starts_with("-----BEGIN PRIVATE KEY-----"), "{pkcs8}");
}

#[tokio::test]
async fn stats_and_idle_with_pkcs1_and_pkcs8_keys() {
    let p = pki();
    let server = Standin::start(&p.ca.cert, &p.server, &android()).await;
    for key in [&p.client_pkcs1, &p.client_pkcs8] {
        let c = client(server.port, key);
        server.set_current_reads(0);
        let stats = c.stats().await.expect("stats");
        assert_eq!(stats.get("indexfile_current_reads").map(String::as_str), Some("0"));
        assert_eq!(stats.get("oldest_timestamp").map(String::as_str), Some("1500000000000000000"));
        assert!(c.is_idle().await.expect("idle"));
        server.set_current_reads(2);
        assert!(!c.is_idle().await.expect("busy"));
    }
}

/// Packets of a capture, decoded by the stand-in's frame summary, with `keep` applied.
fn expected(path: &Path, keep: impl Fn(&standin::Summary) -> bool) -> Vec<Vec<u8>> {
    let mut r = PacketReader::open(path).expect("open");
    let mut out = Vec::new();
    while let Some(p) = r.next_packet().expect("packet") {
        if standin::summarize(p.data).is_some_and(|s| keep(&s)) {
            out.push(p.data.to_vec());
        }
    }
    out
}

fn packets(path: &Path) -> Vec<Vec<u8>> {
    let mut r = PacketReader::open(path).expect("open result");
    let mut out = Vec::new();
    while let Some(p) = r.next_packet().expect("valid pcap") {
        assert_eq!(p.link_type, 1);
        out.push(p.data.to_vec());
    }
    out
}

#[tokio::test]
async fn query_streams_only_matching_packets_to_a_file() {
    let p = pki();
    let server = Standin::start(&p.ca.cert, &p.server, &android()).await;
    let c = client(server.port, &p.client_pkcs8);
    let dir = tempfile::tempdir().expect("tempdir");

    let out = dir.path().join("s1.pcap");
    let outcome = c.query_to_file("host 192.168.2.1 and udp", Some(1000), Some(1 << 20), &out, T).await.expect("query");
    assert_eq!(outcome.status, 200);
    assert_eq!(outcome.bytes, std::fs::metadata(&out).expect("file").len());
    let host: std::net::IpAddr = "192.168.2.1".parse().expect("ip");
    let want = expected(&android(), |s| (s.src == host || s.dst == host) && s.proto == 17);
    assert!(!want.is_empty());
    assert_eq!(packets(&out), want);
    let req = server.requests().into_iter().find(|r| r.path == "/query").expect("query request");
    assert_eq!(req.method, "POST");
    assert_eq!(req.body, "host 192.168.2.1 and udp");
    assert_eq!(req.headers.get("steno-limit-packets").map(String::as_str), Some("1000"));
    assert_eq!(req.headers.get("steno-limit-bytes").map(String::as_str), Some("1048576"));

    let out2 = dir.path().join("s2.pcap");
    let outcome = c.query_to_file("port 443 and tcp", None, None, &out2, T).await.expect("query");
    let want = expected(&android(), |s| s.proto == 6 && s.ports.is_some_and(|(a, b)| a == 443 || b == 443));
    assert!(want.len() > 100, "{}", want.len());
    assert_eq!(packets(&out2), want);
    assert!(outcome.bytes > 50_000, "{outcome:?}");
}

#[tokio::test]
async fn no_match_is_exactly_the_pcap_header() {
    let p = pki();
    let server = Standin::start(&p.ca.cert, &p.server, &android()).await;
    let c = client(server.port, &p.client_pkcs1);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("s1.pcap");
    let outcome = c.query_to_file("host 10.99.99.99", None, None, &out, T).await.expect("query");
    assert_eq!(outcome.bytes, 24);
    assert_eq!(std::fs::read(&out).expect("file").len(), 24);
    assert!(packets(&out).is_empty());
}

#[tokio::test]
async fn bad_query_is_an_error_with_the_servers_text() {
    let p = pki();
    let server = Standin::start(&p.ca.cert, &p.server, &android()).await;
    let c = client(server.port, &p.client_pkcs1);
    let dir = tempfile::tempdir().expect("tempdir");
    let err = c.query_to_file("hots 1.2.3.4", None, None, &dir.path().join("x.pcap"), T).await.expect_err("400").to_string();
    assert!(err.contains("could not parse query") && err.contains("400"), "{err}");
}

#[tokio::test]
async fn client_certificate_from_another_ca_is_rejected_by_the_server() {
    let p = pki();
    let server = Standin::start(&p.ca.cert, &p.server, &android()).await;
    let c = client(server.port, &p.client_other);
    let err = c.stats().await.expect_err("handshake must fail").to_string();
    assert!(err.contains("s1"), "{err}");
    // The same server still serves a proper client.
    assert!(client(server.port, &p.client_pkcs1).is_idle().await.expect("idle"));
}

#[tokio::test]
async fn server_certificate_from_another_ca_or_expired_is_rejected() {
    let p = pki();
    for (server_cert, why) in [(&p.server_other, "UnknownIssuer"), (&p.server_expired, "Expired")] {
        let server = Standin::start(&p.ca.cert, server_cert, &android()).await;
        let c = client(server.port, &p.client_pkcs1);
        let err = c.stats().await.expect_err("client must reject the server").to_string();
        assert!(err.contains(why), "{err}");
        // The server never saw a request.
        assert!(server.requests().is_empty());
    }
}

#[tokio::test]
async fn down_slow_and_broken_servers_are_errors() {
    let p = pki();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("s1.pcap");

    let down = client(vantage_tests::process::free_port(), &p.client_pkcs1);
    assert!(down.stats().await.is_err());
    assert!(down.query_to_file("tcp", None, None, &out, T).await.is_err());

    let server = Standin::start(&p.ca.cert, &p.server, &android()).await;
    let c = client(server.port, &p.client_pkcs1);
    server.set_delay(Duration::from_secs(3));
    let start = Instant::now();
    let err = c.query_to_file("tcp", None, None, &out, Duration::from_millis(500)).await.expect_err("timeout").to_string();
    assert!(err.contains("timed out"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
    server.set_delay(Duration::ZERO);

    server.set_behaviour(Behaviour::Error500);
    let err = c.query_to_file("tcp", None, None, &out, T).await.expect_err("500").to_string();
    assert!(err.contains("500"), "{err}");
    assert!(c.stats().await.is_err());

    server.set_behaviour(Behaviour::CloseMidBody);
    assert!(c.query_to_file("tcp", None, None, &out, T).await.is_err());

    server.set_behaviour(Behaviour::Normal);
    assert!(c.query_to_file("tcp", None, None, &out, T).await.expect("query").bytes > 24);
}

#[test]
fn missing_files_are_named_in_the_error() {
    let p = pki();
    let mut cfg = sensor(1, &p.ca.cert, &p.client_pkcs1);
    cfg.key = PathBuf::from("/nonexistent/client.key");
    let err = StenoClient::new(&cfg).expect_err("missing key").to_string();
    assert!(err.contains("/nonexistent/client.key"), "{err}");
    let mut cfg = sensor(1, &p.ca.cert, &p.client_pkcs1);
    cfg.ca = p.client_pkcs1.key.clone();
    let err = StenoClient::new(&cfg).expect_err("not a certificate").to_string();
    assert!(err.contains("client1.key"), "{err}");
}

/// Every handshake-signature path of the verifier: TLS 1.2 and 1.3, RSA (PKCS#1 v1.5 / PSS)
/// and ECDSA P-256 / P-384 keys on both ends, all with v1 certificates.
#[tokio::test]
async fn tls12_tls13_rsa_and_ecdsa_keys_all_verify() {
    let p = pki();
    let versions: [&[&'static rustls::SupportedProtocolVersion]; 2] = [&[&rustls::version::TLS12], &[&rustls::version::TLS13]];
    for v in versions {
        for server_cert in [&p.server, &p.server_p256, &p.server_p384] {
            let server = Standin::start_with(&p.ca.cert, server_cert, &android(), v).await;
            for key in [&p.client_pkcs1, &p.client_p256] {
                server.set_current_reads(0);
                let idle = client(server.port, key).is_idle().await;
                assert!(idle.as_ref().is_ok_and(|i| *i), "{} / {}: {idle:?}", server_cert.cert.display(), key.cert.display());
            }
        }
    }
    // The wrong CA is still refused over TLS 1.2.
    let server = Standin::start_with(&p.ca.cert, &p.server_other, &android(), &[&rustls::version::TLS12]).await;
    assert!(client(server.port, &p.client_pkcs1).stats().await.is_err());
    let server = Standin::start_with(&p.ca.cert, &p.server, &android(), &[&rustls::version::TLS12]).await;
    assert!(client(server.port, &p.client_other).stats().await.is_err());
}

/// A server presenting the genuine certificate without its key (a stolen certificate, a
/// man in the middle) fails the handshake-signature check; same for a client.
#[tokio::test]
async fn a_certificate_without_its_key_is_rejected() {
    let p = pki();
    let impostor = Issued { cert: p.server.cert.clone(), key: p.client_pkcs8.key.clone() };
    for v in [&rustls::version::TLS12, &rustls::version::TLS13] {
        let server = Standin::start_with(&p.ca.cert, &impostor, &android(), &[v]).await;
        let err = client(server.port, &p.client_pkcs1).stats().await.expect_err("bad handshake signature").to_string();
        assert!(err.contains("BadSignature"), "{err}");
        assert!(server.requests().is_empty());
    }
    let server = Standin::start(&p.ca.cert, &p.server, &android()).await;
    let stolen = Issued { cert: p.client_pkcs1.cert.clone(), key: p.client_pkcs8.key.clone() };
    assert!(client(server.port, &stolen).stats().await.is_err());
    assert!(server.requests().is_empty());
}

//! The leaked-password commands and server as a user runs them: `vantage passwords import`
//! (with a bad line → exit 3 and `file:line: reason`), `vantage passwords check` (single,
//! `--json`, `--stdin`), and `vantage serve` answering a real Have I Been Pwned client
//! library from PyPI (pwned-passwords-django, installed by scripts/test.sh) pointed at it.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use vantage_tests::process::{self, Killed, free_port, get, ok, until};

const NOW: &str = "2024-06-15T12:40:00Z";
const LIST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/passwords/zxcvbn-passwords.txt");

fn vantage(args: &[&str]) -> Command {
    process::vantage(env!("CARGO_BIN_EXE_vantage"), NOW, args)
}

#[test]
fn import_check_and_serve_to_a_real_hibp_client() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path().to_str().expect("utf8");
    let out = ok(&mut vantage(&["--data-dir", d, "passwords", "import", LIST, "--source", "telnet", "--json"]));
    let report: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!((report["lines"].as_u64(), report["total"].as_u64()), (Some(30_000), Some(30_000)), "{report}");

    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, "Vantage-2026!\t5\nVantage-2026!\tmany\n").expect("write");
    let r = vantage(&["--data-dir", d, "passwords", "import", bad.to_str().expect("utf8")]).output().expect("runs");
    assert_eq!(r.status.code(), Some(3), "valid lines stored, bad ones reported");
    assert!(String::from_utf8_lossy(&r.stderr).contains("bad.txt:2: count `many` is not a whole number"), "{}", String::from_utf8_lossy(&r.stderr));

    assert_eq!(ok(&mut vantage(&["--data-dir", d, "passwords", "check", "password"])).trim(), "LEAKED, seen once via telnet");
    assert_eq!(ok(&mut vantage(&["--data-dir", d, "passwords", "check", "Vantage-2026!"])).trim(), "LEAKED, seen 5 times");
    let json = ok(&mut vantage(&["--data-dir", d, "passwords", "check", "--json", "--sha1", "0000000000000000000000000000000000000000"]));
    assert_eq!(serde_json::from_str::<serde_json::Value>(&json).expect("json"), serde_json::json!({"leaked": false, "count": 0, "sources": []}));
    let mut child = vantage(&["--data-dir", d, "passwords", "check", "--stdin"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    child.stdin.take().expect("stdin").write_all(b"123456\nnot leaked at all 42\nletmein\n").expect("write");
    let done = child.wait_with_output().expect("wait");
    assert!(done.status.success());
    assert_eq!(String::from_utf8_lossy(&done.stdout).lines().map(|l| l.split(':').next().unwrap_or("")).collect::<Vec<_>>(), ["line 1", "line 3"]);
    assert!(String::from_utf8_lossy(&done.stderr).contains("3 checked, 2 leaked, 0 rejected"));

    let port = free_port();
    let _server = Killed(vantage(&["--data-dir", d, "serve", "--listen", &format!("127.0.0.1:{port}")]).stderr(Stdio::null()).spawn().expect("serve"));
    until(Duration::from_secs(30), "the server", || get(port, "/healthz").filter(|r| r.0 == 200));
    let script = r#"
import sys
import django
from django.conf import settings
settings.configure(PWNED_PASSWORDS={"ADD_PADDING": True})
django.setup()
from pwned_passwords_django.api import PwnedPasswords

class Local(PwnedPasswords):
    api_endpoint = sys.argv[1] + "/range/"

client = Local()
for password in sys.argv[2:]:
    print(password, client.check_password(password))
"#;
    let run = Command::new("python3")
        .args(["-c", script, &format!("http://127.0.0.1:{port}"), "password", "Vantage-2026!", "geekboy", "not leaked at all 42"])
        .output()
        .expect("python3 (scripts/test.sh installs pwned-passwords-django)");
    assert!(run.status.success(), "the HIBP client ran: {}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(String::from_utf8_lossy(&run.stdout).lines().collect::<Vec<_>>(), ["password 1", "Vantage-2026! 5", "geekboy 1", "not leaked at all 42 0"]);

    // our own client against our own server
    let remote = format!("http://127.0.0.1:{port}");
    assert_eq!(ok(&mut vantage(&["passwords", "check", "--remote", &remote, "Vantage-2026!"])).trim(), "LEAKED, seen 5 times");
    assert_eq!(ok(&mut vantage(&["passwords", "check", "--remote", &remote, "not leaked at all 42"])).trim(), "not found");
}

#[test]
fn remote_check_sends_only_the_prefix() {
    // a stand-in range server that records what it is sent
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().expect("accept");
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = std::io::Read::read(&mut conn, &mut buf).expect("read");
            if n == 0 {
                break;
            }
            request.extend_from_slice(&buf[..n]);
        }
        let body = "0018A45C4D1DEF81644B54AB7F969B88D65:0\r\n1E4C9B93F3F0682250B6CF8331B7EE68FD8:42";
        write!(conn, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).expect("reply");
        String::from_utf8_lossy(&request).into_owned()
    });
    let out = ok(&mut vantage(&["passwords", "check", "--remote", &format!("http://127.0.0.1:{port}/"), "password"]));
    assert_eq!(out.trim(), "LEAKED, seen 42 times");
    let request = server.join().expect("server");
    assert!(request.starts_with("GET /range/5BAA6 HTTP/1.1\r\n"), "{request}");
    assert!(request.to_lowercase().contains("add-padding: true"), "{request}");
    assert!(!request.to_uppercase().contains("5BAA61") && !request.contains("password"), "nothing but the 5-digit prefix: {request}");
}

#[test]
fn an_over_long_password_is_a_located_error_and_the_other_lines_import() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path().to_str().expect("utf8");
    let list = dir.path().join("list.txt");
    std::fs::write(&list, format!("kept-password\n{}\n{}\t3\n", "a".repeat(50 << 20), "b".repeat(1025))).expect("write");
    let r = vantage(&["--data-dir", d, "passwords", "import", list.to_str().expect("utf8")]).output().expect("runs");
    let err = String::from_utf8_lossy(&r.stderr).replace(list.to_str().expect("utf8"), "list.txt");
    assert_eq!((r.status.code(), err.lines().collect::<Vec<_>>()), (Some(3), vec!["list.txt:2: password: longer than 1024 bytes", "list.txt:3: password: longer than 1024 bytes"]));
    assert_eq!(ok(&mut vantage(&["--data-dir", d, "passwords", "check", "kept-password"])).trim(), "LEAKED, seen once");
}

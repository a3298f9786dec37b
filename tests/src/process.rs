//! Helpers for tests that run the real `vantage` binary: commands with a clean environment,
//! children killed on drop, free ports, polling with a deadline, plain HTTP on loopback.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// The binary at `bin` with `--now now` and `args`, without `VANTAGE_*` settings leaking in
/// from the caller's environment.
pub fn vantage(bin: &str, now: &str, args: &[&str]) -> Command {
    let mut c = Command::new(bin);
    c.args(["--now", now]).args(args).env_remove("VANTAGE_DATABASE_URL").env_remove("VANTAGE_REDIS_URL").env_remove("VANTAGE_CONFIG");
    c
}

/// Runs `c`, asserts success, returns its standard output.
pub fn ok(c: &mut Command) -> String {
    let out = c.output().expect("run vantage");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A child process killed (and reaped) when dropped.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A TCP port on loopback nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

/// Polls `f` until it returns Some (or panics after `limit`).
pub fn until<T>(limit: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Plain HTTP/1.1 GET on loopback: (status, lower-cased headers, body).
pub fn get(port: u16, path: &str) -> Option<(u16, String, String)> {
    get_within(port, path, None)
}

/// Like [`get`], giving up (None) when the server sends nothing for `timeout`.
pub fn get_within(port: u16, path: &str, timeout: Option<Duration>) -> Option<(u16, String, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(timeout).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").ok()?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).ok()?;
    let (head, body) = raw.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, head.to_lowercase(), body.to_string()))
}

/// Plain HTTP/1.1 on loopback with any method, extra header lines and body, sending `path`
/// exactly as given (no normalisation): (status, lower-cased head, body bytes).
pub fn http(port: u16, method: &str, path: &str, headers: &[&str], body: &[u8]) -> Option<(u16, String, Vec<u8>)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for h in headers {
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).ok()?;
    s.write_all(body).ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..end]).to_lowercase();
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, head, raw[end + 4..].to_vec()))
}

/// A `redis-server` of one test's own on a spare port (no persistence), optionally requiring
/// a password; killed on drop. Restarting it on the same port is an outage or a password change.
pub struct RedisServer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    child: Option<Killed>,
}

impl RedisServer {
    /// Starts one on a free port and waits until it accepts connections.
    pub fn start(password: Option<&str>) -> RedisServer {
        let mut server = RedisServer { port: free_port(), child: None };
        server.restart(password);
        server
    }

    /// `redis://[:password@]127.0.0.1:<port>`.
    pub fn url(&self, password: Option<&str>) -> String {
        match password {
            Some(p) => format!("redis://:{p}@127.0.0.1:{}", self.port),
            None => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    /// Kills it (and reaps it): nothing listens on the port any more.
    pub fn stop(&mut self) {
        self.child = None;
    }

    /// Stops it if running and starts it again on the same port, with `password`.
    pub fn restart(&mut self, password: Option<&str>) {
        self.stop();
        let port = self.port.to_string();
        let mut c = Command::new("redis-server");
        c.args(["--port", &port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]).stdout(std::process::Stdio::null());
        if let Some(p) = password {
            c.args(["--requirepass", p]);
        }
        self.child = Some(Killed(c.spawn().expect("redis-server (install redis)")));
        until(Duration::from_secs(20), "redis-server listening", || TcpStream::connect(("127.0.0.1", self.port)).ok().map(|_| ()));
    }
}

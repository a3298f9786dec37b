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

/// A PostgreSQL cluster of one test's own (not the shared server): `initdb` into a temporary
/// directory (as the `postgres` user when run as root, since initdb refuses root), the server
/// on a spare port of 127.0.0.1 with its socket in that directory, `trust` authentication,
/// fsync off. [`PgCluster::stop`] is an immediate shutdown (like a crash: SIGQUIT, no
/// checkpoint), [`PgCluster::restart`] starts it again on the same port and data; killed
/// and removed on drop.
pub struct PgCluster {
    /// Its port on 127.0.0.1.
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

/// The directory holding `initdb` and `postgres` (`/usr/lib/postgresql/<newest>/bin`, or
/// wherever `pg_config --bindir` says).
pub fn pg_bin_dir() -> std::path::PathBuf {
    let mut versions: Vec<(u32, std::path::PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, p)| p.join("initdb").is_file())
        .collect();
    versions.sort();
    if let Some((_, p)) = versions.pop() {
        return p;
    }
    let out = Command::new("pg_config").arg("--bindir").output().expect("PostgreSQL server binaries (initdb, postgres) are required: install postgresql");
    std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// `(uid, gid)` of the `postgres` user, when this process runs as root.
fn postgres_ids() -> Option<(u32, u32)> {
    let me = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&me.stdout).trim() != "0" {
        return None;
    }
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, "postgres"]).output().ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    Some((id("-u").expect("running as root needs a `postgres` user for initdb"), id("-g")?))
}

impl PgCluster {
    /// Initialises a cluster and starts it on a free port; waits until it accepts connections.
    pub fn start() -> PgCluster {
        use std::os::unix::process::CommandExt as _;
        let dir = tempfile::Builder::new().prefix("vantage-pg").tempdir().expect("tempdir");
        let ids = postgres_ids();
        if let Some((uid, gid)) = ids {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).expect("chown the cluster's directory to postgres");
        }
        let data = dir.path().join("data");
        let mut init = Command::new(pg_bin_dir().join("initdb"));
        init.args(["-D"]).arg(&data).args(["-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale", "C"]);
        if let Some((uid, gid)) = ids {
            init.uid(uid).gid(gid);
        }
        let out = init.output().expect("run initdb");
        assert!(out.status.success(), "initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        let mut cluster = PgCluster { port: free_port(), dir, child: None };
        cluster.restart();
        cluster
    }

    /// `postgres://postgres@127.0.0.1:<port>/<db>`.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Whether the server accepts TCP connections now.
    pub fn listening(&self) -> bool {
        TcpStream::connect(("127.0.0.1", self.port)).is_ok()
    }

    /// Immediate shutdown (SIGQUIT to the postmaster, which ends every backend at once) and
    /// waits for it to exit: nothing listens on the port any more.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").args(["-QUIT", &child.id().to_string()]).status();
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(10) {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops it if running and starts it again on the same port and data directory (crash
    /// recovery replays the WAL); waits until it accepts connections.
    pub fn restart(&mut self) {
        use std::os::unix::process::CommandExt as _;
        self.stop();
        let mut c = Command::new(pg_bin_dir().join("postgres"));
        c.arg("-D").arg(self.dir.path().join("data")).arg("-p").arg(self.port.to_string()).arg("-k").arg(self.dir.path());
        c.args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=100"]);
        c.stdout(std::process::Stdio::null()).stderr(std::fs::File::create(self.dir.path().join("postgres.log")).expect("log"));
        if let Some((uid, gid)) = postgres_ids() {
            c.uid(uid).gid(gid);
        }
        self.child = Some(c.spawn().expect("start postgres"));
        let log = self.dir.path().join("postgres.log");
        let start = Instant::now();
        loop {
            // ready once it answers a startup packet on TCP (pg_isready-like)
            let ready = Command::new(pg_bin_dir().join("pg_isready")).args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-q"]).status().is_ok_and(|s| s.success());
            if ready {
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!("postgres exited ({status}): {}", std::fs::read_to_string(&log).unwrap_or_default());
            }
            assert!(start.elapsed() < Duration::from_secs(30), "postgres not ready: {}", std::fs::read_to_string(&log).unwrap_or_default());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Creates database `name` (through `psql` on the socket).
    pub fn create_db(&self, name: &str) {
        let out = Command::new(pg_bin_dir().join("psql"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qc"])
            .arg(format!("CREATE DATABASE {name}"))
            .output()
            .expect("psql");
        assert!(out.status.success(), "CREATE DATABASE {name}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").args(["-QUIT", &child.id().to_string()]).status();
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(5) {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A `tmpfs` of `size` (e.g. `"3m"`) mounted on a fresh temporary directory (needs root or
/// CAP_SYS_ADMIN); unmounted (lazily, so a process still holding a file there does not keep
/// it) and removed on drop, also when the test panics. Panics with the reason when mounting
/// is impossible — a test that needs a really full file system must not pass without one.
pub struct TmpfsMount {
    /// The mount point.
    pub path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl TmpfsMount {
    /// Mounts it.
    pub fn new(size: &str) -> TmpfsMount {
        let dir = tempfile::Builder::new().prefix("vantage-tmpfs").tempdir().expect("tempdir");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0755"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "mounting a {size} tmpfs on {} failed (this test needs root or CAP_SYS_ADMIN to make a really full file system): {}",
            dir.path().display(),
            String::from_utf8_lossy(&out.stderr)
        );
        TmpfsMount { path: dir.path().to_path_buf(), _dir: dir }
    }

    /// Free bytes on it now (`df`'s available blocks).
    pub fn free_bytes(&self) -> u64 {
        let out = Command::new("df").args(["--output=avail", "-B1"]).arg(&self.path).output().expect("df");
        String::from_utf8_lossy(&out.stdout).lines().nth(1).and_then(|l| l.trim().parse().ok()).expect("df output")
    }
}

impl Drop for TmpfsMount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

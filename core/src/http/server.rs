//! The accept loop of `vantage serve` (hyper's HTTP/1 server under the axum router), with the
//! limits a long-running server needs:
//!
//! - **header timeout**: a client must send a request's complete headers within
//!   [`ServeOptions::header_timeout`] of connecting — or, on a kept-alive connection, of the
//!   previous response — else the connection is closed (slow-loris protection);
//! - **idle timeout**: a connection on which no byte is read or written for
//!   [`ServeOptions::idle_timeout`] is closed (a stalled body, a client that stops reading);
//! - **connection cap**: at most [`ServeOptions::max_connections`] connections are served at
//!   once; further clients wait in the listen backlog until one closes (nothing is accepted
//!   meanwhile, so file descriptors stay bounded);
//! - **Host check** (DNS rebinding): a request whose `Host` is not allowed by [`HostCheck`] is
//!   a 403 `{"error"}`;
//! - the [guards](super::guard) of every answer: security headers, panics as plain 500s, a
//!   default body limit and, when configured, API tokens;
//! - graceful shutdown: when `shutdown` resolves nothing more is accepted, idle connections
//!   close and the loop returns once every request in progress has been answered.
//!
//! Handlers still get the peer as `ConnectInfo<SocketAddr>`.

use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use super::guard;
use super::tokens::Tokens;

/// Default [`ServeOptions::header_timeout`].
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Default [`ServeOptions::idle_timeout`].
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default [`ServeOptions::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// Limits and accepted host names of the server (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeOptions {
    /// Time to send a request's complete headers (from connecting or the previous response).
    pub header_timeout: Duration,
    /// A connection without any byte read or written for this long is closed.
    pub idle_timeout: Duration,
    /// Connections served at once (at least 1).
    pub max_connections: usize,
    /// Host names accepted besides the listen address, loopback and `localhost`.
    pub allowed_hosts: Vec<String>,
    /// The API tokens every route but `/healthz` requires (none: no token needed).
    pub tokens: Option<Arc<Tokens>>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            allowed_hosts: Vec::new(),
            tokens: None,
        }
    }
}

/// Which `Host` headers a server accepts (the port is not compared): `localhost`, loopback
/// addresses, the listen IP, any IP literal when listening on 0.0.0.0 / `::`, and the
/// configured names (case-insensitive). A web page's own name is none of these, so a page
/// that rebinds its name to 127.0.0.1 cannot reach the API.
#[derive(Debug, Clone)]
pub struct HostCheck {
    listen: IpAddr,
    names: Vec<String>,
}

impl HostCheck {
    /// The check for a server listening on `listen` with extra `names`.
    pub fn new(listen: IpAddr, names: &[String]) -> HostCheck {
        HostCheck { listen, names: names.iter().map(|n| normalise(n)).filter(|n| !n.is_empty()).collect() }
    }

    /// Whether a request with this `Host` header value is served.
    pub fn allows(&self, host: &str) -> bool {
        let name = normalise(host);
        let ip = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')).unwrap_or(&name).parse::<IpAddr>().ok();
        match ip {
            Some(ip) => ip.is_loopback() || ip == self.listen || self.listen.is_unspecified() || self.names.contains(&name),
            None => name == "localhost" || self.names.contains(&name),
        }
    }
}

/// The host part of a `Host` value (`[::1]:8080` → `[::1]`, `Name.:80` → `name`), lowercase.
fn normalise(host: &str) -> String {
    let host = host.trim();
    let name = match host.find(']') {
        Some(end) if host.starts_with('[') => &host[..=end],
        _ => host.split(':').next().unwrap_or_default(),
    };
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Middleware: answers 403 to a request whose `Host` (or absolute URI) is not allowed.
async fn check_host(State(check): State<Arc<HostCheck>>, request: Request, next: Next) -> Response {
    let host = request.headers().get(header::HOST).and_then(|v| v.to_str().ok()).or_else(|| request.uri().authority().map(|a| a.as_str()));
    match host {
        Some(h) if check.allows(h) => next.run(request).await,
        Some(h) => {
            let shown: String = h.chars().take(100).collect();
            super::error(
                StatusCode::FORBIDDEN,
                format!("Host `{shown}` is not allowed (DNS rebinding protection); allow it with --allowed-host or VANTAGE_ALLOWED_HOSTS"),
            )
        }
        None => super::error(StatusCode::FORBIDDEN, "a Host header is required".into()),
    }
}

/// When a connection last read or wrote a byte.
struct Activity {
    since: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn touch(&self) {
        self.last_ms.store(self.since.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    fn quiet_for(&self) -> Duration {
        self.since.elapsed().saturating_sub(Duration::from_millis(self.last_ms.load(Ordering::Relaxed)))
    }
}

/// A TCP stream that records its [`Activity`].
struct Tracked {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Tracked {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[std::io::IoSlice<'_>]) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Counts a connection as open while it lives.
struct Open(Arc<AtomicUsize>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Serves `app` on `listener` with `options` until `shutdown` resolves; `open` counts the
/// connections being served.
pub(super) async fn run(
    listener: tokio::net::TcpListener,
    app: Router,
    options: ServeOptions,
    open: Arc<AtomicUsize>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listen = listener.local_addr()?;
    let check = Arc::new(HostCheck::new(listen.ip(), &options.allowed_hosts));
    let mut app = app.layer(axum::middleware::from_fn(guard::catch_panic));
    if let Some(tokens) = options.tokens.clone() {
        app = app.layer(axum::middleware::from_fn_with_state(tokens, guard::require_token));
    }
    let app = app
        .layer(axum::middleware::from_fn_with_state(check, check_host))
        .layer(axum::extract::DefaultBodyLimit::max(guard::DEFAULT_BODY_LIMIT))
        .layer(axum::middleware::from_fn(guard::security_headers));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(options.header_timeout);
    let permits = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let (stop, stopped) = watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let shutdown = std::pin::pin!(shutdown);
    let mut shutdown = shutdown;
    loop {
        // a free slot first: over the cap, clients wait in the backlog
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = permits.clone().acquire_owned() => permit.map_err(std::io::Error::other)?,
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // e.g. out of file descriptors: back off instead of spinning
                    tracing::warn!("accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        while connections.try_join_next().is_some() {}
        open.fetch_add(1, Ordering::Relaxed);
        let open = Open(open.clone());
        connections.spawn(connection(builder.clone(), stream, peer, app.clone(), options.idle_timeout, stopped.clone(), (permit, open)));
    }
    drop(listener);
    stop.send_replace(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// Serves one connection until it ends, is idle too long, or (gracefully) on shutdown.
async fn connection(
    builder: hyper::server::conn::http1::Builder,
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    idle: Duration,
    mut stopped: watch::Receiver<bool>,
    _slot: (OwnedSemaphorePermit, Open),
) {
    let activity = Arc::new(Activity { since: Instant::now(), last_ms: AtomicU64::new(0) });
    let io = TokioIo::new(Tracked { inner: stream, activity: activity.clone() });
    let service = TowerToHyperService::new(app);
    let service = hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        hyper::service::Service::call(&service, request)
    });
    // with upgrades: the WebSocket `/dynfw/ws` (the upgraded connection leaves this loop)
    let conn = builder.serve_connection(io, service).with_upgrades();
    let mut conn = std::pin::pin!(conn);
    let mut stopping = *stopped.borrow();
    if stopping {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        let wait = idle.saturating_sub(activity.quiet_for());
        tokio::select! {
            served = conn.as_mut() => {
                if let Err(e) = served {
                    tracing::debug!("connection from {peer}: {e}");
                }
                return;
            }
            _ = stopped.changed(), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
            () = tokio::time::sleep(wait) => {
                if activity.quiet_for() >= idle {
                    tracing::debug!("connection from {peer}: idle for {} s, closed", idle.as_secs());
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_check() {
        let loopback = HostCheck::new("127.0.0.1".parse().expect("ip"), &["Vantage.LAN".into()]);
        for ok in ["localhost", "localhost:8080", "127.0.0.1:8080", "127.0.0.2", "[::1]:8080", "[::1]", "vantage.lan:80", "VANTAGE.lan.", "LocalHost."] {
            assert!(loopback.allows(ok), "{ok}");
        }
        for refused in ["evil.example", "evil.example:8080", "10.0.0.1", "[2001:db8::1]:80", "localhost.evil.example", "", "vantage.lan.evil"] {
            assert!(!loopback.allows(refused), "{refused}");
        }
        let any = HostCheck::new("0.0.0.0".parse().expect("ip"), &[]);
        assert!(any.allows("10.0.0.1:8080") && any.allows("[2001:db8::1]:80") && any.allows("localhost"));
        assert!(!any.allows("evil.example"));
        let one = HostCheck::new("10.0.0.5".parse().expect("ip"), &[]);
        assert!(one.allows("10.0.0.5:8080") && one.allows("127.0.0.1") && !one.allows("10.0.0.6"));
    }
}

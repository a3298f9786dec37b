//! The generic parts of the HTTP API served by `vantage serve` (axum): the accept loop with
//! its timeouts, connection cap and Host check ([`serve_with`], module `server`), the JSON error
//! shape, `GET /healthz` and `GET /metrics`. Read-only, loopback by default; every error is a
//! JSON body with a 4xx status, never a stack trace. The capabilities' routes live with them
//! (statistics, passwords, pcap `api` modules) and are assembled by the composition root
//! (`deployment`) into [`Server::router`]. An error that a layer or extractor answers as text
//! (a 405, a 413, a path that is not UTF-8) is rewritten to the same JSON shape by that
//! router's last layer. Every answer passes the guards of module `guard` (security headers,
//! panics as plain 500s, [`DEFAULT_BODY_LIMIT`], the API [`tokens`] when configured).
//!
//! - `GET /healthz` → 200 `{"status": "ok", …}` or 503 with a `reason` when the store or cache is
//!   down or does not answer within [`crate::backends::HEALTH_TIMEOUT`].
//! - `GET /metrics` → Prometheus text: the capabilities' counters ([`Metrics`]), open
//!   connections, queue lengths.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::backends::Backends;

mod guard;
mod server;
pub mod tokens;
pub use guard::DEFAULT_BODY_LIMIT;
pub use server::{DEFAULT_HEADER_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CONNECTIONS, HostCheck, ServeOptions};

/// Counters a capability's routes keep, rendered first in `GET /metrics`.
pub trait Metrics: Send + Sync {
    /// Appends Prometheus text lines (`# TYPE …` and values).
    fn render(&self, out: &mut String);
}

/// What the generic routes answer from: the backends, the capabilities' counters and the
/// open connections.
pub struct Server {
    backends: Backends,
    metrics: Vec<Arc<dyn Metrics>>,
    connections: Arc<AtomicUsize>,
}

impl Server {
    /// A server over `backends` whose `/metrics` starts with `metrics`.
    pub fn new(backends: Backends, metrics: Vec<Arc<dyn Metrics>>) -> Arc<Server> {
        Arc::new(Server { backends, metrics, connections: Arc::default() })
    }

    /// `routes` with `/healthz`, `/metrics`, a JSON 404 fallback and the JSON error layer.
    pub fn router(self: &Arc<Self>, routes: Router) -> Router {
        Router::new()
            .route("/healthz", get(healthz))
            .route("/metrics", get(metrics))
            .with_state(self.clone())
            .merge(routes)
            .fallback(|| async { error(StatusCode::NOT_FOUND, "no such route".into()) })
            .layer(axum::middleware::map_response(json_errors))
    }
}

/// Serves `router` (from [`Server::router`]) on `listen` with the default [`ServeOptions`]
/// until `shutdown` resolves.
pub async fn serve(listen: SocketAddr, server: Arc<Server>, router: Router, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    serve_with(listen, server, router, ServeOptions::default(), shutdown).await
}

/// Serves `router` (from [`Server::router`]) on `listen` with `options` (timeouts, connection
/// cap, allowed hosts) until `shutdown` resolves; then waits for the requests in progress.
pub async fn serve_with(
    listen: SocketAddr,
    server: Arc<Server>,
    router: Router,
    options: ServeOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    server::run(listener, router, options, server.connections.clone(), shutdown).await
}

/// Largest error body rewritten by [`json_errors`] (longer ones keep only the status text).
const TEXT_ERROR_LIMIT: usize = 16 * 1024;

/// Rewrites a 4xx/5xx answer that is not JSON (axum's text rejections, an empty 405) to
/// `{"error": <its text, or the status reason>}`, keeping its other headers (`Allow`, …).
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, TEXT_ERROR_LIMIT).await.map(|b| String::from_utf8_lossy(&b).trim().to_string()).unwrap_or_default();
    let message = if text.is_empty() { status.canonical_reason().unwrap_or("error").to_string() } else { text };
    let mut json = error(status, message);
    parts.headers.remove(header::CONTENT_TYPE);
    parts.headers.remove(header::CONTENT_LENGTH);
    json.headers_mut().extend(parts.headers);
    json
}

/// A JSON error answer: `status` with `{"error": message}`.
pub fn error(status: StatusCode, message: String) -> Response {
    (status, axum::Json(json!({"error": message}))).into_response()
}

async fn healthz(State(state): State<Arc<Server>>) -> Response {
    let b = &state.backends;
    let health = b.health().await;
    let outage = health.outage();
    let mut body = json!({
        "status": if outage.is_none() { "ok" } else { "degraded" },
        "store": health.store.as_ref().map_or_else(Clone::clone, |_| b.store.backend().to_string()),
        "cache": health.cache.as_ref().map_or_else(Clone::clone, |_| b.cache.kind().to_string()),
    });
    let status = match outage {
        None => StatusCode::OK,
        Some(reason) => {
            body["reason"] = json!(reason);
            StatusCode::SERVICE_UNAVAILABLE
        }
    };
    (status, axum::Json(body)).into_response()
}

async fn metrics(State(state): State<Arc<Server>>) -> Response {
    let mut out = String::new();
    for m in &state.metrics {
        m.render(&mut out);
    }
    out.push_str("# TYPE vantage_http_connections gauge\n");
    out.push_str(&format!("vantage_http_connections {}\n", state.connections.load(Ordering::Relaxed)));
    if let Ok(snap) = state.backends.queue.snapshot().await {
        out.push_str("# TYPE vantage_jobs_queued gauge\n");
        for (q, jobs) in &snap.queued {
            out.push_str(&format!("vantage_jobs_queued{{queue=\"{q}\"}} {}\n", jobs.len()));
        }
        out.push_str(&format!("# TYPE vantage_jobs_running gauge\nvantage_jobs_running {}\n", snap.running.len()));
        out.push_str(&format!("# TYPE vantage_jobs_failed gauge\nvantage_jobs_failed {}\n", snap.failed.len()));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

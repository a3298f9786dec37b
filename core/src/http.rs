//! The HTTP API served by `vantage serve` (axum). Read-only, loopback by default; every
//! error is a JSON body with a 4xx status, never a stack trace. Capabilities add their routes
//! to [`router`]. An error that a layer or extractor answers as text (a 405, a 413, a path
//! that is not UTF-8) is rewritten to the same JSON shape by [`router`]'s last layer.
//! [`serve_with`] adds the header and idle timeouts, the connection cap and the Host check of
//! [`ServeOptions`] (module `server`).
//!
//! - `GET /api/resource?name=…&period=…[&ip=][&password=][&token=a,b]` →
//!   `{"resource_name", "data"}` (`data` null while not computed yet; a computation is queued),
//!   `Cache-Control: max-age=<user cache TTL>` (1h 30 s, 6h 120 s, others 300 s);
//!   unknown name / period / parameter → 400 `{"error"}`; more than 30 resource requests a
//!   minute from one client → 429 with `Retry-After`.
//! - `GET /healthz` → 200 `{"status": "ok", …}` or 503 with a `reason` when the store or cache is
//!   down or does not answer within [`HEALTH_TIMEOUT`].
//! - while the cache is down, `/api/resource` answers 200 with values computed straight from the
//!   store, marked `"degraded": true` and `X-Vantage-Degraded: cache unavailable`.
//! - `GET /metrics` → Prometheus text: request counters, open connections, queue lengths.
//! - the leaked-password APIs of [`crate::passwords::api`];
//! - the packet-capture endpoints of [`crate::pcap::api`] (when a pcap service is given).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use axum::Router;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::error::Error;
use crate::statistics::periods::Period;
use crate::statistics::resources::{self, Params, Resource};
use crate::statistics::service::Statistics;

mod server;
pub use server::{DEFAULT_HEADER_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CONNECTIONS, HostCheck, ServeOptions};

/// Shared state of the server.
pub struct AppState {
    /// Statistics service.
    pub stats: Statistics,
    /// Password API requests per second and client IP (0: unlimited).
    pub password_rate: u32,
    /// Packet-capture retrieval (`/api/uri/…`, `/results/…`); `None`: those routes are absent.
    pub pcap: Option<Arc<crate::pcap::service::PcapService>>,
    requests: AtomicU64,
    client_errors: AtomicU64,
    rate_limited: AtomicU64,
    connections: Arc<AtomicUsize>,
    /// Degraded computations running at once (the rate limit lives in the cache that is down).
    degraded: tokio::sync::Semaphore,
}

/// Resources computed at once without the cache; further degraded requests get 503.
pub const DEGRADED_CONCURRENCY: usize = 2;

/// Default password API requests per second and client IP.
pub const DEFAULT_PASSWORD_RATE: u32 = 50;

impl AppState {
    /// State over a statistics service, with the default password API rate limit.
    pub fn new(stats: Statistics) -> Arc<Self> {
        Self::with_password_rate(stats, DEFAULT_PASSWORD_RATE)
    }

    /// State with a password API limit of `password_rate` requests per second and client (0: none).
    pub fn with_password_rate(stats: Statistics, password_rate: u32) -> Arc<Self> {
        Self::with_pcap(stats, password_rate, None)
    }

    /// State with a password API limit and, when given, the packet-capture endpoints.
    pub fn with_pcap(stats: Statistics, password_rate: u32, pcap: Option<Arc<crate::pcap::service::PcapService>>) -> Arc<Self> {
        Arc::new(AppState {
            stats,
            password_rate,
            pcap,
            requests: AtomicU64::new(0),
            client_errors: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            connections: Arc::default(),
            degraded: tokio::sync::Semaphore::new(DEGRADED_CONCURRENCY),
        })
    }
}

/// The router with every route.
pub fn router(state: Arc<AppState>) -> Router {
    let passwords = crate::passwords::api::routes(state.stats.store.clone(), crate::passwords::api::RateLimit::new(state.password_rate));
    let pcap = state.pcap.clone().map(crate::pcap::api::routes).unwrap_or_default();
    Router::new()
        .route("/api/resource", get(resource))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(state)
        .merge(passwords)
        .merge(pcap)
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such route".into()) })
        .layer(axum::middleware::map_response(json_errors))
}

/// Serves `router` on `listen` with the default [`ServeOptions`] until `shutdown` resolves.
pub async fn serve(listen: SocketAddr, state: Arc<AppState>, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    serve_with(listen, state, ServeOptions::default(), shutdown).await
}

/// Serves `router` on `listen` with `options` (timeouts, connection cap, allowed hosts) until
/// `shutdown` resolves; then waits for the requests in progress.
pub async fn serve_with(
    listen: SocketAddr,
    state: Arc<AppState>,
    options: ServeOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let open = state.connections.clone();
    server::run(listener, router(state), options, open, shutdown).await
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

fn error(status: StatusCode, message: String) -> Response {
    (status, axum::Json(json!({"error": message}))).into_response()
}

const RESOURCE_PARAMS: &[&str] = &["name", "period", "ip", "password", "token"];

/// The resource, period and parameters of a `/api/resource` query.
fn resource_query(q: &HashMap<String, String>) -> Result<(&'static Resource, Period, Params), Error> {
    if let Some(unknown) = q.keys().find(|k| !RESOURCE_PARAMS.contains(&k.as_str())) {
        return Err(Error::InvalidArgument(format!("unknown parameter `{unknown}`; valid: {}", RESOURCE_PARAMS.join(", "))));
    }
    let name = q.get("name").ok_or_else(|| Error::InvalidArgument("missing parameter `name`".into()))?;
    let period: Period = q.get("period").ok_or_else(|| Error::InvalidArgument("missing parameter `period`".into()))?.parse()?;
    let resource = resources::find(name)?;
    let tokens: Vec<String> = q.get("token").map(|t| t.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect()).unwrap_or_default();
    let params = Params::for_resource(resource, q.get("ip").map(String::as_str), q.get("password").map(String::as_str), &tokens)?;
    Ok((resource, period, params))
}

/// The header marking an answer computed without the cache.
pub const DEGRADED_HEADER: &str = "x-vantage-degraded";

/// Without the cache (Redis down), a resource is computed straight from the store and
/// returned with `"degraded": true` and [`DEGRADED_HEADER`]; `None` when that fails too or
/// [`DEGRADED_CONCURRENCY`] such computations are already running.
async fn degraded_resource(state: &AppState, q: &HashMap<String, String>) -> Option<Response> {
    let (resource, period, params) = resource_query(q).ok()?;
    // without the cache there is no per-client rate limit: bound the work instead
    let _permit = state.degraded.try_acquire().ok()?;
    let data = match state.stats.read_uncached(resource, period, &params).await {
        Ok(data) => data,
        Err(e) => {
            tracing::warn!("degraded resource computation failed: {e}");
            return None;
        }
    };
    let mut resp = axum::Json(json!({"resource_name": resource.name, "data": data, "degraded": true})).into_response();
    resp.headers_mut().insert(DEGRADED_HEADER, HeaderValue::from_static("cache unavailable"));
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Some(resp)
}

async fn resource(State(state): State<Arc<AppState>>, ConnectInfo(peer): ConnectInfo<SocketAddr>, Query(q): Query<HashMap<String, String>>) -> Response {
    state.requests.fetch_add(1, Ordering::Relaxed);
    let result = async {
        let (resource, period, params) = resource_query(&q)?;
        let read = state.stats.read(resource, period, &params, Some(&peer.ip().to_string())).await?;
        Ok((resource.name, period, read))
    }
    .await;
    match result {
        Ok((name, period, read)) => {
            let mut resp = axum::Json(json!({"resource_name": name, "data": read.data})).into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("max-age={}", period.user_cache_ttl())) {
                resp.headers_mut().insert(header::CACHE_CONTROL, v);
            }
            resp
        }
        Err(Error::RateLimited(m)) => {
            state.rate_limited.fetch_add(1, Ordering::Relaxed);
            let mut resp = error(StatusCode::TOO_MANY_REQUESTS, m);
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
            resp
        }
        Err(e @ Error::InvalidArgument(_)) => {
            state.client_errors.fetch_add(1, Ordering::Relaxed);
            error(StatusCode::BAD_REQUEST, e.to_string())
        }
        Err(e) => {
            tracing::warn!("resource request failed: {e}");
            let degraded = if matches!(e, Error::Redis(_)) { degraded_resource(&state, &q).await } else { None };
            degraded.unwrap_or_else(|| error(StatusCode::SERVICE_UNAVAILABLE, "storage or cache unavailable".into()))
        }
    }
}

/// How long `/healthz` waits for the store and for the cache before calling them unavailable.
pub const HEALTH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// The outcome of one health probe: the backend name, or why it is unavailable.
async fn probe<T>(what: &str, check: impl std::future::Future<Output = Result<T, Error>>) -> Result<(), String> {
    match tokio::time::timeout(HEALTH_TIMEOUT, check).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(format!("{what} unavailable: {e}")),
        Err(_) => Err(format!("{what} unavailable: no answer within {} ms (timeout)", HEALTH_TIMEOUT.as_millis())),
    }
}

async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let (store, cache) = tokio::join!(probe("store", state.stats.store.ping()), probe("cache", state.stats.cache.get("vantage:healthz")));
    let reason: Vec<&str> = [&store, &cache].into_iter().filter_map(|r| r.as_ref().err().map(String::as_str)).collect();
    let mut body = json!({
        "status": if reason.is_empty() { "ok" } else { "degraded" },
        "store": store.as_ref().map_or_else(Clone::clone, |_| state.stats.store.backend().to_string()),
        "cache": cache.as_ref().map_or_else(Clone::clone, |_| state.stats.cache.kind().to_string()),
    });
    let status = if reason.is_empty() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    if !reason.is_empty() {
        body["reason"] = json!(reason.join("; "));
    }
    (status, axum::Json(body)).into_response()
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let mut out = String::new();
    out.push_str("# TYPE vantage_resource_requests_total counter\n");
    out.push_str(&format!("vantage_resource_requests_total {}\n", state.requests.load(Ordering::Relaxed)));
    out.push_str("# TYPE vantage_resource_client_errors_total counter\n");
    out.push_str(&format!("vantage_resource_client_errors_total {}\n", state.client_errors.load(Ordering::Relaxed)));
    out.push_str("# TYPE vantage_resource_rate_limited_total counter\n");
    out.push_str(&format!("vantage_resource_rate_limited_total {}\n", state.rate_limited.load(Ordering::Relaxed)));
    out.push_str("# TYPE vantage_http_connections gauge\n");
    out.push_str(&format!("vantage_http_connections {}\n", state.connections.load(Ordering::Relaxed)));
    if let Ok(snap) = state.stats.queue.snapshot().await {
        out.push_str("# TYPE vantage_jobs_queued gauge\n");
        for (q, jobs) in &snap.queued {
            out.push_str(&format!("vantage_jobs_queued{{queue=\"{q}\"}} {}\n", jobs.len()));
        }
        out.push_str(&format!("# TYPE vantage_jobs_running gauge\nvantage_jobs_running {}\n", snap.running.len()));
        out.push_str(&format!("# TYPE vantage_jobs_failed gauge\nvantage_jobs_failed {}\n", snap.failed.len()));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

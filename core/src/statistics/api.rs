//! `GET /api/resource` of `vantage serve`:
//!
//! - `GET /api/resource?name=…&period=…[&ip=][&password=][&token=a,b]` →
//!   `{"resource_name", "data"}` (`data` null while not computed yet; a computation is queued),
//!   `Cache-Control: max-age=<user cache TTL>` (1h 30 s, 6h 120 s, others 300 s);
//!   unknown name / period / parameter → 400 `{"error"}`; more than 30 resource requests a
//!   minute from one client → 429 with `Retry-After`.
//! - while the cache is down, it answers 200 with values computed straight from the store,
//!   marked `"degraded": true` and `X-Vantage-Degraded: cache unavailable`.
//!
//! Its request counters are part of `GET /metrics` ([`ResourceApi`] is a [`Metrics`]).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::periods::Period;
use super::resources::{self, Params, Resource};
use super::service::Statistics;
use crate::error::Error;
use crate::http::{Metrics, error};

/// Resources computed at once without the cache; further degraded requests get 503.
pub const DEGRADED_CONCURRENCY: usize = 2;

/// The resource route's state: the statistics service and its counters.
pub struct ResourceApi {
    stats: Statistics,
    requests: AtomicU64,
    client_errors: AtomicU64,
    rate_limited: AtomicU64,
    /// Degraded computations running at once (the rate limit lives in the cache that is down).
    degraded: tokio::sync::Semaphore,
}

impl ResourceApi {
    /// The route's state over `stats`, counters at zero.
    pub fn new(stats: Statistics) -> Arc<ResourceApi> {
        Arc::new(ResourceApi {
            stats,
            requests: AtomicU64::new(0),
            client_errors: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            degraded: tokio::sync::Semaphore::new(DEGRADED_CONCURRENCY),
        })
    }

    /// `GET /api/resource`.
    pub fn routes(self: &Arc<Self>) -> Router {
        Router::new().route("/api/resource", get(resource)).with_state(self.clone())
    }
}

impl Metrics for ResourceApi {
    fn render(&self, out: &mut String) {
        out.push_str("# TYPE vantage_resource_requests_total counter\n");
        out.push_str(&format!("vantage_resource_requests_total {}\n", self.requests.load(Ordering::Relaxed)));
        out.push_str("# TYPE vantage_resource_client_errors_total counter\n");
        out.push_str(&format!("vantage_resource_client_errors_total {}\n", self.client_errors.load(Ordering::Relaxed)));
        out.push_str("# TYPE vantage_resource_rate_limited_total counter\n");
        out.push_str(&format!("vantage_resource_rate_limited_total {}\n", self.rate_limited.load(Ordering::Relaxed)));
    }
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
async fn degraded_resource(state: &ResourceApi, q: &HashMap<String, String>) -> Option<Response> {
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

async fn resource(State(state): State<Arc<ResourceApi>>, ConnectInfo(peer): ConnectInfo<SocketAddr>, Query(q): Query<HashMap<String, String>>) -> Response {
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

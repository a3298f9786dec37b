//! The three leaked-password APIs of `vantage serve`, all answering from the hash index:
//!
//! - `POST /passcheck/apiv1/` (sview): `{"msg_type": "request", "hash": "<6 chars>"}` →
//!   `SUCCESS` with `data`, `NO_QUERY`, or 400 `VALIDATION_ERROR`.
//! - `POST /api/leaked` (passy): `{"hash": "<5–40 hex>"}` → `{"hashes": [{"hash", "count",
//!   "sources"}]}`; schemas in `assets/schemas/passy-{request,response}.json`.
//! - `GET /range/{prefix}` (Have I Been Pwned): `SUFFIX:COUNT` lines; `Add-Padding: true` adds
//!   decoy lines with count 0 so the size of a response does not tell how many hashes matched.
//!
//! Lookups come from an in-memory copy of the hashes ([`Live`]), which follows imports
//! within seconds. Every error is JSON with a 4xx status: malformed JSON, wrong keys or types, bodies over
//! [`BODY_LIMIT`] (413), too many requests from one client (429 with `Retry-After`). The
//! access log (info) records route, status and result count — never the prefix.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rand::RngExt as _;
use serde_json::{Value, json};

use super::index::Live;
use super::{PwnedHash, prefix};
use crate::cache::{Cache, keys};
use crate::store::Store;

/// Largest accepted request body (bytes).
pub const BODY_LIMIT: usize = 1024;

/// Default password API requests per second and client IP.
pub const DEFAULT_RATE: u32 = 50;

/// Requests per second and client IP before 429 (0: no limit), counted in the cache so that
/// every `serve` process sharing one Redis shares the limit (the second is wall-clock time,
/// the same in every process). While the cache does not answer, each process counts on its
/// own and goes on serving.
pub struct RateLimit {
    per_second: u32,
    cache: Arc<dyn Cache>,
    local: Mutex<HashMap<IpAddr, (u64, u32)>>,
}

impl std::fmt::Debug for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimit").field("per_second", &self.per_second).field("cache", &self.cache.kind()).finish_non_exhaustive()
    }
}

impl RateLimit {
    /// A limit of `per_second` requests per client IP in each second (0: unlimited), counted
    /// in `cache`.
    pub fn new(per_second: u32, cache: Arc<dyn Cache>) -> RateLimit {
        RateLimit { per_second, cache, local: Mutex::new(HashMap::new()) }
    }

    /// Counts a request; false when the client is over its limit.
    async fn allow(&self, ip: IpAddr) -> bool {
        if self.per_second == 0 {
            return true;
        }
        let second = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        match self.cache.incr_window(&keys::password_rate(ip, second), Duration::from_secs(2)).await {
            Ok(n) => n <= i64::from(self.per_second),
            Err(e) => {
                tracing::debug!("password rate limit: the cache does not answer ({e}); counting in this process");
                self.allow_locally(ip, second)
            }
        }
    }

    /// The same count kept in this process alone.
    fn allow_locally(&self, ip: IpAddr, second: u64) -> bool {
        let Ok(mut seen) = self.local.lock() else { return true };
        if seen.len() > 100_000 {
            seen.retain(|_, (s, _)| *s == second);
        }
        let entry = seen.entry(ip).or_insert((second, 0));
        if entry.0 != second {
            *entry = (second, 0);
        }
        entry.1 += 1;
        entry.1 <= self.per_second
    }
}

struct ApiState {
    hashes: Live,
    limit: RateLimit,
}

/// The password routes over `store` (answered from an in-memory [`Live`] copy once loaded),
/// limited per client IP. Must be called inside a tokio runtime.
pub fn routes(store: Arc<dyn Store>, limit: RateLimit) -> Router {
    let hashes = Live::start(store);
    Router::new()
        .route("/passcheck/apiv1/", post(sview))
        .route("/api/leaked", post(passy))
        .route("/range/{prefix}", get(range))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(Arc::new(ApiState { hashes, limit }))
}

fn json_error(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn too_many() -> Response {
    let mut r = json_error(StatusCode::TOO_MANY_REQUESTS, json!({"error": "too many requests from this address; retry after 1 s"}));
    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

fn unavailable(e: &crate::Error) -> Response {
    tracing::warn!("password lookup failed: {e}");
    json_error(StatusCode::SERVICE_UNAVAILABLE, json!({"error": "password store unavailable"}))
}

/// Reads a JSON object body: the rejection (413 for a huge body) or a 400 message.
fn object(body: Result<Bytes, BytesRejection>) -> Result<serde_json::Map<String, Value>, (StatusCode, String)> {
    let bytes = body.map_err(|r| (r.status(), format!("request body: {}", r.body_text())))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err((StatusCode::BAD_REQUEST, "the body must be a JSON object".into())),
        Err(e) => Err((StatusCode::BAD_REQUEST, format!("the body is not valid JSON: {e}"))),
    }
}

fn keys_exactly(o: &serde_json::Map<String, Value>, keys: &[&str]) -> Result<(), String> {
    if let Some(k) = keys.iter().find(|k| !o.contains_key(**k)) {
        return Err(format!("missing key `{k}`"));
    }
    if let Some(k) = o.keys().find(|k| !keys.contains(&k.as_str())) {
        return Err(format!("unknown key `{k}`; expected exactly {}", keys.join(", ")));
    }
    Ok(())
}

fn entries(found: &[PwnedHash]) -> Value {
    json!(found.iter().map(|h| json!({"hash": h.hash, "count": h.count, "sources": h.sources})).collect::<Vec<_>>())
}

fn log(route: &str, status: StatusCode, results: usize) {
    tracing::info!(route, status = status.as_u16(), results, "password api");
}

async fn sview(State(s): State<Arc<ApiState>>, ConnectInfo(peer): ConnectInfo<SocketAddr>, body: Result<Bytes, BytesRejection>) -> Response {
    if !s.limit.allow(peer.ip()).await {
        return too_many();
    }
    let invalid = |status: StatusCode, e: String| {
        log("passcheck", status, 0);
        json_error(status, json!({"msg_type": "response", "status": "VALIDATION_ERROR", "error": e}))
    };
    let o = match object(body) {
        Ok(o) => o,
        Err((status, e)) => return invalid(status, e),
    };
    if let Err(e) = keys_exactly(&o, &["msg_type", "hash"]) {
        return invalid(StatusCode::BAD_REQUEST, e);
    }
    if o["msg_type"] != "request" {
        return invalid(StatusCode::BAD_REQUEST, "`msg_type` must be \"request\"".into());
    }
    let Some(hash) = o["hash"].as_str() else { return invalid(StatusCode::BAD_REQUEST, "`hash` must be a string".into()) };
    if hash.len() != 6 || !hash.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return invalid(StatusCode::BAD_REQUEST, "`hash` must be 6 characters of [a-z0-9]".into());
    }
    let found = match s.hashes.range(&hash.to_ascii_lowercase()).await {
        Ok(f) => f,
        Err(e) => return unavailable(&e),
    };
    log("passcheck", StatusCode::OK, found.len());
    if found.is_empty() {
        return axum::Json(json!({"msg_type": "response", "status": "NO_QUERY"})).into_response();
    }
    axum::Json(json!({"msg_type": "response", "status": "SUCCESS", "data": entries(&found)})).into_response()
}

async fn passy(State(s): State<Arc<ApiState>>, ConnectInfo(peer): ConnectInfo<SocketAddr>, body: Result<Bytes, BytesRejection>) -> Response {
    if !s.limit.allow(peer.ip()).await {
        return too_many();
    }
    let invalid = |status: StatusCode, e: String| {
        log("leaked", status, 0);
        json_error(status, json!({"error": e}))
    };
    let o = match object(body) {
        Ok(o) => o,
        Err((status, e)) => return invalid(status, e),
    };
    if let Err(e) = keys_exactly(&o, &["hash"]) {
        return invalid(StatusCode::BAD_REQUEST, e);
    }
    let Some(text) = o["hash"].as_str() else { return invalid(StatusCode::BAD_REQUEST, "`hash` must be a string".into()) };
    let p = match prefix(text, 5, 40) {
        Ok(p) => p,
        Err(e) => return invalid(StatusCode::BAD_REQUEST, e),
    };
    match s.hashes.range(&p).await {
        Ok(found) => {
            log("leaked", StatusCode::OK, found.len());
            axum::Json(json!({"hashes": entries(&found)})).into_response()
        }
        Err(e) => unavailable(&e),
    }
}

async fn range(State(s): State<Arc<ApiState>>, ConnectInfo(peer): ConnectInfo<SocketAddr>, Path(text): Path<String>, headers: HeaderMap) -> Response {
    if !s.limit.allow(peer.ip()).await {
        return too_many();
    }
    let p = match prefix(&text, 5, 5) {
        Ok(p) => p,
        Err(e) => {
            log("range", StatusCode::BAD_REQUEST, 0);
            return json_error(StatusCode::BAD_REQUEST, json!({"error": e}));
        }
    };
    let found = match s.hashes.range(&p).await {
        Ok(f) => f,
        Err(e) => return unavailable(&e),
    };
    log("range", StatusCode::OK, found.len());
    let mut lines: Vec<String> = found
        .iter()
        .map(|h| {
            let mut line = h.hash[5..].to_ascii_uppercase();
            line.push(':');
            line.push_str(&h.count.to_string());
            line
        })
        .collect();
    let padding = headers.get("add-padding").and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if padding {
        // like HIBP: between 800 and 1,000 lines in all, decoys with count 0
        let mut rng = rand::rng();
        let want = rng.random_range(800..=1000usize);
        while lines.len() < want {
            let suffix: String = (0..35).map(|_| char::from(b"0123456789ABCDEF"[rng.random_range(0..16usize)])).collect();
            lines.push(format!("{suffix}:0"));
        }
        lines.sort();
    }
    let mut resp = (StatusCode::OK, lines.join("\r\n")).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    resp
}

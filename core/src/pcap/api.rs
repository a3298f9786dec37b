//! Docket-compatible HTTP endpoints (pcap.md "Endpoints"), served by `vantage serve` when a
//! [`PcapService`] is configured. A trailing slash is optional everywhere; every error is a
//! JSON `{"error"}` with a 4xx status (413 when the spool is low on space, 503 when no sensor
//! is configured).
//!
//! - `GET /api/uri/<clauses…>` → 302 to `<ui_web_root>/#/status/<id>` with the job as body;
//!   `POST /api/` (form or JSON fields, `Steno-Limit-*` headers or fields) → 200 job;
//!   `GET /api/raw/<stenographer query>`, `POST /api/query/` (the query as body) → 200 job.
//!   A job is `{id, state, query, url, time}`.
//! - `GET /api/status/[ids]` → `{id: {state, requests: {sensor: result}, events, successes,
//!   url, …}}`; `/api/ids/[ids]` → `[id…]`; `/api/urls/[ids]` → `{id: url}` of completed jobs
//!   with a capture. Id lists are split on `,` `;` `+` tab and space; malformed ids are a 400,
//!   unknown ones are left out.
//! - `GET /api/stats/[sensors]` → `{"sensors": {name: {counter: value} | "error"}, "spool":
//!   {free_bytes, free_nodes}}`; `/api/jobs/` → the queued and running pcap steps;
//!   `POST /api/cleanup/` → a forced cleanup's report (it changes state: `GET` is a 405).
//! - `GET /results/<id>/<merged_name>.pcap` → the capture, streamed. The id must be 32
//!   lowercase hex digits and the file name exactly the merged capture's: anything else is a
//!   404 before the file system is touched (no path traversal).

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use serde_json::{Map, Value, json};

use crate::error::Error;
use crate::pcap::pipeline::{JobState, JobStatus};
use crate::pcap::request::{Clauses, Request, RequestError};
use crate::pcap::service::{PcapService, is_step};
use crate::pcap::spool::valid_id;

type Shared = Arc<PcapService>;

/// The routes under `/api` and `/results`.
pub fn routes(service: Shared) -> Router {
    let mut router = Router::new();
    for (path, route) in [
        ("/api", post(form)),
        ("/api/uri/{*clauses}", get(uri)),
        ("/api/raw/{*query}", get(raw_path)),
        ("/api/query", post(raw_body)),
        ("/api/status", get(status)),
        ("/api/status/{ids}", get(status)),
        ("/api/ids", get(ids)),
        ("/api/ids/{ids}", get(ids)),
        ("/api/urls", get(urls)),
        ("/api/urls/{ids}", get(urls)),
        ("/api/stats", get(stats)),
        ("/api/stats/{sensors}", get(stats)),
        ("/api/jobs", get(jobs)),
        ("/api/cleanup", post(cleanup)),
        ("/api/cancel/{id}", post(cancel)),
    ] {
        router = with_slash(router, path, route);
    }
    router.route("/results/{id}/{file}", get(result)).with_state(service)
}

/// Adds `route` at `path` and at `path/` (wildcard paths only once).
fn with_slash(router: Router<Shared>, path: &str, route: MethodRouter<Shared>) -> Router<Shared> {
    if path.contains("{*") { router.route(path, route) } else { router.route(path, route.clone()).route(&format!("{path}/"), route) }
}

/// An error answer: its status and message (sent as `{"error": message}`).
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, axum::Json(json!({"error": self.1}))).into_response()
    }
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    ApiError(status, message.into()).into_response()
}

fn from_error(e: &Error) -> ApiError {
    match e {
        Error::InvalidArgument(m) => ApiError(StatusCode::BAD_REQUEST, m.clone()),
        Error::SpoolFull(_) => ApiError(StatusCode::PAYLOAD_TOO_LARGE, e.to_string()),
        Error::Config(m) => ApiError(StatusCode::SERVICE_UNAVAILABLE, m.clone()),
        Error::Redis(_) => ApiError(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        other => {
            tracing::warn!(target: "vantage::pcap", "request failed: {other}");
            ApiError(StatusCode::INTERNAL_SERVER_ERROR, other.to_string())
        }
    }
}

fn bad_request(e: RequestError) -> ApiError {
    ApiError(StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST), e.message)
}

/// The job as the submitting endpoints answer it.
fn job_body(service: &PcapService, s: &JobStatus) -> Value {
    json!({"id": s.id, "state": s.state, "query": s.query, "url": service.config.url(&s.id), "time": s.time})
}

/// Submits `request` and answers with the job (200), or the error.
async fn submit(service: &PcapService, request: Result<Request, RequestError>) -> Result<(JobStatus, Value), ApiError> {
    let request = request.map_err(bad_request)?;
    let status = service.submit(&request).await.map_err(|e| from_error(&e))?;
    let body = job_body(service, &status);
    Ok((status, body))
}

async fn uri(State(service): State<Shared>, Path(clauses): Path<String>) -> Response {
    let request = Clauses::from_uri(&clauses).and_then(|c| c.build(&service.config.request_settings(), service.clock.now()));
    match submit(&service, request).await {
        Ok((status, body)) => {
            let location = format!("{}/#/status/{}", service.config.ui_web_root.trim_end_matches('/'), status.id);
            let mut resp = (StatusCode::FOUND, axum::Json(body)).into_response();
            if let Ok(v) = HeaderValue::from_str(&location) {
                resp.headers_mut().insert(header::LOCATION, v);
            }
            resp
        }
        Err(e) => e.into_response(),
    }
}

async fn form(State(service): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let request = (|| {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(RequestError::bad_request("Empty request: send form or JSON fields"));
        }
        let is_json = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.contains("json")) || body.first() == Some(&b'{');
        let mut clauses = if is_json {
            let value: Value = serde_json::from_slice(&body).map_err(|e| RequestError::bad_request(format!("Invalid JSON: {e}")))?;
            Clauses::from_json(&value)?
        } else {
            Clauses::from_form(url::form_urlencoded::parse(&body))?
        };
        for name in ["Steno-Limit-Packets", "Steno-Limit-Bytes"] {
            if let Some(v) = headers.get(name) {
                clauses.apply(name, v.to_str().map_err(|_| RequestError::bad_request(format!("{name}: not text")))?)?;
            }
        }
        clauses.build(&service.config.request_settings(), service.clock.now())
    })();
    answer(submit(&service, request).await)
}

/// The job (200) or the error.
fn answer(submitted: Result<(JobStatus, Value), ApiError>) -> Response {
    submitted.map_or_else(IntoResponse::into_response, |(_, body)| axum::Json(body).into_response())
}

async fn raw_path(State(service): State<Shared>, Path(query): Path<String>) -> Response {
    raw(&service, &query).await
}

async fn raw_body(State(service): State<Shared>, body: Bytes) -> Response {
    match std::str::from_utf8(&body) {
        Ok(text) => raw(&service, text).await,
        Err(_) => error(StatusCode::BAD_REQUEST, "the query is not UTF-8 text"),
    }
}

async fn raw(service: &PcapService, text: &str) -> Response {
    let request = Request::raw(text, &service.config.request_settings(), service.clock.now());
    answer(submit(service, request).await)
}

/// Splits an id or sensor list on `,` `;` `+` tab and space.
pub fn split_list(text: &str) -> Vec<String> {
    text.split([',', ';', '+', '\t', ' ']).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// The jobs named in `ids` (all when absent), or a 400 for a malformed id.
fn selected(service: &PcapService, ids: Option<Path<String>>) -> Result<Vec<JobStatus>, ApiError> {
    match ids {
        None => service.statuses().map_err(|e| from_error(&e)),
        Some(Path(list)) => {
            let mut out = Vec::new();
            for id in split_list(&list) {
                let id = id.to_ascii_lowercase();
                if !valid_id(&id) {
                    return Err(ApiError(StatusCode::BAD_REQUEST, format!("`{id}` is not a job id (32 hex digits)")));
                }
                if let Some(s) = service.status(&id).map_err(|e| from_error(&e))? {
                    out.push(s);
                }
            }
            Ok(out)
        }
    }
}

/// `POST /api/cancel/{id}`: the job's status after the cancel (200; state Cancelled, or the
/// state its worker is leaving), 404 for an unknown job, 409 for a final one, 400 for a bad id.
async fn cancel(State(service): State<Shared>, Path(id): Path<String>) -> Response {
    let id = id.trim().to_ascii_lowercase();
    if !valid_id(&id) {
        return error(StatusCode::BAD_REQUEST, format!("`{id}` is not a job id (32 hex digits)"));
    }
    match service.status(&id) {
        Ok(Some(s)) if s.state.is_final() => return error(StatusCode::CONFLICT, format!("job {id} is already {}: nothing to cancel", s.state)),
        Ok(Some(_)) => {}
        Ok(None) => return error(StatusCode::NOT_FOUND, format!("no pcap job {id}")),
        Err(e) => return from_error(&e).into_response(),
    }
    match service.cancel(&id) {
        Ok(Some(s)) => axum::Json(status_json(&service, &s)).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no pcap job {id}")),
        Err(e) => from_error(&e).into_response(),
    }
}

/// A job's status for the API: the capture's URL instead of its path on the server.
pub fn status_json(service: &PcapService, s: &JobStatus) -> Value {
    let mut v = serde_json::to_value(s).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut v {
        map.remove("merged");
        map.insert("url".into(), if s.merged.is_some() { Value::String(service.config.url(&s.id)) } else { Value::Null });
    }
    v
}

async fn status(State(service): State<Shared>, ids: Option<Path<String>>) -> Response {
    match selected(&service, ids) {
        Ok(jobs) => axum::Json(Value::Object(jobs.iter().map(|s| (s.id.clone(), status_json(&service, s))).collect())).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn ids(State(service): State<Shared>, ids: Option<Path<String>>) -> Response {
    match selected(&service, ids) {
        Ok(jobs) => axum::Json(jobs.iter().map(|s| s.id.clone()).collect::<Vec<_>>()).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn urls(State(service): State<Shared>, ids: Option<Path<String>>) -> Response {
    match selected(&service, ids) {
        Ok(jobs) => {
            let done = jobs.iter().filter(|s| s.state == JobState::Completed && s.merged.is_some());
            axum::Json(Value::Object(done.map(|s| (s.id.clone(), Value::String(service.config.url(&s.id)))).collect())).into_response()
        }
        Err(e) => e.into_response(),
    }
}

async fn stats(State(service): State<Shared>, sensors: Option<Path<String>>) -> Response {
    let names = sensors.map(|Path(list)| split_list(&list)).unwrap_or_default();
    let answers = match service.sensor_stats(&names).await {
        Ok(a) => a,
        Err(e) => return from_error(&e).into_response(),
    };
    let sensors: Map<String, Value> = answers.into_iter().map(|(name, r)| (name, r.map_or_else(Value::String, |c| json!(c)))).collect();
    let spool = service.space().map_or_else(|e| json!({"error": e.to_string()}), |s| json!(s));
    axum::Json(json!({"sensors": sensors, "spool": spool})).into_response()
}

async fn jobs(State(service): State<Shared>) -> Response {
    match service.queue.snapshot().await {
        Ok(snap) => {
            let queued: Vec<_> = snap.queued.iter().flat_map(|(_, jobs)| jobs.iter()).filter(|j| is_step(j)).collect();
            let running: Vec<_> = snap.running.iter().filter(|r| is_step(&r.job)).collect();
            axum::Json(json!({"queued": queued, "running": running})).into_response()
        }
        Err(e) => from_error(&e).into_response(),
    }
}

async fn cleanup(State(service): State<Shared>) -> Response {
    match service.cleanup(true) {
        Ok(report) => axum::Json(report).into_response(),
        Err(e) => from_error(&e).into_response(),
    }
}

async fn result(State(service): State<Shared>, Path((id, file)): Path<(String, String)>) -> Response {
    if !valid_id(&id) || file != service.config.merged_file() {
        return error(StatusCode::NOT_FOUND, "no such capture");
    }
    let path = service.config.spool_dir.join(&id).join(&file);
    let Ok(f) = tokio::fs::File::open(&path).await else { return error(StatusCode::NOT_FOUND, "no such capture") };
    let len = f.metadata().await.map(|m| m.len()).ok();
    let mut resp = Body::from_stream(tokio_util::io::ReaderStream::new(f)).into_response();
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/vnd.tcpdump.pcap"));
    if let Some(len) = len {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    }
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{id}.pcap\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

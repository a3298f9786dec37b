//! The flow analytics reads as JSON endpoints of `vantage serve` (GET only, parameters in the
//! query string, each validated: a missing or bad one is a 400 `{"error": "<name>: <reason>"}`):
//!
//! | endpoint | answer |
//! |---|---|
//! | `/api/flows/suspicious?date=D[&ip=X]` | the date's unscored suspicious connections by rank (20 columns) |
//! | `/api/flows/edges?tstart=T&src=A&dst=B` | the raw flows of the pair in T's minute |
//! | `/api/flows/chords?date=D&ip=X` | X's chord rows |
//! | `/api/flows/threat?date=D&ip=X` | X's threat investigation |
//! | `/api/flows/ingest-summary?date=D` | `[{tdate, total}]` |
//! | `/api/flows/beacons?date=D[&all=true]` | `{beacons, long_connections, strobes}` (flagged pairs only unless `all`) |

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;
use serde_json::json;

use super::beacon::BeaconSettings;
use super::queries;
use crate::store::Store;

struct ApiState {
    store: Arc<dyn Store>,
    beacon: BeaconSettings,
}

type Shared = State<Arc<ApiState>>;
type Params = Query<HashMap<String, String>>;

/// The flow routes over `store`, beacons scored with `beacon`.
pub fn routes(store: Arc<dyn Store>, beacon: BeaconSettings) -> Router {
    Router::new()
        .route("/api/flows/suspicious", get(suspicious))
        .route("/api/flows/edges", get(edges))
        .route("/api/flows/chords", get(chords))
        .route("/api/flows/threat", get(threat))
        .route("/api/flows/ingest-summary", get(ingest))
        .route("/api/flows/beacons", get(beacons))
        .with_state(Arc::new(ApiState { store, beacon }))
}

/// A bad parameter: answered 400 `{"error": "<name>: <reason>"}`.
struct Bad(String);

impl IntoResponse for Bad {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, axum::Json(json!({"error": self.0}))).into_response()
    }
}

fn bad(name: &str, reason: impl std::fmt::Display) -> Bad {
    Bad(format!("{name}: {reason}"))
}

fn required<'a>(q: &'a HashMap<String, String>, name: &str) -> Result<&'a str, Bad> {
    q.get(name).map(String::as_str).ok_or_else(|| bad(name, "missing"))
}

fn date(q: &HashMap<String, String>) -> Result<NaiveDate, Bad> {
    let text = required(q, "date")?;
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|e| bad("date", format!("`{text}`: {e} (expected YYYY-MM-DD)")))
}

fn ip(q: &HashMap<String, String>, name: &str) -> Result<Option<IpAddr>, Bad> {
    q.get(name).map(|t| t.parse::<IpAddr>().map_err(|e| bad(name, format!("`{t}`: {e}")))).transpose()
}

fn required_ip(q: &HashMap<String, String>, name: &str) -> Result<IpAddr, Bad> {
    ip(q, name)?.ok_or_else(|| bad(name, "missing"))
}

/// The answer, or a 400 for a bad argument and a 503 for a store that failed.
fn answer<T: serde::Serialize>(result: crate::Result<T>) -> Response {
    match result {
        Ok(v) => axum::Json(v).into_response(),
        Err(crate::Error::InvalidArgument(m)) => (StatusCode::BAD_REQUEST, axum::Json(json!({"error": m}))).into_response(),
        Err(e) => {
            tracing::warn!("flows api: {e}");
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({"error": "the flow store is unavailable"}))).into_response()
        }
    }
}

async fn suspicious(State(s): Shared, Query(q): Params) -> Response {
    let (date, ip) = match (date(&q), ip(&q, "ip")) {
        (Ok(d), Ok(i)) => (d, i),
        (Err(e), _) | (_, Err(e)) => return e.into_response(),
    };
    answer(queries::suspicious(s.store.as_ref(), date, ip).await)
}

async fn edges(State(s): Shared, Query(q): Params) -> Response {
    let (tstart, src, dst) = match (required(&q, "tstart"), required_ip(&q, "src"), required_ip(&q, "dst")) {
        (Ok(t), Ok(a), Ok(b)) => (t.to_string(), a, b),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return e.into_response(),
    };
    answer(queries::edges(s.store.as_ref(), &tstart, src, dst).await)
}

/// The `date` and the required `ip` of a threat's reads.
fn date_and_ip(q: &HashMap<String, String>) -> Result<(NaiveDate, IpAddr), Bad> {
    Ok((date(q)?, required_ip(q, "ip")?))
}

async fn chords(State(s): Shared, Query(q): Params) -> Response {
    match date_and_ip(&q) {
        Ok((date, ip)) => answer(queries::chords(s.store.as_ref(), date, ip).await),
        Err(e) => e.into_response(),
    }
}

async fn threat(State(s): Shared, Query(q): Params) -> Response {
    match date_and_ip(&q) {
        Ok((date, ip)) => answer(queries::threat(s.store.as_ref(), date, ip).await),
        Err(e) => e.into_response(),
    }
}

async fn ingest(State(s): Shared, Query(q): Params) -> Response {
    match date(&q) {
        Ok(date) => answer(queries::ingest(s.store.as_ref(), date).await),
        Err(e) => e.into_response(),
    }
}

async fn beacons(State(s): Shared, Query(q): Params) -> Response {
    let date = match date(&q) {
        Ok(d) => d,
        Err(e) => return e.into_response(),
    };
    let all = match q.get("all").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => return bad("all", format!("`{other}`: true or false")).into_response(),
    };
    answer(queries::beacons(s.store.as_ref(), date, s.beacon).await.map(|mut r| {
        if !all {
            r.beacons.retain(|b| b.level != "none");
        }
        r
    }))
}

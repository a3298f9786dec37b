//! The flow analytics reads as JSON endpoints of `vantage serve` (GET only, parameters in the
//! query string, each validated: a missing or bad one is a 400 `{"error": "<name>: <reason>"}`;
//! a `[flows]` data file that cannot be read — a safelist line broken since start-up — is a
//! 500 naming its file and line; a failing store a 503):
//!
//! | endpoint | answer |
//! |---|---|
//! | `/api/flows/status` | `{flows, first, last}` |
//! | `/api/flows/suspicious?date=D[&ip=X]` | the date's unscored, not safelisted suspicious connections by rank (20 columns) |
//! | `/api/flows/edges?tstart=T&src=A&dst=B` | the raw flows of the pair in T's minute |
//! | `/api/flows/chords?date=D&ip=X` | X's chord rows |
//! | `/api/flows/threat?date=D&ip=X` | X's threat investigation |
//! | `/api/flows/storyboard?date=D&ip=X` | X's storyboard (read only: saving is the CLI's `--title`) |
//! | `/api/flows/ingest-summary?date=D` | `[{tdate, total}]` |
//! | `/api/flows/beacons?date=D[&all=true]` | `{beacons, long_connections, strobes}` (flagged pairs only unless `all`) |
//! | `/api/flows/score?date=D[&window_days=K][&limit=N]` | the built-in scorer's N (20) most suspicious flows over a K-day (1) window |
//!
//! Every answer is exactly what the CLI's `--json` prints: both call [`super::queries`].

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

use super::oa::Scored;
use super::queries;
use super::score::as_scored;
use super::settings::FlowsConfig;
use super::storyboard;
use crate::store::Store;

/// How many flows `score` answers without a `limit`, as the CLI prints.
pub const SCORE_LIMIT: usize = 20;

struct ApiState {
    store: Arc<dyn Store>,
    flows: Arc<FlowsConfig>,
}

type Shared = State<Arc<ApiState>>;
type Params = Query<HashMap<String, String>>;

/// The flow routes over `store` with the `[flows]` settings of `flows`.
pub fn routes(store: Arc<dyn Store>, flows: Arc<FlowsConfig>) -> Router {
    Router::new()
        .route("/api/flows/status", get(status))
        .route("/api/flows/suspicious", get(suspicious))
        .route("/api/flows/edges", get(edges))
        .route("/api/flows/chords", get(chords))
        .route("/api/flows/threat", get(threat))
        .route("/api/flows/storyboard", get(storyboard))
        .route("/api/flows/ingest-summary", get(ingest))
        .route("/api/flows/beacons", get(beacons))
        .route("/api/flows/score", get(score))
        .with_state(Arc::new(ApiState { store, flows }))
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

/// The optional number `name` (`default` when absent), at least `min`.
fn number<T: std::str::FromStr + PartialOrd + std::fmt::Display>(q: &HashMap<String, String>, name: &str, default: T, min: T) -> Result<T, Bad>
where
    T::Err: std::fmt::Display,
{
    match q.get(name) {
        None => Ok(default),
        Some(t) => match t.parse::<T>() {
            Ok(n) if n >= min => Ok(n),
            Ok(_) => Err(bad(name, format!("`{t}`: at least {min}"))),
            Err(e) => Err(bad(name, format!("`{t}`: {e}"))),
        },
    }
}

/// The answer, or a 400 for a bad argument, a 500 for a `[flows]` file that cannot be read and
/// a 503 for a store that failed.
fn answer<T: serde::Serialize>(result: crate::Result<T>) -> Response {
    use crate::Error as E;
    match result {
        Ok(v) => axum::Json(v).into_response(),
        Err(E::InvalidArgument(m)) => (StatusCode::BAD_REQUEST, axum::Json(json!({"error": m}))).into_response(),
        Err(e @ (E::Config(_) | E::Io { .. } | E::GeoIp(_))) => (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(json!({"error": e.to_string()}))).into_response(),
        Err(e) => {
            tracing::warn!("flows api: {e}");
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({"error": "the flow store is unavailable"}))).into_response()
        }
    }
}

/// The answer of `read` once the parameters are good.
async fn answered<P, T: serde::Serialize>(params: Result<P, Bad>, read: impl AsyncFnOnce(P) -> crate::Result<T>) -> Response {
    match params {
        Ok(p) => answer(read(p).await),
        Err(e) => e.into_response(),
    }
}

async fn status(State(s): Shared) -> Response {
    answer(queries::status(s.store.as_ref()).await)
}

async fn suspicious(State(s): Shared, Query(q): Params) -> Response {
    let params = date(&q).and_then(|d| Ok((d, ip(&q, "ip")?)));
    answered(params, async |(date, ip)| queries::suspicious(s.store.as_ref(), date, ip, &s.flows.safelist()?).await).await
}

async fn edges(State(s): Shared, Query(q): Params) -> Response {
    let params = required(&q, "tstart").and_then(|t| Ok((t.to_string(), required_ip(&q, "src")?, required_ip(&q, "dst")?)));
    answered(params, async |(tstart, src, dst)| queries::edges(s.store.as_ref(), &tstart, src, dst).await).await
}

/// The `date` and the required `ip` of a threat's reads.
fn date_and_ip(q: &HashMap<String, String>) -> Result<(NaiveDate, IpAddr), Bad> {
    Ok((date(q)?, required_ip(q, "ip")?))
}

async fn chords(State(s): Shared, Query(q): Params) -> Response {
    answered(date_and_ip(&q), async |(date, ip)| queries::chords(s.store.as_ref(), date, ip, &s.flows.screen()?).await).await
}

async fn threat(State(s): Shared, Query(q): Params) -> Response {
    answered(date_and_ip(&q), async |(date, ip)| queries::threat(s.store.as_ref(), date, ip, &s.flows.screen()?).await).await
}

async fn storyboard(State(s): Shared, Query(q): Params) -> Response {
    answered(date_and_ip(&q), async |(date, ip)| storyboard::storyboard(s.store.as_ref(), &s.flows.enricher()?, date, ip, &s.flows.screen()?).await).await
}

async fn ingest(State(s): Shared, Query(q): Params) -> Response {
    answered(date(&q), async |date| queries::ingest(s.store.as_ref(), date).await).await
}

async fn beacons(State(s): Shared, Query(q): Params) -> Response {
    let all = match q.get("all").map(String::as_str) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(bad("all", format!("`{other}`: true or false"))),
    };
    let params = date(&q).and_then(|d| Ok((d, all?)));
    answered(params, async |(date, all)| {
        let report = queries::beacons(s.store.as_ref(), date, s.flows.settings.beacon, &s.flows.screen()?).await?;
        Ok(if all { report } else { report.flagged() })
    })
    .await
}

async fn score(State(s): Shared, Query(q): Params) -> Response {
    let params = date(&q).and_then(|d| Ok((d, number(&q, "window_days", 1u32, 1)?, number(&q, "limit", SCORE_LIMIT, 0)?)));
    answered(params, async |(date, window, limit)| {
        let scored = queries::score(s.store.as_ref(), date, window).await?;
        Ok(scored.iter().take(limit).map(as_scored).collect::<Vec<Scored>>())
    })
    .await
}

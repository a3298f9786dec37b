//! `GET /api/ip/{target}[?from=YYYY-MM-DD][&to=YYYY-MM-DD]` of `vantage serve`: the dossier of
//! an address, a network (`192.0.2.0/24`, the slash percent-encoded as `%2F` or not) or an ASN
//! (`AS64500`) as JSON ([`super::Dossier`]); a bad target or day → 400 `{"error": …}` naming
//! the column; a backend down → 503.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;
use std::collections::HashMap;

use super::{DossierApi, Range};
use crate::engine::{Engine, Error};
use crate::http::error;

/// The dossier route over `engine`.
pub fn routes(engine: Engine) -> Router {
    Router::new().route("/api/ip/{*target}", get(dossier)).with_state(engine)
}

fn day(name: &str, text: Option<&str>) -> Result<Option<NaiveDate>, String> {
    text.map(|t| t.parse::<NaiveDate>().map_err(|e| format!("{name}={t:?}: not a day YYYY-MM-DD ({e})"))).transpose()
}

async fn dossier(State(engine): State<Engine>, Path(target): Path<String>, Query(days): Query<HashMap<String, String>>) -> Response {
    let answer = async {
        let target = DossierApi::target(&target).map_err(|e| error(StatusCode::BAD_REQUEST, e.to_string()))?;
        let (from, to) = (day("from", days.get("from").map(String::as_str)), day("to", days.get("to").map(String::as_str)));
        let (from, to) = (from.map_err(|e| error(StatusCode::BAD_REQUEST, e))?, to.map_err(|e| error(StatusCode::BAD_REQUEST, e))?);
        let range = Range::days(from, to, engine.now()).map_err(|e| error(StatusCode::BAD_REQUEST, e.to_string()))?;
        engine.dossier().of(target, range).await.map_err(|e| {
            let status = match e {
                Error::InvalidArgument(_) => StatusCode::BAD_REQUEST,
                Error::Unavailable(_) | Error::Open { .. } => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            error(status, crate::error::chain_text(&e))
        })
    };
    match answer.await {
        Ok(d) => axum::Json(d).into_response(),
        Err(response) => response,
    }
}

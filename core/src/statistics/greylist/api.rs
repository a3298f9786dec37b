//! `GET /greylist/greylist-latest.csv` and `GET /greylist/archive/<YYYY>/greylist-<YYYY-MM-DD>.csv`
//! of `vantage serve`: the files of the greylist directory, streamed as `text/csv`. Names are
//! checked against those patterns before the file system is touched: anything else (another
//! name, a traversal, a directory) is a 404 `{"error"}`, and nothing is listed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::files::{LATEST, archive_request};
use crate::http::error;

/// The routes serving the files under `dir`.
pub fn routes(dir: PathBuf) -> Router {
    Router::new()
        .route(&format!("/greylist/{LATEST}"), get(latest))
        .route("/greylist/archive/{year}/{name}", get(archive))
        .with_state(Arc::new(dir))
}

async fn latest(State(dir): State<Arc<PathBuf>>) -> Response {
    send(&dir.join(LATEST), LATEST).await
}

async fn archive(State(dir): State<Arc<PathBuf>>, UrlPath((year, name)): UrlPath<(String, String)>) -> Response {
    match archive_request(&year, &name) {
        Some(relative) => send(&dir.join(relative), &name).await,
        None => not_found(),
    }
}

fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such greylist file".into())
}

/// Streams the regular file at `path` as `name`.
async fn send(path: &Path, name: &str) -> Response {
    let Ok(file) = tokio::fs::File::open(path).await else { return not_found() };
    let Ok(meta) = file.metadata().await else { return not_found() };
    if !meta.is_file() {
        return not_found();
    }
    let mut resp = Body::from_stream(tokio_util::io::ReaderStream::new(file)).into_response();
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(meta.len()));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

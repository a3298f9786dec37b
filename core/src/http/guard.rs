//! The guards every answer of `vantage serve` passes through, whatever the route:
//!
//! - **security headers** on every answer (`nosniff`, no framing, no referrer, a CSP that
//!   loads nothing — the API serves data, never pages);
//! - **panics** in a handler become a 500 `{"error": "internal error"}` — no message, no
//!   backtrace in the answer (the log has them) — and the server goes on;
//! - **body limit**: [`DEFAULT_BODY_LIMIT`] for every route that sets none smaller (the
//!   password routes take 1 KiB); a larger body is a 413;
//! - **API tokens** ([`Tokens`], `[serve] tokens_file`): without a valid
//!   `Authorization: Bearer <token>` every route but `/healthz` is a 401.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use futures::FutureExt;

use super::tokens::Tokens;

/// Largest request body of a route that sets no limit of its own (bytes).
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// The headers added to every answer.
const SECURITY_HEADERS: [(HeaderName, &str); 5] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::CONTENT_SECURITY_POLICY, "default-src 'none'; frame-ancestors 'none'"),
    (HeaderName::from_static("cross-origin-resource-policy"), "same-origin"),
];

/// Middleware: adds [`SECURITY_HEADERS`] to the answer.
pub(super) async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    for (name, value) in SECURITY_HEADERS {
        response.headers_mut().insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Middleware: a handler's panic becomes a plain 500 JSON error.
pub(super) async fn catch_panic(request: Request, next: Next) -> Response {
    // a reference-counted copy, not a new string per request
    let uri = request.uri().clone();
    match AssertUnwindSafe(next.run(request)).catch_unwind().await {
        Ok(response) => response,
        Err(_) => {
            let route: String = uri.path().chars().take(200).collect();
            tracing::error!("the handler of {route} panicked; answered 500");
            super::error(StatusCode::INTERNAL_SERVER_ERROR, "internal error".into())
        }
    }
}

/// Middleware: a valid bearer token for every route but `/healthz`.
pub(super) async fn require_token(State(tokens): State<Arc<Tokens>>, request: Request, next: Next) -> Response {
    if request.uri().path() == "/healthz" {
        return next.run(request).await;
    }
    let presented = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).map(str::trim);
    if presented.is_some_and(|t| tokens.check(t).is_some()) {
        return next.run(request).await;
    }
    let message = match presented {
        None => "an API token is required: Authorization: Bearer <token> (vantage token add NAME)",
        Some(_) => "the API token is not valid",
    };
    let mut response = super::error(StatusCode::UNAUTHORIZED, message.into());
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"vantage\""));
    response
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt as _;

    use super::*;
    use crate::http::tokens::new_token;

    async fn boom() -> &'static str {
        panic!("a secret detail")
    }

    fn app(tokens: Tokens) -> Router {
        Router::new()
            .route("/boom", get(boom))
            .route("/healthz", get(|| async { "ok" }))
            .route("/data", get(|| async { "data" }))
            .layer(axum::middleware::from_fn(catch_panic))
            .layer(axum::middleware::from_fn_with_state(Arc::new(tokens), require_token))
            .layer(axum::middleware::from_fn(security_headers))
    }

    async fn call(app: &Router, path: &str, auth: Option<&str>) -> (StatusCode, axum::http::HeaderMap, String) {
        let mut request = Request::get(path);
        if let Some(a) = auth {
            request = request.header(header::AUTHORIZATION, a);
        }
        let response = app.clone().oneshot(request.body(Body::empty()).expect("request")).await.expect("answer");
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, 1 << 16).await.expect("body");
        (parts.status, parts.headers, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn tokens_guard_all_but_healthz_and_a_panic_is_a_plain_500() {
        let (token, line) = new_token("t").expect("token");
        let app = app(Tokens::parse(std::path::Path::new("f"), &line).expect("tokens"));
        let bearer = format!("Bearer {token}");
        assert_eq!(call(&app, "/healthz", None).await.0, StatusCode::OK);
        for auth in [None, Some("Bearer vt_00"), Some(token.as_str()), Some("Basic dDp0")] {
            let (status, headers, body) = call(&app, "/data", auth).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{auth:?}");
            assert!(headers.contains_key(header::WWW_AUTHENTICATE) && body.contains("\"error\""), "{body}");
            assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "guards' answers get the headers too");
        }
        assert_eq!(call(&app, "/data", Some(&bearer)).await.2, "data");
        let (status, headers, body) = call(&app, "/boom", Some(&bearer)).await;
        assert_eq!((status, body.as_str()), (StatusCode::INTERNAL_SERVER_ERROR, r#"{"error":"internal error"}"#));
        for (name, value) in SECURITY_HEADERS {
            assert_eq!(headers[&name], value);
        }
    }
}

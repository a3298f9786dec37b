//! Every status and shape of the three leaked-password APIs (sview `/passcheck/apiv1/`, passy
//! `/api/leaked`, HIBP `/range/{prefix}`), through the real axum router of `vantage serve`,
//! on both backends; passy bodies are validated against the shipped JSON Schemas.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt as _;
use vantage_core::Clock;
use vantage_core::backends::Backends;
use vantage_core::deployment::http_api;
use vantage_core::passwords::import::{self, Format};
use vantage_core::passwords::{Source, sha1_hex};
use vantage_core::progress::NoProgress;
use vantage_core::statistics::service::Statistics;
use vantage_tests::{BOTH, TestStore, cache_and_queue, t};

struct Api(Router);

struct Reply {
    status: StatusCode,
    content_type: String,
    retry_after: Option<String>,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("JSON body expected ({e}): {}", self.body))
    }
}

impl Api {
    async fn send(&self, req: Request<Body>) -> Reply {
        let mut req = req;
        req.extensions_mut().insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        let resp = self.0.clone().oneshot(req).await.expect("router answers");
        let status = resp.status();
        let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let (content_type, retry_after) = (header("content-type").unwrap_or_default(), header("retry-after"));
        let body = axum::body::to_bytes(resp.into_body(), 1 << 20).await.expect("body");
        Reply { status, content_type, retry_after, body: String::from_utf8_lossy(&body).into_owned() }
    }

    async fn post(&self, path: &str, body: impl Into<Body>) -> Reply {
        self.send(Request::post(path).header("content-type", "application/json").body(body.into()).expect("request")).await
    }

    async fn get(&self, path: &str, padding: bool) -> Reply {
        let mut b = Request::get(path);
        if padding {
            b = b.header("Add-Padding", "true");
        }
        self.send(b.body(Body::empty()).expect("request")).await
    }
}

fn schema(name: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(format!("{}/../assets/schemas/{name}", env!("CARGO_MANIFEST_DIR"))).expect("schema file");
    jsonschema::validator_for(&serde_json::from_str(&text).expect("schema JSON")).expect("valid schema")
}

const PW: &str = "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8"; // sha1("password")

#[tokio::test(flavor = "multi_thread")]
async fn the_three_apis_answer_every_case_on_both_backends() {
    let (request_schema, response_schema) = (schema("passy-request.json"), schema("passy-response.json"));
    for kind in BOTH {
        let ts = TestStore::new(kind, t("2024-06-15T12:40:00Z")).await;
        import::import(ts.store.as_ref(), "password\t3\n123456\nletmein\n".as_bytes(), Format::Plain, Some(Source::Telnet), Arc::new(NoProgress)).await.expect("import");
        import::import(ts.store.as_ref(), "password\n".as_bytes(), Format::Plain, Some(Source::Ftp), Arc::new(NoProgress)).await.expect("import");
        let (cache, queue) = cache_and_queue(kind).await;
        let stats = Statistics::new(Backends { store: ts.store.clone(), cache, queue, clock: Clock::Fixed(t("2024-06-15T12:40:00Z")) });
        let api = Api(http_api(stats.backends(), None, Default::default(), None, 0).router);

        // --- sview /passcheck/apiv1/ -------------------------------------------------------
        let r = api.post("/passcheck/apiv1/", json!({"msg_type": "request", "hash": "5BAA61"}).to_string()).await;
        assert_eq!(r.status, StatusCode::OK, "{kind:?}");
        assert_eq!(r.json(), json!({"msg_type": "response", "status": "SUCCESS", "data": [{"hash": PW, "count": 4, "sources": ["telnet", "ftp"]}]}), "{kind:?}: uppercase prefix accepted");
        let r = api.post("/passcheck/apiv1/", json!({"msg_type": "request", "hash": "000000"}).to_string()).await;
        assert_eq!((r.status, r.json()), (StatusCode::OK, json!({"msg_type": "response", "status": "NO_QUERY"})));
        for (body, says) in [
            (json!({"hash": "5baa61"}).to_string(), "missing key `msg_type`"),
            (json!({"msg_type": "request"}).to_string(), "missing key `hash`"),
            (json!({"msg_type": "request", "hash": "5baa61", "x": 1}).to_string(), "unknown key `x`"),
            (json!({"msg_type": "response", "hash": "5baa61"}).to_string(), "msg_type"),
            (json!({"msg_type": "request", "hash": 123456}).to_string(), "must be a string"),
            (json!({"msg_type": "request", "hash": "5baa6"}).to_string(), "6 characters"),
            (json!({"msg_type": "request", "hash": "5baa61e"}).to_string(), "6 characters"),
            (json!({"msg_type": "request", "hash": "5baa6!"}).to_string(), "6 characters"),
            ("[1, 2]".to_string(), "JSON object"),
            ("{\"msg_type\": ".to_string(), "not valid JSON"),
            ("hash=5baa61".to_string(), "not valid JSON"),
            (String::new(), "not valid JSON"),
        ] {
            let r = api.post("/passcheck/apiv1/", body.clone()).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
            let v = r.json();
            assert_eq!((v["msg_type"].as_str(), v["status"].as_str()), (Some("response"), Some("VALIDATION_ERROR")), "{body}");
            assert!(v["error"].as_str().is_some_and(|e| e.contains(says)), "{body}: {v}");
        }
        let huge = format!("{{\"msg_type\": \"request\", \"hash\": \"5baa61\", \"pad\": \"{}\"}}", "x".repeat(100_000));
        let r = api.post("/passcheck/apiv1/", huge).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(r.json()["status"], "VALIDATION_ERROR", "a huge body gets a JSON error too");

        // --- passy /api/leaked ---------------------------------------------------------------
        for (req, count) in [(json!({"hash": "5BAA6"}), 1), (json!({"hash": PW}), 1), (json!({"hash": "00000"}), 0), (json!({"hash": "7c4a8d"}), 1)] {
            assert!(request_schema.is_valid(&req), "{req}");
            let r = api.post("/api/leaked", req.to_string()).await;
            assert_eq!(r.status, StatusCode::OK, "{req}");
            let v = r.json();
            assert!(response_schema.is_valid(&v), "{kind:?}: {v} matches the response schema");
            assert_eq!(v["hashes"].as_array().map(Vec::len), Some(count), "{req}: {v}");
        }
        let v = api.post("/api/leaked", json!({"hash": "5baa6"}).to_string()).await.json();
        assert_eq!(v, json!({"hashes": [{"hash": PW, "count": 4, "sources": ["telnet", "ftp"]}]}));
        for req in [json!({"hash": "5baa"}), json!({"hash": format!("{PW}0")}), json!({"hash": "5baaz"}), json!({"prefix": "5baa6"}), json!({"hash": "5baa6", "more": true}), json!({"hash": 5})] {
            let r = api.post("/api/leaked", req.to_string()).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{req}");
            assert!(!request_schema.is_valid(&req), "the schema rejects {req} too");
            assert!(response_schema.is_valid(&r.json()), "{}", r.body);
        }
        for body in ["[\"5baa6\"]", "not json", ""] {
            let r = api.post("/api/leaked", body).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
            assert!(response_schema.is_valid(&r.json()));
        }

        // --- HIBP /range/{prefix} ------------------------------------------------------------
        for prefix in ["5baa6", "5BAA6"] {
            let r = api.get(&format!("/range/{prefix}"), false).await;
            assert_eq!((r.status, r.content_type.as_str()), (StatusCode::OK, "text/plain"));
            assert_eq!(r.body, format!("{}:4", PW[5..].to_uppercase()), "{prefix}");
        }
        assert_eq!(api.get("/range/00000", false).await.body, "", "no match: an empty 200");
        let padded = api.get("/range/5baa6", true).await;
        let lines: Vec<&str> = padded.body.split("\r\n").collect();
        assert!((800..=1000).contains(&lines.len()), "{}", lines.len());
        assert!(lines.contains(&format!("{}:4", PW[5..].to_uppercase()).as_str()));
        assert_eq!(lines.iter().filter(|l| !l.ends_with(":0")).count(), 1, "decoys have count 0");
        assert!(lines.iter().all(|l| l.len() >= 37 && l[..35].bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))), "SUFFIX:COUNT");
        for bad in ["5baa", "5baa61", "5baaz", "..%2F..%2Fetc"] {
            let r = api.get(&format!("/range/{bad}"), false).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
            assert!(r.json()["error"].as_str().is_some(), "{bad}");
        }

        // --- rate limit per client ---------------------------------------------------------------
        let limited = Api(http_api(stats.backends(), None, Default::default(), None, 3).router);
        let mut replies = Vec::new();
        for _ in 0..10 {
            replies.push(limited.get("/range/5baa6", false).await);
        }
        assert!(replies[..3].iter().all(|r| r.status == StatusCode::OK), "the first 3 requests pass");
        let refused = replies.iter().find(|r| r.status == StatusCode::TOO_MANY_REQUESTS).expect("10 requests at once: some are over 3/s");
        assert_eq!(refused.retry_after.as_deref(), Some("1"));
        assert!(refused.json()["error"].as_str().is_some());
        ts.finish().await;
    }
    assert_eq!(sha1_hex("password"), PW);
}

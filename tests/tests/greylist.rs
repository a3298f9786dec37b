//! The greylist (statistics.md, "Greylist and DynFW") on sview's development data with the
//! clock pinned, on both backends: the export equals the rule applied by hand to the raw rows
//! ([`vantage_tests::greylist::expected_csv`]), there is one archive file per day (another
//! day adds one, the same day replaces it), `serve` answers the same bytes, and traversals,
//! listings and bad names are JSON 404s.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt as _;
use vantage_core::config::Overrides;
use vantage_core::engine::Engine;
use vantage_core::geo::GeoIp;
use vantage_tests::greylist::{expected_csv, intelmq_view};
use vantage_tests::sview::{self, DATA_NOW};
use vantage_tests::{BOTH, TestStore, t};

const DAYS: i64 = 7;
const MIN_INCIDENTS: i64 = 2;
const NEXT_DAY: &str = "2024-06-16T12:34:56Z";
const SAME_DAY_LATER: &str = "2024-06-15T23:59:59Z";

fn geoip_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join("geoip")
}

/// The rule by hand at `now`, countries from the fixture GeoIP databases.
fn expected(now: &str) -> String {
    let geo = GeoIp::open_dir(&geoip_dir()).expect("geoip fixtures");
    expected_csv(t(now), DAYS, MIN_INCIDENTS, |ip| geo.lookup(ip).country)
}

/// An engine on `ts` with the clock at `now` and a `[greylist]` section writing to `out`.
async fn engine_at(ts: &TestStore, now: &str, out: &Path) -> Engine {
    let file = ts.data_dir().join("vantage.toml");
    std::fs::write(&file, format!("[greylist]\ndays = {DAYS}\nmin_incidents = {MIN_INCIDENTS}\ndir = {:?}\n", out.display().to_string())).expect("write config");
    let config = Engine::load_config(Overrides {
        config_file: Some(file),
        database_url: ts.config.database_url.as_ref().map(|u| u.expose().to_string()),
        data_dir: Some(ts.data_dir()),
        geoip_dir: Some(geoip_dir()),
        now: Some(now.to_string()),
        ..Overrides::default()
    })
    .expect("config");
    Engine::open(&config).await.expect("engine")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The names in a directory, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir).expect("read dir").map(|e| e.expect("entry").file_name().to_string_lossy().into_owned()).collect();
    out.sort();
    out
}

/// Exports at `now` and checks both files against the rule by hand; returns the CSV.
async fn export_at(ts: &TestStore, now: &str, out: &Path, archive: &str) -> String {
    let engine = engine_at(ts, now, out).await;
    let written = engine.statistics().export_greylist(None).await.expect("export");
    engine.close().await;
    let want = expected(now);
    assert_eq!((written.latest.clone(), written.archive.clone()), (out.join("greylist-latest.csv"), out.join(archive)), "{:?}", ts.kind);
    assert_eq!(read(&written.latest), want, "{:?} at {now}", ts.kind);
    assert_eq!(read(&written.archive), want, "{:?} at {now}", ts.kind);
    assert_eq!(written.addresses, want.lines().count() - 1);
    want
}

#[tokio::test(flavor = "multi_thread")]
async fn export_is_the_rule_by_hand_with_one_archive_file_per_day_on_both_backends() {
    for kind in BOTH {
        let ts = sview::load(kind, t(DATA_NOW)).await;
        let out = ts.data_dir().join("greylist-out");
        let first = export_at(&ts, DATA_NOW, &out, "archive/2024/greylist-2024-06-15.csv").await;
        let listed = intelmq_view(&first);
        assert!(listed.len() >= 2, "the rule lists some of the data's addresses: {first}");
        assert!(listed.iter().any(|(_, tags)| tags.contains(',')), "an address seen by several traps: {first}");
        assert!(!first.contains("198.51.100.10"), "one incident is below the threshold: {first}");
        assert!(first.contains(",2024-06-08T12:34:56Z,"), "a row exactly `days` ago counts: {first}");

        let next = export_at(&ts, NEXT_DAY, &out, "archive/2024/greylist-2024-06-16.csv").await;
        assert_ne!(next, first, "a day later the window has moved");
        assert_eq!(read(&out.join("archive/2024/greylist-2024-06-15.csv")), first, "the earlier day's file stays");

        export_at(&ts, SAME_DAY_LATER, &out, "archive/2024/greylist-2024-06-15.csv").await;
        assert_eq!(names(&out.join("archive/2024")), ["greylist-2024-06-15.csv", "greylist-2024-06-16.csv"], "one file per day, no leftovers");
        assert_eq!(names(&out), ["archive", "greylist-latest.csv"]);
        ts.finish().await;
    }
}

/// (status, content type, body) of a GET through the router of `vantage serve`.
async fn get(router: &axum::Router, path: &str) -> (StatusCode, String, Vec<u8>) {
    let resp = router.clone().oneshot(Request::get(path).body(Body::empty()).expect("request")).await.expect("router answers");
    let content_type = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let status = resp.status();
    (status, content_type, axum::body::to_bytes(resp.into_body(), 1 << 20).await.expect("body").to_vec())
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_answers_the_files_bytes_and_404s_everything_else_on_both_backends() {
    for kind in BOTH {
        let ts = sview::load(kind, t(DATA_NOW)).await;
        let out = ts.data_dir().join("greylist");
        let engine = engine_at(&ts, DATA_NOW, &out).await;
        let router = engine.http_api(0).router;
        let (status, _, body) = get(&router, "/greylist/greylist-latest.csv").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "nothing exported yet");
        assert!(String::from_utf8_lossy(&body).contains("\"error\""));

        engine.statistics().export_greylist(None).await.expect("export");
        for (path, file) in [("/greylist/greylist-latest.csv", "greylist-latest.csv"), ("/greylist/archive/2024/greylist-2024-06-15.csv", "archive/2024/greylist-2024-06-15.csv")] {
            let (status, content_type, body) = get(&router, path).await;
            assert_eq!((status, content_type.as_str()), (StatusCode::OK, "text/csv; charset=utf-8"), "{path}");
            assert_eq!(body, std::fs::read(out.join(file)).expect("file"), "{kind:?} {path}: the same bytes");
            assert_eq!(String::from_utf8(body).expect("utf-8"), expected(DATA_NOW));
        }
        std::fs::write(ts.data_dir().join("secret.csv"), "not for you").expect("write");
        for path in [
            "/greylist/",
            "/greylist",
            "/greylist/archive",
            "/greylist/archive/2024",
            "/greylist/archive/2024/",
            "/greylist/archive/2024/greylist-2024-06-14.csv",
            "/greylist/archive/2024/greylist-2024-02-30.csv",
            "/greylist/archive/2023/greylist-2024-06-15.csv",
            "/greylist/archive/2024/..%2F..%2Fgreylist-latest.csv",
            "/greylist/archive/..%2F..%2F/secret.csv",
            "/greylist/archive/2024/..%2F..%2F..%2Fsecret.csv",
            "/greylist/../secret.csv",
            "/greylist/%2E%2E/secret.csv",
            "/greylist/archive/2024/greylist-2024-06-15.csv%00",
            "/greylist/greylist-2024-06-15.csv",
            "/greylist/archive/2024/greylist-2024-06-15.txt",
        ] {
            let (status, content_type, body) = get(&router, path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{kind:?} {path}");
            assert!(content_type.starts_with("application/json"), "{path}: {content_type}");
            assert!(!String::from_utf8_lossy(&body).contains("not for you"), "{path}");
        }
        engine.close().await;
        ts.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_worker_scheduler_writes_the_days_snapshot_on_both_backends() {
    for kind in BOTH {
        let ts = sview::load(kind, t(DATA_NOW)).await;
        let out = ts.data_dir().join("greylist");
        let engine = engine_at(&ts, DATA_NOW, &out).await;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let options = vantage_core::worker::WorkerOptions { concurrency: 1, ..Default::default() };
        let workers = tokio::spawn({
            let engine = engine.clone();
            async move { engine.ops().run_workers(options, stopped).await }
        });
        // the scheduler plans at once when it starts; the file appears when the snapshot is renamed into place
        let archive = out.join("archive/2024/greylist-2024-06-15.csv");
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        while !archive.exists() {
            assert!(tokio::time::Instant::now() < deadline, "{kind:?}: no snapshot from the scheduler");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        stop.send_replace(true);
        workers.await.expect("join").expect("workers");
        assert_eq!((read(&archive), read(&out.join("greylist-latest.csv"))), (expected(DATA_NOW), expected(DATA_NOW)), "{kind:?}");
        engine.close().await;
        ts.finish().await;
    }
}

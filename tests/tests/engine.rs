//! The engine facade on both stores: requests in, events out, never blocking the caller;
//! a resource not cached yet is answered twice (not ready, then computed by the engine's
//! in-process workers).

use std::time::{Duration, Instant};

use vantage_core::engine::{Channel, Request, RequestKind, Update};
use vantage_core::statistics::aggregation::Precision;
use vantage_core::statistics::periods::Period;
use vantage_core::statistics::resources::Params;
use vantage_tests::{BOTH, sview, t};

fn next(engine: &Channel, what: &str, mut pick: impl FnMut(&Update) -> bool) -> Update {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(e) = engine.recv_timeout(Duration::from_millis(100))
            && pick(&e)
        {
            return e;
        }
    }
    panic!("no {what} event");
}

#[tokio::test(flavor = "multi_thread")]
async fn engine_answers_requests_with_events_on_both_stores() {
    for kind in BOTH {
        let ts = sview::load(kind, t("2024-06-15T12:40:00Z")).await;
        let engine = Channel::start(ts.config.clone()).expect("start");
        let ready = next(&engine, "ready", |e| matches!(e, Update::Ready { .. } | Update::Unavailable { .. } | Update::Failed { .. }));
        assert!(matches!(&ready, Update::Ready { store, cache } if cache == "memory" && store == if kind == vantage_tests::Kind::Sqlite { "sqlite" } else { "postgres" }), "{ready:?}");

        // an on-demand resource nobody computed yet: answered at once (not ready), then again
        let params = Params { ip: Some("192.0.2.1".into()), ..Params::default() };
        let started = Instant::now();
        engine.send(Request::Resource { name: "selected_attacker_incidents_graph".into(), period: Period::Hour, params: params.clone() });
        assert!(started.elapsed() < Duration::from_millis(50), "send never blocks");
        let first = next(&engine, "first answer", |e| matches!(e, Update::Resource { .. }));
        let Update::Resource { read, .. } = first else { unreachable!() };
        assert!(read.data.is_none() && read.refreshing, "{kind:?}: not cached yet, computation queued");
        let fresh = next(&engine, "computed value", |e| matches!(e, Update::Resource { read, .. } if read.data.is_some()));
        let Update::Resource { read, .. } = fresh else { unreachable!() };
        let points: Vec<i64> = read.data.as_ref().and_then(|d| d.as_array()).map(|a| a.iter().filter_map(|p| p["count"].as_i64()).collect()).unwrap_or_default();
        assert_eq!((points.len(), points.iter().sum::<i64>()), (55, 2), "{kind:?}: 192.0.2.1 at 12:34:56 and 11:54:56");

        // a precached one (the engine's own planner may have computed it already)
        engine.send(Request::Resource { name: "all_incidents_graph".into(), period: Period::Hour, params: Params::default() });
        let graph = next(&engine, "1h graph", |e| matches!(e, Update::Resource { name, read, .. } if name == "all_incidents_graph" && read.data.is_some()));
        let Update::Resource { read, .. } = graph else { unreachable!() };
        assert_eq!(read.data.as_ref().and_then(|d| d.as_array()).map(Vec::len), Some(55), "{kind:?}");

        let asked = engine.send(Request::Resource { name: "no_such_graph".into(), period: Period::Hour, params: Params::default() });
        let err = next(&engine, "error", |e| matches!(e, Update::Failed { .. }));
        assert!(
            matches!(&err, Update::Failed { id, kind: RequestKind::Resource, error } if *id == asked && error.to_string().contains("unknown resource")),
            "{err:?}"
        );

        engine.send(Request::Migrate { precision: Precision::Daily, days: 3 });
        next(&engine, "progress", |e| matches!(e, Update::Progress { total: Some(3), .. }));
        let done = next(&engine, "migrated", |e| matches!(e, Update::Migrated(_)));
        assert!(matches!(done, Update::Migrated(r) if r.windows == 3));

        engine.send(Request::Jobs);
        next(&engine, "jobs", |e| matches!(e, Update::Jobs(_)));
        engine.shutdown();
        ts.finish().await;
    }
}

/// Back-fills the last 40 days at quarterly precision through a channel on `ts`; with
/// `cancel`, cancels it once it has finished its first windows and waits for the cancellation.
/// Returns the last run's report and the quarterly incidents afterwards, sorted.
async fn backfill_through_a_channel(ts: &vantage_tests::TestStore, cancel: bool) -> (vantage_core::statistics::aggregation::AggregationReport, Vec<String>) {
    use vantage_core::statistics::model::{DataType, Level};
    let engine = Channel::start(ts.config.clone()).expect("start");
    next(&engine, "ready", |e| matches!(e, Update::Ready { .. }));
    let migrate = Request::Migrate { precision: Precision::Quarterly, days: 40 };
    if cancel {
        let id = engine.send(migrate.clone());
        next(&engine, "the back-fill under way", |e| matches!(e, Update::Progress { done, total: Some(total), .. } if *done >= 100 && done < total));
        assert_eq!(engine.cancel(RequestKind::Migrate), 1, "{:?}: the back-fill was running", ts.kind);
        let ended = next(&engine, "the back-fill's end", |e| matches!(e, Update::Cancelled { .. } | Update::Migrated(_) | Update::Failed { .. }));
        assert!(matches!(ended, Update::Cancelled { id: i, kind: RequestKind::Migrate } if i == id), "{:?}: {ended:?}", ts.kind);
    }
    // (after a cancel: a request of the same kind sent after it runs)
    engine.send(migrate);
    let done = next(&engine, "the back-fill's end", |e| matches!(e, Update::Migrated(_) | Update::Failed { .. } | Update::Cancelled { .. }));
    let Update::Migrated(report) = done else { panic!("{:?}: {done:?}", ts.kind) };
    assert!(report.failed.is_empty() && report.replaced == 0, "{:?}: {report:?}", ts.kind);
    engine.shutdown();
    let mut rows: Vec<String> = ts.store.table_rows(DataType::Incidents, Level::Quarterly).await.expect("rows").iter().map(|r| format!("{r:?}")).collect();
    rows.sort();
    (report, rows)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_backfill_keeps_what_it_finished_and_the_rerun_aggregates_every_window_once() {
    let now = t("2024-06-16T00:10:00Z");
    for kind in BOTH {
        let plain = sview::load(kind, now).await;
        let (whole, expected) = backfill_through_a_channel(&plain, false).await;
        plain.finish().await;
        assert!(expected.len() > 10, "{kind:?}: the last 40 days hold incidents");
        // (the engine's own scheduler may aggregate the latest windows meanwhile: a few pairs)
        assert!(whole.skipped < 30, "{kind:?}: {whole:?}");

        let cancelled = sview::load(kind, now).await;
        let (rerun, rows) = backfill_through_a_channel(&cancelled, true).await;
        assert_eq!(rerun.windows, whole.windows);
        assert!(rerun.skipped >= 300, "{kind:?}: the 100+ windows the cancelled run finished stay done: {rerun:?}");
        assert_eq!(rows, expected, "{kind:?}: cancelled, then run again: the same rows as one uninterrupted run");
        cancelled.finish().await;
    }
}

/// The dashboard's `events import` (palette → [`Request::Import`]): the sample with one bad
/// line appended is stored but for that line, which is reported `file:line: …`; a large import
/// cancelled once its first batch is in stores nothing (one transaction, rolled back) — on
/// both stores.
#[tokio::test(flavor = "multi_thread")]
async fn an_import_through_the_channel_reports_what_it_stored_and_a_cancelled_one_stores_nothing() {
    use vantage_core::engine::Import;
    use vantage_tests::events::{event, fixture_lines};
    let dir = tempfile::tempdir().expect("tempdir");
    let mut lines = fixture_lines();
    lines.push("{not json".into());
    let sample = dir.path().join("sample.jsonl");
    std::fs::write(&sample, lines.join("\n") + "\n").expect("sample");
    let big = dir.path().join("big.jsonl");
    let many: Vec<String> = (0..120_000).map(|i| event("2024-06-14T10:00:00Z", &format!("10.{}.{}.{}", i >> 16 & 255, i >> 8 & 255, i & 255), 64512, "abusive-content", "spam", "test")).collect();
    std::fs::write(&big, many.join("\n") + "\n").expect("big");
    for kind in BOTH {
        let ts = vantage_tests::TestStore::new(kind, t("2024-06-15T12:40:00Z")).await;
        let engine = Channel::start(ts.config.clone()).expect("start");
        next(&engine, "ready", |e| matches!(e, Update::Ready { .. }));

        engine.send(Request::Import { what: Import::Events, files: vec![sample.clone()], strict: false });
        let done = next(&engine, "the import's end", |e| matches!(e, Update::Imported { .. } | Update::Failed { .. }));
        let Update::Imported { what, imported, rejected, committed, rejections } = done else { panic!("{kind:?}: {done:?}") };
        assert_eq!((what, committed, rejected), (Import::Events, true, 1), "{kind:?}: {rejections:?}");
        let bad_line = format!("{}:{}:", sample.display(), lines.len());
        assert!(rejections.len() == 1 && rejections[0].starts_with(&bad_line), "{kind:?}: {rejections:?}");
        let stored = ts.store.events_status().await.expect("status").events;
        assert!(imported > 300 && u64::try_from(stored).ok() == Some(imported), "{kind:?}: {imported} imported, {stored} stored");

        let asked = engine.send(Request::Import { what: Import::Events, files: vec![big.clone()], strict: false });
        next(&engine, "the big import under way", |e| matches!(e, Update::Progress { done, .. } if *done >= 10_000));
        assert_eq!(engine.cancel(RequestKind::Import), 1, "{kind:?}: the import was running");
        let ended = next(&engine, "the big import's end", |e| matches!(e, Update::Cancelled { .. } | Update::Imported { .. } | Update::Failed { .. }));
        assert!(matches!(ended, Update::Cancelled { id, kind: RequestKind::Import } if id == asked), "{kind:?}: {ended:?}");
        assert_eq!(ts.store.events_status().await.expect("status").events, stored, "{kind:?}: nothing of the cancelled import is stored");

        engine.send(Request::Import { what: Import::Flows, files: vec![dir.path().join("missing.csv")], strict: false });
        let failed = next(&engine, "the missing file's error", |e| matches!(e, Update::Failed { .. } | Update::Imported { .. }));
        assert!(matches!(&failed, Update::Failed { kind: RequestKind::Import, error, .. } if error.to_string().contains("missing.csv")), "{kind:?}: {failed:?}");
        engine.shutdown();
        ts.finish().await;
    }
}

//! The desktop app on a PostgreSQL cluster and a Redis of the test's own (never the shared
//! ones), with a worker beside it — the library's worker loop on the test's runtime, as
//! `vantage worker --no-schedule` runs it — computing what the app asks for. Redis stopped,
//! later PostgreSQL: the period bar names the outage while it lasts and what was loaded stays
//! shown; once the service is back the bar clears by itself and views load again, the same app.

mod support;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use vantage_core::engine::Engine;
use vantage_core::progress::NoProgress;
use vantage_core::statistics::aggregation::Precision;
use vantage_core::statistics::ingest::{IngestOptions, Source};
use vantage_core::worker::WorkerOptions;
use vantage_tests::process::{PgCluster, RedisServer};
use vantage_views::panels::Tab;

use support::{App, drawn_containing, loaded, loaded_panel, open_tab, until};

/// What the period bar says of an outage, as drawn.
fn outage_drawn(h: &App) -> Vec<String> {
    drawn_containing(h, "Unavailable: ")
}

#[test]
fn the_period_bar_reports_redis_and_postgres_outages_while_they_last_and_the_app_recovers() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime");
    let mut pg = PgCluster::start();
    pg.create_db("vantage");
    let mut redis = RedisServer::start(None);
    let dir = tempfile::tempdir().expect("dir");
    let config = support::config_in(dir.path(), Some(pg.url("vantage")), &format!("redis_url = \"{}\"\n", redis.url(None)));

    // Sentinel View's development data, aggregated, and a worker serving the queue
    let data = dir.path().join("sview.jsonl");
    std::fs::write(&data, vantage_tests::sview::testdata_jsonl()).expect("write");
    let worker = runtime.block_on(async {
        let engine = Engine::open(&config).await.expect("the worker's engine");
        engine.statistics().ingest(vec![Source::File(data)], IngestOptions::default(), Arc::new(NoProgress)).await.expect("ingest");
        for precision in [Precision::Quarterly, Precision::Hourly] {
            engine.statistics().backfill(precision, 2, false, Arc::new(NoProgress)).await.expect("back-fill");
        }
        engine
    });
    let (stop, stopped) = watch::channel(false);
    let options = WorkerOptions { concurrency: 1, schedule: false, lease: Duration::from_secs(2), ..WorkerOptions::default() };
    let serving = runtime.spawn(async move { worker.ops().run_workers(options, stopped).await });

    let mut h = support::app_on(config, None);
    let countries = loaded_panel(&mut h, "Top countries");
    assert_eq!(h.state().session.app.backend.as_deref(), Some("postgres + redis"));
    assert_eq!(outage_drawn(&h), Vec::<String>::new());

    // Redis stops: the bar names the cache; the loaded panel stays
    redis.stop();
    until(&mut h, "the cache's outage in the period bar", |h| h.state().session.app.outage.as_deref().is_some_and(|o| o.starts_with("cache unavailable")));
    let drawn = outage_drawn(&h);
    assert!(!drawn.is_empty() && drawn.iter().all(|d| d.starts_with("Unavailable: cache unavailable: redis: ")), "{drawn:?}");
    assert!(loaded(&h, &countries), "what was loaded stays shown");
    redis.restart(None);
    until(&mut h, "the bar clear after Redis returned", |h| h.state().session.app.outage.is_none() && outage_drawn(h).is_empty());
    assert_eq!(h.state().session.app.notice.as_deref(), Some("the store and the cache answer again"));

    // PostgreSQL stops: the bar names the store alone
    pg.stop();
    until(&mut h, "the store's outage in the period bar", |h| h.state().session.app.outage.as_deref().is_some_and(|o| o.starts_with("store unavailable")));
    let outage = h.state().session.app.outage.clone().unwrap_or_default();
    assert!(!outage.contains("cache unavailable"), "only the store is out: {outage}");
    assert!(loaded(&h, &countries), "what was loaded stays shown");
    pg.restart();
    until(&mut h, "the bar clear after PostgreSQL returned", |h| h.state().session.app.outage.is_none() && outage_drawn(h).is_empty());

    // a view never loaded before comes from the recovered store and cache
    open_tab(&mut h, Tab::Attackers);
    loaded_panel(&mut h, "Top attackers");
    stop.send(true).expect("the worker listens");
    runtime.block_on(serving).expect("the worker's task").expect("the worker stops cleanly");
}

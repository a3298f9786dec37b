//! Every dashboard view with demo data and the clock pinned, drawn into ratatui's
//! `TestBackend` at 80×24 and 160×48 and compared with the committed snapshots
//! (`tui/tests/snapshots/`, reviewed by eye; `cargo insta review` after a deliberate change).
//! The same views on the production backends (PostgreSQL + Redis) must draw the same screens.

use std::path::Path;
use std::sync::Arc;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use vantage_core::Clock;
use vantage_core::engine::{Request, Update};
use vantage_core::events::questions;
use vantage_core::geo::GeoIp;
use vantage_core::pcap::service::PcapService;
use vantage_core::progress::NoProgress;
use vantage_core::statistics::demo;
use vantage_core::statistics::resources;
use vantage_core::statistics::service::{ResourceRead, Statistics};
use vantage_tests::{BOTH, Kind, TestStore, cache_and_queue, t};
use vantage_views::app::{App, Effect};
use vantage_views::keys::Action;
use vantage_views::panels::Tab;
use vantage_tui::dashboard::view;

/// Answers the app's requests the way the engine would, synchronously.
async fn serve(app: &mut App, stats: &Statistics, geo: &GeoIp, pcap: &PcapService, effects: Vec<Effect>) {
    let now = stats.clock.now();
    for effect in effects {
        let Effect::Engine(request) = effect else { continue };
        let event = match request {
            Request::Resource { name, period, params } => {
                let resource = resources::find(&name).expect("known resource");
                let data = stats.compute_and_cache(resource, period, &params, now).await.expect("computes");
                Update::Resource { name, period, params, read: ResourceRead { data: Some(data), computed_at: Some(now), refreshing: false } }
            }
            Request::Jobs => Update::Jobs(stats.queue.snapshot().await.expect("snapshot")),
            Request::Entries { prefix } => {
                // TTLs count down in real time (Redis): shown rounded up to the minute
                let mut entries = stats.cache.scan(&prefix).await.expect("scan");
                for e in &mut entries {
                    e.ttl_seconds = e.ttl_seconds.map(|s| s.div_ceil(60) * 60);
                }
                Update::Entries { prefix, entries }
            }
            Request::Geo { ip } => Update::Geo { ip, info: geo.lookup(ip), sources: geo.sources() },
            Request::LeakedTop { limit } => Update::LeakedTop(stats.store.pwned_top(limit).await.expect("top")),
            Request::PcapJobs => Update::PcapJobs(pcap.statuses().expect("spool")),
            Request::Events { view, filter, days } => {
                let table = questions::ask(stats.store.as_ref(), view, &questions::last_days(&filter, days, now)).await.expect("events answer");
                Update::Events { view, filter, days, table }
            }
            // the spool's free space differs from run to run: not shown in snapshots
            Request::PcapSensors => Update::PcapSensors(pcap.sensor_stats(&[]).await.expect("sensors"), None),
            other => panic!("unexpected request {other:?}"),
        };
        app.on_event(event);
    }
}

fn render(app: &App, w: u16, h: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    terminal.draw(|f| view::draw(f, app)).expect("draw");
    let buf = terminal.backend().buffer().clone();
    (0..h).map(|y| (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>().trim_end().to_string()).collect::<Vec<_>>().join("\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn every_view_with_demo_data_on_both_backends() {
    let now = t("2024-06-15T12:40:00Z");
    let geo = GeoIp::open_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/geoip")).expect("fixtures");
    let mut embedded: Vec<(String, String)> = Vec::new();
    for kind in BOTH {
        let ts = TestStore::new(kind, now).await;
        let report = demo::run(ts.store.as_ref(), 42, now, 0.05, Arc::new(NoProgress)).await.expect("demo");
        // what `vantage demo` does next: the attempted passwords fill the leaked-password store
        vantage_core::passwords::import::from_statistics(ts.store.as_ref(), Arc::new(NoProgress)).await.expect("leaked passwords");
        let (cache, queue) = cache_and_queue(kind).await;
        let stats = Statistics::new(vantage_core::backends::Backends { store: ts.store.clone(), cache, queue: queue.clone(), clock: Clock::Fixed(now) });
        let spool = tempfile::tempdir().expect("spool");
        let pcap = PcapService::new(vantage_core::pcap::settings::PcapConfig::with_spool(spool.path().to_path_buf()), queue, Clock::Fixed(now));
        let mut app = App::new(vec![report.demo_device_token.clone()], false);
        // the same deployment line on both, so that the screens can be compared
        app.on_event(Update::Ready { store: "store".into(), cache: "cache".into() });
        let mut screens = Vec::new();
        let mut visit = |app: &App, view: &str| {
            for (w, h) in [(80, 24), (160, 48)] {
                screens.push((format!("{view}_{w}x{h}"), render(app, w, h)));
            }
        };
        for tab in Tab::ALL {
            let effects = app.apply(Action::Tab(tab));
            serve(&mut app, &stats, &geo, &pcap, effects).await;
            visit(&app, &format!("{tab:?}").to_lowercase());
        }
        // drill-downs: the top attacker, then the top password
        for (tab, view) in [(Tab::Attackers, "attacker_detail"), (Tab::Passwords, "password_detail")] {
            let effects = app.apply(Action::Tab(tab));
            serve(&mut app, &stats, &geo, &pcap, effects).await;
            if tab == Tab::Attackers {
                app.apply(Action::Focus(1));
            }
            let effects = app.apply(Action::Open);
            assert!(app.detail.is_some(), "{view} opened");
            serve(&mut app, &stats, &geo, &pcap, effects).await;
            visit(&app, view);
        }
        let effects = app.apply(Action::Period(1));
        serve(&mut app, &stats, &geo, &pcap, effects).await;
        visit(&app, "password_detail_1w");
        ts.finish().await;
        match kind {
            Kind::Sqlite => embedded = screens,
            Kind::Postgres => {
                assert_eq!(screens.len(), embedded.len());
                for ((name, pg), (_, sqlite)) in screens.iter().zip(&embedded) {
                    assert_eq!(pg, sqlite, "{name}: PostgreSQL + Redis draws what SQLite + in-process draws");
                }
            }
        }
    }
    for (name, screen) in &embedded {
        assert!(!screen.contains("loading"), "{name} has all its data:\n{screen}");
        insta::assert_snapshot!(name.as_str(), screen);
    }
}

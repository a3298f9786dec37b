//! Every dashboard view with demo data and the clock pinned, drawn into ratatui's
//! `TestBackend` at 80×24 and 160×48 and compared with the committed snapshots
//! (`tui/tests/snapshots/`, reviewed by eye; `cargo insta review` after a deliberate change).
//! The same views on the production backends (PostgreSQL + Redis) must draw the same screens.
//! The Flows tab shows the demo's flows day after its OA run, answered by the engine's own
//! flows requests, with a `[flows]` section naming internal ranges and a reputation list.
//! The DynFW tab shows a demo feed replayed over the greylisted demo attackers with pinned
//! times ([`vantage_tests::dynfw_sample`]), and the attacker detail the top attacker's
//! membership in it and in the greylist, answered by the engine's own DynFW reads.

use std::path::Path;
use std::sync::Arc;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use vantage_core::Clock;
use vantage_core::config::Overrides;
use vantage_core::dynfw::service::FeedHandle;
use vantage_core::engine::channel::dynfw::{self, DynfwRequest, DynfwUpdate};
use vantage_core::engine::channel::flows;
use vantage_core::engine::{Engine, Parts, Request, Update};
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

/// What answers the app's requests: the statistics, GeoIP and capture parts as the engine
/// would, and the engine itself for flows and DynFW (with the sample feed).
struct Answers {
    stats: Statistics,
    geo: GeoIp,
    pcap: Arc<PcapService>,
    engine: Engine,
    feed: FeedHandle,
}

/// Answers the app's requests (and those their answers lead to), synchronously.
async fn serve(app: &mut App, parts: &Answers, mut effects: Vec<Effect>) {
    let Answers { stats, geo, pcap, engine, feed } = parts;
    let now = stats.clock.now();
    while !effects.is_empty() {
        let Effect::Engine(request) = effects.remove(0) else { continue };
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
            Request::Flows(request) => Update::Flows(flows::answer(engine, request).await.expect("flows answer")),
            Request::Dynfw(DynfwRequest::Status) => Update::Dynfw(DynfwUpdate::Status(Some(Box::new(feed.status(now))))),
            Request::Dynfw(DynfwRequest::Membership { ip }) => {
                Update::Dynfw(DynfwUpdate::Membership(dynfw::membership(engine, Some(feed), ip).await.expect("membership")))
            }
            other => panic!("unexpected request {other:?}"),
        };
        effects.extend(app.on_event(event));
    }
}

/// The demo's feed over the greylisted demo attackers (most incidents first, as
/// `vantage demo` replays it), their countries from the GeoIP fixtures, its last message 40 s
/// before the pinned clock.
async fn demo_feed(engine: &Engine, geo: &GeoIp) -> FeedHandle {
    let mut greylist = engine.statistics().greylist().await.expect("the greylist");
    greylist.sort_by(|a, b| b.count.cmp(&a.count).then(a.address.cmp(&b.address)));
    let pool = greylist.into_iter().take(40).map(|e| e.address).collect();
    let geo = geo.clone();
    let country_of: vantage_core::dynfw::feed::CountryOf = Arc::new(move |ip| {
        let code = geo.lookup(ip).country?;
        let b = code.as_bytes();
        (b.len() == 2).then(|| [b[0], b[1]])
    });
    vantage_tests::dynfw_sample::demo_feed(pool, country_of, t(NOW) - chrono::Duration::seconds(40 * 20 + 40), 40).0
}

/// The engine on the test store, with internal ranges and a reputation list, after the OA run
/// of the demo's flows day.
async fn flows_engine(ts: &TestStore) -> Engine {
    let dir = ts.data_dir();
    std::fs::write(dir.join("reputation.csv"), "203.0.113.80,C2,3\n64.13.134.52,SCANME,1\n").expect("reputation list");
    let toml = "[flows]\ninternal = [\"10.0.0.0/8\", \"172.16.0.0/12\", \"192.168.0.0/16\"]\nreputation = [\"reputation.csv\"]\n";
    std::fs::write(dir.join("vantage.toml"), toml).expect("config file");
    let overrides = Overrides {
        config_file: Some(dir.join("vantage.toml")),
        data_dir: Some(dir.clone()),
        database_url: ts.pg().map(|pg| pg.url.clone()),
        now: Some(NOW.into()),
        ..Overrides::default()
    };
    let engine = Engine::open_parts(&Engine::load_config(overrides).expect("config"), Parts::StoreOnly).await.expect("engine");
    let day = vantage_core::flows::demo::day_for(t(NOW));
    let mut session = ts.store.begin_flows_import().await.expect("import");
    session.write(&vantage_core::flows::demo::flows(day).expect("the demo's flows")).await.expect("write");
    session.commit().await.expect("commit");
    engine.flows().oa(day, None, vantage_core::flows::demo::DEMO_LIMIT).await.expect("the OA run");
    engine
}

fn render(app: &App, w: u16, h: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    terminal.draw(|f| view::draw(f, app)).expect("draw");
    let buf = terminal.backend().buffer().clone();
    (0..h).map(|y| (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>().trim_end().to_string()).collect::<Vec<_>>().join("\n")
}

/// The pinned clock.
const NOW: &str = "2024-06-15T12:40:00Z";

#[tokio::test(flavor = "multi_thread")]
async fn every_view_with_demo_data_on_both_backends() {
    let now = t(NOW);
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
        let geo = GeoIp::open_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/geoip")).expect("fixtures");
        let engine = flows_engine(&ts).await;
        let feed = demo_feed(&engine, &geo).await;
        let parts = Answers { stats, geo, pcap, engine, feed };
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
            serve(&mut app, &parts, effects).await;
            visit(&app, &format!("{tab:?}").to_lowercase());
        }
        // drill-downs: the top attacker, then the top password
        for (tab, view) in [(Tab::Attackers, "attacker_detail"), (Tab::Passwords, "password_detail")] {
            let effects = app.apply(Action::Tab(tab));
            serve(&mut app, &parts, effects).await;
            if tab == Tab::Attackers {
                app.apply(Action::Focus(1));
            }
            let effects = app.apply(Action::Open);
            assert!(app.detail.is_some(), "{view} opened");
            serve(&mut app, &parts, effects).await;
            visit(&app, view);
        }
        let effects = app.apply(Action::Period(1));
        serve(&mut app, &parts, effects).await;
        visit(&app, "password_detail_1w");
        parts.engine.close().await;
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

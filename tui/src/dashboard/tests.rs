//! Key handling as pure state transitions, and drawing into ratatui's `TestBackend`.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::{Value, json};
use vantage_core::cache::EntryInfo;
use vantage_core::engine::channel::dynfw::{DynfwRequest, DynfwUpdate};
use vantage_core::engine::{Request, Update};
use vantage_core::export::ImageFormat;
use vantage_core::geo::GeoInfo;
use vantage_core::passwords::{self, PwnedHash, Source};
use vantage_core::statistics::aggregation::Precision;
use vantage_core::statistics::periods::Period;
use vantage_core::statistics::resources::Params;
use vantage_core::statistics::service::ResourceRead;

use vantage_core::pcap::pipeline::JobStatus;

use vantage_views::app::{App, Effect, Export};
use vantage_views::keys::{Action, KEYS, Mode};
use vantage_views::panels::{Detail, Tab};

use super::keys::action_for;
use super::view;

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

pub(super) fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    let action = action_for(KeyEvent::new(code, KeyModifiers::NONE), app.mode).expect("mapped key");
    app.apply(action)
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

fn resource_requests(effects: &[Effect]) -> Vec<(String, Period, Params)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Engine(Request::Resource { name, period, params }) => Some((name.clone(), *period, params.clone())),
            _ => None,
        })
        .collect()
}

fn give(app: &mut App, name: &str, params: Params, value: Value) {
    let read = ResourceRead { data: Some(value), computed_at: None, refreshing: false };
    app.on_event(Update::Resource { name: name.into(), period: app.period, params, read });
}

fn graph(n: usize) -> Value {
    json!((0..n).map(|i| json!({"bucket": format!("2024-06-15 {:02}:{:02}", i / 2, (i % 2) * 30), "count": (i * 7) % 23})).collect::<Vec<_>>())
}

/// An app with data for every panel of every tab (1d).
pub(super) fn with_data() -> App {
    let mut app = App::new(vec!["a".repeat(64)], false);
    let none = Params::default;
    for name in ["all_incidents_graph", "all_attackers_graph", "all_ports_by_scans_graph"] {
        give(&mut app, name, none(), graph(48));
    }
    let multi = json!({"labels": ["minipot_telnet", "fwlogs"], "ykeys": [0, 1], "data": (0..48).map(|i| json!({"bucket": format!("2024-06-15 {:02}:00", i / 2), "0": i % 5, "1": i % 3})).collect::<Vec<_>>()});
    for name in ["top_traps_by_incidents_graph", "top_actions_by_incidents_graph"] {
        give(&mut app, name, none(), multi.clone());
    }
    give(&mut app, "top_countries_by_incidents_list", none(), json!([{"country": "CN", "count": 6734}, {"country": "VN", "count": 5147}]));
    give(&mut app, "top_countries_by_attackers_list", none(), json!([{"country": "CN", "count": 17}, {"country": "US", "count": 12}]));
    give(&mut app, "top_passwords_by_usages_list", none(), json!([{"password": "123456", "count": 99}, {"password": "a\nb", "count": 1}]));
    give(
        &mut app,
        "top_passwords_by_usages_list_long",
        none(),
        json!([{"password": "admin", "count": 40}, {"password": "a\nb", "count": 3}, {"password": "root", "count": 12}]),
    );
    give(&mut app, "top_usernames_by_usages_list_long", none(), json!([{"username": "root", "count": 70}]));
    give(&mut app, "top_combinations_by_usages_list_long", none(), json!([{"username": "root", "password": "admin", "count": 30}]));
    give(
        &mut app,
        "top_attackers_by_incidents_list_long",
        none(),
        json!([{"ip": "192.0.2.7", "count": 35}, {"ip": "198.51.100.1", "count": 120}, {"ip": "2001:db8::5", "count": 7}]),
    );
    give(&mut app, "top_ports_by_scans_list_long", none(), json!([{"port": "TCP/23", "count": 500}, {"port": "TCP/22", "count": 300}]));
    give(&mut app, "top_incident_types_by_incidents_list", none(), json!([{"source": "minipot_telnet", "action": "login", "count": 87}]));
    let mine = Params { device_tokens: vec!["a".repeat(64)], ..Params::default() };
    give(&mut app, "my_all_incidents_graph", mine.clone(), graph(48));
    give(&mut app, "my_top_countries_by_incidents_graph", mine.clone(), multi.clone());
    give(&mut app, "my_top_traps_by_incidents_graph", mine, multi);
    app.on_event(Update::Ready { store: "sqlite".into(), cache: "memory".into() });
    app.on_event(Update::Jobs(Default::default()));
    app.on_event(Update::LeakedTop(vec![PwnedHash { hash: passwords::sha1_hex("123456"), count: 40, sources: vec![Source::Telnet, Source::Http] }]));
    for prefix in ["vantage:timeout:", "vantage:resource:"] {
        let entries = vec![EntryInfo { key: format!("{prefix}all_incidents_graph:1d"), ttl_seconds: Some(300), size: 1983 }];
        app.on_event(Update::Entries { prefix: prefix.into(), entries });
    }
    app.on_event(Update::PcapJobs(vec![capture_job(JOB, "Completed", Some("/spool/merged.pcap")), capture_job(&"b".repeat(32), "Requesting", None)]));
    let counters = [("indexfile_current_reads", "2"), ("oldest_timestamp", "1718400000000000000"), ("current_files", "12"), ("packets_read", "99")];
    let alpha = counters.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    app.on_event(Update::PcapSensors(vec![("alpha".into(), Ok(alpha)), ("broken".into(), Err("HTTP 500".into()))], Some(3 << 30)));
    let effects = app.apply(Action::Tab(Tab::Events));
    answer_events(&mut app, effects);
    let effects = app.apply(Action::Tab(Tab::Flows));
    super::flows_tests::answer_flows(&mut app, effects);
    app.on_event(super::dynfw_tests::demo_status());
    app.apply(Action::Tab(Tab::Overview));
    app
}

/// Answers the Events requests among `effects` with small fixed tables.
fn answer_events(app: &mut App, effects: Vec<Effect>) {
    use vantage_core::events::model::Field;
    use vantage_core::events::questions::View;
    use vantage_core::events::table::{Cell, SeriesColumns, Table};
    let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2024, 6, d).expect("day");
    let text = |t: &str| Cell::Text(t.into());
    for effect in effects {
        let Effect::Engine(Request::Events { view, filter, days }) = effect else { continue };
        let table = match view {
            View::Values(Field::Taxonomy) => {
                Table::new("values", &["classification.taxonomy", "events"], vec![vec![text("vulnerable"), Cell::Int(9)], vec![text("test"), Cell::Int(2)]])
            }
            View::Values(_) => Table::new("values", &["source.geolocation.cc", "events"], vec![vec![text("DE"), Cell::Int(5)], vec![Cell::Null, Cell::Int(1)]]),
            View::PerDay(_) | View::Operator(_) => {
                let rows = (9..=15).map(|d| vec![Cell::day(day(d)), text("vulnerable"), Cell::Int(i64::from(d))]).collect();
                Table::new("per day", &["date", "classification.taxonomy", "events"], rows)
                    .with_series(SeriesColumns { day: 0, key: Some(1), value: 2 }, (day(9), day(15)))
            }
            View::DistinctIps => Table { facts: vec![("distinct_ips".into(), Cell::Int(42))], ..Table::new("ips", &["date", "ips"], Vec::new()) },
            View::TopAsns(_) => Table::new(
                "top",
                &["classification.taxonomy", "rank", "source.asn", "events"],
                vec![vec![text("vulnerable"), Cell::Int(1), text("3320"), Cell::Int(27)]],
            ),
            View::RisingAsns => Table::new("rising", &["source.asn", "events", "slope"], vec![vec![text("680"), Cell::Int(12), Cell::Float(1.0)]]),
            View::TopProblems => Table::new("problems", &["classification.type", "events"], vec![vec![text("vulnerable-system"), Cell::Int(4)]]),
            View::FeedHealth => Table::new(
                "feeds",
                &["feed.provider", "date", "events", "flag"],
                vec![vec![text("Shadowserver"), Cell::day(day(12)), Cell::Int(0), text("missing")]],
            ),
        };
        app.on_event(Update::Events { view, filter, days, table });
    }
}

/// A completed capture job's id.
const JOB: &str = "0123456789abcdef0123456789abcdef";

/// A job as the engine reports it: sensor alpha answered, broken failed.
fn capture_job(id: &str, state: &str, merged: Option<&str>) -> JobStatus {
    let t = "2024-06-15T12:40:00Z";
    serde_json::from_value(json!({
        "id": id, "query": "host 192.168.2.1 and after 2024-06-14T12:38:00Z and before 2024-06-15T12:43:00Z", "state": state, "time": t,
        "requests": {"alpha": {"state": "Request Complete", "time": t, "bytes": 2048, "message": "2048 bytes"},
                     "broken": {"state": "Error", "time": t, "bytes": 0, "message": "HTTP 500"}},
        "events": [{"time": t, "message": format!("state: {state}")}], "successes": ["alpha"], "merged": merged, "bytes": 2048
    }))
    .expect("a job status")
}

pub(super) fn render(app: &App, w: u16, h: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    terminal.draw(|f| view::draw(f, app)).expect("draw");
    let buf = terminal.backend().buffer().clone();
    (0..h).map(|y| (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>()).collect::<Vec<_>>().join("\n")
}

#[test]
fn tabs_and_periods_are_pure_state_transitions() {
    let mut app = App::new(Vec::new(), false);
    assert_eq!(action_for(key('2'), Mode::Normal), Some(Action::Tab(Tab::Attackers)));
    let reqs = resource_requests(&app.apply(Action::Tab(Tab::Attackers)));
    assert_eq!(app.tab, Tab::Attackers);
    assert_eq!(reqs.len(), 3);
    assert!(reqs.iter().all(|(_, p, _)| *p == Period::Day));
    app.apply(action_for(key('.'), Mode::Normal).expect("next period"));
    assert_eq!(app.period, Period::Week);
    app.apply(action_for(key(','), Mode::Normal).expect("prev"));
    app.apply(action_for(key(','), Mode::Normal).expect("prev"));
    assert_eq!(app.period, Period::SixHours);
    let reqs = resource_requests(&app.apply(Action::Period(-2)));
    assert_eq!(app.period, Period::Year, "wraps around");
    assert!(reqs.iter().all(|(_, p, _)| *p == Period::Year), "a period change re-requests the view");
    let ops = app.apply(Action::Tab(Tab::Operations));
    assert!(ops.contains(&Effect::Engine(Request::Jobs)));
    assert!(ops.iter().any(|e| matches!(e, Effect::Engine(Request::Entries { prefix }) if prefix == "vantage:timeout:")));
    assert_eq!(app.apply(Action::Tick).len(), ops.len(), "Operations stays live");
    app.apply(Action::Tab(Tab::Overview));
    assert!(app.apply(Action::Tick).is_empty(), "other views re-read rarely");
    app.apply(action_for(key('?'), Mode::Normal).expect("help"));
    assert!(app.help);
    app.apply(Action::Back);
    assert!(!app.help, "Esc closes help");
    assert_eq!(action_for(key('z'), Mode::Normal), None);
    assert_eq!(action_for(key('9'), Mode::Normal), Some(Action::Tab(Tab::Dynfw)), "9 is DynFW");
    app.apply(action_for(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL), Mode::Filter).expect("ctrl-c"));
    assert!(app.quit, "Ctrl-C quits even while typing");
}

#[test]
fn focus_sort_filter_and_move_work_on_the_focused_table() {
    let mut app = with_data();
    app.apply(Action::Tab(Tab::Attackers));
    press(&mut app, KeyCode::Tab);
    let panel = app.focused().expect("focused");
    assert_eq!(panel.title, "Top attackers");
    let ips = |app: &App| app.visible(&app.focused().expect("f")).expect("data").rows.iter().map(|r| r[0].clone()).collect::<Vec<_>>();
    assert_eq!(ips(&app), ["192.0.2.7", "198.51.100.1", "2001:db8::5"], "source order");
    typed(&mut app, "sS");
    assert_eq!(ips(&app), ["2001:db8::5", "198.51.100.1", "192.0.2.7"], "by ip, descending");
    press(&mut app, KeyCode::Char('s'));
    assert_eq!(ips(&app), ["198.51.100.1", "192.0.2.7", "2001:db8::5"], "by count, numerically (120 > 35 > 7), direction kept");
    press(&mut app, KeyCode::Char('/'));
    assert_eq!(app.mode, Mode::Filter);
    typed(&mut app, "198.");
    assert_eq!(ips(&app), ["198.51.100.1"], "filters while typing");
    press(&mut app, KeyCode::Enter);
    assert_eq!((app.mode, ips(&app).len()), (Mode::Normal, 1), "Enter keeps the filter");
    press(&mut app, KeyCode::Char('/'));
    press(&mut app, KeyCode::Esc);
    assert_eq!(ips(&app).len(), 3, "Esc clears it");
    typed(&mut app, "jjjjj");
    assert_eq!(app.tables[&panel.key()].selected, 2, "clamped to the last row");
    press(&mut app, KeyCode::PageUp);
    assert_eq!(app.tables[&panel.key()].selected, 0);
    press(&mut app, KeyCode::BackTab);
    assert_eq!(app.focus, 0);
    press(&mut app, KeyCode::BackTab);
    assert_eq!(app.focus, 2, "focus wraps");
}

#[test]
fn enter_opens_attacker_detail_and_esc_goes_back() {
    let mut app = with_data();
    app.apply(Action::Tab(Tab::Attackers));
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Down);
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(app.detail, Some(Detail::Attacker { ip: "198.51.100.1".into() }));
    let ip = Params { ip: Some("198.51.100.1".into()), ..Params::default() };
    assert_eq!(resource_requests(&effects), vec![("selected_attacker_incidents_graph".to_string(), Period::Day, ip.clone())]);
    assert!(effects.contains(&Effect::Engine(Request::Geo { ip: "198.51.100.1".parse().expect("ip") })));
    give(&mut app, "selected_attacker_incidents_graph", ip, graph(48));
    let info = GeoInfo {
        country: Some("SE".into()),
        country_name: Some("Sweden".into()),
        city: Some("Linköping".into()),
        asn: Some(29518),
        as_org: Some("Bredband2 AB".into()),
    };
    app.on_event(Update::Geo { ip: "198.51.100.1".parse().expect("ip"), info, sources: vec!["GeoLite2-City-Test.mmdb".into()] });
    let membership = effects.iter().find_map(|e| match e {
        Effect::Engine(Request::Dynfw(DynfwRequest::Membership { ip })) => Some(super::dynfw_tests::membership(*ip, true)),
        _ => None,
    });
    app.on_event(Update::Dynfw(DynfwUpdate::Membership(membership.expect("the membership is asked for"))));
    let screen = render(&app, 80, 24);
    for want in [
        "Attacker 198.51.100.1",
        "DynFW     blocked (CZ) on the demo feed",
        "greylist  listed (ftp, telnet; 42 incidents, last 2024-06-15 12:30)",
        "SE (Sweden), Linköping",
        "AS29518 Bredband2 AB",
        "GeoLite2-City-Test.mmdb",
        "/api/uri/host/198.51.100.1/",
        "Incidents of 198.51.100.1",
        "Esc back",
    ] {
        assert!(screen.contains(want), "{want}:\n{screen}");
    }
    let back = press(&mut app, KeyCode::Esc);
    assert_eq!((app.detail.clone(), app.focus), (None, 1), "back to the table that opened it");
    assert_eq!(resource_requests(&back).len(), 3);
    app.apply(Action::Tab(Tab::Overview));
    assert!(press(&mut app, KeyCode::Enter).is_empty(), "the focused chart opens nothing");
    assert!(app.notice.as_deref().is_some_and(|n| n.contains("Enter opens")));
}

#[test]
fn password_detail_gets_the_real_password_not_its_escaped_form() {
    let mut app = with_data();
    app.apply(Action::Tab(Tab::Passwords));
    typed(&mut app, "s");
    assert_eq!(app.visible(&app.focused().expect("f")).expect("rows").rows[0][0], "a\\nb", "shown escaped");
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(app.detail, Some(Detail::Password { password: "a\nb".into() }));
    let reqs = resource_requests(&effects);
    assert_eq!(reqs.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(), ["selected_password_by_usages_graph", "logins_of_password_by_usages_list"]);
    assert!(reqs.iter().all(|r| r.2.password.as_deref() == Some("a\nb")));
}

#[test]
fn exports_take_what_is_shown() {
    let mut app = with_data();
    app.apply(Action::Tab(Tab::Attackers));
    press(&mut app, KeyCode::Tab);
    typed(&mut app, "sS");
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "19");
    press(&mut app, KeyCode::Enter);
    let csv = press(&mut app, KeyCode::Char('e'));
    let [Effect::Export(Export::Csv { stem, header, rows })] = &csv[..] else { panic!("{csv:?}") };
    assert_eq!(stem, "top_attackers_by_incidents_list_long-1d");
    assert_eq!(header, &["ip", "count"]);
    assert_eq!(rows, &[vec!["198.51.100.1".to_string(), "120".into()], vec!["192.0.2.7".into(), "35".into()]], "filtered and sorted as on screen");
    let png = press(&mut app, KeyCode::Char('p'));
    let [Effect::Export(Export::Chart { stem, chart, format: ImageFormat::Png })] = &png[..] else { panic!("{png:?}") };
    assert_eq!((stem.as_str(), chart.x_labels.len()), ("all_attackers_graph-1d", 48), "a table is focused: the view's chart");
    let svg = press(&mut app, KeyCode::Char('P'));
    assert!(matches!(&svg[..], [Effect::Export(Export::Chart { format: ImageFormat::Svg, .. })]));
    app.apply(Action::Tab(Tab::Overview));
    assert!(press(&mut app, KeyCode::Char('e')).is_empty(), "a chart is focused");
    assert!(app.notice.as_deref().is_some_and(|n| n.contains("focus one")));
    app.exported(Err("disk full".into()));
    assert!(render(&app, 80, 24).contains("export failed: disk full"));
}

#[test]
fn device_tokens_are_validated_saved_and_removed() {
    let mut app = App::new(Vec::new(), false);
    press(&mut app, KeyCode::Char('a'));
    assert_eq!(app.mode, Mode::Normal, "only on My devices");
    app.apply(Action::Tab(Tab::Devices));
    assert!(render(&app, 80, 24).contains("press a to add one"));
    press(&mut app, KeyCode::Char('a'));
    typed(&mut app, "short");
    assert!(render(&app, 80, 24).contains("device token: *****_ (5 chars)"), "typed token is masked");
    assert!(press(&mut app, KeyCode::Enter).is_empty());
    assert!(app.error.as_deref().is_some_and(|e| e.contains("64 characters")), "{:?}", app.error);
    let token = "0123456789abcdef".repeat(4);
    press(&mut app, KeyCode::Char('a'));
    typed(&mut app, &token.to_uppercase());
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(effects[0], Effect::SaveDevices(vec![token.clone()]), "lower-cased and saved");
    let reqs = resource_requests(&effects);
    assert_eq!(reqs.len(), 3);
    assert!(reqs.iter().all(|r| r.0.starts_with("my_") && r.2.device_tokens == [token.clone()]));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("0123************") && !screen.contains(&token[..20]), "tokens are never shown whole:\n{screen}");
    let removed = press(&mut app, KeyCode::Char('x'));
    assert_eq!(removed[0], Effect::SaveDevices(Vec::new()));
    assert!(app.devices.tokens.is_empty());
}

#[test]
fn palette_runs_cli_commands_and_reports_bad_ones() {
    let mut app = App::new(Vec::new(), false);
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "migrate-period daily --days 3");
    assert!(render(&app, 80, 24).contains(":migrate-period daily --days 3_"));
    assert_eq!(press(&mut app, KeyCode::Enter), vec![Effect::Engine(Request::Migrate { precision: Precision::Daily, days: 3 })]);
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "resource selected_attacker_incidents_graph 1w --ip 192.0.2.1");
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(app.period, Period::Week);
    assert!(matches!(&app.detail, Some(Detail::Resource { name: "selected_attacker_incidents_graph", .. })));
    assert_eq!(resource_requests(&effects).len(), 1);
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "migrate-period weekly");
    assert!(press(&mut app, KeyCode::Enter).is_empty());
    let screen = render(&app, 80, 24);
    assert!(screen.contains("error: :migrate-period weekly:") && screen.contains("weekly"), "{screen}");
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "quit");
    press(&mut app, KeyCode::Enter);
    assert!(app.quit);
}

#[test]
fn operations_actions_only_on_the_operations_tab() {
    let mut app = with_data();
    assert!(press(&mut app, KeyCode::Char('F')).is_empty());
    assert!(app.notice.as_deref().is_some_and(|n| n.contains("Operations tab")));
    app.apply(Action::Tab(Tab::Operations));
    assert_eq!(press(&mut app, KeyCode::Char('F')), vec![Effect::Engine(Request::Refresh)]);
    let order: Vec<Effect> = Precision::ALL.iter().map(|p| Effect::Engine(Request::Aggregate { precision: *p })).collect();
    assert_eq!(press(&mut app, KeyCode::Char('A')), order, "quarterly, then hourly, then daily");
    assert_eq!(press(&mut app, KeyCode::Char('M')).len(), 3);
    assert_eq!(press(&mut app, KeyCode::Char('C')), vec![Effect::Engine(Request::ClearCache { all: false })]);
    app.on_event(Update::Cleared { what: "cached resources".into(), count: 12 });
    app.on_event(Update::Progress { label: "daily".into(), done: 2, total: Some(7) });
    let screen = render(&app, 80, 24);
    assert!(screen.contains("cleared 12 keys (cached resources)") && screen.contains("daily 2/7"), "{screen}");
}

#[test]
fn every_tab_renders_at_80x24_and_160x48() {
    let mut app = with_data();
    for tab in Tab::ALL {
        app.apply(Action::Tab(tab));
        for (w, h) in [(80, 24), (160, 48)] {
            let screen = render(&app, w, h);
            assert!(screen.contains("1 Overview") && screen.contains(if w < 100 { "0 Ops" } else { "0 Operations" }), "{tab:?} {w}x{h}:\n{screen}");
            assert!(screen.contains("period 1d (Day)"), "{screen}");
            assert!(!screen.contains("loading"), "{tab:?} {w}x{h} has all its data:\n{screen}");
            for p in app.panels() {
                assert!(screen.contains(&p.title), "{tab:?} {w}x{h}: panel {}:\n{screen}", p.title);
            }
        }
    }
    app.apply(Action::Tab(Tab::Overview));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("CN") && screen.contains("6734") && screen.contains("a\\nb"), "newlines shown escaped: {screen}");
    assert!(screen.chars().any(|c| ('\u{2800}'..='\u{28FF}').contains(&c)), "braille chart drawn");
    assert!(render(&app, 160, 48).contains("5 My devices"), "full tab names when wide");
}

#[test]
fn ascii_mode_draws_only_ascii() {
    let mut app = with_data();
    app.ascii = true;
    for tab in Tab::ALL {
        app.apply(Action::Tab(tab));
        let screen = render(&app, 80, 24);
        let odd: String = screen.chars().filter(|c| !c.is_ascii()).collect();
        assert!(odd.is_empty(), "{tab:?}: non-ASCII {odd:?}\n{screen}");
        if tab == Tab::Overview {
            assert!(screen.contains('#') && screen.contains("+---"), "{screen}");
        }
    }
}

#[test]
fn views_without_data_say_loading_and_help_lists_every_key() {
    let mut app = App::new(Vec::new(), false);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("loading…") && screen.contains("refreshing…"), "{screen}");
    app.apply(Action::Help);
    let screen = render(&app, 100, 30);
    for (k, what) in KEYS {
        assert!(screen.contains(k) && screen.contains(what), "{k}: {screen}");
    }
}

#[test]
fn leak_check_sends_only_the_hash_and_shows_the_answer() {
    let mut app = with_data();
    press(&mut app, KeyCode::Char('c'));
    assert_eq!(app.mode, Mode::Normal, "only on the Passwords tab");
    app.apply(Action::Tab(Tab::Passwords));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Leak check") && screen.contains("7c4a8d09ca3762af") && screen.contains("telnet,http"), "{screen}");
    press(&mut app, KeyCode::Char('c'));
    typed(&mut app, "123456");
    let screen = render(&app, 80, 24);
    assert!(screen.contains("password to check: ******_ (6 chars)") && !screen.contains("123456_"), "masked:\n{screen}");
    let effects = press(&mut app, KeyCode::Enter);
    let sha1 = passwords::sha1_hex("123456");
    assert_eq!(effects, vec![Effect::Engine(Request::CheckHash { sha1: sha1.clone() })], "the engine gets the SHA-1, never the password");
    assert!(app.input.is_empty(), "the typed password is not kept");
    assert!(render(&app, 80, 24).contains("checking (6 characters)"));
    app.on_event(Update::Leak { sha1: "0".repeat(40), found: None });
    assert!(render(&app, 80, 24).contains("checking"), "an answer to another question is ignored");
    app.on_event(Update::Leak { sha1, found: Some(PwnedHash { hash: passwords::sha1_hex("123456"), count: 40, sources: vec![Source::Telnet] }) });
    let screen = render(&app, 80, 24);
    assert!(screen.contains("LEAKED (6 characters)") && screen.contains("seen 40 times") && screen.contains("via telnet"), "{screen}");
    press(&mut app, KeyCode::Char('c'));
    typed(&mut app, "x");
    press(&mut app, KeyCode::Esc);
    assert_eq!((app.mode, app.input.as_str()), (Mode::Normal, ""), "Esc abandons the check");
}

#[test]
fn pcap_tab_requests_captures_and_opens_their_summary() {
    let mut app = with_data();
    let effects = app.apply(Action::Tab(Tab::Pcap));
    assert_eq!(effects, vec![Effect::Engine(Request::PcapSensors), Effect::Engine(Request::PcapJobs)]);
    let screen = render(&app, 100, 30);
    for shown in [
        "Capture request",
        "alpha",
        "busy (2 reads)",
        "2024-06-14 21:20",
        "error: HTTP 500",
        "3.0 GiB free",
        "0123456789ab",
        "Completed",
        "1/2 ok",
        "Requesting",
    ] {
        assert!(screen.contains(shown), "{shown}:\n{screen}");
    }
    // live: jobs every tick, sensors every 5th
    let ticks: Vec<Vec<Effect>> = (0..5).map(|_| app.apply(Action::Tick)).collect();
    assert!(ticks[..4].iter().all(|e| *e == vec![Effect::Engine(Request::PcapJobs)]), "{ticks:?}");
    assert!(ticks[4].contains(&Effect::Engine(Request::PcapSensors)));

    // n: type a request, Enter sends it as typed
    press(&mut app, KeyCode::Char('n'));
    assert_eq!(app.mode, Mode::PcapQuery);
    typed(&mut app, "host 192.0.2.7 port 80 after 2h ago");
    assert!(render(&app, 100, 30).contains("capture: host 192.0.2.7 port 80 after 2h ago_"));
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(effects, vec![Effect::Engine(Request::PcapSubmit { text: "host 192.0.2.7 port 80 after 2h ago".into() })]);

    // Enter on the completed job (newest first: it is the second row) opens it with its full id
    while app.focused().map(|p| p.title) != Some("Capture jobs".into()) {
        app.apply(Action::Focus(1));
    }
    app.apply(Action::Move(1));
    let effects = app.apply(Action::Open);
    assert_eq!(app.detail, Some(Detail::Capture { id: JOB.into() }));
    let summaries = |e: &[Effect]| e.iter().filter(|e| matches!(e, Effect::Engine(Request::PcapSummary { .. }))).count();
    assert_eq!(summaries(&effects), 1, "{effects:?}");
    assert_eq!(summaries(&app.apply(Action::Tick)), 0, "not asked again while it is computed");
    let screen = render(&app, 120, 40);
    assert!(
        screen.contains("sensor   alpha: Request Complete (2048 bytes)") && screen.contains("broken: Error (HTTP 500)") && screen.contains("summarizing"),
        "{screen}"
    );

    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/pcaps/android.pcap");
    let summary = vantage_core::pcap::summary::summarize(&fixture, 10, 50).expect("summary");
    let first = summary.talkers[0].key.clone();
    app.on_event(Update::PcapSummary { id: JOB.into(), summary: summary.clone() });
    let screen = render(&app, 120, 40);
    assert!(screen.contains(&format!("packets  {}", summary.packets)) && screen.contains("Top talkers") && screen.contains(&first), "{screen}");
    assert!(screen.contains(&summary.preview[0].source), "packet list: {screen}");

    // w: save the capture under a chosen name
    press(&mut app, KeyCode::Char('w'));
    assert_eq!((app.mode, app.input.as_str()), (Mode::SaveCapture, format!("{JOB}.pcap").as_str()));
    for _ in 0..format!("{JOB}.pcap").len() {
        press(&mut app, KeyCode::Backspace);
    }
    typed(&mut app, "evidence/case-7.pcap");
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(effects, vec![Effect::Export(Export::Pcap { from: "/spool/merged.pcap".into(), to: "evidence/case-7.pcap".into() })]);

    // from an attacker's detail, n starts with its address and lands on the PCAP tab
    app.apply(Action::Tab(Tab::Attackers));
    app.detail = Some(Detail::Attacker { ip: "192.0.2.7".into() });
    press(&mut app, KeyCode::Char('n'));
    assert_eq!((app.mode, app.input.as_str()), (Mode::PcapQuery, "host 192.0.2.7 "));
    typed(&mut app, "udp");
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(effects.first(), Some(&Effect::Engine(Request::PcapSubmit { text: "host 192.0.2.7 udp".into() })));
    assert_eq!((app.tab, &app.detail), (Tab::Pcap, &None));
}

#[test]
fn events_tab_filters_from_pick_lists_and_opens_an_asn() {
    use vantage_core::events::query::Taxonomy;
    use vantage_core::events::questions::View;
    let mut app = with_data();
    let effects = app.apply(Action::Tab(Tab::Events));
    let asked: Vec<View> = effects.iter().filter_map(|e| if let Effect::Engine(Request::Events { view, .. }) = e { Some(*view) } else { None }).collect();
    assert!(!asked.contains(&View::TopProblems), "top problems need a country: {asked:?}");
    let screen = render(&app, 120, 40);
    for shown in ["Events per day by taxonomy", "taxonomy  all (but test)", "distinct source IPs  42", "3320", "680", "Shadowserver", "g picks a country"] {
        assert!(screen.contains(shown), "{shown}:\n{screen}");
    }
    // t: all → any → each taxonomy of the data; every change asks again with the new filter
    app.apply(Action::NextTaxonomy);
    assert_eq!(app.events.filter.taxonomy, Taxonomy::Any);
    let effects = app.apply(Action::NextTaxonomy);
    assert_eq!(app.events.filter.taxonomy, Taxonomy::Is("vulnerable".into()));
    assert!(effects.iter().any(|e| matches!(e, Effect::Engine(Request::Events { filter, .. }) if filter.taxonomy == Taxonomy::Is("vulnerable".into()))));
    assert!(render(&app, 120, 40).contains("loading"), "answers for the old filter are not shown");
    answer_events(&mut app, effects);
    // g: a country from the data (NULL is not offered); top problems are asked now
    let effects = app.apply(Action::NextCountry);
    assert_eq!(app.events.filter.country.as_deref(), Some("DE"));
    assert!(effects.iter().any(|e| matches!(e, Effect::Engine(Request::Events { view: View::TopProblems, .. }))));
    answer_events(&mut app, effects);
    assert!(render(&app, 120, 40).contains("vulnerable-system"));
    // f: ASNs typed, then Enter on a top ASN opens its operator view
    press(&mut app, KeyCode::Char('f'));
    typed(&mut app, "AS3320, 680");
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(app.events.filter.asns, vec![3320, 680]);
    answer_events(&mut app, effects);
    press(&mut app, KeyCode::Char('f'));
    typed(&mut app, " x");
    press(&mut app, KeyCode::Enter);
    assert!(app.error.as_deref().is_some_and(|e| e.contains("ASNs are numbers")), "{:?}", app.error);
    while app.focused().map(|p| p.title) != Some("Top ASNs per taxonomy".into()) {
        app.apply(Action::Focus(1));
    }
    let effects = app.apply(Action::Open);
    assert_eq!(app.detail, Some(Detail::EventsAsn { asn: 3320 }));
    assert!(
        effects.iter().all(|e| !matches!(e, Effect::Engine(Request::Events { filter, .. }) if filter.asns != vec![3320])),
        "the detail asks for its ASN only"
    );
    answer_events(&mut app, effects);
    let screen = render(&app, 120, 40);
    assert!(screen.contains("Events per day in AS3320") && screen.contains("malware names") && screen.contains("total "), "{screen}");
}

/// The cell of the first line holding `text`: its foreground and whether it is bold.
pub(super) fn style_of(app: &vantage_views::app::App, w: u16, h: u16, text: &str) -> Option<(ratatui::style::Color, bool)> {
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).expect("terminal");
    terminal.draw(|f| super::view::draw(f, app)).expect("draw");
    let buf = terminal.backend().buffer().clone();
    (0..h).find_map(|y| {
        let line: String = (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect();
        let x = line.find(text)?;
        let cell = &buf[(line[..x].chars().count() as u16, y)];
        Some((cell.fg, cell.modifier.contains(ratatui::style::Modifier::BOLD)))
    })
}

//! The Flows tab through the router, without an engine: what it asks for as the day, the
//! selection and the filter change; scoring, the storyboard, a capture request, failures.

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::NaiveDate;
use vantage_core::engine::channel::flows::{FlowsRequest, FlowsUpdate};
use vantage_core::engine::flows::Pattern;
use vantage_core::engine::{Request, RequestId, RequestKind, Update};
use vantage_core::flows::beacon::{Beacon, BeaconReport};
use vantage_core::flows::oa::{FeedbackRow, FlowChord, FlowEdge, FlowScore};
use vantage_core::flows::storyboard::Storyboard;

use crate::app::{App, Effect};
use crate::keys::{Action, Key, KeyCode, Mode, action_for};
use crate::panels::{Panel, Source, Tab};

/// A suspicious connection of the test day.
pub fn score(rank: i32, src: &str, dst: &str, internal: (i32, i32), score: f64) -> FlowScore {
    FlowScore {
        tstart: format!("2024-06-14 10:{:02}:07", 10 + rank),
        srcip: src.into(),
        dstip: dst.into(),
        sport: 40000 + rank,
        dport: 443,
        proto: "TCP".into(),
        ipkt: 3,
        ibyt: 180,
        opkt: 0,
        obyt: 0,
        score,
        rank,
        srcip_internal: internal.0,
        dstip_internal: internal.1,
        src_geoloc: String::new(),
        dst_geoloc: String::new(),
        src_domain: String::new(),
        dst_domain: String::new(),
        src_rep: String::new(),
        dst_rep: String::new(),
    }
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 6, 14).expect("a day")
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("an address")
}

/// The day's list: 10.0.0.5 talks to two external peers (the second with a high
/// reputation), 10.0.0.7 to one.
fn listed() -> Vec<FlowScore> {
    let mut high = score(1, "10.0.0.5", "203.0.113.9", (1, 0), 2e-5);
    high.dst_rep = "list:MALWARE:3".into();
    vec![score(0, "10.0.0.5", "198.51.100.2", (1, 0), 1e-6), high, score(2, "10.0.0.7", "198.51.100.2", (1, 0), 3e-4)]
}

fn story(at: IpAddr, title: &str, text: &str) -> Storyboard {
    Storyboard {
        date: day(),
        ip: at,
        title: title.into(),
        text: text.into(),
        impact: BTreeMap::new(),
        progression: Vec::new(),
        progression_by_context: BTreeMap::new(),
        map: Vec::new(),
        timeline: Vec::new(),
    }
}

/// The flows requests among `effects`.
fn asked(effects: &[Effect]) -> Vec<FlowsRequest> {
    effects.iter().filter_map(|e| if let Effect::Engine(Request::Flows(r)) = e { Some(r.clone()) } else { None }).collect()
}

fn press(app: &mut App, c: char) -> Vec<Effect> {
    let action = action_for(Key::plain(KeyCode::Char(c)), app.mode).expect("a mapped key");
    app.apply(action)
}

fn enter(app: &mut App) -> Vec<Effect> {
    app.apply(Action::Submit)
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        app.apply(Action::Input(c));
    }
}

fn panel(app: &App, source: Source) -> Panel {
    app.panels().into_iter().find(|p| p.source == source).expect("the panel")
}

/// The Flows tab on the test day with its list, and what the list's arrival asked for.
fn on_the_day() -> (App, Vec<FlowsRequest>) {
    let mut app = App::new(Vec::new(), false);
    assert_eq!(asked(&press(&mut app, '8')), [FlowsRequest::LatestDay], "first the day to show");
    assert_eq!(app.tab, Tab::Flows);
    let day_asks = asked(&app.on_event(Update::Flows(FlowsUpdate::LatestDay(day()))));
    assert_eq!(day_asks, [FlowsRequest::Suspicious { date: day(), ip: None }, FlowsRequest::Ingest { date: day() }, FlowsRequest::Beacons { date: day() }]);
    let asks = asked(&app.on_event(Update::Flows(FlowsUpdate::Suspicious { date: day(), ip: None, rows: listed() })));
    (app, asks)
}

#[test]
fn the_view_asks_for_the_selection_s_details_once_and_follows_the_selection() {
    let (mut app, asks) = on_the_day();
    let first = &listed()[0];
    // 10.0.0.5 has two peers in the list, 198.51.100.2 two as well: the source on a tie
    assert_eq!(
        asks,
        [
            FlowsRequest::Edges { tstart: first.tstart.clone(), src: ip("10.0.0.5"), dst: ip("198.51.100.2") },
            FlowsRequest::Chords { date: day(), ip: ip("10.0.0.5") },
            FlowsRequest::Storyboard { date: day(), ip: ip("10.0.0.5"), write: None },
        ]
    );
    assert!(asked(&app.apply(Action::Help)).is_empty(), "asked once: pending");
    let shown = app.visible(&panel(&app, Source::FlowsSuspicious)).expect("the list");
    assert_eq!(shown.header, ["rank", "tstart", "srcip", "dstip", "ports", "proto", "bytes", "score", "rep"]);
    assert_eq!(shown.rows[0], ["0", "10:10:07", "10.0.0.5*", "198.51.100.2", "40000->443", "TCP", "180", "1.00e-6", "-"]);
    assert_eq!(shown.rows[1][8], "3 high", "the highest reputation of either end");

    // the raw flows of the pair arrive; the next row is another pair, the same subject
    let edge = FlowEdge {
        tstart: first.tstart.clone(),
        srcip: first.srcip.clone(),
        dstip: first.dstip.clone(),
        sport: first.sport,
        dport: first.dport,
        proto: "TCP".into(),
        flags: "...A..S.".into(),
        tos: 0,
        ibyt: 180,
        ipkt: 3,
        input: 0,
        output: 0,
        rip: String::new(),
        obyt: 0,
        opkt: 0,
        hh: 10,
        mn: 10,
    };
    app.on_event(Update::Flows(FlowsUpdate::Edges { tstart: first.tstart.clone(), src: ip("10.0.0.5"), dst: ip("198.51.100.2"), edges: vec![edge] }));
    let edges = app.visible(&panel(&app, Source::FlowsEdges)).expect("edges");
    assert_eq!((edges.rows.len(), edges.rows[0][6].as_str()), (1, "...A..S."));
    let chord = |src: &str, dst: &str, ibyt| FlowChord { ip_threat: "10.0.0.5".into(), srcip: src.into(), dstip: dst.into(), ibyt, ipkt: 2 };
    app.on_event(Update::Flows(FlowsUpdate::Chords { date: day(), ip: ip("10.0.0.5"), chords: vec![chord("10.0.0.5", "203.0.113.9", 100), chord("10.0.0.5", "198.51.100.2", 300)] }));
    let pairs = app.visible(&panel(&app, Source::FlowsChord)).expect("pairs");
    assert_eq!(pairs.rows.iter().map(|r| (r[1].as_str(), r[4].as_str())).collect::<Vec<_>>(), [("198.51.100.2", "75%"), ("203.0.113.9", "25%")]);
    assert_eq!(app.flows.chord(&app.ctx()).expect("a diagram").arcs.len(), 3);

    app.focus = 0;
    let second = &listed()[1];
    assert_eq!(asked(&press(&mut app, 'j')), [FlowsRequest::Edges { tstart: second.tstart.clone(), src: ip("10.0.0.5"), dst: ip("203.0.113.9") }], "the subject's peers are known");
    assert!(asked(&press(&mut app, 'k')).is_empty(), "back: everything known");
    assert_eq!(app.text(&panel(&app, Source::FlowsDay))[4], "selected 10.0.0.5");
}

#[test]
fn days_step_with_the_brackets_and_the_ip_filter_is_typed() {
    let (mut app, _) = on_the_day();
    let next = day().succ_opt().expect("a day");
    assert_eq!(asked(&press(&mut app, ']')), [FlowsRequest::Suspicious { date: next, ip: None }, FlowsRequest::Ingest { date: next }, FlowsRequest::Beacons { date: next }]);
    assert_eq!(app.text(&panel(&app, Source::FlowsDay))[0], "day      2024-06-15  [ ]");
    let back = asked(&press(&mut app, '['));
    assert!(back.iter().all(|r| !matches!(r, FlowsRequest::Suspicious { .. })), "the day before is known: {back:?}");

    press(&mut app, 'i');
    assert_eq!(app.mode, Mode::FlowsIp);
    typed(&mut app, "not an address");
    assert!(asked(&enter(&mut app)).is_empty());
    assert!(app.error.as_deref().is_some_and(|e| e.contains("`not an address` is not an IP address")), "{:?}", app.error);
    press(&mut app, 'i');
    typed(&mut app, "198.51.100.2");
    assert_eq!(asked(&enter(&mut app))[0], FlowsRequest::Suspicious { date: day(), ip: Some(ip("198.51.100.2")) });
    assert_eq!(app.flows.ip, Some(ip("198.51.100.2")));
    assert_eq!(app.flows.subject(&app.ctx()), Some(ip("198.51.100.2")), "the filter is the selected IP");
    press(&mut app, 'i');
    assert_eq!(app.input, "198.51.100.2", "the filter to edit");
    for _ in 0..app.input.len() {
        app.apply(Action::Erase);
    }
    enter(&mut app);
    assert_eq!(app.flows.ip, None, "empty: every connection");
}

#[test]
fn v_then_a_severity_scores_the_selected_connection_and_it_leaves_the_list() {
    let (mut app, _) = on_the_day();
    app.focus = 0;
    press(&mut app, 'j');
    press(&mut app, 'v');
    assert_eq!(app.mode, Mode::FlowsScore);
    let effects = press(&mut app, '1');
    assert_eq!((app.mode, app.tab), (Mode::Normal, Tab::Flows), "1 scores here, it does not switch tabs");
    let pattern = Pattern { src: Some(ip("10.0.0.5")), dst: Some(ip("203.0.113.9")), sport: Some(40001), dport: Some(443) };
    assert_eq!(asked(&effects), [FlowsRequest::Score { date: day(), sev: 1, pattern }]);
    let s = &listed()[1];
    let (tstart, srcip, dstip, proto) = (s.tstart.clone(), s.srcip.clone(), s.dstip.clone(), s.proto.clone());
    let row = FeedbackRow { date: day().to_string(), sev: 1, tstart, srcip, dstip, sport: s.sport, dport: s.dport, proto, ipkt: s.ipkt, ibyt: s.ibyt };
    app.on_event(Update::Flows(FlowsUpdate::Scored { date: day(), sev: 1, rows: vec![row] }));
    assert_eq!(app.notice.as_deref(), Some("1 connection of 2024-06-14 scored 1 (high)"));
    let ranks: Vec<String> = app.visible(&panel(&app, Source::FlowsSuspicious)).expect("rows").rows.into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(ranks, ["0", "2"], "the scored row left the list");
    assert_eq!(app.flows.selected(&app.ctx()).map(|s| s.rank), Some(2), "the selection moves on to the next row");

    press(&mut app, 'v');
    press(&mut app, '7');
    assert!(app.error.as_deref().is_some_and(|e| e.starts_with("score with 1 (high), 2 (medium) or 3 (low, benign)")), "{:?}", app.error);
    assert_eq!(app.apply(Action::ScoreFlow(3)).len(), 1, "the desktop's buttons score at once");
}

#[test]
fn the_storyboard_is_typed_on_one_line_and_saved_as_several() {
    let (mut app, _) = on_the_day();
    press(&mut app, 'b');
    assert_eq!(app.notice.as_deref(), Some("the storyboard of 10.0.0.5 is still loading"), "its text would be replaced unseen");
    app.on_event(Update::Flows(FlowsUpdate::Storyboard { story: Box::new(story(ip("10.0.0.5"), "Scan", "first\nsecond \\ end")), saved: false }));
    assert!(app.text(&panel(&app, Source::FlowsStoryboard)).contains(&"          second \\ end".to_string()));
    press(&mut app, 'b');
    assert_eq!((app.mode, app.input.as_str()), (Mode::StoryTitle, "Scan"));
    typed(&mut app, " & beacon");
    enter(&mut app);
    assert_eq!((app.mode, app.input.as_str()), (Mode::StoryText, "first\\nsecond \\\\ end"), "the text escaped onto one line");
    typed(&mut app, "\\nthird");
    let write = Some(("Scan & beacon".to_string(), "first\nsecond \\ end\nthird".to_string()));
    assert_eq!(asked(&enter(&mut app)), [FlowsRequest::Storyboard { date: day(), ip: ip("10.0.0.5"), write }]);
    app.on_event(Update::Flows(FlowsUpdate::Storyboard { story: Box::new(story(ip("10.0.0.5"), "Scan & beacon", "x")), saved: true }));
    assert_eq!(app.notice.as_deref(), Some("storyboard of 10.0.0.5 on 2024-06-14 saved"));
}

#[test]
fn n_opens_the_capture_request_of_the_selected_pair_and_minute() {
    let (mut app, _) = on_the_day();
    press(&mut app, 'n');
    assert_eq!(app.mode, Mode::PcapQuery);
    assert_eq!(app.input, "host 10.0.0.5 host 198.51.100.2 after 2024-06-14T10:10:00Z before 2024-06-14T10:10:00Z");
    let text = app.input.clone();
    let effects = enter(&mut app);
    assert!(effects.contains(&Effect::Engine(Request::PcapSubmit { text })), "{effects:?}");
    assert_eq!(app.tab, Tab::Pcap, "the PCAP tab shows the job");
}

#[test]
fn a_failed_read_is_not_asked_again_until_a_refresh() {
    let (mut app, _) = on_the_day();
    let failed = |kind| Update::Failed { id: RequestId(9), kind, error: std::sync::Arc::new(vantage_core::engine::Error::Failed(vantage_core::Error::InvalidArgument("gone".into()))) };
    app.on_event(failed(RequestKind::FlowsEdges));
    assert_eq!(app.error.as_deref(), Some("invalid argument: gone"));
    assert!(asked(&app.apply(Action::Help)).is_empty(), "not asked again by itself");
    let again = asked(&app.apply(Action::Refresh));
    assert!(again.iter().any(|r| matches!(r, FlowsRequest::Edges { .. })), "{again:?}");
    assert!(asked(&app.apply(Action::Tick)).is_empty(), "a day's outputs are not polled");
    let mut fresh = App::new(Vec::new(), false);
    press(&mut fresh, '8');
    fresh.on_event(failed(RequestKind::FlowsLatestDay));
    assert_eq!(fresh.text(&panel(&fresh, Source::FlowsDay)), ["day      unknown: r tries again"]);
    assert_eq!(asked(&fresh.apply(Action::Refresh)), [FlowsRequest::LatestDay]);
}

#[test]
fn flows_keys_elsewhere_say_where_they_work() {
    let mut app = App::new(Vec::new(), false);
    assert!(press(&mut app, 'v').is_empty());
    assert_eq!(app.notice.as_deref(), Some("[ ] i v b act on the Flows tab (8)"));
    let report = BeaconReport {
        beacons: vec![Beacon { src: ip("10.0.0.5"), dst: ip("203.0.113.80"), connections: 1440, score: 0.93, ts: 0.9, ds: 1.0, dur: 1.0, hist: 0.8, level: "high" }],
        long_connections: Vec::new(),
        strobes: Vec::new(),
    };
    let (mut app, _) = on_the_day();
    app.on_event(Update::Flows(FlowsUpdate::Beacons { date: day(), report }));
    let beacons = app.visible(&panel(&app, Source::FlowsBeacons)).expect("beacons");
    assert_eq!(beacons.rows[0][..5], ["10.0.0.5", "203.0.113.80", "1440", "high", "0.930"]);
    assert_eq!(app.text(&panel(&app, Source::FlowsDay))[3], "beacons  1 flagged, 0 long");
}

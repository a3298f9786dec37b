//! The Flows tab drawn into ratatui's `TestBackend` on the demo's flows day (scored, enriched,
//! its beacons analysed by the core, no store): the table coloured by reputation with internal
//! addresses marked, the columns that fit a narrow terminal, the prompts of its keys.

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::NaiveDate;
use ratatui::crossterm::event::KeyCode;
use ratatui::style::Color;
use vantage_core::engine::channel::flows::{FlowsRequest, FlowsUpdate};
use vantage_core::engine::{Request, Update};
use vantage_core::flows::beacon::{self, BeaconSettings};
use vantage_core::flows::enrich::{Enricher, FlowsSettings};
use vantage_core::flows::model::RawFlow;
use vantage_core::flows::oa::{self, FlowChord, IngestMinute};
use vantage_core::flows::storyboard::Storyboard;
use vantage_core::flows::{demo, score};
use vantage_views::app::{App, Effect};
use vantage_views::panels::Tab;

use super::tests::{press, render, style_of, with_data};

/// The demo's flows day.
pub fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 6, 14).expect("a day")
}

/// What the day's flows answer to `request`.
fn answer(flows: &[RawFlow], request: FlowsRequest) -> FlowsUpdate {
    match request {
        FlowsRequest::LatestDay => FlowsUpdate::LatestDay(day()),
        FlowsRequest::Suspicious { date, ip } => {
            let settings = FlowsSettings { internal: vec!["192.168.0.0/16".into(), "172.16.0.0/12".into()], ..FlowsSettings::default() };
            let enricher = Enricher::load(&settings, std::path::Path::new("no geoip here")).expect("the internal ranges");
            let scored: Vec<_> = score::score(flows.to_vec(), None, &[]).iter().take(30).map(score::as_scored).collect();
            let mut rows = oa::scores(&scored, &enricher);
            rows[1].dst_rep = "list:MALWARE:3".into();
            rows[2].src_rep = "list:SCANNER:1".into();
            FlowsUpdate::Suspicious { date, ip, rows }
        }
        FlowsRequest::Edges { tstart, src, dst } => FlowsUpdate::Edges { tstart, src, dst, edges: Vec::new() },
        FlowsRequest::Chords { date, ip } => {
            let chord = |peer: &str, ibyt| FlowChord { ip_threat: ip.to_string(), srcip: ip.to_string(), dstip: peer.into(), ibyt, ipkt: ibyt / 60 };
            FlowsUpdate::Chords { date, ip, chords: vec![chord("198.51.100.2", 1200), chord("203.0.113.9", 600)] }
        }
        FlowsRequest::Ingest { date } => {
            let mut minutes: BTreeMap<String, i64> = BTreeMap::new();
            for f in flows {
                *minutes.entry(f.treceived.format("%Y-%m-%d %H:%M").to_string()).or_default() += 1;
            }
            FlowsUpdate::Ingest { date, minutes: minutes.into_iter().map(|(tdate, total)| IngestMinute { tdate, total }).collect() }
        }
        FlowsRequest::Beacons { date } => FlowsUpdate::Beacons { date, report: beacon::analyse(flows, &BeaconSettings::default()) },
        FlowsRequest::Storyboard { date, ip, write } => {
            let (title, text) = write.unwrap_or_else(|| ("Beaconing host".into(), "calls home every minute\nsince midnight".into()));
            let story = Storyboard {
                date,
                ip,
                title,
                text,
                impact: BTreeMap::new(),
                progression: Vec::new(),
                progression_by_context: BTreeMap::new(),
                map: Vec::new(),
                timeline: Vec::new(),
            };
            FlowsUpdate::Storyboard { story: Box::new(story), saved: false }
        }
        FlowsRequest::Score { date, sev, .. } => FlowsUpdate::Scored { date, sev, rows: Vec::new() },
    }
}

/// Answers the Flows requests among `effects`, and those their answers lead to.
pub fn answer_flows(app: &mut App, mut effects: Vec<Effect>) {
    let flows = demo::flows(day()).expect("the demo's flows day");
    while let Some(effect) = effects.pop() {
        if let Effect::Engine(Request::Flows(request)) = effect {
            effects.extend(app.on_event(Update::Flows(answer(&flows, request))));
        }
    }
}

/// The foreground colour of the first cell of the line holding `text`.
fn colour_of(app: &App, w: u16, h: u16, text: &str) -> Option<Color> {
    style_of(app, w, h, text).map(|(colour, _)| colour)
}

#[test]
fn the_suspicious_table_is_coloured_by_reputation_and_marks_internal_addresses() {
    let mut app = with_data();
    app.apply(vantage_views::keys::Action::Tab(Tab::Flows));
    let screen = render(&app, 160, 48);
    let rows = app.flows.rows().expect("the list").to_vec();
    assert!(screen.contains("Suspicious connections (* internal)") && screen.contains("rank") && screen.contains("3 high"), "{screen}");
    let internal = rows.iter().find(|s| s.srcip_internal == 1).expect("an internal source");
    assert!(screen.contains(&format!("{}*", internal.srcip)), "internal marked: {screen}");
    assert_eq!(colour_of(&app, 160, 48, "3 high"), Some(Color::Indexed(203)), "high: red");
    assert_eq!(colour_of(&app, 160, 48, "1 low"), Some(Color::Indexed(220)), "low: yellow");
    assert!(screen.contains("Beaconing host") && screen.contains("since midnight"), "the storyboard's lines: {screen}");
    assert!(screen.contains(demo::BEACON.0) && screen.contains("high"), "the demo's beacon flagged: {screen}");
    assert!(screen.chars().any(|c| ('\u{2800}'..='\u{28FF}').contains(&c)), "the flows per minute drawn");
    assert!(screen.contains("day      2024-06-14  [ ]"), "{screen}");

    // at 80 columns the addresses keep their room: rank, protocol and time are left out
    let narrow = render(&app, 80, 24);
    assert!(narrow.contains(&rows[0].srcip) && !narrow.contains("rank"), "{narrow}");
    assert!(narrow.contains("ports") && narrow.contains("score") && narrow.contains("rep"), "{narrow}");
}

#[test]
fn v_prompts_for_a_severity_and_b_for_the_storyboard() {
    let mut app = with_data();
    app.apply(vantage_views::keys::Action::Tab(Tab::Flows));
    press(&mut app, KeyCode::Char('v'));
    assert!(render(&app, 120, 30).contains("score the selected connection: 1 high, 2 medium, 3 low (benign); Esc cancels"));
    let effects = press(&mut app, KeyCode::Char('3'));
    assert!(effects.iter().any(|e| matches!(e, Effect::Engine(Request::Flows(FlowsRequest::Score { sev: 3, .. })))), "{effects:?}");
    assert_eq!(app.tab, Tab::Flows);
    press(&mut app, KeyCode::Char('b'));
    press(&mut app, KeyCode::Enter);
    let screen = render(&app, 120, 30);
    assert!(screen.contains("storyboard text (\\n: new line): calls home every minute\\nsince midnight_"), "{screen}");
    let subject: IpAddr = app.flows.subject(&app.ctx()).expect("a selected IP");
    assert!(screen.contains(&format!("selected {subject}")), "{screen}");
}

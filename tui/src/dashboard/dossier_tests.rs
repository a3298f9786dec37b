//! The IP dossier in the terminal: opened from four views — `d` on the Attackers tab's top
//! attackers, Enter on the Flows tab's suspicious connections and on the DynFW tab's recent
//! changes, `d` on a capture job (its query's host) — drawn at 120×40 with its sections and
//! absent parts, and pivoted out of: `n` a capture of it, `v` its flows, `y` the report.

use std::net::IpAddr;

use chrono::{NaiveDate, TimeZone, Utc};
use ratatui::crossterm::event::KeyCode;
use vantage_core::engine::dossier::{Capture, Dossier, Part, Range};
use vantage_core::engine::{Request, Update};
use vantage_core::flows::dossier::Flows;
use vantage_core::statistics::dossier::Incidents;
use vantage_core::tally::{DayTally, Tally};
use vantage_views::app::{App, Effect, Export};
use vantage_views::keys::{Action, Mode};
use vantage_views::panels::{Detail, Tab};

use super::dynfw_tests::demo_status;
use super::flows_tests::answer_flows;
use super::tests::{press, render, with_data};

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 6, d).expect("a day")
}

/// A dossier of `target` as the engine answers it: incidents on two days, a flow peer, a
/// capture job; no events or DynFW in this deployment.
fn dossier(target: &str) -> Dossier {
    let ip: IpAddr = target.parse().expect("an address");
    let range = Range { from: Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).single().expect("t"), to: Utc.with_ymd_and_hms(2024, 6, 16, 0, 0, 0).single().expect("t") };
    let tally = |k: &str, n| Tally { key: k.into(), count: n };
    Dossier {
        target: target.into(),
        kind: "address".into(),
        range,
        addresses: vec![ip],
        addresses_left_out: 0,
        geo: Vec::new(),
        incidents: Part::Present(Incidents {
            table: "daily".into(),
            incidents: 35,
            first_seen: Some(day(9)),
            last_seen: Some(day(15)),
            by_trap: vec![tally("minipot_telnet", 30), tally("fwlogs", 5)],
            by_action: vec![tally("login", 30), tally("drop", 5)],
            by_country: vec![tally("CZ", 35)],
            per_day: vec![DayTally { day: day(9), count: 5 }, DayTally { day: day(15), count: 30 }],
        }),
        passwords: Part::Absent("Sentinel's password and port reports carry no attacker address".into()),
        events: Part::Absent("no IntelMQ events are imported (vantage events import)".into()),
        flows: Part::Present(Flows {
            flows: 3,
            bytes_sent: 600,
            bytes_received: 0,
            outbound_only: vec!["203.0.113.9".parse().expect("ip")],
            inbound_only: Vec::new(),
            two_way: Vec::new(),
            ports: vec![tally("23/TCP", 3)],
            per_day: vec![DayTally { day: day(15), count: 3 }],
            suspicious: Vec::new(),
            scored: Vec::new(),
        }),
        greylist: Part::Present(Vec::new()),
        dynfw: Part::Absent("no DynFW feed runs here (configure [dynfw]; the demo replays one)".into()),
        captures: Part::Present(vec![Capture { id: "0123".into(), query: format!("host {target}"), state: "Completed".into(), time: range.to }]),
    }
}

/// Checks that the last effects asked for the dossier of `target`, answers it, and returns
/// the screen.
fn answered(app: &mut App, effects: &[Effect], target: &str) -> String {
    assert_eq!(app.detail, Some(Detail::Dossier { target: target.into() }));
    assert!(effects.contains(&Effect::Engine(Request::Dossier { target: target.into() })), "{effects:?}");
    app.on_event(Update::Dossier { target: target.into(), dossier: Box::new(dossier(target)) });
    render(app, 120, 40)
}

#[test]
fn d_on_a_top_attacker_opens_its_dossier_and_its_keys_pivot_out() {
    let mut app = with_data();
    app.apply(Action::Tab(Tab::Attackers));
    app.apply(Action::Focus(1)); // the top attackers
    app.apply(Action::Move(1)); // 198.51.100.1
    let effects = press(&mut app, KeyCode::Char('d'));
    let screen = answered(&mut app, &effects, "198.51.100.1");
    assert!(screen.contains("Dossier of 198.51.100.1"), "{screen}");
    assert!(render(&app, 80, 24).contains("Dossier of 198.51.100.1"), "a small terminal too");
    assert!(screen.contains("incidents") && screen.contains("35") && screen.contains("2024-06-15"), "the summary: {screen}");
    assert!(screen.contains("minipot_telnet"), "the incidents by trap in the big box: {screen}");
    assert!(screen.chars().any(|c| ('\u{2800}'..='\u{28FF}').contains(&c)), "the timeline drawn in braille: {screen}");
    // a section the deployment does not have says why
    while app.focused().is_none_or(|p| p.title != "Passwords and usernames tried") {
        app.apply(Action::Focus(1));
    }
    let screen = render(&app, 120, 40);
    assert!(screen.contains("absent") && screen.contains("carry no attacker"), "the passwords section: {screen}");

    press(&mut app, KeyCode::Char('n'));
    assert_eq!((app.mode, app.input.as_str()), (Mode::PcapQuery, "host 198.51.100.1 "), "n: a capture of it");
    press(&mut app, KeyCode::Esc);
    let effects = press(&mut app, KeyCode::Char('y'));
    let report = effects.iter().find_map(|e| match e {
        Effect::Export(Export::Report { stem, text }) => Some((stem.clone(), text.clone())),
        _ => None,
    });
    let (stem, text) = report.expect("y: the report");
    assert_eq!(stem, "dossier-198.51.100.1");
    assert!(text.starts_with("# Dossier of 198.51.100.1") && text.contains("| trap | minipot_telnet | 30 |"), "{text}");
    press(&mut app, KeyCode::Char('v'));
    assert_eq!((app.tab, app.detail.clone(), app.flows.ip), (Tab::Flows, None, Some("198.51.100.1".parse().expect("ip"))), "v: its flows");
}

#[test]
fn enter_on_flows_dynfw_and_peer_rows_and_d_on_a_capture_job_open_dossiers() {
    // Flows: the suspicious connection's source
    let mut app = with_data();
    let effects = app.apply(Action::Tab(Tab::Flows));
    answer_flows(&mut app, effects);
    let src = app.flows.rows().and_then(|r| r.first()).map(|r| r.srcip.clone()).expect("a suspicious row");
    let effects = press(&mut app, KeyCode::Enter);
    let screen = answered(&mut app, &effects, &src);
    assert!(screen.contains(&format!("Dossier of {src}")), "{screen}");
    // from the dossier, Enter on a flow peer opens the peer's
    while app.focused().is_none_or(|p| p.title != "Flow peers") {
        app.apply(Action::Focus(1));
    }
    let effects = press(&mut app, KeyCode::Enter);
    answered(&mut app, &effects, "203.0.113.9");
    press(&mut app, KeyCode::Esc);
    assert_eq!((app.tab, app.detail.clone()), (Tab::Flows, None), "Esc goes back to the view it came from");

    // DynFW: the newest change's address
    let mut app = with_data();
    app.apply(Action::Tab(Tab::Dynfw));
    app.on_event(demo_status());
    let newest = app.dynfw.feed().expect("the status").recent[0].ip.to_string();
    while app.focused().is_none_or(|p| p.title != "Recent deltas and events") {
        app.apply(Action::Focus(1));
    }
    let effects = press(&mut app, KeyCode::Enter);
    answered(&mut app, &effects, &newest);

    // PCAP: a job's query names its host
    let mut app = with_data();
    app.apply(Action::Tab(Tab::Pcap));
    app.on_event(Update::PcapJobs(vec![serde_json::from_value(serde_json::json!({
        "id": "0123456789abcdef", "query": "host 192.0.2.9 and port 22", "state": "Completed", "time": "2024-06-15T12:40:00Z",
        "requests": {}, "events": [], "successes": [], "merged": null, "bytes": 0
    }))
    .expect("a job")]));
    while app.focused().is_none_or(|p| p.title != "Capture jobs") {
        app.apply(Action::Focus(1));
    }
    let effects = press(&mut app, KeyCode::Char('d'));
    answered(&mut app, &effects, "192.0.2.9");

    // a table without addresses says where d works
    let mut app = with_data();
    app.apply(Action::Tab(Tab::Passwords));
    press(&mut app, KeyCode::Char('d'));
    assert!(app.detail.is_none() && app.notice.as_deref().is_some_and(|n| n.contains("d opens the dossier")), "{:?}", app.notice);
}

#[test]
fn the_palette_opens_a_dossier_and_refuses_a_bad_target_with_its_column() {
    let mut app = with_data();
    press(&mut app, KeyCode::Char(':'));
    for c in "ip 192.0.2.0/33".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    press(&mut app, KeyCode::Enter);
    assert!(app.error.as_deref().is_some_and(|e| e.contains("column 11")), "{:?}", app.error);
    press(&mut app, KeyCode::Char(':'));
    for c in "ip AS64500".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    let effects = press(&mut app, KeyCode::Enter);
    assert!(effects.contains(&Effect::Engine(Request::Dossier { target: "AS64500".into() })), "{effects:?}");
}

//! The DynFW tab (9) drawn into ratatui's `TestBackend` from a demo-like feed with pinned
//! times (the demo's own replay, [`vantage_tests::dynfw_sample`]): the demo label, the recent
//! changes, the size line and the country bars, at 80×24 and 160×48 (snapshots in
//! `src/dashboard/snapshots/`), plain ASCII, the search prompt and "not configured".

use std::net::IpAddr;

use chrono::{DateTime, TimeZone, Utc};
use ratatui::crossterm::event::KeyCode;
use ratatui::style::Color;
use vantage_core::engine::channel::dynfw::{DynfwRequest, DynfwUpdate, Membership};
use vantage_core::engine::{Request, Update};
use vantage_core::statistics::greylist::Entry;
use vantage_tests::dynfw_sample;
use vantage_views::app::{App, Effect};
use vantage_views::keys::Action;
use vantage_views::panels::Tab;
use vantage_views::tabs::dynfw::{DEMO_LABEL, NOT_CONFIGURED};

use super::tests::{press, render, style_of, with_data};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).expect("a time").with_timezone(&Utc)
}

/// The sample feed's status after 40 messages from 12:00 UTC, as the engine pushes it.
pub fn demo_status() -> Update {
    let (feed, last) = dynfw_sample::demo_feed(dynfw_sample::pool(), dynfw_sample::countries(), at("2024-06-15T12:00:00Z"), 40);
    Update::Dynfw(DynfwUpdate::Status(Some(Box::new(feed.status(last + chrono::Duration::seconds(5))))))
}

/// `ip` blocked (CZ) on the demo feed, and on the greylist when `listed`.
pub fn membership(ip: IpAddr, listed: bool) -> Membership {
    let greylist = listed.then(|| Entry {
        address: ip,
        tags: vec!["ftp".into(), "telnet".into()],
        country: Some("CZ".into()),
        first_seen: Utc.with_ymd_and_hms(2024, 6, 9, 8, 0, 0).single().expect("a time"),
        last_seen: Utc.with_ymd_and_hms(2024, 6, 15, 12, 30, 0).single().expect("a time"),
        count: 42,
    });
    Membership { ip, dynfw: Some(Some("CZ".into())), greylist, demo: true }
}


#[test]
fn tab_9_shows_the_demo_feed_labelled_as_demo() {
    let mut app = with_data();
    let effects = app.apply(Action::Tab(Tab::Dynfw));
    assert!(effects.contains(&Effect::Engine(Request::Dynfw(DynfwRequest::Status))), "{effects:?}");
    let status = app.dynfw.feed().expect("the status").clone();
    for (w, h) in [(80, 24), (160, 48)] {
        let screen = render(&app, w, h);
        assert!(screen.contains("9 DynFW") && screen.contains(DEMO_LABEL), "{w}x{h}:\n{screen}");
        assert!(screen.contains(&format!("blocked {}", status.size)), "{screen}");
        let newest = &status.recent[0];
        assert!(screen.contains(&newest.ip.to_string()) && screen.contains(&newest.at.format("%H:%M:%S").to_string()), "the newest change: {screen}");
        assert!(screen.contains(&format!("now {}", status.size)), "the size line's caption: {screen}");
        assert!(screen.chars().any(|c| ('\u{2800}'..='\u{28FF}').contains(&c)), "the size drawn in braille: {screen}");
        let top = &status.per_country[0];
        assert!(screen.lines().any(|l| l.contains(&format!("{:<3} █", top.country)) && l.contains(&top.count.to_string())), "the top country's bar: {screen}");
        insta::assert_snapshot!(format!("dynfw_{w}x{h}"), screen);
    }
    assert_eq!(style_of(&app, 160, 48, DEMO_LABEL), Some((Color::Indexed(208), true)), "the demo label stands out");

    app.ascii = true;
    let screen = render(&app, 80, 24);
    let odd: String = screen.chars().filter(|c| !c.is_ascii()).collect();
    assert!(odd.is_empty() && screen.contains(DEMO_LABEL) && screen.contains(" #"), "ASCII only: {odd:?}\n{screen}");
}

#[test]
fn i_searches_an_address_and_no_feed_says_how_to_configure_one() {
    let mut app = with_data();
    app.apply(Action::Tab(Tab::Dynfw));
    press(&mut app, KeyCode::Char('i'));
    assert!(render(&app, 120, 30).contains("address to search in DynFW and the greylist (empty: none): _"));
    for c in "198.51.100.3".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    let ip: IpAddr = "198.51.100.3".parse().expect("ip");
    let effects = press(&mut app, KeyCode::Enter);
    assert!(effects.contains(&Effect::Engine(Request::Dynfw(DynfwRequest::Lookup { ip }))), "{effects:?}");
    app.on_event(Update::Dynfw(DynfwUpdate::Lookup(membership(ip, false))));
    let screen = render(&app, 160, 48);
    assert!(screen.contains("search    198.51.100.3  DynFW blocked (CZ) on the demo feed") && screen.contains("greylist not listed"), "{screen}");

    let mut app = App::new(Vec::new(), false);
    app.apply(Action::Tab(Tab::Dynfw));
    assert!(render(&app, 80, 24).contains("loading"), "nothing said yet");
    app.on_event(Update::Dynfw(DynfwUpdate::Status(None)));
    let screen = render(&app, 80, 24);
    assert!(screen.contains(NOT_CONFIGURED) && screen.contains("no feed running") && screen.contains("no feed") && !screen.contains("loading"), "{screen}");
}

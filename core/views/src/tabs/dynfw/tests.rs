//! The DynFW tab and the attacker detail's membership through the router, without an engine:
//! the feed's start (demo or configured), the labels, the search, failures.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use vantage_core::dynfw::message::{Delta, Event, List, Message, Sign, encode};
use vantage_core::dynfw::service::{FeedHandle, FeedStatus, Source as FeedSource};
use vantage_core::engine::channel::dynfw::{DynfwRequest, DynfwUpdate, Membership};
use vantage_core::engine::{Request, RequestId, RequestKind, Update};
use vantage_core::statistics::greylist::Entry;

use super::{DEMO_LABEL, NOT_CONFIGURED};
use crate::app::{App, Effect};
use crate::keys::{Action, Mode};
use crate::panels::{Detail, Panel, Source, Tab};

fn ip(text: &str) -> IpAddr {
    text.parse().expect("an address")
}

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_718_455_200 + secs, 0).single().expect("a time") // 2024-06-15 12:40:00
}

/// A feed from `source` with a list of two addresses, a delta adding a third, an event.
fn status(source: FeedSource) -> Box<FeedStatus> {
    let feed = FeedHandle::new(source, Arc::new(|ip| if ip == IpAddr::from([192, 0, 2, 1]) { Some(*b"CZ") } else { None }), None, at(0));
    let list = Message::List(List { serial: 7, list: vec![ip("192.0.2.1"), ip("192.0.2.2")], ts: None, version: None });
    feed.receive(&encode(&list), at(0));
    feed.receive(&encode(&Message::Delta(Delta { serial: 8, delta: Sign::Positive, ip: ip("192.0.2.3"), ts: None })), at(30));
    feed.receive(&encode(&Message::Event(Event { event: "telnet_login".into(), ip: ip("192.0.2.1"), ts: None })), at(45));
    Box::new(feed.status(at(60)))
}

fn text(app: &App, source: Source) -> String {
    let panel = app.panels().into_iter().find(|p| p.source == source).expect("the panel");
    app.text(&panel).join("\n")
}

fn engine_requests(effects: &[Effect]) -> Vec<Request> {
    effects.iter().filter_map(|e| if let Effect::Engine(r) = e { Some(r.clone()) } else { None }).collect()
}

fn on_tab() -> App {
    let mut app = App::new(Vec::new(), false);
    let effects = app.apply(Action::Tab(Tab::Dynfw));
    assert_eq!(engine_requests(&effects), [Request::Dynfw(DynfwRequest::Status)], "the tab asks for the status");
    app
}

#[test]
fn the_demo_feed_is_started_on_request_and_labelled_as_demo() {
    let mut app = App::new(Vec::new(), false);
    assert_eq!(engine_requests(&app.start_feed()), [Request::Dynfw(DynfwRequest::Start { demo: false })]);
    app.dynfw.demo = true;
    assert_eq!(engine_requests(&app.start_feed()), [Request::Dynfw(DynfwRequest::Start { demo: true })]);
    app.apply(Action::Tab(Tab::Dynfw));
    assert!(text(&app, Source::DynfwFeed).starts_with("starting the DynFW feed"), "{}", text(&app, Source::DynfwFeed));

    app.on_event(Update::Dynfw(DynfwUpdate::Started(Some(status(FeedSource::Demo)))));
    let shown = text(&app, Source::DynfwFeed);
    assert!(shown.starts_with(DEMO_LABEL), "{shown}");
    assert!(shown.contains("phase     synced  serial 8  blocked 3"), "{shown}");
    assert!(shown.contains("1 lists  1 deltas  1 events  0 resyncs  0 gaps"), "{shown}");
    assert!(shown.contains("last list 60 s ago  link replayed (no connection)"), "{shown}");

    let recent = app.table(&Panel { title: String::new(), source: Source::DynfwRecent, shape: crate::panels::Shape::Table, opens: None }).expect("the recent changes");
    assert_eq!(recent.header, ["received", "change", "ip", "cc", "serial"]);
    assert_eq!(recent.rows[0], ["12:40:45", "telnet_login", "192.0.2.1", "CZ", ""], "newest first");
    assert_eq!(recent.rows[1], ["12:40:30", "added", "192.0.2.3", "??", "8"]);
    let countries = app.dynfw.countries().expect("countries");
    assert_eq!(countries.rows, [vec!["??".to_string(), "2".into()], vec!["CZ".into(), "1".into()]], "most first");
    let sizes = app.dynfw.sizes("Blocked addresses").expect("sizes");
    assert_eq!((sizes.x_labels.first().map(String::as_str), sizes.series[0].values.as_slice()), (Some("2024-06-15 12:40:00"), &[2.0, 3.0][..]));
}

#[test]
fn a_configured_feed_shows_its_endpoint_and_link_and_no_feed_says_how_to_configure_one() {
    let mut app = on_tab();
    app.on_event(Update::Dynfw(DynfwUpdate::Status(Some(status(FeedSource::Endpoint("tcp://sentinel.turris.cz:7087".into()))))));
    let shown = text(&app, Source::DynfwFeed);
    assert!(shown.starts_with("Sentinel DynFW from tcp://sentinel.turris.cz:7087") && !shown.contains("DEMO"), "{shown}");
    assert!(shown.contains("link DOWN (0 connects, 0 drops, 0 failed handshakes)"), "{shown}");

    let mut app = on_tab();
    app.on_event(Update::Dynfw(DynfwUpdate::Status(None)));
    assert!(text(&app, Source::DynfwFeed).starts_with(NOT_CONFIGURED));
    let panels = app.panels();
    assert!(panels.iter().filter(|p| p.source != Source::DynfwFeed).all(|p| app.table(p).is_some() || app.chart(p).is_some()), "no panel keeps loading");
}

#[test]
fn a_failed_start_is_said_and_refresh_starts_again() {
    let mut app = on_tab();
    app.start_feed();
    app.on_event(Update::Failed { id: RequestId(1), kind: RequestKind::DynfwStart, error: Arc::new(vantage_core::engine::Error::Failed(vantage_core::Error::Config("no ZeroMQ".into()))) });
    assert!(text(&app, Source::DynfwFeed).contains("could not start"));
    assert!(app.error.as_deref().is_some_and(|e| e.contains("no ZeroMQ")));
    let effects = app.apply(Action::Refresh);
    assert_eq!(engine_requests(&effects), [Request::Dynfw(DynfwRequest::Start { demo: false })]);
}

fn membership(address: &str, dynfw: Option<Option<String>>, listed: bool) -> Membership {
    let greylist = listed.then(|| Entry {
        address: ip(address),
        tags: vec!["ftp".into(), "telnet".into()],
        country: Some("CZ".into()),
        first_seen: at(-86_400),
        last_seen: at(-600),
        count: 42,
    });
    Membership { ip: ip(address), dynfw, greylist, demo: false }
}

#[test]
fn i_searches_an_address_in_the_list_and_the_greylist() {
    let mut app = on_tab();
    app.on_event(Update::Dynfw(DynfwUpdate::Status(Some(status(FeedSource::Demo)))));
    app.apply(Action::FilterIp);
    assert_eq!(app.mode, Mode::DynfwIp);
    for c in "not an ip".chars() {
        app.apply(Action::Input(c));
    }
    assert!(engine_requests(&app.apply(Action::Submit)).is_empty());
    assert!(app.error.as_deref().is_some_and(|e| e.contains("`not an ip` is not an IP address")), "{:?}", app.error);

    app.apply(Action::FilterIp);
    for c in "192.0.2.1".chars() {
        app.apply(Action::Input(c));
    }
    let effects = app.apply(Action::Submit);
    assert!(engine_requests(&effects).contains(&Request::Dynfw(DynfwRequest::Lookup { ip: ip("192.0.2.1") })), "{effects:?}");
    assert!(text(&app, Source::DynfwFeed).contains("search    192.0.2.1: looking up"));
    app.on_event(Update::Dynfw(DynfwUpdate::Lookup(membership("192.0.2.1", Some(Some("CZ".into())), true))));
    let shown = text(&app, Source::DynfwFeed);
    assert!(shown.contains("search    192.0.2.1  DynFW blocked (CZ)"), "{shown}");
    assert!(shown.contains("greylist listed (ftp, telnet; 42 incidents, last 2024-06-15 12:30)"), "{shown}");

    // refreshing asks the search again; an empty search clears it
    assert!(engine_requests(&app.apply(Action::Refresh)).contains(&Request::Dynfw(DynfwRequest::Lookup { ip: ip("192.0.2.1") })));
    app.apply(Action::FilterIp);
    assert_eq!(app.input, "192.0.2.1", "the search is typed again from the last one");
    for _ in 0..9 {
        app.apply(Action::Erase);
    }
    app.apply(Action::Submit);
    assert!(text(&app, Source::DynfwFeed).contains("search    i: type an address"));
}

#[test]
fn the_attacker_detail_shows_dynfw_and_greylist_membership() {
    let mut app = App::new(Vec::new(), false);
    app.detail = Some(Detail::Attacker { ip: "192.0.2.1".into() });
    let asked = engine_requests(&app.requests());
    assert!(asked.contains(&Request::Dynfw(DynfwRequest::Membership { ip: ip("192.0.2.1") })), "{asked:?}");
    assert!(text(&app, Source::AttackerInfo).contains("DynFW     looking up"));

    app.on_event(Update::Dynfw(DynfwUpdate::Membership(membership("192.0.2.1", Some(Some("CZ".into())), true))));
    let shown = text(&app, Source::AttackerInfo);
    assert!(shown.contains("DynFW     blocked (CZ)") && shown.contains("greylist  listed (ftp, telnet; 42 incidents"), "{shown}");

    let words = |dynfw, listed| {
        let mut app = App::new(Vec::new(), false);
        app.detail = Some(Detail::Attacker { ip: "192.0.2.9".into() });
        app.on_event(Update::Dynfw(DynfwUpdate::Membership(membership("192.0.2.9", dynfw, listed))));
        text(&app, Source::AttackerInfo)
    };
    let shown = words(Some(None), false);
    assert!(shown.contains("DynFW     not blocked") && shown.contains("greylist  not listed"), "{shown}");
    assert!(words(None, false).contains("DynFW     feed not running"));

    app.on_event(Update::Failed { id: RequestId(3), kind: RequestKind::DynfwMembership, error: Arc::new(vantage_core::engine::Error::Failed(vantage_core::Error::Config("x".into()))) });
    app.detail = Some(Detail::Attacker { ip: "192.0.2.77".into() });
    assert!(text(&app, Source::AttackerInfo).contains("DynFW     unknown: the lookup failed"));
}

use chrono::TimeZone as _;

use super::*;
use crate::dynfw::message::Event;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).single().expect("time")
}

fn ip(n: u32) -> IpAddr {
    IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + n))
}

fn feed() -> Feed {
    // "countries" by the address's last byte parity, so the counts can be checked by hand
    Feed::new(Arc::new(|ip: IpAddr| match ip {
        IpAddr::V4(v4) if v4.octets()[3] % 2 == 0 => Some(*b"CZ"),
        IpAddr::V4(_) => Some(*b"DE"),
        IpAddr::V6(_) => None,
    }))
}

fn list(serial: u64, ips: &[u32]) -> Message {
    Message::List(List { serial, list: ips.iter().map(|n| ip(*n)).collect(), ts: None, version: None })
}

fn delta(serial: u64, sign: Sign, n: u32) -> Message {
    Message::Delta(Delta { serial, delta: sign, ip: ip(n), ts: None })
}

fn set(feed: &Feed) -> Vec<IpAddr> {
    feed.addresses()
}

#[test]
fn deltas_before_the_first_list_are_ignored() {
    let mut f = feed();
    assert_eq!(f.apply(delta(5, Sign::Positive, 1), now()), Applied::Nothing);
    assert_eq!(f.phase(), Phase::WaitingForList);
    assert!(f.is_empty());
    f.apply(list(5, &[2, 3]), now());
    assert_eq!((f.serial(), f.phase(), set(&f)), (Some(5), Phase::Synced, vec![ip(2), ip(3)]));
    assert_eq!(f.health().before_first_list, 1);
}

#[test]
fn consecutive_deltas_apply_and_duplicates_are_no_ops() {
    let mut f = feed();
    f.apply(list(1, &[1, 2]), now());
    f.apply(delta(2, Sign::Positive, 3), now());
    f.apply(delta(3, Sign::Negative, 1), now());
    f.apply(delta(3, Sign::Negative, 1), now());
    f.apply(delta(4, Sign::Positive, 2), now()); // already there: stays once
    assert_eq!((f.serial(), set(&f)), (Some(4), vec![ip(2), ip(3)]));
    assert_eq!((f.health().deltas, f.health().duplicates, f.health().resyncs), (3, 1, 0));
    assert_eq!(f.per_country(), vec![("CZ".to_string(), 1), ("DE".to_string(), 1)]);
    let kinds: Vec<_> = f.recent().map(|r| (r.serial, r.kind.clone())).collect();
    assert_eq!(kinds, vec![(Some(4), RecentKind::Added), (Some(3), RecentKind::Removed), (Some(2), RecentKind::Added)]);
}

#[test]
fn a_small_gap_waits_and_fills_in_order() {
    let mut f = feed();
    f.apply(list(10, &[]), now());
    assert_eq!(f.apply(delta(12, Sign::Positive, 12), now()), Applied::Nothing);
    assert_eq!(f.apply(delta(13, Sign::Positive, 13), now()), Applied::Nothing);
    let Applied::Deltas(applied) = f.apply(delta(11, Sign::Positive, 11), now()) else { panic!("applies") };
    assert_eq!(applied.iter().map(|r| r.serial).collect::<Vec<_>>(), vec![Some(11), Some(12), Some(13)]);
    assert_eq!((f.serial(), f.len(), f.health().gaps, f.health().resyncs), (Some(13), 3, 1, 0));
}

#[test]
fn more_than_ten_missing_or_a_lower_serial_resync_once_from_the_next_list() {
    let mut f = feed();
    f.apply(list(10, &[1]), now());
    f.apply(delta(22, Sign::Positive, 2), now()); // 11 missing
    assert_eq!((f.phase(), f.health().resyncs, f.health().gaps), (Phase::Resyncing, 1, 1));
    f.apply(delta(23, Sign::Positive, 3), now());
    assert_eq!(set(&f), vec![ip(1)], "the old set stays visible while re-syncing");
    assert_eq!(f.health().resyncs, 1, "one re-sync, however many deltas follow");
    f.apply(list(30, &[4, 5]), now());
    assert_eq!((f.phase(), f.serial(), set(&f)), (Phase::Synced, Some(30), vec![ip(4), ip(5)]));
    f.apply(delta(3, Sign::Positive, 6), now()); // the publisher restarted
    assert_eq!((f.phase(), f.health().resyncs), (Phase::Resyncing, 2));
    f.apply(list(3, &[6]), now());
    assert_eq!((f.serial(), set(&f)), (Some(3), vec![ip(6)]));
    assert_eq!(f.health().dropped_while_resyncing, 1);
}

#[test]
fn exactly_ten_missing_still_waits_but_eleven_waiting_resyncs() {
    let mut f = feed();
    f.apply(list(0, &[]), now());
    f.apply(delta(11, Sign::Positive, 11), now()); // 1..=10 missing: waits
    assert_eq!(f.phase(), Phase::Synced);
    let mut f = feed();
    f.apply(list(0, &[]), now());
    for serial in 2..=11 {
        f.apply(delta(serial, Sign::Positive, serial as u32), now());
    }
    assert_eq!(f.phase(), Phase::Synced, "ten waiting");
    f.apply(delta(12, Sign::Positive, 12), now());
    assert_eq!((f.phase(), f.health().resyncs), (Phase::Resyncing, 1), "eleven waiting");
}

#[test]
fn ipv6_events_and_countries() {
    let mut f = feed();
    let v6: IpAddr = "2001:db8::7".parse().expect("ip");
    f.apply(Message::List(List { serial: 1, list: vec![v6, ip(2), ip(2)], ts: None, version: None }), now());
    assert_eq!(f.len(), 2, "a repeated address counts once");
    assert_eq!(f.lookup(v6), Some(String::new()));
    assert_eq!(f.lookup(ip(9)), None);
    let Applied::Event(event) = f.apply(Message::Event(Event { event: "telnet_login".into(), ip: ip(3), ts: None }), now()) else { panic!("event") };
    assert_eq!((event.country.as_str(), event.kind), ("DE", RecentKind::Event("telnet_login".into())));
    assert_eq!(f.per_country(), vec![(String::new(), 1), ("CZ".to_string(), 1)]);
    f.skipped(&FrameError::FrameCount(1), now());
    f.skipped(&FrameError::UnknownTopic("x".into()), now());
    assert_eq!((f.health().bad_frames, f.health().unknown_topics, f.health().events), (1, 1, 1));
}

#[test]
fn recent_keeps_the_last_29() {
    let mut f = feed();
    f.apply(list(0, &[]), now());
    for serial in 1..=40 {
        f.apply(delta(serial, Sign::Positive, serial as u32), now());
    }
    assert_eq!(f.recent().count(), RECENT);
    assert_eq!(f.recent().next().and_then(|r| r.serial), Some(40));
}

//! The DynFW feed against a CURVE publisher on loopback started by each test
//! ([`vantage_tests::dynfw::Publisher`]): the engine's subscriber ends with exactly the
//! publisher's set and serial; gaps, lower serials and a publisher restart re-sync once from
//! the next list; deltas before the first list, malformed messages, one-frame messages and
//! unknown topics are counted and skipped; a wrong server key gives `follow`'s explanation;
//! the state survives a restart; `/dynfw/list.json` answers the set.
//!
//! Every wait is on a condition (the feed's `changes()`, `wait_for_list`, the publisher's
//! `wait_for_subscriber`), never a sleep.

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt as _;
use vantage_core::config::Overrides;
use vantage_core::dynfw::feed::Phase;
use vantage_core::dynfw::service::{FeedHandle, FeedStatus};
use vantage_core::engine::Engine;
use vantage_tests::dynfw::{Publisher, config_section};

const WAIT: Duration = Duration::from_secs(10);

fn ip(n: u32) -> IpAddr {
    IpAddr::from(std::net::Ipv4Addr::from(0xc633_6400 + n))
}

/// An engine (SQLite in `dir`) whose `[dynfw]` section points at `publisher`.
async fn engine_for(publisher: &Publisher, dir: &Path) -> Engine {
    let key = publisher.write_key_file(dir);
    engine_with(publisher, &key, dir).await
}

/// An engine (SQLite in `dir`) following `publisher` with the server key in `key`.
async fn engine_with(publisher: &Publisher, key: &Path, dir: &Path) -> Engine {
    let file = dir.join("vantage.toml");
    std::fs::write(&file, config_section(publisher, key)).expect("write config");
    let config = Engine::load_config(Overrides {
        config_file: Some(file),
        data_dir: Some(dir.join("data")),
        geoip_dir: Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join("geoip")),
        now: Some("2026-12-01T12:00:00Z".into()),
        ..Overrides::default()
    })
    .expect("config");
    Engine::open(&config).await.expect("engine")
}

/// The engine's feed started and subscribed to `publisher`.
async fn subscribed(engine: &Engine, publisher: &Publisher) -> FeedHandle {
    let feed = engine.dynfw().start().expect("start").expect("configured");
    assert!(publisher.wait_for_subscriber(WAIT), "the subscriber connects with CURVE");
    feed
}

/// Waits (on the feed's changes) until its status satisfies `done`; the status then.
async fn until(feed: &FeedHandle, what: &str, done: impl Fn(&FeedStatus) -> bool) -> FeedStatus {
    let mut changes = feed.changes();
    let wait = async {
        loop {
            let status = feed.status(chrono::Utc::now());
            if done(&status) {
                return status;
            }
            changes.changed().await.expect("feed alive");
        }
    };
    match tokio::time::timeout(WAIT, wait).await {
        Ok(status) => status,
        Err(_) => panic!("timed out waiting for {what}: {:?}", feed.status(chrono::Utc::now())),
    }
}

/// A msgpack map of small values as Sentinel's publisher packs it: string keys, values that
/// are text or integers below 128 (fixstr, fixint; enough for these tests).
fn msgpack(pairs: &[(&str, serde_json::Value)]) -> Vec<u8> {
    fn text(out: &mut Vec<u8>, s: &str) {
        assert!(s.len() < 32, "fixstr");
        out.push(0xa0 | s.len() as u8);
        out.extend_from_slice(s.as_bytes());
    }
    let mut out = vec![0x80 | pairs.len() as u8];
    for (key, value) in pairs {
        text(&mut out, key);
        match value {
            serde_json::Value::String(s) => text(&mut out, s),
            serde_json::Value::Number(n) => out.push(n.as_u64().filter(|n| *n < 128).expect("fixint") as u8),
            other => panic!("not packed here: {other}"),
        }
    }
    out
}

/// The feed's blocked addresses, sorted.
fn set(feed: &FeedHandle) -> Vec<IpAddr> {
    feed.blocked().1.into_iter().map(|(ip, _)| ip).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn snapshot_and_deltas_give_the_publishers_set_and_serial() {
    let dir = tempfile::tempdir().expect("tempdir");
    let publisher = Publisher::start();
    let engine = engine_for(&publisher, dir.path()).await;
    let feed = subscribed(&engine, &publisher).await;
    publisher.delta(4, true, ip(9)); // before the first list: ignored
    publisher.list(5, &[ip(1), ip(2), ip(3)]);
    assert!(feed.wait_for_list(WAIT).await);
    publisher.delta(6, false, ip(2));
    publisher.delta(7, true, ip(4));
    let v6: IpAddr = "2001:db8::4".parse().expect("ip");
    publisher.delta(8, true, v6);
    publisher.event("telnet_login", ip(1));
    let status = until(&feed, "the event", |s| s.health.events == 1).await;
    assert_eq!((status.serial, status.phase, status.resyncs, status.health.before_first_list), (Some(8), Phase::Synced, 0, 1));
    assert_eq!(set(&feed), vec![ip(1), ip(3), ip(4), v6]);
    assert!(status.link.handshakes >= 1);
    feed.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn deltas_before_the_first_list_are_ignored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let publisher = Publisher::start();
    let engine = engine_for(&publisher, dir.path()).await;
    let feed = subscribed(&engine, &publisher).await;
    publisher.delta(7, true, ip(7));
    publisher.delta(8, true, ip(8));
    let status = until(&feed, "two deltas", |s| s.health.before_first_list == 2).await;
    assert_eq!((status.serial, status.size, status.phase, status.health.deltas), (None, 0, Phase::WaitingForList, 0));
    assert!(set(&feed).is_empty(), "nothing applied before a list");

    publisher.list(8, &[ip(1)]);
    publisher.delta(9, true, ip(9));
    let status = until(&feed, "the delta after the list", |s| s.serial == Some(9)).await;
    assert_eq!(set(&feed), vec![ip(1), ip(9)], "ip(7) and ip(8) never entered the set");
    assert_eq!((status.health.deltas, status.resyncs), (1, 0));
    feed.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gap_of_more_than_ten_serials_resyncs_once_until_the_next_list() {
    let dir = tempfile::tempdir().expect("tempdir");
    let publisher = Publisher::start();
    let engine = engine_for(&publisher, dir.path()).await;
    let feed = subscribed(&engine, &publisher).await;
    publisher.list(1, &[ip(1), ip(2)]);
    // a small gap waits for the missing serial, then both apply in order
    publisher.delta(3, true, ip(3));
    publisher.delta(2, false, ip(1));
    let status = until(&feed, "the closed gap", |s| s.serial == Some(3)).await;
    assert_eq!((status.health.gaps, status.resyncs, status.phase), (1, 0, Phase::Synced));
    assert_eq!(set(&feed), vec![ip(2), ip(3)]);

    // 11 missing (4..=14): a re-sync; deltas are dropped, the old set stays visible
    publisher.delta(15, true, ip(15));
    publisher.delta(16, true, ip(16));
    publisher.delta(17, true, ip(17));
    let status = until(&feed, "the re-sync", |s| s.health.dropped_while_resyncing == 2).await;
    assert_eq!((status.phase, status.resyncs, status.serial, status.health.gaps), (Phase::Resyncing, 1, Some(3), 2));
    assert_eq!(set(&feed), vec![ip(2), ip(3)], "the old set is shown while re-syncing");

    publisher.list(20, &[ip(5), ip(6), ip(7)]);
    publisher.delta(21, false, ip(6));
    let status = until(&feed, "the delta after the new list", |s| s.serial == Some(21)).await;
    assert_eq!((status.phase, status.resyncs, status.health.lists), (Phase::Synced, 1, 2), "exactly one re-sync, completed by the list");
    assert_eq!(set(&feed), vec![ip(5), ip(7)]);
    feed.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gap_of_exactly_ten_serials_waits_and_fast_forwards() {
    let dir = tempfile::tempdir().expect("tempdir");
    let publisher = Publisher::start();
    let engine = engine_for(&publisher, dir.path()).await;
    let feed = subscribed(&engine, &publisher).await;
    publisher.list(100, &[]);
    publisher.delta(111, true, ip(111)); // 101..=110 missing: ten, still waiting
    for serial in 101..=110 {
        publisher.delta(serial, true, ip(serial as u32));
    }
    let status = until(&feed, "the fast-forward", |s| s.serial == Some(111)).await;
    assert_eq!((status.phase, status.resyncs, status.size, status.health.deltas), (Phase::Synced, 0, 11, 11));
    feed.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lower_serial_resyncs_once_from_the_next_list() {
    let dir = tempfile::tempdir().expect("tempdir");
    let publisher = Publisher::start();
    let engine = engine_for(&publisher, dir.path()).await;
    let feed = subscribed(&engine, &publisher).await;
    publisher.list(50, &[ip(1), ip(2)]);
    publisher.delta(51, true, ip(3));
    publisher.delta(40, true, ip(4)); // lower: the publisher restarted its serials
    publisher.delta(41, true, ip(5)); // dropped while re-syncing
    let status = until(&feed, "the re-sync", |s| s.health.dropped_while_resyncing == 1).await;
    assert_eq!((status.phase, status.resyncs, status.serial, status.health.gaps), (Phase::Resyncing, 1, Some(51), 0));
    assert_eq!(set(&feed), vec![ip(1), ip(2), ip(3)]);

    publisher.list(42, &[ip(8)]);
    publisher.delta(43, true, ip(9));
    let status = until(&feed, "the delta after the list", |s| s.serial == Some(43)).await;
    assert_eq!((status.phase, status.resyncs), (Phase::Synced, 1));
    assert_eq!(set(&feed), vec![ip(8), ip(9)], "the list replaced the set");
    feed.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_messages_are_counted_and_skipped_and_the_feed_keeps_going() {
    let dir = tempfile::tempdir().expect("tempdir");
    let publisher = Publisher::start();
    let engine = engine_for(&publisher, dir.path()).await;
    let feed = subscribed(&engine, &publisher).await;
    publisher.list(1, &[ip(1)]);
    // a well-formed delta packed by hand first: the packing below is Sentinel's
    let fine = msgpack(&[("serial", 2.into()), ("delta", "positive".into()), ("ip", "198.51.100.2".into())]);
    publisher.send_frames(&[b"dynfw/delta", b"\xc1 not msgpack"]);
    let not_a_delta = msgpack(&[("serial", 2.into()), ("delta", "sideways".into()), ("ip", "198.51.100.2".into())]);
    publisher.send_frames(&[b"dynfw/delta", &not_a_delta]);
    publisher.send_frames(&[b"dynfw/delta"]);
    let body = msgpack(&[("serial", 2.into()), ("what", "ever".into())]);
    publisher.send_frames(&[b"dynfw/unknown", &body]);
    publisher.send_frames(&[b"dynfw/delta", &fine]);
    let status = until(&feed, "the delta after the bad messages", |s| s.serial == Some(2)).await;
    let h = &status.health;
    assert_eq!((h.malformed, h.bad_frames, h.unknown_topics), (2, 1, 1), "{h:?}");
    assert_eq!((h.deltas, h.lists, status.resyncs, status.phase), (1, 1, 0, Phase::Synced));
    assert_eq!(set(&feed), vec![ip(1), ip(2)]);
    feed.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_server_key_fails_follow_with_what_to_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let publisher = Publisher::start();
    let other = tempfile::tempdir().expect("tempdir");
    let wrong_key = Publisher::start().write_key_file(other.path());
    let engine = engine_with(&publisher, &wrong_key, dir.path()).await;
    let started = std::time::Instant::now();
    let error = engine.dynfw().follow(Duration::from_millis(1500)).await.expect_err("no list with a wrong key");
    let message = vantage_core::error::chain_text(&error);
    assert!(started.elapsed() < Duration::from_secs(5), "follow gives up after its duration: {:?}", started.elapsed());
    assert!(message.contains("`endpoint`") && message.contains("`server_key`") && message.contains(&publisher.endpoint), "{message}");
    assert!(message.contains("handshake never completed") || message.contains("no connection"), "{message}");
    let status = engine.dynfw().status().expect("the feed was started");
    assert_eq!((status.link.handshakes, status.serial, status.link.up), (0, None, false));
    assert!(!publisher.wait_for_subscriber(Duration::from_millis(100)), "no subscription gets through a wrong key");
    engine.dynfw().feed().expect("feed").stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_publisher_restart_is_followed_by_reconnect_and_resync() {
    let dir = tempfile::tempdir().expect("tempdir");
    let publisher = Publisher::start();
    let engine = engine_for(&publisher, dir.path()).await;
    let feed = subscribed(&engine, &publisher).await;
    publisher.list(500, &[ip(1), ip(2)]);
    publisher.delta(501, true, ip(3));
    until(&feed, "the first run's delta", |s| s.serial == Some(501)).await;

    let publisher = publisher.restart();
    assert!(publisher.wait_for_subscriber(WAIT), "the subscriber reconnects to the restarted publisher");
    // the restarted publisher counts from 1: a lower serial re-syncs, its list rebuilds
    publisher.delta(1, true, ip(10));
    publisher.list(2, &[ip(11), ip(12)]);
    publisher.delta(3, false, ip(11));
    let status = until(&feed, "the restarted publisher's delta", |s| s.serial == Some(3) && s.link.handshakes >= 2).await;
    assert_eq!((status.phase, status.resyncs, status.health.lists), (Phase::Synced, 1, 2));
    assert!(status.link.disconnects >= 1 && status.link.up, "{:?}", status.link);
    assert_eq!(set(&feed), vec![ip(12)], "the set was replaced");
    feed.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_state_survives_a_restart_and_continues_its_serials() {
    let dir = tempfile::tempdir().expect("tempdir");
    let publisher = Publisher::start();
    let engine = engine_for(&publisher, dir.path()).await;
    let feed = subscribed(&engine, &publisher).await;
    publisher.list(30, &[ip(1), ip(2)]);
    publisher.delta(31, true, ip(3));
    until(&feed, "the delta", |s| s.serial == Some(31)).await;
    feed.stop();
    feed.save(chrono::Utc::now()).expect("save");
    engine.close().await;
    assert!(dir.path().join("data/dynfw/state.json").is_file());

    let again = engine_for(&publisher, dir.path()).await;
    let feed = again.dynfw().start().expect("start").expect("configured");
    let status = feed.status(chrono::Utc::now());
    assert_eq!((status.serial, status.size, status.phase, status.health.lists), (Some(31), 3, Phase::Synced, 0));
    assert!(status.restored_at.is_some(), "{status:?}");
    assert_eq!(set(&feed), vec![ip(1), ip(2), ip(3)], "the restored set, before any list");
    assert!(publisher.wait_for_subscriber(WAIT), "the new subscriber connects");
    publisher.delta(32, false, ip(1));
    until(&feed, "the next delta", |s| s.serial == Some(32)).await;
    assert_eq!(set(&feed), vec![ip(2), ip(3)], "deltas continue from the restored serial");
    feed.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn list_json_answers_the_current_set() {
    let dir = tempfile::tempdir().expect("tempdir");
    let publisher = Publisher::start();
    let engine = engine_for(&publisher, dir.path()).await;
    let feed = subscribed(&engine, &publisher).await;
    let london: IpAddr = "81.2.69.142".parse().expect("ip");
    publisher.list(7, &[ip(2), london, "2001:db8::9".parse().expect("ip")]);
    publisher.delta(8, false, ip(2));
    until(&feed, "the delta", |s| s.serial == Some(8)).await;
    let router = engine.http_api(0).router;
    let resp = router.oneshot(Request::get("/dynfw/list.json").body(Body::empty()).expect("request")).await.expect("router answers");
    assert_eq!(resp.status(), StatusCode::OK);
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20).await.expect("body");
    let json: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(
        json,
        serde_json::json!({"serial": 8, "size": 2, "list": ["81.2.69.142", "2001:db8::9"], "source": publisher.endpoint, "demo": false})
    );
    assert_eq!(feed.lookup(london).as_deref(), Some("GB"), "addresses carry their GeoIP country");
    feed.stop();
}

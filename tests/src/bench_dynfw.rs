//! The DynFW benchmarks of `vantage-bench` (`dynfw-deltas`, `dynfw-zmq`, `dynfw-memory`;
//! `scripts/bench.sh dynfw`): deltas applied per second through the feed beside a plain
//! `HashSet` and msgpack decoding alone, end to end over ZeroMQ CURVE on loopback, and the
//! memory and state file of a large blocked set.

use crate::COUNTRIES;

/// `n` distinct addresses, one in ten IPv6 (2001:db8::/32), the rest IPv4 spread over the whole
/// space (a bijection of the index, so no two are equal).
fn dynfw_addresses(n: usize) -> Vec<std::net::IpAddr> {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    (0..n as u64)
        .map(|i| {
            if i % 10 == 9 {
                IpAddr::V6(Ipv6Addr::from((0x2001_0db8u128 << 96) | u128::from(i.wrapping_mul(0x9E37_79B9_7F4A_7C15))))
            } else {
                IpAddr::V4(Ipv4Addr::from((i as u32).wrapping_mul(2_654_435_761)))
            }
        })
        .collect()
}

/// A stand-in for the GeoIP lookup: one of 30 countries by a hash of the address (the feed's
/// per-country counts are kept as with real data; the lookup itself costs next to nothing).
fn dynfw_country_of() -> vantage_core::dynfw::feed::CountryOf {
    std::sync::Arc::new(|ip: std::net::IpAddr| {
        let h = match ip {
            std::net::IpAddr::V4(a) => u32::from(a),
            std::net::IpAddr::V6(a) => u128::from(a) as u32,
        };
        let code = COUNTRIES[(h.wrapping_mul(2_654_435_761) >> 16) as usize % COUNTRIES.len()].as_bytes();
        Some([code[0], code[1]])
    })
}

/// `value` rounded, with thousands separated by commas (`1,234,567`).
fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// The resident set size of this process, kB (`VmRSS` of /proc/self/status).
fn vm_rss_kb() -> Result<u64, Box<dyn std::error::Error>> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).ok_or("no VmRSS in /proc/self/status")?;
    Ok(line.split_whitespace().nth(1).ok_or("VmRSS")?.parse()?)
}

/// A list of `n` addresses (serial 1000) and `deltas` deltas after it with valid serials: the
/// demo's [`Replay`](vantage_core::dynfw::demo::Replay) over a pool of 2n addresses (half of
/// it listed, each delta toggles a random one: adds and removes about even), events left out,
/// publisher time stamps set as Sentinel sends them.
fn dynfw_sequence(n: usize, deltas: usize) -> Result<(vantage_core::dynfw::message::List, Vec<vantage_core::dynfw::message::Delta>), Box<dyn std::error::Error>> {
    use vantage_core::dynfw::message::Message;
    let mut replay = vantage_core::dynfw::demo::Replay::new(dynfw_addresses(2 * n), 16);
    let Some(Message::List(mut list)) = replay.next() else { return Err("the replay starts with a list".into()) };
    list.ts = Some(1_700_000_000);
    let deltas = replay
        .filter_map(|m| match m {
            Message::Delta(d) => Some(d),
            _ => None,
        })
        .take(deltas)
        .enumerate()
        .map(|(i, mut d)| {
            d.ts = Some(1_700_000_000 + i as i64 / 1000);
            d
        })
        .collect();
    Ok((list, deltas))
}

/// Encoded delta bodies, back to back, with each one's end offset (the topic is always
/// `dynfw/delta`): frames as the subscriber receives them, without 2 allocations per message.
struct Bodies {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Bodies {
    fn frames(&self) -> impl Iterator<Item = [&[u8]; 2]> {
        let topic = vantage_core::dynfw::message::TOPIC_DELTA.as_bytes();
        self.ends.iter().scan(0, move |start, &end| {
            let body = &self.bytes[*start..end];
            *start = end;
            Some([topic, body])
        })
    }
}

/// `dynfw-deltas N D`: a list of N addresses then D deltas applied through
/// `FeedHandle::receive` on encoded frames and through `Feed::apply` on decoded messages, beside
/// the same adds and removes on a plain `HashSet<IpAddr>` and `message::decode` alone, all in
/// this run on one thread; checks that every path ends with the same set. Prints Markdown.
pub fn dynfw_deltas(n: usize, count: usize) -> Result<(), Box<dyn std::error::Error>> {
    use std::collections::HashSet;
    use std::hint::black_box;
    use std::net::IpAddr;
    use std::time::Instant;
    use vantage_core::dynfw::feed::{Feed, Phase};
    use vantage_core::dynfw::message::{self, Message, Sign};
    use vantage_core::dynfw::service::{FeedHandle, Source};

    let (list, deltas) = dynfw_sequence(n, count)?;
    let last_serial = deltas.last().map_or(list.serial, |d| d.serial);
    let list_frames = message::encode(&Message::List(list.clone()));
    let t = Instant::now();
    let mut bodies = Bodies { bytes: Vec::with_capacity(count * 64), ends: Vec::with_capacity(count) };
    for d in &deltas {
        let [_, body] = message::encode(&Message::Delta(d.clone()));
        bodies.bytes.extend_from_slice(&body);
        bodies.ends.push(bodies.bytes.len());
    }
    let encode_secs = t.elapsed().as_secs_f64();
    let adds = deltas.iter().filter(|d| d.delta == Sign::Positive).count();

    // baseline: the same changes on a plain set
    let mut set: HashSet<IpAddr> = HashSet::with_capacity(list.list.len());
    set.extend(list.list.iter().copied());
    let t = Instant::now();
    for d in &deltas {
        match d.delta {
            Sign::Positive => black_box(set.insert(d.ip)),
            Sign::Negative => black_box(set.remove(&d.ip)),
        };
    }
    let set_secs = t.elapsed().as_secs_f64();

    // baseline: decoding alone
    let t = Instant::now();
    let mut decoded = 0usize;
    for frames in bodies.frames() {
        decoded += usize::from(matches!(black_box(message::decode(&frames)), Ok(Message::Delta(_))));
    }
    let decode_secs = t.elapsed().as_secs_f64();
    assert_eq!(decoded, count, "every body decodes");

    // the feed on decoded messages
    let mut feed = Feed::new(dynfw_country_of());
    let t = Instant::now();
    feed.apply(Message::List(list.clone()), chrono::Utc::now());
    let list_apply_secs = t.elapsed().as_secs_f64();
    let messages: Vec<Message> = deltas.into_iter().map(Message::Delta).collect();
    let t = Instant::now();
    for m in messages {
        black_box(feed.apply(m, chrono::Utc::now()));
    }
    let apply_secs = t.elapsed().as_secs_f64();
    let health = feed.health();
    assert_eq!((feed.serial(), feed.phase(), health.deltas, health.resyncs, health.duplicates), (Some(last_serial), Phase::Synced, count as u64, 0, 0));
    let mut expected: Vec<IpAddr> = set.iter().copied().collect();
    expected.sort_unstable();
    assert_eq!(feed.addresses(), expected, "Feed::apply ends with the HashSet's set");
    drop(feed);

    // what the subscriber does per message: decode + apply + relay (a listener that never reads
    // is kept, so every change is also written into the relay's ring)
    let handle = FeedHandle::new(Source::Endpoint("tcp://bench:7087".into()), dynfw_country_of(), None, chrono::Utc::now());
    let _listener = handle.relay();
    let t = Instant::now();
    handle.receive(&list_frames, chrono::Utc::now());
    let list_receive_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for frames in bodies.frames() {
        black_box(handle.receive(&frames, chrono::Utc::now()));
    }
    let receive_secs = t.elapsed().as_secs_f64();
    let status = handle.status(chrono::Utc::now());
    assert_eq!((status.serial, status.phase, status.health.deltas, status.resyncs, status.size), (Some(last_serial), Phase::Synced, count as u64, 0, expected.len()));
    assert_eq!(handle.blocked().1.into_iter().map(|(ip, _)| ip).collect::<Vec<_>>(), expected, "FeedHandle::receive ends with the HashSet's set");

    let c = count as f64;
    let row = |what: &str, secs: f64| {
        println!("| {what} | {} | {secs:.3} | {} | {:.0} | {:.2} |", thousands(count as f64), thousands(c / secs), secs / c * 1e9, set_secs / secs);
    };
    println!("| path | deltas | seconds | deltas/s | ns per delta | rate ÷ HashSet's |");
    println!("|---|---:|---:|---:|---:|---:|");
    row("baseline: the same adds/removes on a plain `HashSet<IpAddr>`", set_secs);
    row("baseline: `message::decode` alone (msgpack map, address as text)", decode_secs);
    row("`Feed::apply` on decoded messages (serial rules, countries, recent, sizes)", apply_secs);
    row("**`FeedHandle::receive` on encoded frames (decode + apply + relay)**", receive_secs);
    row("(publisher side, for scale) `message::encode`", encode_secs);
    println!();
    println!(
        "{} adds and {} removes; the set holds {} addresses at the end (started at {}). The list ({:.1} MB of msgpack): \
         `Feed::apply` {list_apply_secs:.2} s, `FeedHandle::receive` (decode + build) {list_receive_secs:.2} s.",
        thousands(adds as f64),
        thousands((count - adds) as f64),
        thousands(expected.len() as f64),
        thousands(n as f64),
        list_frames[1].len() as f64 / 1e6
    );
    Ok(())
}

/// `dynfw-zmq N K [HWM]`: end to end over ZeroMQ CURVE on loopback — the tests' XPUB
/// [`Publisher`](vantage_tests::dynfw::Publisher) sends a list of N addresses and K deltas as
/// fast as it can to an engine-less `FeedHandle` followed by `dynfw::subscriber::spawn`; HWM is
/// the publisher's send high-water mark (absent: libzmq's default 1000; 0: unlimited).
/// Prints one Markdown row: time to the list, deltas sent and applied per second, and what was
/// lost (a full send queue drops messages, the feed re-syncs and drops the rest until a list).
pub fn dynfw_zmq(n: usize, count: usize, hwm: Option<i32>) -> Result<(), Box<dyn std::error::Error>> {
    use std::time::{Duration as StdDuration, Instant};
    use vantage_core::dynfw::DynfwConfig;
    use vantage_core::dynfw::message::{self, Message};
    use vantage_core::dynfw::service::{FeedHandle, Source};
    use crate::dynfw::Publisher;

    let (list, deltas) = dynfw_sequence(n, count)?;
    let list_serial = list.serial;
    let last_serial = deltas.last().map_or(list.serial, |d| d.serial);
    let list_frames = message::encode(&Message::List(list));
    let frames: Vec<[Vec<u8>; 2]> = deltas.into_iter().map(|d| message::encode(&Message::Delta(d))).collect();

    let publisher = Publisher::start();
    let dir = tempfile::tempdir()?;
    let handle = FeedHandle::new(Source::Endpoint(publisher.endpoint.clone()), dynfw_country_of(), None, chrono::Utc::now());
    let config = DynfwConfig { endpoint: publisher.endpoint.clone(), server_key: publisher.public, dir: dir.path().to_path_buf() };
    let thread = vantage_core::dynfw::subscriber::spawn(&config, handle.clone(), vantage_core::Clock::System)?;
    if !publisher.wait_for_subscriber(StdDuration::from_secs(30)) {
        return Err("the subscriber did not subscribe within 30 s".into());
    }
    if let Some(hwm) = hwm {
        publisher.set_send_hwm(hwm);
    }
    let health = || handle.status(chrono::Utc::now());
    // waits until the serial is `serial` or nothing has changed for 3 s; the instant of the last change
    let settle = |serial: u64| {
        let (mut seen, mut changed) = (None, Instant::now());
        loop {
            let s = health();
            let progress = (s.health.lists, s.health.deltas, s.health.dropped_while_resyncing);
            if Some(progress) != seen {
                (seen, changed) = (Some(progress), Instant::now());
            }
            if (s.serial == Some(serial) && s.health.lists > 0) || changed.elapsed() > StdDuration::from_secs(3) {
                return (s, changed);
            }
            std::thread::sleep(StdDuration::from_millis(2));
        }
    };
    let t = Instant::now();
    publisher.send_frames(&[&list_frames[0], &list_frames[1]]);
    let (listed, at) = settle(list_serial);
    if listed.health.lists != 1 || listed.size != n {
        return Err(format!("the list did not arrive: {:?}", listed.health).into());
    }
    let list_secs = (at - t).as_secs_f64();

    let t = Instant::now();
    for [topic, body] in &frames {
        publisher.send_frames(&[topic, body]);
    }
    let sent_secs = t.elapsed().as_secs_f64();
    let (end, at) = settle(last_serial);
    let secs = (at - t).as_secs_f64();
    handle.stop();
    thread.join().map_err(|_| "the subscriber thread panicked")?;
    let h = end.health;
    let hwm = match hwm {
        None => "1000 (libzmq default)".to_string(),
        Some(0) => "unlimited (0)".to_string(),
        Some(v) => v.to_string(),
    };
    let lost = (count as u64).saturating_sub(h.deltas + h.dropped_while_resyncing);
    // after a re-sync the applied deltas are only those before the first loss: no rate
    let applied_rate = if h.resyncs == 0 { format!("**{}**", thousands(h.deltas as f64 / secs)) } else { "- (re-synced)".into() };
    println!(
        "| {hwm} | {} | {list_secs:.2} | {} | {} | {} | {secs:.2} | {applied_rate} | {} | {} | {} |",
        thousands(n as f64),
        thousands(count as f64),
        thousands(count as f64 / sent_secs),
        thousands(h.deltas as f64),
        thousands(lost as f64),
        h.resyncs,
        thousands(h.dropped_while_resyncing as f64)
    );
    Ok(())
}

/// `dynfw-memory N DIR`: the resident memory of a `Feed` holding N addresses (VmRSS before
/// and after the list is applied; the decoded list itself is freed by then) beside a plain
/// `HashSet<IpAddr>` of the same addresses, and the state file (`persist::save`/`load` in a
/// temporary directory under DIR): size, save and load times, and a restart from it. Prints
/// Markdown.
pub fn dynfw_memory(n: usize, dir: &str) -> Result<(), Box<dyn std::error::Error>> {
    use std::collections::HashSet;
    use std::net::IpAddr;
    use std::time::Instant;
    use vantage_core::dynfw::feed::Feed;
    use vantage_core::dynfw::message::{List, Message};
    use vantage_core::dynfw::persist::{self, Saved};

    let start = vm_rss_kb()?;
    let list = dynfw_addresses(n);
    let with_list = vm_rss_kb()?;
    let mut feed = Feed::new(dynfw_country_of());
    let t = Instant::now();
    feed.apply(Message::List(List { serial: 1, list, ts: None, version: Some(1) }), chrono::Utc::now());
    let build_secs = t.elapsed().as_secs_f64();
    let with_feed = vm_rss_kb()?;
    assert_eq!(feed.len(), n);

    let t = Instant::now();
    let addresses = feed.addresses();
    let sort_secs = t.elapsed().as_secs_f64();
    let before_set = vm_rss_kb()?;
    let mut set: HashSet<IpAddr> = HashSet::with_capacity(n);
    set.extend(addresses.iter().copied());
    let with_set = vm_rss_kb()?;
    assert_eq!(set.len(), n);
    drop(set);

    let scratch = tempfile::tempdir_in(dir)?;
    let saved = Saved { serial: 1, saved_at: chrono::Utc::now(), list: addresses };
    let t = Instant::now();
    persist::save(scratch.path(), &saved)?;
    let save_secs = t.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(persist::path(scratch.path()))?.len();
    drop(saved);
    let t = Instant::now();
    let loaded = persist::load(scratch.path())?.ok_or("the state file is there")?;
    let load_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let restored = Feed::restored(dynfw_country_of(), loaded.serial, loaded.list, chrono::Utc::now());
    let restore_secs = t.elapsed().as_secs_f64();
    assert_eq!(restored.addresses(), feed.addresses(), "the state file restores the set");

    let kb = |a: u64, b: u64| b.saturating_sub(a);
    let per = |k: u64| k as f64 * 1024.0 / n as f64;
    println!("| measure | value | per address |");
    println!("|---|---:|---:|");
    println!("| process RSS before | {:.1} MiB | - |", start as f64 / 1024.0);
    println!("| baseline: the decoded list, a `Vec<IpAddr>` ({} bytes per element) | {:.1} MiB | {:.1} B |", std::mem::size_of::<IpAddr>(), kb(start, with_list) as f64 / 1024.0, per(kb(start, with_list)));
    println!("| **`Feed` holding the set** (RSS after the list is applied and freed − before) | **{:.1} MiB** | **{:.1} B** |", kb(start, with_feed) as f64 / 1024.0, per(kb(start, with_feed)));
    println!("| baseline: a plain `HashSet<IpAddr>` of the same addresses, same capacity | {:.1} MiB | {:.1} B |", kb(before_set, with_set) as f64 / 1024.0, per(kb(before_set, with_set)));
    println!("| building the set from the decoded list (`Feed::apply`, countries looked up) | {build_secs:.2} s | {:.0} ns |", build_secs / n as f64 * 1e9);
    println!("| state file `state.json` | {:.1} MB | {:.1} B |", bytes as f64 / 1e6, bytes as f64 / n as f64);
    println!("| save: sorted addresses (`Feed::addresses`) + `persist::save` | {sort_secs:.2} s + {save_secs:.2} s | - |");
    println!("| load: `persist::load` + `Feed::restored` (a restart) | {load_secs:.2} s + {restore_secs:.2} s | - |");
    Ok(())
}

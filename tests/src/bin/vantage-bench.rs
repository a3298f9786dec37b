//! Data generator for `scripts/bench.sh`: writes synthetic Sentinel incident reports.
//!
//! `vantage-bench gen-pcap N OUT SEED` writes N synthetic Ethernet packets as a classic pcap
//! for the pcap merge benchmark (see [`gen_pcap`]).
//!
//! `vantage-bench gen-hibp N OUT` writes N distinct random SHA-1s as HIBP `SHA1:COUNT` lines
//! (counts heavy-tailed) for the leaked-password benchmark.
//!
//! `vantage-bench gen-events N OUT` writes N IntelMQ events as JSON Lines (see [`gen_events`]).
//!
//! `vantage-bench gen-flows N DAY OUT` writes N flows of the UTC day DAY as `nfdump -o csv`
//! (1.7.4 header) for the flows benchmark, and 3,000 of them as spot-ml's `flow_results.csv`
//! in `OUT.results` (see [`gen_flows`]); `vantage-bench flows-enrich N`
//! times the OA's enrichment (steps 1–4) of N scored rows and the built-in scorer over N flows,
//! each beside a baseline in the same run (see [`flows_enrich`]).
//!
//! `vantage-bench dynfw-deltas N D`, `dynfw-zmq N K [HWM]` and `dynfw-memory N DIR` measure the
//! DynFW feed (issue 16): deltas applied per second after an N-address list, beside a plain
//! `HashSet` and msgpack decoding alone; end to end over ZeroMQ CURVE on loopback; and the memory
//! and state file of an N-address set (see `vantage_tests::bench_dynfw`).
//!
//! `vantage-bench sview-sql NOW` prints Sentinel View's resource SQL of a full refresh at NOW
//! for psql (see `vantage_tests::bench_sview_sql`).
//!
//! `vantage-bench dossier STORE NOW N` times the IP dossiers of N random attackers of a demo
//! year beside one statistics resource for the same address (see `vantage_tests::bench_dossier`).
//!
//! `vantage-bench gen-incidents ROWS DAY OUT` writes ROWS incidents spread over the UTC day
//! DAY (YYYY-MM-DD) to OUT, as CSV when OUT ends in `.csv`, else JSON Lines. 40 devices,
//! 200,000 attacker IPs with a heavy tail (u³), each hitting mostly its own probe with its own
//! technique (85 %), 13 trap/action kinds, 30 countries.

use std::io::{BufWriter, Write};

use chrono::{Duration, NaiveDate};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vantage_tests::COUNTRIES;

const KINDS: &[(&str, &str)] = &[
    ("minipot_telnet", "connect"), ("minipot_telnet", "login"), ("minipot_ftp", "connect"), ("minipot_ftp", "login"),
    ("minipot_smtp", "connect"), ("minipot_smtp", "login"), ("minipot_smtp", "message"), ("minipot_http", "connect"),
    ("minipot_http", "login"), ("minipot_http", "message"), ("minipot_http", "invalid"), ("fwlogs", "small_port_scan"),
    ("fwlogs", "big_port_scan"),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("resources") {
        return tokio::runtime::Runtime::new()?.block_on(resources_bench(&args[1..]));
    }
    if let [cmd, n, out] = args.as_slice()
        && cmd == "gen-hibp"
    {
        return gen_hibp(n.parse()?, out);
    }
    if let [cmd, n, out] = args.as_slice()
        && cmd == "gen-events"
    {
        return gen_events(n.parse()?, out);
    }
    if let [cmd, n, day, out] = args.as_slice()
        && cmd == "gen-flows"
    {
        return gen_flows(n.parse()?, day, out);
    }
    if let [cmd, n] = args.as_slice()
        && cmd == "flows-enrich"
    {
        return flows_enrich(n.parse()?);
    }
    if let [cmd, now] = args.as_slice()
        && cmd == "sview-sql"
    {
        print!("{}", vantage_tests::bench_sview_sql::sview_sql(vantage_core::clock::parse_instant(now)?));
        return Ok(());
    }
    if let [cmd, store, now, n] = args.as_slice()
        && cmd == "dossier"
    {
        return tokio::runtime::Runtime::new()?.block_on(vantage_tests::bench_dossier::dossier(store, now, n.parse()?));
    }
    if let [cmd, n, deltas] = args.as_slice()
        && cmd == "dynfw-deltas"
    {
        return vantage_tests::bench_dynfw::dynfw_deltas(n.parse()?, deltas.parse()?);
    }
    if let [cmd, n, deltas, hwm @ ..] = args.as_slice()
        && cmd == "dynfw-zmq"
        && hwm.len() <= 1
    {
        return vantage_tests::bench_dynfw::dynfw_zmq(n.parse()?, deltas.parse()?, hwm.first().map(|h| h.parse()).transpose()?);
    }
    if let [cmd, n, dir] = args.as_slice()
        && cmd == "dynfw-memory"
    {
        return vantage_tests::bench_dynfw::dynfw_memory(n.parse()?, dir);
    }
    if let [cmd, n, out, seed] = args.as_slice()
        && cmd == "gen-pcap"
    {
        return gen_pcap(n.parse()?, out, seed.parse()?);
    }
    let [cmd, rows, day, out] = args.as_slice() else {
        return Err("usage: vantage-bench gen-incidents ROWS YYYY-MM-DD OUT(.csv|.jsonl)".into());
    };
    if cmd != "gen-incidents" {
        return Err(format!("unknown command {cmd}").into());
    }
    let rows: u64 = rows.parse()?;
    let start = NaiveDate::parse_from_str(day, "%Y-%m-%d")?.and_hms_opt(0, 0, 0).ok_or("bad day")?.and_utc();
    let csv = out.ends_with(".csv");
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let ips: Vec<String> = (0..200_000u32)
        .map(|i| format!("{}.{}.{}.{}", 1 + (i % 200), (i / 200) % 256, rng.random_range(0..=255u8), rng.random_range(1..255u8)))
        .collect();
    let devices: Vec<(String, String)> = (0..40).map(|i| (format!("{i:016X}"), format!("{i:064x}"))).collect();
    if csv {
        writeln!(w, "time,raw_count,sn,device_token,trap,action,ip,country")?;
    }
    let step = 86_400_000_000f64 / rows as f64;
    for n in 0..rows {
        let t = start + Duration::microseconds((n as f64 * step) as i64);
        let u: f64 = rng.random();
        let i = ((u.powi(3)) * ips.len() as f64) as usize % ips.len();
        let ip = &ips[i];
        // an attacker mostly hits its own probe with its own technique, like real botnets
        let home = rng.random_range(0..100) < 85;
        let (sn, token) = &devices[if home { i % devices.len() } else { rng.random_range(0..devices.len()) }];
        let (trap, action) = KINDS[if home { (i * 7) % KINDS.len() } else { rng.random_range(0..KINDS.len()) }];
        let country = COUNTRIES[i % COUNTRIES.len()];
        let time = t.format("%Y-%m-%dT%H:%M:%S%.6fZ");
        if csv {
            writeln!(w, "{time},1,{sn},{token},{trap},{action},{ip},{country}")?;
        } else {
            writeln!(w, r#"{{"time":"{time}","raw_count":1,"sn":"{sn}","device_token":"{token}","trap":"{trap}","action":"{action}","ip":"{ip}","country":"{country}"}}"#)?;
        }
    }
    w.flush()?;
    Ok(())
}

/// `vantage-bench resources DATABASE_URL REDIS_URL|- NOW`: computes all 23 precached
/// resources × 7 periods (the work of a full refresh) from shared scans and, in the same run,
/// with one query per resource; runs the refresh through the planner; measures cached reads.
async fn resources_bench(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    use std::sync::Arc;
    use std::time::{Duration as StdDuration, Instant};
    use vantage_core::cache::{Cache, keys, memory::MemoryCache, redis::RedisCache};
    use vantage_core::config::{Config, SecretUrl};
    use vantage_core::statistics::periods::Period;
    use vantage_core::statistics::resources::{self, Params};
    use vantage_core::statistics::service::{Statistics, resource_id};

    let [db, redis, now] = args else { return Err("usage: vantage-bench resources DATABASE_URL REDIS_URL|- NOW".into()) };
    let now = vantage_core::clock::parse_instant(now)?;
    let mut config = Config::embedded(std::env::temp_dir(), vantage_core::Clock::Fixed(now));
    config.database_url = Some(SecretUrl::new(db.clone()));
    let store = vantage_core::store::open(&config).await?;
    let stats = Statistics::new(vantage_core::backends::Backends { store: store.clone(), cache: Arc::new(MemoryCache::default()), queue: Arc::new(vantage_core::jobs::memory::MemoryQueue::default()), clock: config.clock });
    // the periods the planner puts together: those reading one level
    let by_level: [&[Period]; 4] =
        [&[Period::Hour], &[Period::SixHours, Period::Day], &[Period::Week], &[Period::Month, Period::ThreeMonths, Period::Year]];
    println!("| periods | resources | seconds, one scan per data type | seconds, one query per resource |");
    println!("|---|---:|---:|---:|");
    let (mut shared_total, mut single_total) = (0.0, 0.0);
    for periods in by_level {
        let t = Instant::now();
        for data in vantage_core::statistics::model::DataType::ALL {
            let members: Vec<_> = periods.iter().flat_map(|p| resources::precached().filter(move |r| r.data == data).map(move |r| (r, *p))).collect();
            resources::compute_shared(store.as_ref(), &members, now).await?;
        }
        let shared = t.elapsed().as_secs_f64();
        let t = Instant::now();
        for period in periods {
            for r in resources::precached() {
                resources::compute(store.as_ref(), r, *period, &Params::default(), now).await?;
            }
        }
        let single = t.elapsed().as_secs_f64();
        let names: Vec<&str> = periods.iter().map(|p| p.as_str()).collect();
        println!("| {} | {} | {shared:.2} | {single:.2} |", names.join(" "), 23 * periods.len());
        (shared_total, single_total) = (shared_total + shared, single_total + single);
    }
    println!("| all | 161 | {shared_total:.2} | {single_total:.2} |");
    // the same refresh as `vantage refresh` runs it: planner rounds and their jobs (the
    // aggregations find their windows done), filling the cache read below
    let t = Instant::now();
    let (_, jobs) = vantage_core::statistics::jobs::plan_to_fixed_point(&stats, StdDuration::from_secs(600), || stats.refresh(false)).await?;
    println!();
    println!("Through the planner and its jobs in process: {jobs} jobs, {:.2} s.", t.elapsed().as_secs_f64());
    if db.starts_with("postgres") {
        count_scans(db, now, shared_total, single_total).await?;
    }

    let ids: Vec<String> = Period::ALL
        .iter()
        .flat_map(|p| resources::precached().map(move |r| keys::resource(&resource_id(r, *p, &Params::default()))))
        .collect();
    let mut caches: Vec<(&str, Arc<dyn Cache>)> = vec![("in-process", stats.cache.clone())];
    if redis != "-" {
        let rc: Arc<dyn Cache> = Arc::new(RedisCache::connect_namespaced(&SecretUrl::new(redis.clone()), "vbench:").await?);
        for id in &ids {
            if let Some(v) = stats.cache.get(id).await? {
                rc.set(id, &v, StdDuration::from_secs(600)).await?;
            }
        }
        caches.push(("redis", rc));
    }
    println!();
    println!("| cache | reads | p50 µs | p99 µs | max µs |");
    println!("|---|---:|---:|---:|---:|");
    for (name, cache) in caches {
        let mut lat = Vec::with_capacity(20_000);
        for i in 0..20_000usize {
            let t = Instant::now();
            let v = cache.get(&ids[i * 7919 % ids.len()]).await?;
            lat.push(t.elapsed());
            assert!(v.is_some(), "cached");
        }
        lat.sort();
        let us = |d: StdDuration| d.as_secs_f64() * 1e6;
        println!("| {name} | {} | {:.1} | {:.1} | {:.1} |", lat.len(), us(lat[lat.len() / 2]), us(lat[lat.len() * 99 / 100]), us(lat[lat.len() - 1]));
    }
    store.close().await;
    Ok(())
}

/// The baseline of issue 19's refresh target, in the same run: one plain
/// `SELECT count(*), sum(raw_count)` per (table, period window) the 161 computations read — the
/// period's source table over its display window — timed together, and the refresh's ratio
/// to it (target ≤ 3×).
async fn count_scans(db: &str, now: chrono::DateTime<chrono::Utc>, refresh: f64, per_query: f64) -> Result<(), Box<dyn std::error::Error>> {
    use sqlx::{AssertSqlSafe, Connection, Row};
    use vantage_core::statistics::model::DataType;
    use vantage_core::statistics::periods::Period;

    let mut conn = sqlx::PgConnection::connect(db).await?;
    let start = std::time::Instant::now();
    let mut scans = 0;
    for period in Period::ALL {
        let window = period.window(now);
        for data in DataType::ALL {
            let table = period.source().table(data);
            let sql = format!("SELECT count(*), coalesce(sum(raw_count), 0)::bigint FROM {table} WHERE time >= $1 AND time < $2");
            let row = sqlx::query(AssertSqlSafe(sql)).bind(window.start).bind(window.upper(false)).fetch_one(&mut conn).await?;
            let _: (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
            scans += 1;
        }
    }
    let base = start.elapsed().as_secs_f64();
    println!();
    println!("| full refresh against one count scan per (table, period window) | scans | seconds | refresh ÷ scans (target ≤ 3) |");
    println!("|---|---:|---:|---:|");
    println!("| baseline: `SELECT count(*), sum(raw_count)` per (table, window) | {scans} | {base:.2} | {:.1} |", refresh / base);
    println!("| (the refresh of one query per resource instead) | — | {per_query:.2} | {:.1} |", per_query / base);
    conn.close().await?;
    Ok(())
}

/// N random SHA-1s (distinct with overwhelming probability) with counts 1 … ~10⁶ (u⁶ tail).
fn gen_hibp(n: u64, out: &str) -> Result<(), Box<dyn std::error::Error>> {
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut line = [0u8; 40];
    for _ in 0..n {
        for b in line.iter_mut() {
            *b = HEX[rng.random_range(0..16usize)];
        }
        let u: f64 = rng.random();
        let count = 1 + (u.powi(6) * 1_000_000.0) as u64;
        w.write_all(&line)?;
        writeln!(w, ":{count}")?;
    }
    w.flush()?;
    Ok(())
}

/// N Ethernet frames of 60 … 1514 bytes (uniform; random bytes, numbered) as a little-endian
/// µs pcap, time stamps from 2024-06-15T12:00:00Z increasing by 1 … 20 µs: files made with
/// different seeds cover the same span and interleave densely, with some equal time stamps.
fn gen_pcap(n: u64, out: &str, seed: u64) -> Result<(), Box<dyn std::error::Error>> {
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for v in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 262_144, 1] {
        w.write_all(&v.to_le_bytes())?;
    }
    let mut frame = [0u8; 1514];
    rng.fill(&mut frame[..]);
    frame[12..14].copy_from_slice(&[0x08, 0x00]); // IPv4
    let mut us: u64 = 1_718_452_800_000_000;
    for i in 0..n {
        us += rng.random_range(1..=20u64);
        let len = rng.random_range(60..=1514usize);
        frame[14..22].copy_from_slice(&i.to_le_bytes());
        for v in [(us / 1_000_000) as u32, (us % 1_000_000) as u32, len as u32, len as u32] {
            w.write_all(&v.to_le_bytes())?;
        }
        w.write_all(&frame[..len])?;
    }
    w.flush()?;
    Ok(())
}

/// An IntelMQ report kind: (taxonomy, type, identifier, application, transport, port, malware, feed code).
type EventKind = (&'static str, &'static str, &'static str, &'static str, &'static str, u16, &'static str, &'static str);

/// The report kinds `gen-events` draws from (the first most often).
const EVENT_KINDS: &[EventKind] = &[
    ("vulnerable", "vulnerable-service", "open-dns", "dns", "udp", 53, "", "scan_dns"),
    ("vulnerable", "vulnerable-service", "open-ntp-monitor", "ntp", "udp", 123, "", "scan_ntpmonitor"),
    ("vulnerable", "vulnerable-service", "open-memcached", "memcached", "udp", 11211, "", "scan_memcached"),
    ("vulnerable", "vulnerable-service", "accessible-rdp", "rdp", "tcp", 3389, "", "scan_rdp"),
    ("vulnerable", "vulnerable-system", "ssl-poodle", "https", "tcp", 443, "", "scan_ssl_poodle"),
    ("vulnerable", "vulnerable-service", "open-redis", "redis", "tcp", 6379, "", "scan_redis"),
    ("malicious-code", "infected-system", "botnet-drone", "", "tcp", 0, "mirai", "event4_sinkhole"),
    ("malicious-code", "infected-system", "botnet-drone", "", "tcp", 0, "andromeda", "event4_sinkhole"),
    ("malicious-code", "infected-system", "botnet-drone", "", "tcp", 0, "qsnatch", "event4_sinkhole_http"),
    ("malicious-code", "malware-distribution", "malware-url", "http", "tcp", 80, "emotet", "urlhaus"),
    ("intrusion-attempts", "brute-force", "ssh-brute-force", "ssh", "tcp", 22, "", "event4_honeypot_brute_force"),
    ("information-gathering", "scanner", "scan", "", "tcp", 0, "", "scan_ipv4"),
    ("fraud", "phishing", "phish-url", "http", "tcp", 80, "", "phishtank"),
    ("abusive-content", "spam", "spam-source", "smtp", "tcp", 25, "", "spamhaus_drop"),
    ("test", "test", "test", "", "", 0, "", "test"),
];

/// Feed providers and names per feed code's prefix.
fn feed_of(code: &str) -> (&'static str, &'static str) {
    match code.split('_').next().unwrap_or_default() {
        "scan" | "event4" => ("Shadowserver", "Shadowserver reports"),
        "urlhaus" => ("abuse.ch", "URLhaus"),
        "phishtank" => ("PhishTank", "PhishTank online-valid"),
        "spamhaus" => ("Spamhaus", "Spamhaus DROP"),
        _ => ("test", "test feed"),
    }
}

/// N IntelMQ events (as IntelMQ's file output writes them: flat dotted keys, `extra.*`, `raw`)
/// over the 60 UTC days ending 2024-06-14: 15 report kinds (heavy-tailed, test included), 5,000
/// ASNs and 400,000 source IPs with heavy tails (u³), 24 countries, 0.5 % without
/// `time.source`; deterministic (seed 11).
fn gen_events(n: u64, out: &str) -> Result<(), Box<dyn std::error::Error>> {
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let start = NaiveDate::from_ymd_opt(2024, 4, 16).ok_or("day")?.and_hms_opt(0, 0, 0).ok_or("time")?.and_utc();
    for i in 0..n {
        let u: f64 = rng.random();
        let ip_index = (u.powi(3) * 400_000.0) as u32;
        let ip = format!("{}.{}.{}.{}", 2 + ip_index % 220, (ip_index / 220) % 256, (ip_index * 7) % 256, 1 + ip_index % 253);
        let asn = 64_512 + (ip_index.wrapping_mul(2_654_435_761u32) % 5_000);
        let k: f64 = rng.random();
        let (taxonomy, kind, identifier, application, transport, port, malware, code) = EVENT_KINDS[(k * k * EVENT_KINDS.len() as f64) as usize];
        let (provider, name) = feed_of(code);
        // volume grows slowly over the 60 days, so daily series have a trend
        let day = ((rng.random::<f64>().sqrt()) * 60.0) as i64;
        let time = start + Duration::days(day) + Duration::seconds(rng.random_range(0..86_400));
        let mut e = serde_json::json!({
            "classification.taxonomy": taxonomy, "classification.type": kind, "classification.identifier": identifier,
            "feed.code": code, "feed.name": name, "feed.provider": provider, "feed.accuracy": 100.0,
            "source.ip": ip, "source.asn": asn, "source.network": format!("{}.0/24", ip.rsplit_once('.').map_or("0.0.0", |p| p.0)),
            "source.geolocation.cc": COUNTRIES[(ip_index % COUNTRIES.len() as u32) as usize],
            "time.observation": (time + Duration::minutes(30)).to_rfc3339(),
            "extra.tag": identifier, "extra.naics": 517311, "raw": format!("c2NhbiByb3cg{i:012x}"),
        });
        if rng.random_range(0..200) != 0 {
            e["time.source"] = time.to_rfc3339().into();
        }
        for (key, value) in [("protocol.application", application), ("protocol.transport", transport), ("malware.name", malware)] {
            if !value.is_empty() {
                e[key] = value.into();
            }
        }
        if port > 0 {
            e["source.port"] = port.into();
        }
        serde_json::to_writer(&mut w, &e)?;
        w.write_all(b"\n")?;
    }
    w.flush()?;
    Ok(())
}

/// One synthetic flow: 2,000 internal hosts (10.0.0.0/16) talking to 50,000 external ones with
/// a heavy tail, mostly DNS and HTTPS, ephemeral client ports, log-normal-ish sizes.
fn synthetic_flow(rng: &mut ChaCha8Rng, i: u64, start: chrono::DateTime<chrono::Utc>, step: f64) -> (chrono::DateTime<chrono::Utc>, String, String, u16, u16, &'static str, i64, i64) {
    let t = start + Duration::microseconds((i as f64 * step) as i64);
    let host: u32 = rng.random_range(0..2_000);
    let u: f64 = rng.random();
    let peer = (u.powi(3) * 50_000.0) as u32;
    let (dport, proto) = [(53, "UDP"), (443, "TCP"), (443, "TCP"), (80, "TCP"), (123, "UDP"), (22, "TCP")][rng.random_range(0..6usize)];
    let pkts: i64 = 1 + (rng.random::<f64>().powi(4) * 200.0) as i64;
    let bytes = pkts * rng.random_range(40..1400i64);
    (t, format!("10.0.{}.{}", host / 250, 1 + host % 250), format!("{}.{}.{}.{}", 20 + peer % 200, (peer / 200) % 256, (peer * 7) % 256, 1 + peer % 253), rng.random_range(32_768..61_000u16), dport, proto, pkts, bytes)
}

/// `gen-flows N DAY OUT`: N flows spread over DAY as nfdump CSV (times in UTC).
fn gen_flows(n: u64, day: &str, out: &str) -> Result<(), Box<dyn std::error::Error>> {
    let start = NaiveDate::parse_from_str(day, "%Y-%m-%d")?.and_hms_opt(0, 0, 0).ok_or("bad day")?.and_utc();
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    writeln!(w, "ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,ra")?;
    let mut results = BufWriter::new(std::fs::File::create(format!("{out}.results"))?);
    let step = 86_400_000_000f64 / n as f64;
    let every = (n / RESULT_ROWS).max(1);
    for i in 0..n {
        let (t, sa, da, sp, dp, pr, pkts, bytes) = synthetic_flow(&mut rng, i, start, step);
        let ts = t.format("%Y-%m-%d %H:%M:%S");
        writeln!(w, "{ts},{ts},0.000,{sa},{da},{sp},{dp},{pr},...AP...,0,0,{pkts},{bytes},0,0,0,0,0.0.0.0")?;
        if i % every == 0 && i / every < RESULT_ROWS {
            let calendar = t.format("%Y\t%-m\t%-d\t%-H\t%-M\t%-S");
            writeln!(results, "{ts}\t{calendar}\t0.0\t{sa}\t{da}\t{sp}\t{dp}\t{pr}\t{pkts}\t{bytes}\t0\t0\t{:.9}", (i / every + 1) as f64 * 1e-7)?;
        }
    }
    w.flush()?;
    results.flush()?;
    Ok(())
}

/// Rows of the spot-ml results file `gen-flows` writes beside its flows (`OUT.results`):
/// flows sampled evenly over the day, scores ascending, for the OA run without the scorer.
const RESULT_ROWS: u64 = 3000;

/// `flows-enrich N`: the enrichment of N scored rows with Spot-sized data (an ipranges file of
/// 3 ranges, an iploc.csv of 100,000 rows, a reputation list of 10,000 entries) beside the same
/// rows through an empty enricher; and the built-in scorer over N flows beside building the
/// flows' words alone. Prints Markdown rows.
fn flows_enrich(n: u64) -> Result<(), Box<dyn std::error::Error>> {
    use std::time::Instant;
    use vantage_core::flows::enrich::{Enricher, FlowsSettings};
    use vantage_core::flows::model::RawFlow;
    use vantage_core::flows::{oa, score};
    let dir = tempfile::tempdir()?;
    let write = |name: &str, text: String| -> Result<std::path::PathBuf, std::io::Error> {
        let p = dir.path().join(name);
        std::fs::write(&p, text)?;
        Ok(p)
    };
    let iploc: String = (0..100_000u64).map(|i| format!("\"{}\",\"{}\",\"XX\",\"Country\",\"State {i}\",\"City\",\"1.0\",\"2.0\",\"Owner {i}\",\"d{i}.example\"\n", 335_544_320 + i * 40_000, 335_544_320 + i * 40_000 + 39_000)).collect();
    let reputation: String = (0..10_000u32).map(|i| format!("{}.{}.0.0/24,LISTED,2\n", 20 + i % 200, i % 256)).collect();
    let settings = FlowsSettings {
        ipranges: Some(write("ipranges.csv", "10.0.0.0,10.255.255.255,lan\n172.16.0.0,172.31.255.255,lab\n192.168.0.0,192.168.255.255,home\n".into())?),
        iploc: Some(write("iploc.csv", iploc)?),
        reputation: vec![write("blocklist.csv", reputation)?],
        ..FlowsSettings::default()
    };
    let full = Enricher::load(&settings, dir.path())?;
    let empty = Enricher::load(&FlowsSettings::default(), &dir.path().join("none"))?;
    let start = NaiveDate::from_ymd_opt(2024, 6, 14).ok_or("day")?.and_hms_opt(0, 0, 0).ok_or("time")?.and_utc();
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let step = 86_400_000_000f64 / n as f64;
    let flows: Vec<RawFlow> = (0..n)
        .map(|i| {
            let (t, sa, da, sp, dp, pr, pkts, bytes) = synthetic_flow(&mut rng, i, start, step);
            let mut f = RawFlow::between(t, sa.parse().expect("ip"), da.parse().expect("ip"), pr);
            (f.sport, f.dport, f.ipkt, f.ibyt) = (sp, dp, pkts, bytes);
            f
        })
        .collect();
    let rows: Vec<oa::Scored> = flows.iter().map(|f| score::as_scored(&(f.clone(), 0.5))).collect();
    let rate = |n: u64, t: Instant| n as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    let baseline = oa::scores(&rows, &empty);
    let base_rate = rate(n, t);
    let t = Instant::now();
    let enriched = oa::scores(&rows, &full);
    let full_rate = rate(n, t);
    assert_eq!(baseline.len(), enriched.len());
    assert!(enriched.iter().any(|s| !s.dst_rep.is_empty()) && enriched.iter().all(|s| s.srcip_internal == 1), "the data is used");
    let t = Instant::now();
    let words: usize = flows.iter().map(|f| score::words(f.sport, f.dport, &f.proto, 0, f.ibyt, f.ipkt).0.len()).sum();
    let words_rate = rate(n, t);
    let t = Instant::now();
    let scored = score::score(flows, None, &[]);
    let score_rate = rate(n, t);
    assert_eq!(scored.len() as u64, n);
    println!("| OA steps 1–4 (enrichment: 100k iploc rows, 10k-entry list, ranges), one core | {n} | {full_rate:.0} rows/s | baseline, no enrichment data: {base_rate:.0} rows/s |");
    println!("| built-in scorer (count words, score, sort), one core | {n} | {score_rate:.0} flows/s | baseline, forming the words only: {words_rate:.0} flows/s ({words} bytes) |");
    Ok(())
}

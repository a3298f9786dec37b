//! The OA run of a date (flows.md steps 1–8) on both backends: on Spot's own input formats
//! (a flow_results.csv, ipranges.csv and iploc.csv written here) the 20 flow_scores columns come
//! out row for row as derived by hand from flows.md; on a real day (the shared nfdump sample of
//! 1kxun) edges, chords and the ingest summary equal brute-force computations over the raw
//! rows; a re-run changes nothing; a bad results line is located and nothing stored changes.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Cursor;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use chrono::{Duration, NaiveDate, Timelike};
use vantage_core::flows::enrich::{Enricher, FlowsSettings};
use vantage_core::flows::import::{self, Input};
use vantage_core::flows::model::RawFlow;
use vantage_core::flows::oa::{self, FlowChord, FlowScore, IngestMinute, TIME, read_results};
use vantage_core::progress::NoProgress;
use vantage_tests::{BOTH, TestStore, t};

mod flows_support;
use flows_support::{beacon, mixed_day, sample, store_with};

async fn import_sample(ts: &TestStore, name: &str) {
    let input = Input { name: name.into(), reader: Box::new(Cursor::new(sample(name).into_bytes())) };
    let report = import::import(ts.store.as_ref(), vec![input], true, Arc::new(NoProgress)).await.expect("import");
    assert!(report.committed && report.imported > 100);
}

/// A spot-ml results line (TAB-separated, 18 fields).
fn result_line(t: &str, (sip, dip, sport, dport, proto): (&str, &str, u16, u16, &str), (ipkt, ibyt, opkt, obyt): (i64, i64, i64, i64), score: &str) -> String {
    let d = chrono::NaiveDateTime::parse_from_str(t, TIME).expect("time");
    let cal = [d.date().format("%Y").to_string(), d.format("%-m").to_string(), d.format("%-d").to_string(), d.hour().to_string(), d.minute().to_string(), d.second().to_string()];
    format!("{t}\t{}\t0.0\t{sip}\t{dip}\t{sport}\t{dport}\t{proto}\t{ipkt}\t{ibyt}\t{opkt}\t{obyt}\t{score}", cal.join("\t"))
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

/// Three scored connections, Spot's ipranges.csv and iploc.csv: every column as flows.md says —
/// rank = line index, internal flags from the ranges, `state;city owner` and the domain from the
/// row whose [start, end] holds the address, nothing for an address in a gap (Spot gave the
/// previous row), reputation from a local list.
#[tokio::test]
async fn oa_on_spots_formats_gives_the_20_columns_as_derived_by_hand_on_both_backends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let results = [
        result_line("2016-08-02 02:19:37", ("192.168.115.8", "8.8.8.8", 51024, 53, "UDP"), (1, 66, 0, 0), "1e-07"),
        result_line("2016-08-02 02:20:01", ("10.0.0.5", "1.0.0.7", 40000, 443, "TCP"), (12, 3400, 10, 9000), "0.0004"),
        result_line("2016-08-02 02:21:59", ("1.0.2.9", "192.168.115.8", 80, 51000, "TCP"), (3, 180, 0, 0), "0.25"),
        result_line("2016-08-02 02:22:00", ("192.168.115.8", "8.8.4.4", 51025, 53, "UDP"), (1, 70, 0, 0), "0.5"),
    ]
    .join("\n");
    let settings = FlowsSettings {
        ipranges: Some(write(dir.path(), "ipranges.csv", "192.168.0.0,192.168.255.255,lab\n10.0.0.0,10.255.255.255,office\n")),
        internal: Vec::new(),
        // 1.0.0.0/24 = 16777216–16777471; 8.8.8.0/24 = 134744064–134744319; 1.0.2.9 is in no row
        iploc: Some(write(
            dir.path(),
            "iploc.csv",
            "\"16777216\",\"16777471\",\"AU\",\"Australia\",\"Queensland\",\"Brisbane\",\"-27.4679\",\"153.0281\",\"APNIC Debogon\",\"apnic.net\"\n\
             \"134744064\",\"134744319\",\"US\",\"United States\",\"California\",\"Mountain View\",\"37.386\",\"-122.0838\",\"Google LLC\",\"google.com\"\n",
        )),
        reputation: vec![write(dir.path(), "blocklist.csv", "1.0.0.0/24,MALWARE,3\n")],
        ..FlowsSettings::default()
    };
    let enricher = Enricher::load(&settings, Path::new("/nonexistent")).expect("enrichment data");
    // the limit keeps the first 3 lines of the file, in file order
    let rows = read_results("flow_results.csv", Cursor::new(results), 3).expect("results");
    let s = |v: &str| v.to_string();
    let expected = vec![
        FlowScore {
            tstart: s("2016-08-02 02:19:37"),
            srcip: s("192.168.115.8"),
            dstip: s("8.8.8.8"),
            sport: 51024,
            dport: 53,
            proto: s("UDP"),
            ipkt: 1,
            ibyt: 66,
            opkt: 0,
            obyt: 0,
            score: 1e-7,
            rank: 0,
            srcip_internal: 1,
            dstip_internal: 0,
            src_geoloc: s(""),
            dst_geoloc: s("California;Mountain View Google LLC"),
            src_domain: s(""),
            dst_domain: s("google.com"),
            src_rep: s(""),
            dst_rep: s(""),
        },
        FlowScore {
            tstart: s("2016-08-02 02:20:01"),
            srcip: s("10.0.0.5"),
            dstip: s("1.0.0.7"),
            sport: 40000,
            dport: 443,
            proto: s("TCP"),
            ipkt: 12,
            ibyt: 3400,
            opkt: 10,
            obyt: 9000,
            score: 0.0004,
            rank: 1,
            srcip_internal: 1,
            dstip_internal: 0,
            src_geoloc: s(""),
            dst_geoloc: s("Queensland;Brisbane APNIC Debogon"),
            src_domain: s(""),
            dst_domain: s("apnic.net"),
            src_rep: s(""),
            dst_rep: s("blocklist:MALWARE:3"),
        },
        FlowScore {
            tstart: s("2016-08-02 02:21:59"),
            srcip: s("1.0.2.9"),
            dstip: s("192.168.115.8"),
            sport: 80,
            dport: 51000,
            proto: s("TCP"),
            ipkt: 3,
            ibyt: 180,
            opkt: 0,
            obyt: 0,
            score: 0.25,
            rank: 2,
            srcip_internal: 0,
            dstip_internal: 1,
            src_geoloc: s(""),
            dst_geoloc: s(""),
            src_domain: s(""),
            dst_domain: s(""),
            src_rep: s(""),
            dst_rep: s(""),
        },
    ];
    assert_eq!(oa::scores(&rows, &enricher), expected, "steps 1–4");
    let date = NaiveDate::from_ymd_opt(2016, 8, 2).expect("date");
    for kind in BOTH {
        let ts = TestStore::new(kind, t(flows_support::NOW)).await;
        let report = oa::run(ts.store.as_ref(), &enricher, date, &rows, 0).await.expect("oa");
        assert_eq!(report.scores, 3, "{kind:?}");
        let stored = ts.store.oa_outputs(date).await.expect("outputs");
        assert_eq!(stored.scores, expected, "{kind:?}: step 5 stores the 20 columns as computed");
        let json = serde_json::to_value(&stored.scores[0]).expect("json");
        let keys: Vec<&str> = json.as_object().expect("object").keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 20, "{kind:?}: {keys:?}");
        ts.finish().await;
    }
}

/// The raw flows of `day` (UTC) as stored.
async fn day_flows(ts: &TestStore, day: NaiveDate) -> Vec<RawFlow> {
    let from = day.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    ts.store.flows_between(from, from + Duration::days(1)).await.expect("raw flows")
}

/// The real 1kxun day: its 192.168.115.8 connections to five peers as the suspicious rows (and
/// one row of another day's sample, the android capture, whose flows must not count).
#[tokio::test]
async fn edges_chords_and_ingest_equal_brute_force_over_the_raw_rows_and_a_rerun_changes_nothing_on_both_backends() {
    let date = NaiveDate::from_ymd_opt(2016, 8, 2).expect("date");
    let enricher = Enricher::load(&FlowsSettings::default(), Path::new("/nonexistent")).expect("no enrichment");
    for kind in BOTH {
        let ts = TestStore::new(kind, t(flows_support::NOW)).await;
        import_sample(&ts, "1kxun-nfdump.csv").await;
        import_sample(&ts, "android-nfdump.csv").await;
        let raw = day_flows(&ts, date).await;
        let threat: IpAddr = "192.168.115.8".parse().expect("ip");
        // one scored row per (peer, minute) of the threat's flows, the first five peers
        let mut peers_seen = BTreeSet::new();
        let mut lines = Vec::new();
        for f in raw.iter().filter(|f| f.sip == threat || f.dip == threat) {
            let peer = if f.sip == threat { f.dip } else { f.sip };
            if peers_seen.len() < 5 || peers_seen.contains(&peer) {
                peers_seen.insert(peer);
                let score = format!("{:e}", 1e-9 * (lines.len() + 1) as f64);
                let (sip, dip) = (f.sip.to_string(), f.dip.to_string());
                lines.push(result_line(&f.treceived.format(TIME).to_string(), (&sip, &dip, f.sport, f.dport, &f.proto), (f.ipkt, f.ibyt, f.opkt, f.obyt), &score));
            }
        }
        assert!(peers_seen.len() == 5 && lines.len() > 10, "{kind:?}: {} rows, {} peers", lines.len(), peers_seen.len());
        let rows = read_results("flow_results.csv", Cursor::new(lines.join("\n")), usize::MAX).expect("results");
        oa::run(ts.store.as_ref(), &enricher, date, &rows, 0).await.expect("oa");
        let stored = ts.store.oa_outputs(date).await.expect("outputs");

        // step 6: every raw flow between a row's two addresses in the row's minute, once
        let mut edges = HashSet::new();
        for r in &rows {
            let minute = r.tstart.with_second(0).expect("minute");
            for f in raw.iter().filter(|f| f.treceived >= minute && f.treceived < minute + Duration::minutes(1)) {
                if (f.sip == r.sip && f.dip == r.dip) || (f.sip == r.dip && f.dip == r.sip) {
                    edges.insert((f.treceived.format(TIME).to_string(), f.sip.to_string(), f.dip.to_string(), f.sport, f.dport, f.ibyt, f.ipkt));
                }
            }
        }
        let stored_edges: HashSet<_> =
            stored.edges.iter().map(|e| (e.tstart.clone(), e.srcip.clone(), e.dstip.clone(), e.sport as u16, e.dport as u16, e.ibyt, e.ipkt)).collect();
        assert_eq!(stored_edges.len(), stored.edges.len(), "{kind:?}: each edge once");
        assert_eq!(stored_edges, edges, "{kind:?}: edges");
        assert!(edges.len() >= rows.len() / 2, "{kind:?}: {} edges for {} rows", edges.len(), rows.len());

        // step 7: only the threat has two or more suspicious peers; its day's bytes per direction
        let mut sums: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
        for f in raw.iter().filter(|f| (f.sip == threat && peers_seen.contains(&f.dip)) || (f.dip == threat && peers_seen.contains(&f.sip))) {
            let e = sums.entry((f.sip.to_string(), f.dip.to_string())).or_default();
            (e.0, e.1) = (e.0 + f.ibyt, e.1 + f.ipkt);
        }
        let chords: Vec<FlowChord> =
            sums.into_iter().map(|((srcip, dstip), (ibyt, ipkt))| FlowChord { ip_threat: threat.to_string(), srcip, dstip, ibyt, ipkt }).collect();
        assert_eq!(stored.chords, chords, "{kind:?}: chords");
        assert!(chords.len() >= 5, "{kind:?}: a row per peer and direction at least: {chords:?}");

        // step 8: the day's flows per minute (the android day's are not in it)
        let mut minutes: BTreeMap<String, i64> = BTreeMap::new();
        for f in &raw {
            *minutes.entry(f.treceived.format("%Y-%m-%d %H:%M").to_string()).or_default() += 1;
        }
        let ingest: Vec<IngestMinute> = minutes.into_iter().map(|(tdate, total)| IngestMinute { tdate, total }).collect();
        assert_eq!(stored.ingest, ingest, "{kind:?}: ingest summary");
        assert_eq!(ingest.iter().map(|m| m.total).sum::<i64>(), raw.len() as i64);

        // the threat investigation of the address, against the raw rows
        let t = vantage_core::flows::queries::threat(ts.store.as_ref(), date, threat, &Default::default()).await.expect("threat");
        let mine: Vec<&RawFlow> = raw.iter().filter(|f| f.sip == threat || f.dip == threat).collect();
        let tuples: HashSet<_> = mine.iter().map(|f| (f.sip, f.dip, f.sport, f.dport)).collect();
        assert_eq!(t.connections.len(), tuples.len(), "{kind:?}: one row per (sip, dip, sport, dport)");
        assert_eq!(t.connections.iter().map(|c| c.count).sum::<usize>(), mine.len(), "{kind:?}");
        let to: BTreeSet<IpAddr> = mine.iter().filter(|f| f.sip == threat).map(|f| f.dip).collect();
        let from: BTreeSet<IpAddr> = mine.iter().filter(|f| f.dip == threat).map(|f| f.sip).collect();
        assert_eq!(t.two_way, to.intersection(&from).copied().collect::<Vec<_>>(), "{kind:?}");
        assert_eq!(t.outbound_only, to.difference(&from).copied().collect::<Vec<_>>(), "{kind:?}");
        assert_eq!(t.inbound_only, from.difference(&to).copied().collect::<Vec<_>>(), "{kind:?}");
        let busiest = t.connections.iter().map(|c| c.count).max().expect("connections");
        assert_eq!(t.top_by_connections[0].count, busiest, "{kind:?}");
        assert!(t.top_by_bytes.len() == t.connections.len().min(20), "{kind:?}");

        // a re-run replaces the date's outputs with the same ones
        oa::run(ts.store.as_ref(), &enricher, date, &rows, 0).await.expect("oa again");
        assert_eq!(ts.store.oa_outputs(date).await.expect("outputs"), stored, "{kind:?}: re-run");
        // a bad results line is located; nothing is run, nothing stored changes
        let mut broken = lines.clone();
        let mut fields: Vec<&str> = lines[2].split('\t').collect();
        fields[10] = "x"; // sport
        broken[2] = fields.join("\t");
        let err = read_results("flow_results.csv", Cursor::new(broken.join("\n")), usize::MAX).expect_err("bad sport").to_string();
        assert!(err.contains("flow_results.csv:3: sport: `x`"), "{kind:?}: {err}");
        assert_eq!(ts.store.oa_outputs(date).await.expect("outputs"), stored, "{kind:?}: unchanged");
        ts.finish().await;
    }
}

/// The built-in scorer on a real mixed day, through the engine on both backends: the scan's
/// flows are among the most suspicious and the busiest regular pattern (the Skype host's DNS
/// lookups) scores last; `flows score-connection --sev 3` of one scan flow moves that pattern
/// down on the next run, `--sev 1` of a regular one moves it up; `flows oa` without
/// `--results` runs on the built-in scores, and a scored connection leaves the suspicious list.
#[tokio::test(flavor = "multi_thread")]
async fn the_built_in_scorer_ranks_the_scan_first_and_feedback_moves_patterns_on_both_backends() {
    use vantage_core::engine::flows::Pattern;
    let date = NaiveDate::from_ymd_opt(2024, 6, 14).expect("date");
    let (flows, scanner) = mixed_day(date);
    for kind in BOTH {
        let (ts, engine) = store_with(kind, &flows, None).await;
        let scored = engine.flows().score(date, 1).await.expect("scores");
        assert_eq!(scored.len(), flows.len(), "{kind:?}: every flow of the day");
        // no other day stored: a 3-day window is the day itself, the day's flows read from it
        assert_eq!(engine.flows().score(date, 3).await.expect("window scores"), scored, "{kind:?}: the window path");
        let rank_of = |scored: &[(RawFlow, f64)], pick: &dyn Fn(&RawFlow) -> bool| -> Vec<usize> { scored.iter().enumerate().filter(|(_, (f, _))| pick(f)).map(|(i, _)| i).collect() };
        let scan = rank_of(&scored, &|f| f.sip == scanner);
        let n = scored.len();
        // bulk regular traffic: flows whose address uses the same service (port and protocol) in
        // the same way (Spot's word) ten times or more — its DNS lookups, its web sessions
        let words = |f: &RawFlow| vantage_core::flows::score::words(f.sport, f.dport, &f.proto, chrono::Timelike::hour(&f.treceived), f.ibyt, f.ipkt);
        let service = |f: &RawFlow| vantage_core::flows::score::service_word(f.sport, f.dport, &f.proto);
        let count = |f: &RawFlow| flows.iter().filter(|g| g.sip == f.sip && words(g).0 == words(f).0 && service(g) == service(f)).count();
        let bulk = rank_of(&scored, &|f| f.sip != scanner && count(f) >= 10);
        // the scan (an eighth of the day) ranks with the one-off connections, ahead of the bulk
        let (scan_median, bulk_p10) = (scan[scan.len() / 2], bulk[bulk.len() / 10]);
        eprintln!("{kind:?}: scan from rank {} (median {scan_median}), bulk from {} (p10 {bulk_p10}) of {n}", scan[0], bulk[0]);
        assert!(scan[0] < n / 20 && scan_median < n / 2 && scan_median < bulk_p10, "{kind:?}: scan from {} median {scan_median}, bulk p10 {bulk_p10} of {n}", scan[0]);
        // the last tenth is bulk traffic: patterns the address says again and again
        let tail: Vec<&RawFlow> = scored[n - n / 10..].iter().map(|(f, _)| f).collect();
        let late: Vec<String> = tail.iter().filter(|f| f.sip == scanner).map(|f| format!("{}:{}→{} {}", f.sport, f.dport, f.proto, f.ibyt)).collect();
        assert!(late.len() * 20 <= scan.len(), "{kind:?}: at most a twentieth of the scan at the end: {late:?}");
        assert!(tail.iter().all(|f| count(f) >= 3), "{kind:?}: the least suspicious repeat their pattern");

        // benign feedback on the scan's most suspicious flow: that pattern goes down
        engine.flows().oa(date, None, 50).await.expect("oa on the built-in scores");
        let top = engine.flows().suspicious(date, None).await.expect("suspicious");
        assert_eq!(top.len(), 50, "{kind:?}");
        let first = top.iter().find(|s| s.srcip == scanner.to_string()).expect("a scan row among the 50 most suspicious").clone();
        let before = scored.iter().position(|(f, _)| f.sip == scanner && f.dport as i32 == first.dport && f.sport as i32 == first.sport).expect("ranked");
        let pattern = Pattern { src: Some(scanner), dport: Some(first.dport as u16), ..Pattern::default() };
        let marked = engine.flows().score_connection(date, 3, &pattern).await.expect("score");
        assert!(!marked.is_empty(), "{kind:?}");
        let hidden = engine.flows().suspicious(date, None).await.expect("suspicious");
        assert_eq!(hidden.len(), 50 - marked.len(), "{kind:?}: scored connections leave the list");
        let rescored = engine.flows().score(date, 1).await.expect("scores");
        let after = rescored.iter().position(|(f, _)| f.sip == scanner && f.dport as i32 == first.dport && f.sport as i32 == first.sport).expect("ranked");
        eprintln!("{kind:?}: benign feedback: rank {before} → {after}");
        assert!(after > before + n / 4, "{kind:?}: benign feedback moved the pattern down: rank {before} → {after} of {n}");

        // severe feedback on a regular pattern moves it up
        let (regular, _) = scored.last().expect("flows").clone();
        let pattern = Pattern { src: Some(regular.sip), dst: Some(regular.dip), sport: Some(regular.sport), dport: Some(regular.dport) };
        // score-connection applies to the date's suspicious rows: put the regular one there
        let rows = vec![score_row(&regular)];
        engine.flows().oa(date, Some(rows), 1).await.expect("oa with one row");
        assert_eq!(engine.flows().score_connection(date, 1, &pattern).await.expect("score").len(), 1);
        let severe = engine.flows().score(date, 1).await.expect("scores");
        let moved = severe.iter().position(|(f, _)| f == &regular).expect("ranked");
        assert!(moved < n / 2, "{kind:?}: severe feedback moved a bulk pattern up: rank {} → {moved}", n - 1);
        let feedback = std::fs::read_to_string(ts.data_dir().join("flows/2024-06-14/ml_feedback.csv")).expect("ml_feedback.csv");
        assert!(feedback.starts_with("sev\ttstart\tsip\tdip\tsport\tdport\tipkt\tibyt\n3\t"), "{feedback}");
        engine.close().await;
        ts.finish().await;
    }
}

/// `f` as a scored row of an OA run.
fn score_row(f: &RawFlow) -> vantage_core::flows::oa::Scored {
    vantage_core::flows::score::as_scored(&(f.clone(), 0.5))
}

/// A synthetic beacon — every 60 s ± 5 s for the whole day, 300 ± 8 bytes — among the real
/// traffic of the mixed day, through the engine on both backends: flagged (high), and no pair
/// of the real traffic is; a flow of 5 h is a long connection of level 4.
#[tokio::test(flavor = "multi_thread")]
async fn a_synthetic_beacon_in_real_traffic_is_flagged_and_the_real_traffic_is_not_on_both_backends() {
    let date = NaiveDate::from_ymd_opt(2024, 6, 14).expect("date");
    let (mut flows, _) = mixed_day(date);
    let real: HashSet<(IpAddr, IpAddr)> = flows.iter().map(|f| (f.sip, f.dip)).collect();
    let (implant, c2): (IpAddr, IpAddr) = ("10.9.9.9".parse().expect("ip"), "203.0.113.5".parse().expect("ip"));
    let midnight = date.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    flows.extend(beacon(date, implant, c2));
    let mut long = RawFlow::between(midnight + Duration::hours(2), "192.168.1.34".parse().expect("ip"), "198.51.100.7".parse().expect("ip"), "TCP");
    long.tdur = 5.0 * 3600.0;
    flows.push(long);
    for kind in BOTH {
        let (ts, engine) = store_with(kind, &flows, None).await;
        let report = engine.flows().beacons(date).await.expect("beacons");
        let top = &report.beacons[0];
        eprintln!("{kind:?}: {top:?}; next {:?}", report.beacons.get(1));
        assert_eq!((top.src, top.dst, top.level), (implant, c2, "high"), "{kind:?}: {top:?}");
        assert!(top.ts > 0.8 && top.ds > 0.8 && top.dur == 1.0 && top.hist == 1.0, "{kind:?}: {top:?}");
        let flagged: Vec<_> = report.beacons.iter().filter(|b| b.level != "none" && real.contains(&(b.src, b.dst))).collect();
        assert!(flagged.is_empty(), "{kind:?}: real pairs flagged: {flagged:?}");
        assert!(report.beacons.len() > 20, "{kind:?}: real pairs were scored too: {}", report.beacons.len());
        assert_eq!(report.long_connections.len(), 1, "{kind:?}");
        assert_eq!((report.long_connections[0].hours, report.strobes.len()), (4, 0), "{kind:?}");
        engine.close().await;
        ts.finish().await;
    }
}

//! What the analyst's reads add around the OA run (issue 15, items 3 and 5): beacons feed the
//! suspicious list, safelists apply when a read is answered (an edited file changes the next
//! answer, nothing stored changes), the HTTP JSON reputation service is asked in batches, each
//! address once, and an unreachable, slow or broken one gives unknown values and one warning,
//! never a failed run; Spot's network context file names the peers of a storyboard. The
//! service is a real HTTP stand-in started here, counting what it is asked.

use std::collections::{BTreeSet, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::NaiveDate;
use serde_json::{Value, json};
use vantage_core::flows::oa::Scored;
use vantage_core::flows::reputation::{Service, ServiceSettings};
use vantage_tests::BOTH;

mod flows_support;
use flows_support::{beacon, mixed_day, store_with};

/// The synthetic beacon's ends.
const IMPLANT: &str = "10.9.9.9";
const C2: &str = "203.0.113.5";

/// The addresses each request of the stand-in carried, in arrival order.
type Asked = Arc<Mutex<Vec<Vec<IpAddr>>>>;

/// Records the request's addresses.
fn record(asked: &Asked, body: &Value) {
    let ips = body["ips"].as_array().expect("{\"ips\": [...]}").iter().map(|ip| ip.as_str().and_then(|s| s.parse().ok()).expect("an address")).collect();
    asked.lock().expect("lock").push(ips);
}

/// The reputation service stand-in on a free loopback port: `/lookup` knows the beacon's C2
/// (`C2:3`) and 8.8.8.8 (`CLEAN:0`) and leaves every other address out; `/broken` answers 500,
/// `/garbage` a body that is not the answer's JSON, `/wrong` a value outside −1…3, `/slow`
/// never answers. Every request is recorded before it is answered.
async fn standin() -> (SocketAddr, Asked) {
    let asked = Asked::default();
    async fn lookup(State(asked): State<Asked>, Json(body): Json<Value>) -> Response {
        record(&asked, &body);
        let known = [(C2, "C2", 3), ("8.8.8.8", "CLEAN", 0)];
        let results: Vec<Value> = body["ips"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|ip| known.iter().find(|(k, _, _)| ip == k))
            .map(|(ip, label, value)| json!({"ip": ip, "label": label, "value": value}))
            .collect();
        Json(json!({"results": results, "source": "stand-in"})).into_response()
    }
    async fn broken(State(asked): State<Asked>, Json(body): Json<Value>) -> Response {
        record(&asked, &body);
        (StatusCode::INTERNAL_SERVER_ERROR, "down for maintenance").into_response()
    }
    async fn garbage(State(asked): State<Asked>, Json(body): Json<Value>) -> Response {
        record(&asked, &body);
        Json(json!({"results": 7})).into_response()
    }
    async fn wrong(State(asked): State<Asked>, Json(body): Json<Value>) -> Response {
        record(&asked, &body);
        Json(json!({"results": [{"ip": C2, "label": "C2", "value": 9}]})).into_response()
    }
    async fn slow(State(asked): State<Asked>, Json(body): Json<Value>) -> Response {
        record(&asked, &body);
        std::future::pending::<Response>().await
    }
    let app = axum::Router::new()
        .route("/lookup", post(lookup))
        .route("/broken", post(broken))
        .route("/garbage", post(garbage))
        .route("/wrong", post(wrong))
        .route("/slow", post(slow))
        .with_state(asked.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, asked)
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("an address")
}

/// The stand-in's recorded requests so far, and forgets them.
fn take(asked: &Asked) -> Vec<Vec<IpAddr>> {
    std::mem::take(&mut *asked.lock().expect("lock"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_service_is_asked_in_batches_each_address_once_and_failures_give_unknowns_and_one_warning() {
    let (addr, asked) = standin().await;
    let service = |path: &str, timeout_ms: u64| {
        let settings = ServiceSettings { url: format!("http://{addr}{path}"), name: "rep".into(), batch: 2, timeout_ms };
        Service::new(&settings).expect("a valid service")
    };
    // five addresses, two of them twice: three requests of at most two, each address once
    let addresses: Vec<IpAddr> = [C2, "8.8.8.8", "10.0.0.1", C2, "192.0.2.1", "10.0.0.1", "2001:db8::1"].into_iter().map(ip).collect();
    let unique: BTreeSet<IpAddr> = addresses.iter().copied().collect();
    let answers = service("/lookup", 5000).ask(&addresses).await;
    let requests = take(&asked);
    assert_eq!(requests.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1], "batches of 2: {requests:?}");
    let sent: Vec<IpAddr> = requests.concat();
    assert_eq!(sent.iter().copied().collect::<BTreeSet<_>>(), unique, "every address asked");
    assert_eq!(sent.len(), unique.len(), "and only once: {sent:?}");
    assert!(answers.warnings.is_empty(), "{:?}", answers.warnings);
    assert_eq!(answers.values.len(), 2, "only the listed ones: {:?}", answers.values);
    assert_eq!((answers.values[&ip(C2)].as_str(), answers.values[&ip("8.8.8.8")].as_str()), ("rep:C2:3", "rep:CLEAN:0"));

    // an HTTP error fails its batch only: every batch is tried
    let answers = service("/broken", 5000).ask(&addresses).await;
    assert_eq!(take(&asked).len(), 3, "each batch tried");
    assert!(answers.values.len() == 5 && answers.values.values().all(|v| v == "rep:UNKNOWN:-1"), "{:?}", answers.values);
    assert_eq!(answers.warnings, [format!("reputation service http://{addr}/broken: 3 of 3 batches failed (batch 1 of 3: HTTP 500); 5 of 5 addresses are unknown (-1)")]);
    for (path, says) in [("/garbage", "the answer is not {\"results\": [{ip, label, value}]}"), ("/wrong", "203.0.113.5: value 9 is not one of -1, 0, 1, 2, 3")] {
        let answers = service(path, 5000).ask(&addresses).await;
        assert_eq!(take(&asked).len(), 3, "{path}");
        assert!(answers.warnings.len() == 1 && answers.warnings[0].contains(says), "{path}: {:?}", answers.warnings);
        assert!(answers.values.values().all(|v| v == "rep:UNKNOWN:-1"), "{path}: {:?}", answers.values);
    }

    // a service slower than the timeout: one request waits it out, the rest are not sent
    let answers = service("/slow", 300).ask(&addresses).await;
    assert_eq!(take(&asked).len(), 1, "not asked again after a timeout");
    assert_eq!(
        answers.warnings,
        [format!("reputation service http://{addr}/slow: 1 of 3 batches failed (batch 1 of 3: no answer within 300 ms); not asked again this run; 5 of 5 addresses are unknown (-1)")]
    );
    assert!(answers.values.len() == 5 && answers.values.values().all(|v| v == "rep:UNKNOWN:-1"));

    // nobody listening: refused at once, not asked again; a password in the URL is not shown
    let port = vantage_tests::process::free_port();
    let settings = ServiceSettings { url: format!("http://user:s3cret@127.0.0.1:{port}/lookup"), name: "rep".into(), batch: 2, timeout_ms: 5000 };
    let answers = Service::new(&settings).expect("service").ask(&addresses).await;
    let warning = answers.warnings.first().expect("a warning");
    assert!(answers.warnings.len() == 1 && warning.contains("1 of 3 batches failed (batch 1 of 3: ") && warning.ends_with("not asked again this run; 5 of 5 addresses are unknown (-1)"), "{warning}");
    assert!(!warning.contains("s3cret") && warning.contains(&format!("127.0.0.1:{port}")), "{warning}");
    assert!(answers.values.values().all(|v| v == "rep:UNKNOWN:-1"));

    for (url, batch, says) in [("ftp://x/", 10, "http or https"), ("http://x/", 0, "batch 0"), ("http://x/", 20_000, "batch 20000")] {
        let settings = ServiceSettings { url: url.into(), name: "rep".into(), batch, timeout_ms: 10 };
        let err = Service::new(&settings).err().expect("refused").to_string();
        assert!(err.contains("[flows.reputation_service]") && err.contains(says), "{err}");
    }
}

/// The `[flows]` section of the test below, its files written in `dir`: iploc (the C2's
/// network is `evil.example`), network context (the implant's address, inside a lab range,
/// inside a VPN pool), an empty safelist, the stand-in service at `url`.
fn config(dir: &std::path::Path, url: &str) -> String {
    let net = u32::from(C2.parse::<std::net::Ipv4Addr>().expect("v4")) & 0xffff_ff00;
    let iploc = format!("\"{net}\",\"{}\",\"US\",\"United States\",\"Nowhere\",\"Hightown\",\"40.0\",\"-70.0\",\"Evil Corp\",\"evil.example\"\n", net + 255);
    let files = [
        ("iploc.csv", iploc.as_str()),
        ("networkcontext_1.csv", "srcIP,name\n10.9.0.0/16,VPN.Remote\n10.9.9.0 - 10.9.9.127,Lab.Bench\n10.9.9.9,VPN.Implant\n"),
        ("safe.txt", "# nothing yet\n"),
    ];
    let path = |name: &str| {
        std::fs::write(dir.join(name), files.iter().find(|(n, _)| *n == name).map_or("", |(_, text)| text)).expect("a [flows] file");
        format!("{:?}", dir.join(name))
    };
    format!(
        "[flows]\ninternal = [\"10.0.0.0/8\"]\niploc = {}\nnetworkcontext = {}\nsafelist = [{}]\n\n\
         [flows.reputation_service]\nurl = \"{url}\"\nname = \"rep\"\nbatch = 7\ntimeout_ms = 2000\n",
        path("iploc.csv"),
        path("networkcontext_1.csv"),
        path("safe.txt")
    )
}

/// The mixed real day with the beacon, through the engine on both backends with the `[flows]`
/// section above: the OA run adds the beacon's row after the 50 scored ones (rank 50, its first
/// flow, score 1 − beacon score) with the service's reputation and iploc's domain; each of the
/// rows' addresses was asked once, in batches of 7; safelisting the C2's domain, a parent of
/// it, or the implant's address hides the row, the beacon and the threat's connections at the
/// next read, a sub-domain does not, a bad line is located — and nothing stored changes; the
/// C2's storyboard names the implant's network context; given rows holding the pair get no
/// second row.
#[tokio::test(flavor = "multi_thread")]
async fn beacons_join_the_suspicious_list_safelists_apply_at_query_time_and_the_service_and_context_enrich_on_both_backends() {
    let date = NaiveDate::from_ymd_opt(2024, 6, 14).expect("date");
    let (mut flows, _) = mixed_day(date);
    let calls = beacon(date, ip(IMPLANT), ip(C2));
    let first = calls[0].clone();
    flows.extend(calls);
    let (addr, asked) = standin().await;
    for kind in BOTH {
        let dir = tempfile::tempdir().expect("files");
        let (ts, engine) = store_with(kind, &flows, Some(&config(dir.path(), &format!("http://{addr}/lookup")))).await;
        let f = engine.flows();
        take(&asked);
        let report = f.oa(date, None, 50).await.expect("oa");
        assert_eq!((report.scores, report.beacons), (50, 1), "{kind:?}: {report:?}");
        assert!(report.warnings.is_empty(), "{kind:?}: {:?}", report.warnings);
        let stored = f.outputs(date).await.expect("outputs");
        assert_eq!(stored.scores.len(), 51, "{kind:?}");
        let beacon_score = f.beacons(date).await.expect("beacons").beacons[0].score;
        let row = &stored.scores[50];
        assert_eq!((row.rank, row.srcip.as_str(), row.dstip.as_str(), row.tstart.as_str()), (50, IMPLANT, C2, "2024-06-14 00:00:30"), "{kind:?}: {row:?}");
        assert_eq!((row.sport, row.dport, row.ibyt, row.proto.as_str()), (40_000, 443, first.ibyt, "TCP"), "{kind:?}: the pair's first flow");
        assert!((row.score - (1.0 - beacon_score)).abs() < 1e-9 && row.score < 0.1, "{kind:?}: {} for a beacon of {beacon_score}", row.score);
        assert_eq!((row.srcip_internal, row.dst_domain.as_str(), row.dst_rep.as_str(), row.src_rep.as_str()), (1, "evil.example", "rep:C2:3", ""), "{kind:?}: {row:?}");
        assert!(!f.edges(&row.tstart, ip(IMPLANT), ip(C2)).await.expect("edges").is_empty(), "{kind:?}: its minute's flows are its edges");

        // the service: each of the rows' addresses once, in batches of at most 7
        let requests = take(&asked);
        let sent: Vec<IpAddr> = requests.concat();
        let rows: HashSet<IpAddr> = stored.scores.iter().flat_map(|s| [ip(&s.srcip), ip(&s.dstip)]).collect();
        assert!(requests.iter().all(|r| r.len() <= 7) && requests.len() == rows.len().div_ceil(7), "{kind:?}: {} requests for {} addresses", requests.len(), rows.len());
        assert_eq!((sent.len(), sent.iter().copied().collect::<HashSet<_>>()), (rows.len(), rows), "{kind:?}: each address once");

        // the safelist is read by every read
        let safelist = dir.path().join("safe.txt");
        let visible = async |text: &str| {
            std::fs::write(&safelist, text).expect("safelist");
            let suspicious = f.suspicious(date, None).await.expect("suspicious");
            let beacons = f.beacons(date).await.expect("beacons").flagged().beacons.len();
            let threat = f.threat(date, ip(C2)).await.expect("threat").connections.len();
            (suspicious.len(), suspicious.iter().any(|s| s.dstip == C2), beacons, threat)
        };
        assert_eq!(visible("# nothing yet\n").await, (51, true, 1, 1), "{kind:?}");
        for hides in ["evil.example\n", "EXAMPLE # the whole zone\n", "10.9.9.9/32\n", "203.0.113.5\n"] {
            assert_eq!(visible(hides).await, (50, false, 0, 0), "{kind:?}: {hides:?} hides the row, the beacon and the threat's connections");
        }
        assert_eq!(visible("mail.evil.example\nevil.example.net\n").await, (51, true, 1, 1), "{kind:?}: a sub-domain or a look-alike hides nothing");
        std::fs::write(&safelist, "ok.example\n\n10.0.0.0/40\n").expect("safelist");
        let err = f.suspicious(date, None).await.expect_err("a bad line").to_string();
        assert!(err.contains(&format!("{}:3: `10.0.0.0/40`", safelist.display())), "{kind:?}: {err}");
        assert_eq!(f.outputs(date).await.expect("outputs"), stored, "{kind:?}: nothing stored changed");
        std::fs::write(&safelist, "").expect("safelist");

        // the C2's storyboard: its one peer is inbound only, in the implant's context
        let board = f.storyboard(date, ip(C2), None).await.expect("storyboard");
        let inbound = &board.impact["inbound only"];
        assert_eq!((inbound.internal, inbound.external, inbound.classes.clone()), (1, 0, [("VPN", 1)].into()), "{kind:?}: the narrowest entry, VPN.Implant");
        assert_eq!((board.progression[0].network.as_str(), board.progression[0].direction), ("VPN.Implant", "inbound only"), "{kind:?}");
        assert_eq!(board.progression_by_context["inbound only"], [("VPN.Implant".to_string(), 1)].into(), "{kind:?}");
        assert_eq!(board.map.len(), 0, "{kind:?}: the implant has no location");
        let scanner = f.storyboard(date, "172.16.0.8".parse().expect("ip"), None).await.expect("storyboard");
        let out = &scanner.impact["outbound only"];
        assert!(out.external > 0 && out.classes.get("none") == Some(&(out.internal + out.external)), "{kind:?}: no context entries: {out:?}");

        // given rows holding the beacon pair: no second row for it
        let report = f.oa(date, Some(vec![Scored::of(&first, 0.5)]), 1).await.expect("oa");
        assert_eq!((report.scores, report.beacons), (1, 0), "{kind:?}");
        engine.close().await;
        ts.finish().await;
    }
}

/// A service nobody listens on: the OA run completes, every address is unknown, the report
/// says so once.
#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_service_gives_unknown_reputations_and_a_warning_not_a_failed_run_on_both_backends() {
    let date = NaiveDate::from_ymd_opt(2024, 6, 14).expect("date");
    let (flows, _) = mixed_day(date);
    let port = vantage_tests::process::free_port();
    for kind in BOTH {
        let (ts, engine) = store_with(kind, &flows, Some(&format!("[flows.reputation_service]\nurl = \"http://127.0.0.1:{port}/lookup\"\n"))).await;
        let report = engine.flows().oa(date, None, 20).await.expect("the run completes");
        assert_eq!((report.scores, report.warnings.len()), (20, 1), "{kind:?}: {report:?}");
        assert!(report.warnings[0].contains("not asked again this run") && report.warnings[0].ends_with("addresses are unknown (-1)"), "{kind:?}: {:?}", report.warnings);
        let stored = engine.flows().outputs(date).await.expect("outputs").scores;
        assert!(stored.iter().all(|s| s.src_rep == "http:UNKNOWN:-1" && s.dst_rep == "http:UNKNOWN:-1"), "{kind:?}: {:?}", stored[0]);
        engine.close().await;
        ts.finish().await;
    }
}

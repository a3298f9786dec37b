use std::io::Cursor;
use std::path::Path;

use super::*;

fn sample(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/flows").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read(text: &str) -> (Vec<RawFlow>, Vec<BadLine>) {
    let (mut flows, mut bad) = (Vec::new(), Vec::new());
    for item in FlowReader::new(Cursor::new(text.as_bytes())) {
        match item {
            Ok(f) => flows.push(f),
            Err(e) => bad.push(e),
        }
    }
    (flows, bad)
}

fn at(s: &str) -> DateTime<Utc> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").expect("time").and_utc()
}

#[test]
fn nfdump_csv_of_a_real_syn_scan_reads_every_record_and_stops_at_the_summary() {
    let text = sample("synscan-nfdump.csv");
    let (flows, bad) = read(&text);
    assert!(bad.is_empty(), "{:?}", &bad[..bad.len().min(3)]);
    // header + records + "Summary" + its header + its one line
    assert_eq!(flows.len(), text.lines().count() - 4);
    let summary: Vec<&str> = text.lines().last().expect("summary").split(',').collect();
    assert_eq!(flows.len().to_string(), summary[0], "as many flows as nfdump's summary counts");
    let bytes: i64 = flows.iter().map(|f| f.ibyt).sum();
    assert_eq!(bytes.to_string(), summary[1]);
    let first = &flows[0];
    assert_eq!((first.treceived, first.sip.to_string(), first.dip.to_string()), (at("2010-07-04 20:24:17"), "172.16.0.8".into(), "64.13.134.52".into()));
    assert_eq!((first.sport, first.dport, first.proto.as_str(), first.flag.as_str(), first.ipkt, first.ibyt), (36050, 256, "TCP", "......S.", 1, 44));
    assert_eq!((first.rip.as_str(), first.calendar(), first.unix_tstamp()), ("0.0.0.0", [2010, 7, 4, 20, 24, 17], 1_278_275_057));
}

#[test]
fn every_shipped_nfdump_sample_reads_without_a_bad_line() {
    for name in ["1kxun-nfdump.csv", "android-nfdump.csv", "skype-nfdump.csv"] {
        let (flows, bad) = read(&sample(name));
        assert!(bad.is_empty() && !flows.is_empty(), "{name}: {} flows, {:?}", flows.len(), bad.first());
    }
}

#[test]
fn the_nfdump_1_7_5_header_is_read_by_column_name() {
    let text = "firstSeen,duration,proto,srcAddr,srcPort,dstAddr,dstPort,packets,bytes,flows\n\
                2024-06-15 12:00:01.250,1.500,UDP,10.0.0.5,5353,224.0.0.251,5353,3,270,1\n\
                2024-06-15 12:00:02.000,0.000,ICMP,10.0.0.5,0,10.0.0.1,8.0,1,84,1\n\
                Summary\nflows,bytes\n2,354\n";
    let (flows, bad) = read(text);
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(flows.len(), 2);
    assert_eq!((flows[0].treceived, flows[0].tdur, flows[0].proto.as_str(), flows[0].ipkt, flows[0].ibyt), (at("2024-06-15 12:00:01.250"), 1.5, "UDP", 3, 270));
    assert_eq!((flows[0].sport, flows[0].dport, flows[0].opkt, flows[0].rip.as_str()), (5353, 5353, 0, ""));
    assert_eq!(flows[1].dport, 8 * 256, "ICMP type 8 code 0");
}

#[test]
fn zeek_conn_logs_as_tsv_and_json_lines_map_onto_spot_columns() {
    let text = sample("zeek-conn.log");
    let (flows, bad) = read(&text);
    assert!(bad.is_empty(), "{:?}", bad.first());
    assert_eq!(flows.len(), text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).count());
    let f = &flows[0];
    assert_eq!((f.sip.to_string(), f.sport, f.dip.to_string(), f.dport, f.proto.as_str()), ("192.168.33.10".into(), 1032, "54.245.228.191".into(), 80, "TCP"));
    assert_eq!((f.ipkt, f.ibyt, f.opkt, f.obyt, f.flag.as_str()), (22, 1489, 31, 39641, "ShADadR"));
    assert_eq!(f.treceived.timestamp_micros(), 1_379_288_667_706_265);
    assert!((f.tdur - 0.447460).abs() < 1e-9);

    let text = sample("zeek-conn.json.log");
    let (flows, bad) = read(&text);
    assert!(bad.is_empty(), "{:?}", bad.first());
    assert_eq!(flows.len(), text.lines().filter(|l| !l.trim().is_empty()).count());
    let f = &flows[0];
    assert_eq!((f.sip.to_string(), f.sport, f.dport, f.ipkt, f.ibyt, f.opkt, f.obyt), ("10.18.20.97".into(), 49187, 88, 4, 414, 4, 455));
}

#[test]
fn bad_lines_name_their_line_and_column_and_the_others_are_read() {
    let text = "ts,te,td,sa,da,sp,dp,pr,flg,ipkt,ibyt\n\
                2024-06-15 12:00:00,2024-06-15 12:00:00,0.0,10.0.0.1,10.0.0.2,1,2,TCP,.A....,1,40\n\
                yesterday,x,0.0,10.0.0.1,10.0.0.2,1,2,TCP,.A....,1,40\n\
                2024-06-15 12:00:00,x,0.0,10.0.0.300,10.0.0.2,1,2,TCP,.A....,1,40\n\
                2024-06-15 12:00:00,x,0.0,10.0.0.1,10.0.0.2,70000,2,TCP,.A....,1,40\n\
                2024-06-15 12:00:00,x,-1,10.0.0.1,10.0.0.2,1,2,TCP,.A....,1,40\n\
                2024-06-15 12:00:00,x,0.0,10.0.0.1,10.0.0.2,1,2,TCP,.A....,-3,40\n\
                2024-06-15 12:00:00,x,0.0,10.0.0.1,10.0.0.2,1,2,TCP,.A....,1.5 M,40\n";
    let (flows, bad) = read(text);
    let shown: Vec<String> = bad.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "3: ts: not a time: \"yesterday\"",
            "4: sa: not an IP address: \"10.0.0.300\"",
            "5: sp: not a port: \"70000\"",
            "6: td: not a duration in seconds: \"-1\"",
            "7: ipkt: not a count: \"-3\"",
        ]
    );
    assert_eq!(flows.iter().map(|f| f.ipkt).collect::<Vec<_>>(), [1, 1_500_000], "nfdump's scaled counts");
    let (_, bad) = read("a,b,c\n1,2,3\n");
    assert_eq!(bad.len(), 2);
    assert!(bad[0].reason.starts_with("header has no column for a start time"), "{}", bad[0]);
    let (_, bad) = read("{\"ts\": 1.0}\n[1]\n{bad\n");
    assert_eq!(bad.iter().map(|b| (b.line, b.reason.split(' ').next().unwrap_or_default().to_string())).collect::<Vec<_>>(), [(1, "no".into()), (2, "not".into()), (3, "invalid".into())]);
}

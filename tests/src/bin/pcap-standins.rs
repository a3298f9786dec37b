//! Benchmark helper for `scripts/bench.sh pcap`: starts N Stenographer stand-ins on loopback
//! (mutual TLS with stenokeys.sh-style v1 certificates made by openssl in DIR), each answering
//! every query with the whole capture PCAP, writes `DIR/vantage.toml` naming them as
//! `[[pcap.sensors]]`, prints `ready` and serves until killed.
//!
//! Usage: `pcap-standins N PCAP DIR`

use std::io::Write as _;
use std::path::PathBuf;

use vantage_tests::steno_standin::{Behaviour, Standin, issue, make_ca, sensor_toml};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [n, pcap, dir] = args.as_slice() else {
        eprintln!("usage: pcap-standins N PCAP DIR");
        std::process::exit(2);
    };
    let n: usize = n.parse().unwrap_or_else(|_| panic!("N must be a number, not {n}"));
    let (pcap, dir) = (PathBuf::from(pcap), PathBuf::from(dir));
    std::fs::create_dir_all(&dir).expect("create DIR");
    // openssl runs inside DIR: the certificate helpers need it absolute
    let dir = dir.canonicalize().expect("DIR");
    let ca = make_ca(&dir, "ca");
    let server = issue(&dir, &ca, "server", "localhost", 30, true);
    let client = issue(&dir, &ca, "client", "vantage", 30, false);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut config = String::from("[pcap]\nidle_sleep = \"100ms\"\n");
    let standins: Vec<Standin> = (0..n)
        .map(|i| {
            let s = rt.block_on(Standin::start(&ca.cert, &server, &pcap));
            s.set_behaviour(Behaviour::Everything);
            config.push_str(&sensor_toml(&format!("sensor{i}"), s.port, &ca.cert, &client));
            s
        })
        .collect();
    std::fs::write(dir.join("vantage.toml"), config).expect("write vantage.toml");
    println!("ready");
    std::io::stdout().flush().expect("stdout");
    rt.block_on(std::future::pending::<()>());
    drop(standins);
}

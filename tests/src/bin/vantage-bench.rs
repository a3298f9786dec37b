//! Data generator for `scripts/bench.sh`: writes synthetic Sentinel incident reports.
//!
//! `vantage-bench gen-incidents ROWS DAY OUT` writes ROWS incidents spread over the UTC day
//! DAY (YYYY-MM-DD) to OUT, as CSV when OUT ends in `.csv`, else JSON Lines. 40 devices,
//! 200,000 attacker IPs with a heavy tail (u³), each hitting mostly its own probe with its own
//! technique (85 %), 13 trap/action kinds, 30 countries.

use std::io::{BufWriter, Write};

use chrono::{Duration, NaiveDate};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const KINDS: &[(&str, &str)] = &[
    ("minipot_telnet", "connect"), ("minipot_telnet", "login"), ("minipot_ftp", "connect"), ("minipot_ftp", "login"),
    ("minipot_smtp", "connect"), ("minipot_smtp", "login"), ("minipot_smtp", "message"), ("minipot_http", "connect"),
    ("minipot_http", "login"), ("minipot_http", "message"), ("minipot_http", "invalid"), ("fwlogs", "small_port_scan"),
    ("fwlogs", "big_port_scan"),
];
const COUNTRIES: &[&str] = &[
    "CN", "US", "RU", "BR", "IN", "VN", "KR", "DE", "NL", "FR", "GB", "ID", "TW", "UA", "IR", "CZ", "SG", "HK", "JP", "TR",
    "AR", "MX", "PL", "RO", "TH", "EG", "PK", "BG", "SK", "CA",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
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

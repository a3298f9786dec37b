//! `vantage.toml`: `deployment::load_config` (the top-level settings, `check_keys` and every
//! capability section: `[pcap]`, `[flows]`, `[greylist]`, `[dynfw]`). `Config::load` reads a
//! path only, so the input is written to a scratch file. A refused file's error must name
//! `path:line:column` inside the text when it points into it.
#![no_main]

#[path = "common.rs"]
mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vantage_core::config::{Config, Overrides};
use vantage_core::deployment;

fn paths() -> &'static (PathBuf, PathBuf) {
    static PATHS: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    PATHS.get_or_init(|| (common::scratch("vantage.toml"), common::scratch("data")))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // `[dynfw] server_key` is a path read whole: keep the fuzzer away from /dev, /proc, /sys
    let special = ["dev", "proc", "sys", "fd"].iter().any(|w| text.contains(w));
    let (file, data_dir) = paths();
    std::fs::write(file, data).expect("write the scratch config");
    let overrides = || Overrides { config_file: Some(file.clone()), data_dir: Some(data_dir.clone()), ..Overrides::default() };
    let result = if special {
        Config::load(overrides()).and_then(|c| c.check_keys(deployment::SECTIONS).map(|()| c))
    } else {
        deployment::load_config(overrides())
    };
    match result {
        Ok(config) => {
            assert_eq!(config.source.as_ref(), Some(file));
        }
        Err(e) => {
            let message = e.to_string();
            let located = format!("{}:", file.display());
            if let Some(rest) = message.split_once(&located).map(|(_, r)| r) {
                let mut parts = rest.splitn(3, ':');
                if let (Some(line), Some(column)) = (parts.next(), parts.next())
                    && let (Ok(line), Ok(column)) = (line.parse::<usize>(), column.parse::<usize>())
                {
                    let lines = text.split('\n').count();
                    assert!(line >= 1 && line <= lines, "{message}: line {line} of {lines}");
                    let width = text.split('\n').nth(line - 1).map_or(0, |l| l.chars().count());
                    assert!(column >= 1 && column <= width + 1, "{message}: column {column} of a line of {width}");
                }
            }
        }
    }
});

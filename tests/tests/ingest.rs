//! Ingest on both backends: JSON Lines and CSV, identities created on the fly, every bad
//! line reported with its line number, valid lines imported (or none with `strict`), and
//! nothing stored before ever changes.

use std::sync::Arc;

use vantage_core::progress::NoProgress;
use vantage_core::statistics::ingest::{self, IngestOptions, IngestReport, Source};
use vantage_core::statistics::model::{DataType, Level};
use vantage_core::store::Store;
use vantage_tests::{BOTH, TestStore, t};

const GOOD_AND_BAD_JSONL: &str = r#"{"time":"2024-06-15T10:00:00Z","sn":"A1","device_token":"tok-a","trap":"minipot_telnet","action":"login","ip":"203.0.113.7","country":"NL"}
{"time":"2024-06-15T10:01:00Z","sn":"A1","device_token":"tok-a","trap":"telnet","action":"login","ip":"203.0.113.7"}
{"time":"2024-06-15T10:02:00Z","username":"root","password":"toor","raw_count":3}

{"time":"not a time","username":"root","password":"x"}
{"time":"2024-06-15T10:03:00Z","port":22,"protocol":"TCP"}
{"time":"2024-06-15T10:04:00Z","port":-1,"protocol":"TCP"}
this is not json
{"time":"2024-06-15T10:05:00Z","sn":"B2","device_token":"tok-b","trap":"fwlogs","action":"big_port_scan","ip":"2001:db8::1","country":null}
"#;

const PORTS_CSV: &str = "time,raw_count,port,protocol\n2024-06-15T11:00:00Z,2,443,TCP\n2024-06-15T11:01:00Z,1,53,UDP\n2024-06-15T11:02:00Z,1,99999,TCP\n2024-06-15T11:03:00Z,1,8080\n";

async fn import(ts: &TestStore, name: &str, content: &str, strict: bool) -> IngestReport {
    let path = ts.data_dir().join(name);
    std::fs::write(&path, content).expect("write input");
    ingest::ingest(ts.store.as_ref(), vec![Source::File(path)], IngestOptions { strict, format: None }, Arc::new(NoProgress))
        .await
        .expect("ingest runs")
}

async fn snapshot(store: &dyn Store) -> Vec<Vec<vantage_core::statistics::model::StoredRow>> {
    let mut out = Vec::new();
    for d in DataType::ALL {
        out.push(store.table_rows(d, Level::Raw).await.expect("rows"));
    }
    out
}

#[tokio::test]
async fn bad_lines_are_reported_good_lines_imported() {
    for kind in BOTH {
        let ts = TestStore::new(kind, t("2024-06-16T00:00:00Z")).await;
        let r = import(&ts, "mixed.jsonl", GOOD_AND_BAD_JSONL, false).await;
        assert!(r.committed);
        assert_eq!((r.rows.incidents, r.rows.passwords, r.rows.ports), (2, 1, 1), "{kind:?}");
        assert_eq!(r.identities_created, 2);
        let lines: Vec<(u64, &str)> = r.rejected.iter().map(|x| (x.line, x.reason.as_str())).collect();
        assert_eq!(lines.iter().map(|(l, _)| *l).collect::<Vec<_>>(), vec![2, 5, 7, 8], "{kind:?}: {lines:?}");
        assert!(lines[0].1.starts_with("trap: `telnet`"), "{}", lines[0].1);
        assert!(lines[1].1.starts_with("time: `not a time`"), "{}", lines[1].1);
        assert!(lines[2].1.starts_with("port: -1"), "{}", lines[2].1);
        assert!(lines[3].1.starts_with("invalid JSON"), "{}", lines[3].1);
        assert!(r.rejected[0].to_string().ends_with("mixed.jsonl:2: trap: `telnet` is not a valid trap; expected one of: minipot_ftp, minipot_smtp, minipot_telnet, minipot_http, fwlogs"));

        let incidents = ts.store.table_rows(DataType::Incidents, Level::Raw).await.expect("rows");
        assert_eq!(incidents[1].dims, vec![Some("B2/tok-b".into()), Some("fwlogs".into()), Some("big_port_scan".into()), Some("2001:db8::1".into()), None]);
        let passwords = ts.store.table_rows(DataType::Passwords, Level::Raw).await.expect("rows");
        assert_eq!(passwords[0].raw_count, Some(3));

        let csv = import(&ts, "ports.csv", PORTS_CSV, false).await;
        assert_eq!(csv.rows.ports, 2);
        assert_eq!(csv.rejected.iter().map(|x| x.line).collect::<Vec<_>>(), vec![4, 5], "{kind:?}: {:?}", csv.rejected);
        assert!(csv.rejected[0].reason.contains("port: 99999"));
        assert!(csv.rejected[1].reason.contains("expected 4 fields"));
        ts.finish().await;
    }
}

#[tokio::test]
async fn strict_mode_stores_nothing_and_existing_rows_never_change() {
    for kind in BOTH {
        let ts = TestStore::new(kind, t("2024-06-16T00:00:00Z")).await;
        import(&ts, "ports.csv", "time,port,protocol\n2024-06-14T00:00:00Z,23,TCP\n", false).await;
        let before = snapshot(ts.store.as_ref()).await;

        let r = import(&ts, "mixed.jsonl", GOOD_AND_BAD_JSONL, true).await;
        assert!(!r.committed, "{kind:?}");
        assert_eq!(r.rejected_total, 4);
        assert_eq!(snapshot(ts.store.as_ref()).await, before, "{kind:?}: strict import with bad lines stored something");

        // a header that names no kind rejects the whole file at line 1, stores nothing
        let r = import(&ts, "odd.csv", "when,what\n1,2\n", false).await;
        assert_eq!((r.rows.total(), r.rejected.len(), r.rejected[0].line), (0, 1, 1));
        assert_eq!(snapshot(ts.store.as_ref()).await, before);

        // a missing file is an error before anything is written
        let missing = ingest::ingest(ts.store.as_ref(), vec![Source::File(ts.data_dir().join("nope.jsonl"))], IngestOptions::default(), Arc::new(NoProgress)).await;
        assert!(missing.is_err());
        assert_eq!(snapshot(ts.store.as_ref()).await, before);
        ts.finish().await;
    }
}

#[tokio::test]
async fn text_with_tabs_newlines_and_backslashes_round_trips() {
    for kind in BOTH {
        let ts = TestStore::new(kind, t("2024-06-16T00:00:00Z")).await;
        let line = serde_json::json!({"time": "2024-06-15T10:00:00Z", "username": "a\tb\\c", "password": "\n"}).to_string();
        let r = import(&ts, "odd.jsonl", &line, false).await;
        assert_eq!(r.rows.passwords, 1, "{kind:?} {:?}", r.rejected);
        let rows = ts.store.table_rows(DataType::Passwords, Level::Raw).await.expect("rows");
        assert_eq!(rows[0].dims, vec![Some("a\tb\\c".to_string()), Some("\n".to_string())], "{kind:?}");
        ts.finish().await;
    }
}

#[tokio::test]
async fn a_row_the_database_refuses_fails_the_import_and_stores_nothing() {
    for kind in BOTH {
        let ts = TestStore::new(kind, t("2024-06-16T00:00:00Z")).await;
        import(&ts, "ports.csv", "time,port,protocol\n2024-06-14T00:00:00Z,23,TCP\n", false).await;
        let before = snapshot(ts.store.as_ref()).await;
        // a rule of the database's own (the parser accepts the row): raw_count below 1000
        ts.raw_sql(
            "CREATE TRIGGER small BEFORE INSERT ON incidents WHEN NEW.raw_count >= 1000 BEGIN SELECT RAISE(ABORT, 'raw_count too big'); END",
            "ALTER TABLE incidents ADD CONSTRAINT small CHECK (raw_count < 1000)",
        )
        .await;
        // the refused row in the second batch, after a whole batch was sent
        let rows = ingest::BATCH_ROWS + 5_000;
        let content: String = (0..rows)
            .map(|i| {
                let count = if i == ingest::BATCH_ROWS + 1_000 { 5_000 } else { 1 };
                format!("{{\"time\":\"2024-06-15T10:{:02}:00Z\",\"sn\":\"A{}\",\"device_token\":\"tok\",\"trap\":\"minipot_telnet\",\"action\":\"login\",\"ip\":\"203.0.113.7\",\"raw_count\":{count}}}\n", i % 60, i % 3)
            })
            .collect();
        let path = ts.data_dir().join("refused.jsonl");
        std::fs::write(&path, content).expect("write input");
        let refused = ingest::ingest(ts.store.as_ref(), vec![Source::File(path)], IngestOptions::default(), Arc::new(NoProgress)).await;
        let error = refused.expect_err("the database refuses a row").to_string();
        assert!(error.contains("small") || error.contains("raw_count too big"), "{kind:?}: {error}");
        assert_eq!(snapshot(ts.store.as_ref()).await, before, "{kind:?}: a refused import stored something");
        // the store takes the next import
        let r = import(&ts, "ports.csv", "time,port,protocol\n2024-06-14T00:01:00Z,22,TCP\n", false).await;
        assert!(r.committed && r.rows.ports == 1, "{kind:?}: {r:?}");
        ts.finish().await;
    }
}

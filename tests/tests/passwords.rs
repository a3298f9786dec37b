//! The leaked-password store on both backends: importing the 30,000-password list, lookups
//! of members and non-members, prefix ranges equal to a brute-force filter of the list,
//! merges (counts added, sources united), HIBP files, and all-or-nothing merges; counts that
//! would overflow saturate at `i64::MAX` and bad stored counts never stop the index loading.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use vantage_core::passwords::import::{self, Format};
use vantage_core::passwords::index::Live;
use vantage_core::passwords::{self, PwnedHash, Source, sha1_hex};
use vantage_core::progress::NoProgress;
use vantage_core::statistics::model::{Action, Incident, PasswordAttempt, ReportBatch, Trap};
use vantage_tests::{BOTH, TestPg, TestStore, t};

fn list() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/passwords/zxcvbn-passwords.txt")).expect("fixture")
}

#[tokio::test(flavor = "multi_thread")]
async fn import_then_lookup_members_and_non_members_on_both_backends() {
    let text = list();
    let words: Vec<&str> = text.lines().collect();
    assert_eq!(words.len(), 30_000);
    let all_hashes: BTreeSet<String> = words.iter().map(|w| sha1_hex(w)).collect();
    let mut answers = Vec::new();
    for kind in BOTH {
        let ts = TestStore::new(kind, t("2024-06-15T12:40:00Z")).await;
        let store = ts.store.as_ref();
        let report = import::import(store, text.as_bytes(), Format::Plain, Some(Source::Telnet), Arc::new(NoProgress)).await.expect("import");
        assert_eq!((report.lines, report.hashes, report.total, report.errors.len()), (30_000, 30_000, 30_000, 0), "{kind:?}");

        for member in [words[0], words[1], words[14_999], words[29_999], "password"] {
            let found = passwords::check(store, member).await.expect("check").unwrap_or_else(|| panic!("{kind:?}: {member} is in the list"));
            assert_eq!((found.count, found.sources.as_slice()), (1, &[Source::Telnet][..]));
        }
        for stranger in ["correct horse battery staple 2024!", "Vantage-is-not-leaked-7f3a", ""] {
            assert_eq!(passwords::check(store, stranger).await.expect("check"), None, "{kind:?}: {stranger:?}");
        }

        // a prefix range is exactly the brute-force filter of the list
        for prefix in ["00000", "5baa6", "fffff", "a1b2c3", "7c4a8d09ca3762af61e59520943dc26494f8941b"] {
            let got: Vec<String> = passwords::lookup(store, prefix).await.expect("range").into_iter().map(|h| h.hash).collect();
            let want: Vec<String> = all_hashes.iter().filter(|h| h.starts_with(prefix)).cloned().collect();
            assert_eq!(got, want, "{kind:?} {prefix}");
        }

        // importing again through another service merges
        let again = import::import(store, "password\t4\n123456\n".as_bytes(), Format::Plain, Some(Source::Http), Arc::new(NoProgress)).await.expect("merge");
        assert_eq!(again.total, 30_000, "no new hashes");
        let pw = passwords::check(store, "password").await.expect("check").expect("found");
        assert_eq!((pw.count, pw.sources), (5, vec![Source::Telnet, Source::Http]));

        // HIBP file: either case, a new hash, a bad line reported and skipped
        let hibp = format!("{}:7\n{}:3\nnot-a-line\n", sha1_hex("password").to_uppercase(), sha1_hex("only-in-hibp-file"));
        let r = import::import(store, hibp.as_bytes(), import::detect(&hibp), None, Arc::new(NoProgress)).await.expect("hibp");
        assert_eq!((r.hashes, r.total, r.errors.iter().map(|e| e.line).collect::<Vec<_>>()), (2, 30_001, vec![3]));
        let pw = passwords::check(store, "password").await.expect("check").expect("found");
        assert_eq!((pw.count, pw.sources.len()), (12, 2), "sources kept when the file has none");
        assert_eq!(passwords::check_hash(store, &sha1_hex("only-in-hibp-file").to_uppercase()).await.expect("check").map(|h| h.count), Some(3));

        // one bad row (count 0 breaks the CHECK constraint) and nothing of the merge is stored
        let bad = vec![PwnedHash { hash: sha1_hex("brand-new"), count: 1, sources: vec![] }, PwnedHash { hash: sha1_hex("password"), count: 0, sources: vec![] }];
        assert!(store.pwned_merge(&bad, None, &NoProgress).await.is_err(), "{kind:?}");
        assert_eq!(store.pwned_total().await.expect("total"), 30_001, "{kind:?}: all or nothing");
        assert_eq!(passwords::check(store, "password").await.expect("check").map(|h| h.count), Some(12));

        // the servers' in-memory copy answers exactly what the store answers, and follows imports
        let live = Live::start(ts.store.clone());
        let version = store.pwned_version().await.expect("version");
        assert_eq!(tokio::time::timeout(Duration::from_secs(30), live.loaded(version)).await.expect("loads"), version);
        let mut prefixes: Vec<String> = words.iter().step_by(997).map(|w| sha1_hex(w)[..5].to_string()).collect();
        prefixes.extend(["00000", "fffff", "5baa61e4", "abcdef"].map(String::from));
        for p in &prefixes {
            assert_eq!(live.range(p).await.expect("live"), store.pwned_range(p).await.expect("store"), "{kind:?} {p}");
        }
        import::import(store, "a brand new leak\n".as_bytes(), Format::Plain, Some(Source::Haas), Arc::new(NoProgress)).await.expect("import");
        let newer = store.pwned_version().await.expect("version");
        assert!(newer > version);
        tokio::time::timeout(Duration::from_secs(30), live.loaded(newer)).await.expect("re-loads after an import");
        let hash = sha1_hex("a brand new leak");
        assert_eq!(live.range(&hash).await.expect("live").first().map(|h| h.sources.clone()), Some(vec![Source::Haas]));

        answers.push(passwords::lookup(store, "5baa6").await.expect("range"));
        ts.finish().await;
    }
    assert_eq!(answers[0], answers[1], "SQLite and PostgreSQL answer the same");
}

fn batch(incidents: &[(&str, Trap, Action)], attempts: &[(&str, &str, i64)]) -> ReportBatch {
    ReportBatch {
        incidents: incidents
            .iter()
            .map(|(time, trap, action)| Incident {
                time: t(time),
                raw_count: 1,
                sn: "0000000000000001".into(),
                device_token: "a".repeat(64),
                trap: *trap,
                action: *action,
                ip: "192.0.2.1".parse().expect("ip"),
                country: None,
            })
            .collect(),
        passwords: attempts.iter().map(|(time, password, n)| PasswordAttempt { time: t(time), raw_count: *n, username: "root".into(), password: (*password).into() }).collect(),
        ports: Vec::new(),
    }
}

async fn ingest(store: &dyn vantage_core::store::Store, b: ReportBatch) {
    let mut session = store.begin_ingest().await.expect("begin");
    session.write(&b).await.expect("write");
    session.commit().await.expect("commit");
}

#[tokio::test(flavor = "multi_thread")]
async fn statistics_passwords_are_imported_incrementally_with_sources_from_traps() {
    for kind in BOTH {
        let ts = TestStore::new(kind, t("2024-06-15T12:40:00Z")).await;
        let store = ts.store.as_ref();
        ingest(
            store,
            batch(
                &[("2024-06-15T10:00:00Z", Trap::MinipotTelnet, Action::Login), ("2024-06-15T10:05:00Z", Trap::MinipotFtp, Action::Connect), ("2024-06-15T10:10:00Z", Trap::MinipotHttp, Action::Login)],
                &[("2024-06-15T10:00:00Z", "admin", 2), ("2024-06-15T10:05:00Z", "admin", 1), ("2024-06-15T10:10:00Z", "s3cret", 4), ("2024-06-15T10:20:00Z", "nobody-saw-me", 1)],
            ),
        )
        .await;
        let first = import::from_statistics(store, Arc::new(NoProgress)).await.expect("import");
        assert_eq!((first.hashes, first.total), (3, 3), "{kind:?}");
        let admin = passwords::check(store, "admin").await.expect("check").expect("leaked");
        assert_eq!((admin.count, admin.sources), (3, vec![Source::Telnet]), "{kind:?}: a login at the same instant gives the source; a connect does not");
        assert_eq!(passwords::check(store, "s3cret").await.expect("check").map(|h| (h.count, h.sources)), Some((4, vec![Source::Http])));
        assert_eq!(passwords::check(store, "nobody-saw-me").await.expect("check").map(|h| h.sources), Some(vec![]));

        let again = import::from_statistics(store, Arc::new(NoProgress)).await.expect("re-run");
        assert_eq!((again.lines, again.hashes), (0, 0), "{kind:?}: nothing new, nothing counted twice");
        ingest(store, batch(&[], &[("2024-06-15T11:00:00Z", "admin", 5)])).await;
        let later = import::from_statistics(store, Arc::new(NoProgress)).await.expect("incremental");
        assert_eq!(later.hashes, 1);
        assert_eq!(passwords::check(store, "admin").await.expect("check").map(|h| h.count), Some(8), "{kind:?}");
        ts.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_existing_passy_database_is_read_and_merged_on_both_backends() {
    // passy's own schema (sview README) with rows as passy wrote them
    let passy = TestPg::create().await;
    passy
        .execute(format!(
            "CREATE TYPE data_source AS ENUM ('telnet', 'smtp', 'ftp', 'http', 'haas');
             CREATE TABLE IF NOT EXISTS passwords(id BIGSERIAL PRIMARY KEY, password_hash TEXT NOT NULL, count BIGINT CHECK (count > 0), password_source data_source[]);
             INSERT INTO passwords (password_hash, count, password_source) VALUES
               ('{pw_upper}', 10, '{{telnet,ftp}}'), ('{pw}', 5, '{{haas}}'), ('{other}', 1, NULL), ('not-a-hash', 3, '{{http}}'), ('{third}', NULL, '{{}}');",
            pw_upper = sha1_hex("password").to_uppercase(),
            pw = sha1_hex("password"),
            other = sha1_hex("letmein"),
            third = sha1_hex("qwerty"),
        ))
        .await;
    let url = vantage_core::config::SecretUrl::new(passy.url.clone());
    for kind in BOTH {
        let ts = TestStore::new(kind, t("2024-06-15T12:40:00Z")).await;
        let store = ts.store.as_ref();
        import::import(store, "password\n".as_bytes(), Format::Plain, Some(Source::Http), Arc::new(NoProgress)).await.expect("own list");
        let r = import::from_passy(store, &url, Arc::new(NoProgress)).await.expect("passy");
        assert_eq!((r.lines, r.hashes, r.total), (5, 2, 2), "{kind:?}");
        assert!(r.errors[0].reason.contains("2 passy rows"), "{:?}", r.errors);
        let pw = passwords::check(store, "password").await.expect("check").expect("leaked");
        assert_eq!((pw.count, pw.sources), (16, vec![Source::Telnet, Source::Ftp, Source::Http, Source::Haas]), "{kind:?}: merged with what was there");
        assert_eq!(passwords::check(store, "letmein").await.expect("check").map(|h| (h.count, h.sources)), Some((1, vec![])));
        ts.finish().await;
    }
    let rows: i64 = {
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&passy.url).await.expect("connect");
        sqlx::query_scalar("SELECT count(*) FROM passwords").fetch_one(&mut conn).await.expect("count")
    };
    assert_eq!(rows, 5, "the passy database is only read");
    passy.drop_db().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn counts_saturate_at_the_maximum_and_bad_stored_counts_do_not_stop_the_index_on_both_backends() {
    async fn plain(store: &dyn vantage_core::store::Store, text: String) -> import::ImportReport {
        import::import(store, text.as_bytes(), Format::Plain, None, Arc::new(NoProgress)).await.expect("import")
    }
    for kind in BOTH {
        let ts = TestStore::new(kind, t("2024-06-15T12:40:00Z")).await;
        let store = ts.store.as_ref();
        for _ in 0..2 {
            plain(store, format!("x\t{}\nordinary\t2\n", i64::MAX)).await;
        }
        assert_eq!(passwords::check(store, "x").await.expect("check").map(|h| h.count), Some(i64::MAX), "{kind:?}: MAX + MAX saturates");
        let r = plain(store, format!("y\t{m}\ny\t{m}\ny\t5\n", m = i64::MAX)).await;
        assert_eq!((r.hashes, r.errors.len()), (1, 0));
        assert_eq!(passwords::check(store, "y").await.expect("check").map(|h| h.count), Some(i64::MAX), "{kind:?}: MAX + MAX + 5 in one file");

        // rows an older version or another tool left: a REAL (an overflowed SQLite sum), text, a numeric column
        let (real, text) = (sha1_hex("real-count"), sha1_hex("text-count"));
        ts.raw_sql(
            &format!("INSERT INTO passwords_pwned VALUES ('{real}', 1.8446744073709552e19, '[]'), ('{text}', 'lots', '[]')"),
            &format!("ALTER TABLE passwords_pwned ALTER COLUMN password_count TYPE numeric; INSERT INTO passwords_pwned VALUES ('{real}', 1e30, '{{}}'), ('{text}', 0.5, '{{}}')"),
        )
        .await;
        let live = Live::start(ts.store.clone());
        let version = store.pwned_version().await.expect("version");
        tokio::time::timeout(Duration::from_secs(30), live.loaded(version)).await.expect("the index loads despite the bad rows");
        let count = |hash: String| {
            let live = live.clone();
            async move { live.range(&hash).await.expect("range").first().map(|h| h.count) }
        };
        assert_eq!(count(sha1_hex("x")).await, Some(i64::MAX), "{kind:?}");
        assert_eq!(count(sha1_hex("ordinary")).await, Some(4), "{kind:?}: other hashes are served");
        assert_eq!(count(real.clone()).await, Some(i64::MAX), "{kind:?}: a too large count reads as the maximum");
        assert_eq!(count(text.clone()).await, Some(1), "{kind:?}: a count that is no whole number ≥ 1 reads as 1");
        assert_eq!(store.pwned_top(2).await.expect("top").iter().map(|h| h.count).collect::<Vec<_>>(), [i64::MAX; 2]);
        plain(store, "real-count\t5\ntext-count\t2\n".into()).await;
        assert_eq!(passwords::check(store, "real-count").await.expect("check").map(|h| h.count), Some(i64::MAX), "{kind:?}");
        assert_eq!(passwords::check(store, "text-count").await.expect("check").map(|h| h.count), Some(3), "{kind:?}");
        ts.finish().await;
    }
}

//! Unit tests of [`super`]: Docket requests, windows, ids and weights.

use super::*;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("test instant").to_utc()
}

#[test]
fn durations() {
    for (text, secs) in [
        ("5m", 300.0),
        ("1h30m", 5400.0),
        ("3.5h", 12600.0),
        ("90", 90.0),
        ("1.5", 1.5),
        ("1w 2d", 777_600.0),
        ("250ms", 0.25),
        ("10us", 0.00001),
        ("2H", 7200.0),
    ] {
        assert_eq!(parse_duration(text).expect(text).as_secs_f64(), secs, "{text}");
    }
    assert_eq!(parse_duration("0.1s").expect("0.1s"), Duration::from_millis(100));
    for (text, why) in [
        ("", "empty"),
        ("5x", "unknown unit `x`"),
        ("1h30", "`30` needs a unit"),
        ("h", "expected a number before `h`"),
        ("-5m", "expected a number before `-5m`"),
        ("5.m", "`5.` is malformed or too large"),
        ("1.2.3", "`1.2.3` is malformed or too large"),
        ("99999999999999999999999w", "is malformed or too large"),
        ("99999999999999999999", "is malformed or too large"),
    ] {
        let e = parse_duration(text).expect_err(text);
        assert!(e.contains(why) && e.contains(&format!("`{text}`")), "{text}: {e}");
    }
}

#[test]
fn sizes() {
    for (text, bytes) in [("500MB", 500 << 20), ("25B", 25), ("4096", 4096), ("1.5GiB", 3 << 29), ("2 k", 2048), ("1t", 1 << 40)] {
        assert_eq!(parse_size(text), Ok(bytes), "{text}");
    }
    for text in ["", "MB", "5XB", "-1", "99999999P"] {
        assert!(parse_size(text).expect_err(text).contains(&format!("`{text}`")), "{text}");
    }
}

#[test]
fn times() {
    let at = |s: &str| parse_time(s).expect(s);
    assert_eq!(at("2024-06-15T14:40:00+02:00"), TimeSpec::At(t("2024-06-15T12:40:00Z")));
    assert_eq!(at("2024-06-15 12:40:00.5z"), TimeSpec::At(t("2024-06-15T12:40:00.5Z")));
    assert_eq!(at("2024-06-15t10:40-0200"), TimeSpec::At(t("2024-06-15T12:40:00Z")));
    assert_eq!(at("2024-06-15T12:40"), TimeSpec::At(t("2024-06-15T12:40:00Z")));
    assert_eq!(at("2024-06-15"), TimeSpec::At(t("2024-06-15T00:00:00Z")));
    assert_eq!(at("2h ago"), TimeSpec::Ago(Duration::from_secs(7200)));
    assert_eq!(at("45m"), TimeSpec::Ago(Duration::from_secs(2700)));
    assert!(parse_time("yesterday").expect_err("word").starts_with("`yesterday` is neither a duration"));
    assert!(parse_time("2024-06-15 ago").expect_err("date ago").starts_with("`2024-06-15` is not a duration"));
    assert!(parse_time("2024-13-01").is_err());
}

#[test]
fn nets() {
    let clause = |s: &str| Net::parse(s).map(|n| n.clause());
    assert_eq!(clause("10.0.0.0/8").as_deref(), Ok("net 10.0.0.0/8"));
    assert_eq!(clause("10.0.0.0 255.0.0.0").as_deref(), Ok("net 10.0.0.0 mask 255.0.0.0"));
    assert_eq!(clause("10.0.0.0 MASK 255.0.0.0").as_deref(), Ok("net 10.0.0.0 mask 255.0.0.0"));
    assert_eq!(clause("2001:db8::/32").as_deref(), Ok("net 2001:db8::/32"));
    for (text, why) in [
        ("10.0.0.0/33", "prefix length must be 0-32"),
        ("2001:db8::/129", "prefix length must be 0-128"),
        ("10.0.0.0/255.0.255.0", "not a contiguous mask"),
        ("2001:db8::/255.0.0.0", "needs an IPv4 address"),
        ("10.0.0.0/x", "neither a prefix length"),
        ("10.0.0/8", "`10.0.0` is not an IPv4"),
        ("10.0.0.0", "expected an address and a mask"),
    ] {
        let e = clause(text).expect_err(text);
        assert!(e.contains(why), "{text}: {e}");
    }
}

#[test]
fn weight_formula() {
    let w = Weights::new(1 << 40, 1 << 30, 24.0);
    assert_eq!(w.weigh(86_400.0, 0, 0, 0), (1u64 << 40) as f64);
    assert_eq!(w.weigh(86_400.0, 1, 1, 1), (1u64 << 40) as f64 / 152.0);
}

#[test]
fn steno_errors_become_bad_requests() {
    let e = RequestError::from(steno::parse("port").expect_err("incomplete"));
    assert_eq!((e.status, e.message.as_str()), (400, "Invalid Stenographer query: at byte 4: expected a port number 0-65535, found end of query"));
}

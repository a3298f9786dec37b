//! A validating parser of Stenographer's query language (pcap.md, "Stenographer"), used for the
//! raw request form before a query is sent to any sensor.
//!
//! Grammar (Stenographer's `query/parser.y`):
//!
//! ```text
//! query     := primary (operator primary)*          operators: and && or ||
//! primary   := "(" query ")" | primitive
//! primitive := host IP | net IP/N | net IP mask IP | port N | ip proto N
//!            | tcp | udp | icmp | vlan N | mpls N | before T | after T
//! T         := RFC 3339 date-time | <int>h ago | <int>m ago
//! ```
//!
//! `and` and `or` have **equal precedence and associate to the left**, exactly as in
//! Stenographer: `a or b and c` means `(a or b) and c`.
//!
//! Decisions (where Stenographer's hand-written lexer is looser or unspecified):
//! - Tokens are separated by ASCII whitespace, parentheses, `&&` and `||`; keywords are
//!   lowercase, as in Stenographer (`HOST` is rejected there too). Stenographer's lexer also
//!   accepts glued forms such as `host1.2.3.4` or `net 1.2.3.0 / 24`; this parser does not.
//! - IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) are IPv4 addresses, as Stenographer
//!   converts them: `host ::ffff:1.2.3.4` equals `host 1.2.3.4`, and `net ::ffff:10.0.0.0/N`
//!   needs N ≤ 32.
//! - `net IP mask M` is IPv4 only and M must be contiguous (`255.255.254.0`, not
//!   `255.0.255.0`); it is the same network as `net IP/N` and displays as such. Host bits in
//!   the address are allowed (Stenographer masks them) and kept.
//! - `before`/`after` take an RFC 3339 time with an uppercase `T` and `Z` or a numeric offset
//!   (Go's `time.RFC3339`; fractional seconds allowed, leap second `:60` rejected), or an
//!   integer number of hours or minutes followed by `ago`, within Go's duration range.
//! - At most [`MAX_NESTING`] levels of parentheses and [`MAX_PRIMITIVES`] primitives, so a
//!   hostile query cannot exhaust the stack.
//!
//! [`Expr`]'s `Display` is the canonical text: Stenographer accepts it, and parsing it yields
//! the same [`Expr`]. Send that text rather than the user's.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use chrono::{DateTime, SecondsFormat, Utc};

/// Deepest parenthesis nesting accepted.
pub const MAX_NESTING: usize = 100;
/// Most primitives accepted in one query.
pub const MAX_PRIMITIVES: usize = 1000;

/// What a primitive parse is expected to find, for error messages.
const PRIMITIVE: &str = "a primitive (host, net, port, ip proto, tcp, udp, icmp, vlan, mpls, before, after) or `(`";
/// The time operand of `before` and `after`.
const TIME: &str = "an RFC 3339 time (2024-06-15T12:40:00Z) or `<int>h ago` / `<int>m ago`";
/// Go's largest duration, in nanoseconds: `<int>h`/`<int>m` beyond it are rejected there.
const GO_MAX_DURATION_NS: u64 = i64::MAX as u64;

/// A parsed Stenographer query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// `host IP`: packets from or to this address (IPv4-mapped addresses are IPv4).
    Host(IpAddr),
    /// `net IP/N` or `net IP mask M`: packets from or to this network.
    Net {
        /// The address as written (host bits are ignored by Stenographer).
        addr: IpAddr,
        /// The prefix length: at most 32 for IPv4, 128 for IPv6.
        prefix: u8,
    },
    /// `port N`: TCP or UDP source or destination port (0–65535).
    Port(u16),
    /// `ip proto N`: IP protocol number (0–255).
    Proto(u8),
    /// `tcp` (`ip proto 6`).
    Tcp,
    /// `udp` (`ip proto 17`).
    Udp,
    /// `icmp` (`ip proto 1`).
    Icmp,
    /// `vlan N`: 802.1Q VLAN id (0–4095).
    Vlan(u16),
    /// `mpls N`: MPLS label (0–1048575).
    Mpls(u32),
    /// `before T`: packets older than T.
    Before(Time),
    /// `after T`: packets newer than T.
    After(Time),
    /// `A and B` / `A && B`.
    And(Box<Expr>, Box<Expr>),
    /// `A or B` / `A || B`.
    Or(Box<Expr>, Box<Expr>),
}

/// The operand of `before` and `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Time {
    /// An absolute instant.
    At(DateTime<Utc>),
    /// `<int>h ago` or `<int>m ago`, counted in minutes; displayed in hours when whole.
    MinutesAgo(u64),
}

/// Why a query was rejected: where, what was expected there and what was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at byte {position}: expected {expected}, found {found}")]
pub struct ParseError {
    /// Byte offset in the query text of the offending token (its length at the end).
    pub position: usize,
    /// What the grammar allows there.
    pub expected: String,
    /// The offending token in backquotes, or `end of query`.
    pub found: String,
}

/// Parses and validates a Stenographer query.
pub fn parse(input: &str) -> Result<Expr, ParseError> {
    let mut parser = Parser { tokens: tokenize(input)?, next: 0, end: input.len(), primitives: 0 };
    let expr = parser.query(0)?;
    match parser.bump() {
        None => Ok(expr),
        Some(token) => Err(parser.unexpected(Some(token), "`and`, `or`, `&&`, `||` or end of query")),
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Host(ip) => write!(f, "host {ip}"),
            Expr::Net { addr, prefix } => write!(f, "net {addr}/{prefix}"),
            Expr::Port(port) => write!(f, "port {port}"),
            Expr::Proto(proto) => write!(f, "ip proto {proto}"),
            Expr::Tcp => f.write_str("tcp"),
            Expr::Udp => f.write_str("udp"),
            Expr::Icmp => f.write_str("icmp"),
            Expr::Vlan(vlan) => write!(f, "vlan {vlan}"),
            Expr::Mpls(label) => write!(f, "mpls {label}"),
            Expr::Before(time) => write!(f, "before {time}"),
            Expr::After(time) => write!(f, "after {time}"),
            Expr::And(left, right) => binary(f, left, "and", right),
            Expr::Or(left, right) => binary(f, left, "or", right),
        }
    }
}

/// Writes `left op right`. Left associativity makes parentheses necessary only around a
/// binary right operand.
fn binary(f: &mut fmt::Formatter<'_>, left: &Expr, op: &str, right: &Expr) -> fmt::Result {
    write!(f, "{left} {op} ")?;
    match right {
        Expr::And(..) | Expr::Or(..) => write!(f, "({right})"),
        _ => write!(f, "{right}"),
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Time::At(t) => f.write_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            Time::MinutesAgo(m) if m % 60 == 0 => write!(f, "{}h ago", m / 60),
            Time::MinutesAgo(m) => write!(f, "{m}m ago"),
        }
    }
}

/// Parses an IP address; IPv4-mapped IPv6 addresses become IPv4 (as Stenographer does).
pub(crate) fn parse_ip(text: &str) -> Option<IpAddr> {
    text.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

/// The longest prefix of the address family: 32 or 128.
pub(crate) fn max_prefix(addr: IpAddr) -> u8 {
    if addr.is_ipv4() { 32 } else { 128 }
}

/// The prefix length of a contiguous IPv4 mask (`255.255.254.0` → 23), `None` otherwise.
pub(crate) fn mask_prefix(mask: Ipv4Addr) -> Option<u8> {
    let bits = u32::from(mask);
    let ones = bits.leading_ones();
    (bits.count_ones() == ones).then_some(ones as u8)
}

/// A non-empty string of ASCII digits as a number; `None` for anything else or an overflow.
pub(crate) fn decimal(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok<'a> {
    Open,
    Close,
    And,
    Or,
    Word(&'a str),
}

#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    tok: Tok<'a>,
    position: usize,
}

/// The constructor of a binary expression: [`Expr::And`] or [`Expr::Or`].
type Combine = fn(Box<Expr>, Box<Expr>) -> Expr;

impl Token<'_> {
    /// The binary constructor of an operator token (`and` and `or` are words).
    fn operator(self) -> Option<Combine> {
        match self.tok {
            Tok::And | Tok::Word("and") => Some(Expr::And),
            Tok::Or | Tok::Word("or") => Some(Expr::Or),
            _ => None,
        }
    }

    fn describe(self) -> String {
        match self.tok {
            Tok::Open => "`(`".into(),
            Tok::Close => "`)`".into(),
            Tok::And => "`&&`".into(),
            Tok::Or => "`||`".into(),
            Tok::Word(word) => format!("`{word}`"),
        }
    }
}

fn tokenize(input: &str) -> Result<Vec<Token<'_>>, ParseError> {
    let bytes = input.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&c) = bytes.get(i) {
        let (tok, len) = match c {
            c if c.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            b'(' => (Tok::Open, 1),
            b')' => (Tok::Close, 1),
            b'&' | b'|' => {
                let (tok, text) = if c == b'&' { (Tok::And, "`&&`") } else { (Tok::Or, "`||`") };
                if bytes.get(i + 1) != Some(&c) {
                    return Err(ParseError { position: i, expected: text.into(), found: format!("`{}`", c as char) });
                }
                (tok, 2)
            }
            _ => {
                let len = input[i..].find(|ch: char| ch.is_ascii_whitespace() || "()&|".contains(ch)).unwrap_or(input.len() - i);
                (Tok::Word(&input[i..i + len]), len)
            }
        };
        tokens.push(Token { tok, position: i });
        i += len;
    }
    Ok(tokens)
}

struct Parser<'a> {
    tokens: Vec<Token<'a>>,
    next: usize,
    end: usize,
    primitives: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<Token<'a>> {
        self.tokens.get(self.next).copied()
    }

    fn bump(&mut self) -> Option<Token<'a>> {
        let token = self.peek();
        self.next += usize::from(token.is_some());
        token
    }

    fn unexpected(&self, token: Option<Token<'_>>, expected: impl Into<String>) -> ParseError {
        let (position, found) = token.map_or((self.end, "end of query".into()), |t| (t.position, t.describe()));
        ParseError { position, expected: expected.into(), found }
    }

    /// `primary (operator primary)*`, folded to the left.
    fn query(&mut self, depth: usize) -> Result<Expr, ParseError> {
        let mut left = self.primary(depth)?;
        while let Some(op) = self.peek().and_then(Token::operator) {
            self.next += 1;
            let right = self.primary(depth)?;
            left = op(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn primary(&mut self, depth: usize) -> Result<Expr, ParseError> {
        match self.bump() {
            Some(token @ Token { tok: Tok::Open, .. }) => {
                if depth >= MAX_NESTING {
                    return Err(self.unexpected(Some(token), format!("at most {MAX_NESTING} nested parentheses")));
                }
                let inner = self.query(depth + 1)?;
                match self.bump() {
                    Some(Token { tok: Tok::Close, .. }) => Ok(inner),
                    other => Err(self.unexpected(other, "`and`, `or`, `&&`, `||` or `)`")),
                }
            }
            Some(token @ Token { tok: Tok::Word(word), .. }) => {
                self.primitives += 1;
                if self.primitives > MAX_PRIMITIVES {
                    return Err(self.unexpected(Some(token), format!("at most {MAX_PRIMITIVES} primitives")));
                }
                self.primitive(token, word)
            }
            other => Err(self.unexpected(other, PRIMITIVE)),
        }
    }

    fn primitive(&mut self, token: Token<'a>, keyword: &str) -> Result<Expr, ParseError> {
        Ok(match keyword {
            "host" => {
                let (word, position) = self.word("an IPv4 or IPv6 address")?;
                Expr::Host(parse_ip(word).ok_or_else(|| error(position, "an IPv4 or IPv6 address", word))?)
            }
            "net" => self.net()?,
            "port" => Expr::Port(self.number("a port number 0-65535", u16::MAX.into())? as u16),
            "ip" => {
                self.keyword("proto")?;
                Expr::Proto(self.number("a protocol number 0-255", u8::MAX.into())? as u8)
            }
            "tcp" => Expr::Tcp,
            "udp" => Expr::Udp,
            "icmp" => Expr::Icmp,
            "vlan" => Expr::Vlan(self.number("a VLAN id 0-4095", 4095)? as u16),
            "mpls" => Expr::Mpls(self.number("an MPLS label 0-1048575", 1_048_575)? as u32),
            "before" => Expr::Before(self.time()?),
            "after" => Expr::After(self.time()?),
            _ => return Err(self.unexpected(Some(token), PRIMITIVE)),
        })
    }

    /// The next token, which must be a word.
    fn word(&mut self, expected: &str) -> Result<(&'a str, usize), ParseError> {
        match self.bump() {
            Some(Token { tok: Tok::Word(word), position }) => Ok((word, position)),
            other => Err(self.unexpected(other, expected)),
        }
    }

    fn keyword(&mut self, keyword: &str) -> Result<(), ParseError> {
        let expected = format!("`{keyword}`");
        match self.word(&expected)? {
            (word, _) if word == keyword => Ok(()),
            (word, position) => Err(error(position, expected, word)),
        }
    }

    fn number(&mut self, expected: &str, max: u64) -> Result<u64, ParseError> {
        let (word, position) = self.word(expected)?;
        decimal(word).filter(|&n| n <= max).ok_or_else(|| error(position, expected, word))
    }

    fn net(&mut self) -> Result<Expr, ParseError> {
        const NET: &str = "a network: IP/N, or an IPv4 address followed by `mask`";
        let (word, position) = self.word(NET)?;
        if let Some((addr_text, len)) = word.split_once('/') {
            let addr = parse_ip(addr_text).ok_or_else(|| error(position, "an IPv4 or IPv6 address", addr_text))?;
            let max = max_prefix(addr);
            let prefix = decimal(len).filter(|&n| n <= max.into());
            let prefix = prefix.ok_or_else(|| error(position + addr_text.len() + 1, format!("a prefix length 0-{max}"), len))?;
            return Ok(Expr::Net { addr, prefix: prefix as u8 });
        }
        let addr = match parse_ip(word) {
            Some(IpAddr::V4(addr)) => addr,
            Some(IpAddr::V6(_)) => return Err(error(position, "IP/N (the `mask` form is IPv4 only)", word)),
            None => return Err(error(position, NET, word)),
        };
        self.keyword("mask")?;
        const MASK: &str = "a contiguous IPv4 mask such as 255.255.255.0";
        let (word, position) = self.word(MASK)?;
        match parse_ip(word) {
            Some(IpAddr::V4(mask)) => mask_prefix(mask).map(|prefix| Expr::Net { addr: addr.into(), prefix }).ok_or_else(|| error(position, MASK, word)),
            _ => Err(error(position, MASK, word)),
        }
    }

    fn time(&mut self) -> Result<Time, ParseError> {
        let (word, position) = self.word(TIME)?;
        if let Some(minutes) = minutes_ago(word) {
            let limit = format!("at most {}h or {}m", GO_MAX_DURATION_NS / 3_600_000_000_000, GO_MAX_DURATION_NS / 60_000_000_000);
            let minutes = minutes.ok_or_else(|| error(position, limit, word))?;
            self.keyword("ago")?;
            return Ok(Time::MinutesAgo(minutes));
        }
        // Go's RFC 3339 layout: uppercase `T`/`Z` only (chrono would also take `t`, `z`, ' ').
        let go_chars = word.bytes().all(|b| b.is_ascii_digit() || b":.-+TZ".contains(&b));
        match DateTime::parse_from_rfc3339(word) {
            Ok(t) if go_chars && t.timestamp_subsec_nanos() < 1_000_000_000 => Ok(Time::At(t.to_utc())),
            _ => Err(error(position, TIME, word)),
        }
    }
}

/// `<int>h` / `<int>m` as minutes: `None` if the word is not of that shape, `Some(None)` if
/// it exceeds Go's duration range.
fn minutes_ago(word: &str) -> Option<Option<u64>> {
    let (amount, unit_ns, minutes_per_unit) = match word.split_at_checked(word.len().checked_sub(1)?)? {
        (amount, "h") => (amount, 3_600_000_000_000, 60),
        (amount, "m") => (amount, 60_000_000_000, 1),
        _ => return None,
    };
    let amount = decimal(amount)?;
    // lazily: the product of an amount past the range overflows (found by fuzzing)
    Some((amount <= GO_MAX_DURATION_NS / unit_ns).then(|| amount * minutes_per_unit))
}

fn error(position: usize, expected: impl Into<String>, found: &str) -> ParseError {
    ParseError { position, expected: expected.into(), found: format!("`{found}`") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(query: &str) -> Expr {
        parse(query).unwrap_or_else(|e| panic!("{query:?} should parse: {e}"))
    }

    fn err(query: &str) -> ParseError {
        match parse(query) {
            Ok(expr) => panic!("{query:?} should be rejected, parsed as {expr}"),
            Err(e) => e,
        }
    }

    fn canonical(query: &str) -> String {
        ok(query).to_string()
    }

    #[test]
    fn primitives_display_canonically() {
        for (query, shown) in [
            ("host 1.2.3.4", "host 1.2.3.4"),
            ("host 2001:DB8:0:0::1", "host 2001:db8::1"),
            ("host ::ffff:1.2.3.4", "host 1.2.3.4"),
            ("net 10.0.0.0/8", "net 10.0.0.0/8"),
            ("net 1.2.3.4 mask 255.255.254.0", "net 1.2.3.4/23"),
            ("net 2001:db8::/32", "net 2001:db8::/32"),
            ("port 080", "port 80"),
            ("ip proto 6", "ip proto 6"),
            ("tcp", "tcp"),
            ("udp", "udp"),
            ("icmp", "icmp"),
            ("vlan 4095", "vlan 4095"),
            ("mpls 1048575", "mpls 1048575"),
            ("before 2024-06-15T14:40:00+02:00", "before 2024-06-15T12:40:00Z"),
            ("after 2024-06-15T12:40:00.25Z", "after 2024-06-15T12:40:00.250Z"),
            ("after 120m ago", "after 2h ago"),
            ("before 90m ago", "before 90m ago"),
        ] {
            assert_eq!(canonical(query), shown, "{query}");
        }
    }

    #[test]
    fn helpers() {
        assert_eq!(mask_prefix(Ipv4Addr::new(255, 255, 254, 0)), Some(23));
        assert_eq!(mask_prefix(Ipv4Addr::new(0, 0, 0, 0)), Some(0));
        assert_eq!(mask_prefix(Ipv4Addr::new(255, 255, 255, 255)), Some(32));
        assert_eq!(mask_prefix(Ipv4Addr::new(255, 0, 255, 0)), None);
        assert_eq!(decimal("007"), Some(7));
        assert_eq!((decimal(""), decimal("+1"), decimal("99999999999999999999999")), (None, None, None));
        assert_eq!(minutes_ago("2562047h"), Some(Some(2_562_047 * 60)));
        assert_eq!(minutes_ago("2562048h"), Some(None));
        assert_eq!((minutes_ago("h"), minutes_ago("1d"), minutes_ago("")), (None, None, None));
    }

    #[test]
    fn operators_have_equal_precedence_and_associate_left() {
        let host = |ip: [u8; 4]| Box::new(Expr::Host(IpAddr::from(ip)));
        let expected = Expr::And(Box::new(Expr::Or(host([1, 1, 1, 1]), host([2, 2, 2, 2]))), host([3, 3, 3, 3]));
        assert_eq!(ok("host 1.1.1.1 or host 2.2.2.2 and host 3.3.3.3"), expected);
        assert_eq!(ok("(host 1.1.1.1||host 2.2.2.2)&&host 3.3.3.3"), expected);
        assert_eq!(canonical("host 1.1.1.1 and (host 2.2.2.2 or host 3.3.3.3)"), "host 1.1.1.1 and (host 2.2.2.2 or host 3.3.3.3)");
        assert_eq!(canonical("((tcp)) and ((port 1 or port 2) or port 3)"), "tcp and (port 1 or port 2 or port 3)");
    }

    #[test]
    fn errors_point_at_the_offending_token() {
        let e = err("host 1.2.3.4 and port 70000");
        assert_eq!((e.position, e.expected.as_str(), e.found.as_str()), (22, "a port number 0-65535", "`70000`"));
        assert_eq!(e.to_string(), "at byte 22: expected a port number 0-65535, found `70000`");
        assert_eq!(err("net 10.0.0.0/33").position, 13);
        assert_eq!(err("host 1.2.3.4 and").found, "end of query");
        assert_eq!(err("host 1.2.3.4 and").position, 16);
        assert_eq!(err("tcp & udp").expected, "`&&`");
        assert_eq!(err("(tcp").expected, "`and`, `or`, `&&`, `||` or `)`");
        assert_eq!(err("tcp)").found, "`)`");
        assert_eq!(err("HOST 1.2.3.4").found, "`HOST`");
        assert_eq!(err(&"(".repeat(MAX_NESTING + 1)).expected, format!("at most {MAX_NESTING} nested parentheses"));
        assert_eq!(err(&vec!["tcp"; MAX_PRIMITIVES + 1].join(" or ")).expected, format!("at most {MAX_PRIMITIVES} primitives"));
        assert_eq!(err("after 99999999h ago").expected, "at most 2562047h or 153722867m");
        // so big that hours × 60 overflows u64: an error, not a panic (a fuzzing find)
        assert_eq!(err("before 4444444444444444429h ago").expected, "at most 2562047h or 153722867m");
    }

    #[test]
    fn non_ascii_input_is_rejected_not_looping() {
        assert_eq!(err("host\u{a0}1.2.3.4").found, "`host\u{a0}1.2.3.4`");
        assert_eq!(err("tcp or ü").position, 7);
    }
}

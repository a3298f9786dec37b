//! A shared scan: the rows of one statistics table in a time range, read once
//! ([`super::StatisticsStore::stat_scan`]), and [`StatQuery`]s answered from them in memory
//! with the same rows, values and order as the SQL of [`super::sql`]. The resources of one
//! (table, window) — and of every period reading the same table — then cost one read.
//!
//! Texts are interned: a row holds one [`Sym`] per column of [`scan_columns`], so grouping and
//! counting distinct addresses hash small integers; keys turn back into text only in the rows
//! a query returns.

use std::cmp::Ordering;
use std::collections::hash_map::Entry;

use chrono::{DateTime, Utc};
use rustc_hash::{FxHashMap, FxHashSet};

use super::model::DataType;
use super::query::{Col, Filter, Measure, StatQuery, StatRow};
use crate::error::{Error, Result};
use crate::timebucket::{bucket_start_micros, from_micros, to_micros, width_micros};

/// An interned text of a [`Scan`]; [`NULL`] stands for SQL NULL.
pub type Sym = u32;

/// The [`Sym`] of SQL NULL.
pub const NULL: Sym = Sym::MAX;

/// Most columns a scan row holds (incidents: trap, action, ip, country).
const WIDTH: usize = 4;

/// The columns a scan of `data` reads, in row order: every column its precached resources
/// group or filter by (the incidents' identity is not among them).
pub fn scan_columns(data: DataType) -> &'static [Col] {
    match data {
        DataType::Incidents => &[Col::Trap, Col::Action, Col::Ip, Col::Country],
        DataType::Passwords => &[Col::Username, Col::Password],
        DataType::Ports => &[Col::Port, Col::Protocol],
    }
}

/// One row of a scan.
#[derive(Debug, Clone, Copy)]
struct ScanRow {
    /// Epoch microseconds.
    time: i64,
    /// The [`scan_columns`] values; unused places are [`NULL`].
    keys: [Sym; WIDTH],
    /// `raw_count`, NULL read as 0 (what `coalesce(sum(raw_count), 0)` makes of it).
    raw_count: i64,
}

/// The rows of one table with `from ≤ time < to`, sorted by time.
#[derive(Debug, Clone)]
pub struct Scan {
    data: DataType,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    texts: Vec<Box<str>>,
    rows: Vec<ScanRow>,
}

/// A key value as read: text, or a value whose text the scan renders once per distinct value
/// (PostgreSQL sends addresses and ports in binary; rendering them on the server costs more
/// than the read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key<'a> {
    /// Text, as the SQL compares it.
    Text(&'a str),
    /// An IPv4 address, rendered as `host(ip)` renders it (dotted quad).
    V4([u8; 4]),
    /// An integer, rendered in decimal (`port::text`).
    Int(i64),
}

impl<'a> Key<'a> {
    /// The key of a PostgreSQL `inet` read in binary (`family, bits, is_cidr, length,
    /// address`) beside the server's `host(ip)` of every address that is not IPv4.
    pub fn inet(raw: Option<&[u8]>, host: Option<&'a str>) -> Result<Option<Key<'a>>> {
        match (raw, host) {
            (None, _) => Ok(None),
            (Some(_), Some(text)) => Ok(Some(Key::Text(text))),
            (Some([_, _, _, 4, a, b, c, d]), None) => Ok(Some(Key::V4([*a, *b, *c, *d]))),
            (Some(raw), None) => Err(Error::InvalidArgument(format!("an inet read as {} bytes names no IPv4 address", raw.len()))),
        }
    }
}

/// A [`Key`] whose text the scan renders: the symbols of those already seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Rendered {
    V4([u8; 4]),
    Int(i64),
}

/// Builds a [`Scan`] row by row, interning the texts.
#[derive(Debug)]
pub struct ScanBuilder {
    index: FxHashMap<Box<str>, Sym>,
    rendered: FxHashMap<Rendered, Sym>,
    scan: Scan,
}

impl ScanBuilder {
    /// An empty scan of `data` over `[from, to)`.
    pub fn new(data: DataType, from: DateTime<Utc>, to: DateTime<Utc>) -> ScanBuilder {
        ScanBuilder {
            index: FxHashMap::default(),
            rendered: FxHashMap::default(),
            scan: Scan { data, from, to, texts: Vec::new(), rows: Vec::new() },
        }
    }

    /// Adds a row: its time, its [`scan_columns`] values, its `raw_count`.
    pub fn push(&mut self, time: DateTime<Utc>, keys: &[Option<Key<'_>>], raw_count: Option<i64>) {
        let mut syms = [NULL; WIDTH];
        for (sym, key) in syms.iter_mut().zip(keys) {
            *sym = match key {
                None => NULL,
                Some(Key::Text(text)) => self.intern(text),
                Some(Key::V4(octets)) => self.intern_rendered(Rendered::V4(*octets)),
                Some(Key::Int(i)) => self.intern_rendered(Rendered::Int(*i)),
            };
        }
        self.scan.rows.push(ScanRow { time: to_micros(time), keys: syms, raw_count: raw_count.unwrap_or(0) });
    }

    /// The symbol of a key the scan renders itself: rendered and interned on first sight.
    fn intern_rendered(&mut self, key: Rendered) -> Sym {
        if let Some(sym) = self.rendered.get(&key) {
            return *sym;
        }
        let text = match key {
            Rendered::V4(octets) => std::net::Ipv4Addr::from(octets).to_string(),
            Rendered::Int(i) => i.to_string(),
        };
        let sym = self.intern(&text);
        self.rendered.insert(key, sym);
        sym
    }

    /// The one symbol of `text`, whichever form its key was read in.
    fn intern(&mut self, text: &str) -> Sym {
        if let Some(sym) = self.index.get(text) {
            return *sym;
        }
        let sym = Sym::try_from(self.scan.texts.len()).unwrap_or(NULL - 1);
        self.scan.texts.push(text.into());
        self.index.insert(text.into(), sym);
        sym
    }

    /// The scan, its rows sorted by time.
    pub fn finish(mut self) -> Scan {
        self.scan.rows.sort_unstable_by_key(|r| r.time);
        self.scan
    }
}

/// A row filter resolved to interned values.
enum Pred {
    NotNull(usize),
    Valid(usize),
    In(usize, FxHashSet<Sym>),
    Pairs(usize, usize, FxHashSet<(Sym, Sym)>),
}

impl Pred {
    fn holds(&self, scan: &Scan, row: &ScanRow) -> bool {
        match self {
            Pred::NotNull(i) => row.keys[*i] != NULL,
            Pred::Valid(i) => row.keys[*i] != NULL && !matches!(&*scan.texts[row.keys[*i] as usize], "" | "\n"),
            Pred::In(i, set) => set.contains(&row.keys[*i]),
            Pred::Pairs(i, j, set) => set.contains(&(row.keys[*i], row.keys[*j])),
        }
    }
}

/// A group: its bucket start (or `i64::MIN`) and its key columns' values.
type Group = (i64, [Sym; WIDTH]);

impl Scan {
    /// The number of rows read.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether no row was read.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The place of `col` in a row, or an error naming the column.
    fn place(&self, col: Col) -> Result<usize> {
        scan_columns(self.data)
            .iter()
            .position(|c| *c == col)
            .ok_or_else(|| Error::InvalidArgument(format!("a scan of {} holds no column {}", self.data.table(), col.name())))
    }

    /// The symbol of `text`, if some row holds it.
    fn sym(&self, text: &str) -> Option<Sym> {
        self.texts.iter().position(|t| **t == *text).and_then(|s| Sym::try_from(s).ok())
    }

    fn pred(&self, filter: &Filter) -> Result<Pred> {
        let syms = |values: &[String]| values.iter().filter_map(|v| self.sym(v)).collect();
        Ok(match filter {
            Filter::NotNull(c) => Pred::NotNull(self.place(*c)?),
            Filter::Valid(c) => Pred::Valid(self.place(*c)?),
            Filter::Eq(c, v) => Pred::In(self.place(*c)?, syms(std::slice::from_ref(v))),
            Filter::OneOf(c, vs) => Pred::In(self.place(*c)?, syms(vs)),
            Filter::PortOneOf(pairs) => Pred::Pairs(
                self.place(Col::Port)?,
                self.place(Col::Protocol)?,
                pairs.iter().filter_map(|(port, protocol)| Some((self.sym(&port.to_string())?, self.sym(protocol)?))).collect(),
            ),
            Filter::Devices(_) => return Err(Error::InvalidArgument("a scan holds no identities: device filters need the store".into())),
        })
    }

    fn text(&self, sym: Sym) -> Option<String> {
        (sym != NULL).then(|| self.texts[sym as usize].to_string())
    }

    /// Answers `query` from the rows read: the rows, values and order
    /// [`super::StatisticsStore::stat_query`] gives for it. Its range must lie within the
    /// scan's, its data type be the scan's, and it cannot filter by devices.
    pub fn query(&self, q: &StatQuery) -> Result<Vec<StatRow>> {
        if q.data != self.data || q.from < self.from || q.to > self.to {
            return Err(Error::InvalidArgument(format!(
                "a query of {} over [{}, {}) is not within the scan of {} over [{}, {})",
                q.data.table(),
                q.from,
                q.to,
                self.data.table(),
                self.from,
                self.to
            )));
        }
        let preds = q.filters.iter().map(|f| self.pred(f)).collect::<Result<Vec<_>>>()?;
        let places = q.group.iter().map(|c| self.place(*c)).collect::<Result<Vec<_>>>()?;
        let ip = self.place(Col::Ip).ok();
        if q.measure == Measure::DistinctIp && ip.is_none() {
            return Err(Error::InvalidArgument(format!("{} has no ip to count", self.data.table())));
        }
        let width = q.bucket.map(width_micros);
        let (from, to) = (to_micros(q.from), to_micros(q.to));
        let lo = self.rows.partition_point(|r| r.time < from);
        let hi = self.rows.partition_point(|r| r.time < to);
        let mut values: FxHashMap<Group, i64> = FxHashMap::default();
        let mut seen: FxHashSet<(Group, Sym)> = FxHashSet::default();
        for row in &self.rows[lo..hi] {
            if !preds.iter().all(|p| p.holds(self, row)) {
                continue;
            }
            let mut keys = [NULL; WIDTH];
            for (k, place) in keys.iter_mut().zip(&places) {
                *k = row.keys[*place];
            }
            let group = (width.map_or(i64::MIN, |w| bucket_start_micros(row.time, w)), keys);
            match (q.measure, ip) {
                (Measure::DistinctIp, Some(ip)) => {
                    let value = values.entry(group).or_insert(0);
                    let address = row.keys[ip];
                    if address != NULL && seen.insert((group, address)) {
                        *value += 1;
                    }
                }
                _ => match values.entry(group) {
                    Entry::Occupied(mut e) => *e.get_mut() += row.raw_count,
                    Entry::Vacant(e) => {
                        e.insert(row.raw_count);
                    }
                },
            }
        }
        // keys compare as their texts in byte order (PostgreSQL: COLLATE "C"), NULL first
        let keys = |a: &[Sym; WIDTH], b: &[Sym; WIDTH]| {
            let text = |s: Sym| (s != NULL).then(|| &*self.texts[s as usize]);
            a[..places.len()].iter().zip(&b[..places.len()]).map(|(x, y)| text(*x).cmp(&text(*y))).find(|o| o.is_ne()).unwrap_or(Ordering::Equal)
        };
        let mut groups: Vec<(Group, i64)> = values.into_iter().collect();
        if let Some(n) = q.limit {
            let order = |(a, va): &(Group, i64), (b, vb): &(Group, i64)| vb.cmp(va).then_with(|| keys(&a.1, &b.1));
            if n < groups.len() {
                groups.select_nth_unstable_by(n, order);
                groups.truncate(n);
            }
            groups.sort_unstable_by(order);
        } else if width.is_some() {
            groups.sort_unstable_by(|(a, _), (b, _)| a.0.cmp(&b.0).then_with(|| keys(&a.1, &b.1)));
        }
        Ok(groups
            .into_iter()
            .map(|((bucket, keys), value)| StatRow {
                bucket: width.map(|_| from_micros(bucket)),
                keys: keys[..places.len()].iter().map(|s| self.text(*s)).collect(),
                value,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::statistics::query::Measure;
    use crate::store::statistics::model::Level;

    #[test]
    fn an_inet_is_an_ipv4_key_or_the_servers_text() {
        assert_eq!(Key::inet(Some(&[2, 32, 0, 4, 192, 0, 2, 1]), None).expect("v4"), Some(Key::V4([192, 0, 2, 1])));
        assert_eq!(Key::inet(Some(&[3, 128, 0, 16, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), Some("2001:db8::1")).expect("v6"), Some(Key::Text("2001:db8::1")));
        assert_eq!(Key::inet(None, None).expect("null"), None);
        let err = Key::inet(Some(&[3, 128, 0, 16, 0, 0]), None).expect_err("no text for an IPv6 address");
        assert!(err.to_string().contains("6 bytes"), "{err}");
    }

    #[test]
    fn a_text_read_in_any_form_is_one_key() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().expect("time");
        let mut b = ScanBuilder::new(DataType::Ports, at("2024-06-01T00:00:00Z"), at("2024-06-02T00:00:00Z"));
        b.push(at("2024-06-01T01:00:00Z"), &[Some(Key::Int(22)), Some(Key::Text("TCP"))], Some(2));
        b.push(at("2024-06-01T02:00:00Z"), &[Some(Key::Text("22")), Some(Key::Text("TCP"))], Some(3));
        b.push(at("2024-06-01T03:00:00Z"), &[Some(Key::Int(23)), Some(Key::Text("TCP"))], None);
        let scan = b.finish();
        let q = StatQuery {
            data: DataType::Ports,
            level: Level::Daily,
            from: scan.from,
            to: scan.to,
            bucket: None,
            group: vec![Col::Port],
            measure: Measure::Sum,
            filters: vec![Filter::PortOneOf(vec![(22, "TCP".into()), (23, "TCP".into())])],
            limit: None,
        };
        let mut rows = scan.query(&q).expect("query");
        rows.sort_by(|a, b| a.keys.cmp(&b.keys));
        let got: Vec<(Option<String>, i64)> = rows.into_iter().map(|r| (r.keys[0].clone(), r.value)).collect();
        assert_eq!(got, vec![(Some("22".into()), 5), (Some("23".into()), 0)]);
    }
}

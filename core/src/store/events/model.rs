//! The stored fields of an IntelMQ event, their types and the aggregation tables.
//!
//! Column names are IntelMQ's dotted field names; [`Field`] is the allow-list every SQL
//! fragment takes its identifiers from.

use std::net::IpAddr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// What kind of value a field holds (and how it is validated and stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A time stamp with time zone (`timestamptz`; SQLite: fixed-width UTC text).
    Time,
    /// One IPv4/IPv6 address (`inet`; SQLite: canonical text).
    Ip,
    /// An IP network (`inet`; SQLite: `address/prefix` text, host bits cleared).
    Network,
    /// An autonomous system number, 1 … 2³¹−1 (IntelMQ's `integer` column).
    Asn,
    /// A port, 0 … 65535.
    Port,
    /// An ISO 3166 country code: two ASCII letters, stored upper-case.
    Country,
    /// Text of at most this many characters (`None`: no limit of its own); any text value is
    /// at most `events::parse::MAX_TEXT_BYTES` bytes.
    Text(Option<usize>),
}

/// The event fields Vantage stores (events.md's list), in column order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[allow(missing_docs)] // each variant is the IntelMQ field named by `Field::name`
pub enum Field {
    TimeSource,
    TimeObservation,
    SourceIp,
    SourceNetwork,
    SourceAsn,
    SourcePort,
    Country,
    DomainSuffix,
    Taxonomy,
    Type,
    Identifier,
    Application,
    Transport,
    Malware,
    FeedCode,
    FeedName,
    FeedProvider,
}

impl Field {
    /// Every stored field, in column order.
    pub const ALL: [Field; 17] = [
        Field::TimeSource,
        Field::TimeObservation,
        Field::SourceIp,
        Field::SourceNetwork,
        Field::SourceAsn,
        Field::SourcePort,
        Field::Country,
        Field::DomainSuffix,
        Field::Taxonomy,
        Field::Type,
        Field::Identifier,
        Field::Application,
        Field::Transport,
        Field::Malware,
        Field::FeedCode,
        Field::FeedName,
        Field::FeedProvider,
    ];

    /// IntelMQ's name of the field (also the SQL column name, to be double-quoted).
    pub fn name(self) -> &'static str {
        match self {
            Field::TimeSource => "time.source",
            Field::TimeObservation => "time.observation",
            Field::SourceIp => "source.ip",
            Field::SourceNetwork => "source.network",
            Field::SourceAsn => "source.asn",
            Field::SourcePort => "source.port",
            Field::Country => "source.geolocation.cc",
            Field::DomainSuffix => "source.domain_suffix",
            Field::Taxonomy => "classification.taxonomy",
            Field::Type => "classification.type",
            Field::Identifier => "classification.identifier",
            Field::Application => "protocol.application",
            Field::Transport => "protocol.transport",
            Field::Malware => "malware.name",
            Field::FeedCode => "feed.code",
            Field::FeedName => "feed.name",
            Field::FeedProvider => "feed.provider",
        }
    }

    /// The column name double-quoted for SQL.
    pub fn quoted(self) -> String {
        format!("\"{}\"", self.name())
    }

    /// Its position in [`Field::ALL`] (and in [`Event::values`]).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The value kind (IntelMQ's DDL types).
    pub fn kind(self) -> Kind {
        match self {
            Field::TimeSource | Field::TimeObservation => Kind::Time,
            Field::SourceIp => Kind::Ip,
            Field::SourceNetwork => Kind::Network,
            Field::SourceAsn => Kind::Asn,
            Field::SourcePort => Kind::Port,
            Field::Country => Kind::Country,
            Field::Taxonomy | Field::Application | Field::FeedCode => Kind::Text(Some(100)),
            Field::Transport => Kind::Text(Some(11)),
            _ => Kind::Text(None),
        }
    }

    /// True for integer columns (ASN, port).
    pub fn is_integer(self) -> bool {
        matches!(self.kind(), Kind::Asn | Kind::Port)
    }

    /// A field by IntelMQ name or a short alias (`taxonomy`, `type`, `identifier`,
    /// `application`, `transport`, `malware`, `feed`, `provider`, `code`, `country`/`cc`,
    /// `asn`, `port`, `network`, `domain_suffix`).
    pub fn parse(text: &str) -> Option<Field> {
        let alias = match text {
            "taxonomy" => Some(Field::Taxonomy),
            "type" => Some(Field::Type),
            "identifier" => Some(Field::Identifier),
            "application" => Some(Field::Application),
            "transport" => Some(Field::Transport),
            "malware" => Some(Field::Malware),
            "feed" => Some(Field::FeedName),
            "provider" => Some(Field::FeedProvider),
            "code" => Some(Field::FeedCode),
            "country" | "cc" => Some(Field::Country),
            "asn" => Some(Field::SourceAsn),
            "port" => Some(Field::SourcePort),
            "network" => Some(Field::SourceNetwork),
            "domain_suffix" => Some(Field::DomainSuffix),
            _ => None,
        };
        alias.or_else(|| Field::ALL.into_iter().find(|f| f.name() == text))
    }
}

/// A validated field value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Absent (SQL NULL).
    Null,
    /// A time stamp in UTC.
    Time(DateTime<Utc>),
    /// An address.
    Ip(IpAddr),
    /// A network: address (host bits cleared) and prefix length.
    Network(IpAddr, u8),
    /// ASN or port.
    Int(i64),
    /// Text (country codes upper-cased).
    Text(String),
}

impl Value {
    /// The normalised text form stored on SQLite and sent in PostgreSQL's COPY
    /// (`None` for NULL).
    pub fn text(&self) -> Option<String> {
        match self {
            Value::Null => None,
            Value::Time(t) => Some(t.format(TIME_FORMAT).to_string()),
            Value::Ip(ip) => Some(ip.to_string()),
            Value::Network(ip, len) => Some(format!("{ip}/{len}")),
            Value::Int(i) => Some(i.to_string()),
            Value::Text(s) => Some(s.clone()),
        }
    }
}

/// How times are stored as text: fixed width, UTC, so text order is time order.
pub const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// One validated event: a value per [`Field::ALL`] entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Values in [`Field::ALL`] order.
    pub values: Vec<Value>,
}

impl Event {
    /// The value of `field`.
    pub fn get(&self, field: Field) -> &Value {
        &self.values[field.index()]
    }

    /// The UTC day of `time.source` (None when it is absent).
    pub fn day(&self) -> Option<NaiveDate> {
        match self.get(Field::TimeSource) {
            Value::Time(t) => Some(t.date_naive()),
            _ => None,
        }
    }
}

/// What an aggregation table counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Events (`count(*)`).
    Events,
    /// Distinct `source.ip`.
    DistinctIps,
}

/// stats-portal's three daily aggregation tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum AggTable {
    /// `agg_ndim_day_all_tags`: events per day and all fourteen dimensions.
    AllTags,
    /// `agg_ndim_day_netobject_tags`: distinct source IPs per day, without the feed columns.
    Netobject,
    /// `agg_ndim_day_feed_tags`: events per day by classification, protocol, malware, feed, country.
    FeedTags,
}

impl AggTable {
    /// The three tables.
    pub const ALL: [AggTable; 3] = [AggTable::AllTags, AggTable::Netobject, AggTable::FeedTags];

    /// The table name.
    pub fn name(self) -> &'static str {
        match self {
            AggTable::AllTags => "agg_ndim_day_all_tags",
            AggTable::Netobject => "agg_ndim_day_netobject_tags",
            AggTable::FeedTags => "agg_ndim_day_feed_tags",
        }
    }

    /// What `count` counts.
    pub fn measure(self) -> Measure {
        match self {
            AggTable::Netobject => Measure::DistinctIps,
            _ => Measure::Events,
        }
    }

    /// The dimension columns besides `date`, in stats-portal's column order.
    pub fn dimensions(self) -> &'static [Field] {
        use Field::*;
        match self {
            AggTable::AllTags => &[
                Taxonomy,
                Type,
                Identifier,
                Application,
                Transport,
                Malware,
                FeedCode,
                FeedName,
                FeedProvider,
                Country,
                SourcePort,
                SourceAsn,
                SourceNetwork,
                DomainSuffix,
            ],
            AggTable::Netobject => &[Taxonomy, Type, Identifier, Application, Transport, Malware, Country, SourcePort, SourceAsn, SourceNetwork, DomainSuffix],
            AggTable::FeedTags => &[Taxonomy, Type, Identifier, Application, Transport, Malware, FeedCode, FeedName, FeedProvider, Country],
        }
    }

    /// True when every field of `fields` is a dimension of this table.
    pub fn has_all(self, fields: &[Field]) -> bool {
        fields.iter().all(|f| self.dimensions().contains(f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_in_column_order_and_parse_by_name_or_alias() {
        for (i, f) in Field::ALL.into_iter().enumerate() {
            assert_eq!(f.index(), i);
            assert_eq!(Field::parse(f.name()), Some(f));
        }
        assert_eq!(Field::parse("cc"), Some(Field::Country));
        assert_eq!(Field::parse("nope"), None);
        assert!(AggTable::AllTags.has_all(AggTable::FeedTags.dimensions()));
        assert!(AggTable::AllTags.has_all(AggTable::Netobject.dimensions()));
        assert!(!AggTable::Netobject.has_all(&[Field::FeedName]));
    }
}

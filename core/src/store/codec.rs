//! How each backend binds and reads the values whose SQL type differs: the dialect of its
//! statements and its time codec (PostgreSQL: `timestamptz`; SQLite: INTEGER microseconds
//! since the epoch). The SQL written once for both backends goes through this.

use chrono::{DateTime, Utc};

use super::dialect::Dialect;
use crate::timebucket::{from_micros, to_micros};

/// A backend's dialect and time codec.
pub(crate) trait Codec {
    /// The dialect its statements are written in.
    const DIALECT: Dialect;
    /// How an instant is bound and read.
    type Time;
    /// An instant as bound.
    fn encode_time(t: DateTime<Utc>) -> Self::Time;
    /// An instant as read.
    fn decode_time(t: Self::Time) -> DateTime<Utc>;
}

impl Codec for sqlx::Postgres {
    const DIALECT: Dialect = Dialect::Postgres;
    type Time = DateTime<Utc>;
    fn encode_time(t: DateTime<Utc>) -> Self::Time {
        t
    }
    fn decode_time(t: Self::Time) -> DateTime<Utc> {
        t
    }
}

impl Codec for sqlx::Sqlite {
    const DIALECT: Dialect = Dialect::Sqlite;
    type Time = i64;
    fn encode_time(t: DateTime<Utc>) -> Self::Time {
        to_micros(t)
    }
    fn decode_time(t: Self::Time) -> DateTime<Utc> {
        from_micros(t)
    }
}

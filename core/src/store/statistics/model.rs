//! The statistics data model, mirroring sview's schema (see `statistics.md`).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in schema order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value as stored in the database.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "`{other}` is not a valid {}; expected one of: {}",
                        stringify!($name).to_lowercase(),
                        [$($text),+].join(", ")
                    )),
                }
            }
        }
    };
}

string_enum!(
    /// The probe that saw an incident (`trap_t`).
    Trap {
        /// FTP minipot.
        MinipotFtp => "minipot_ftp",
        /// SMTP minipot.
        MinipotSmtp => "minipot_smtp",
        /// Telnet minipot.
        MinipotTelnet => "minipot_telnet",
        /// HTTP minipot.
        MinipotHttp => "minipot_http",
        /// Firewall log collector.
        Fwlogs => "fwlogs",
    }
);

string_enum!(
    /// What the attacker did (`action_t`).
    Action {
        /// Opened a connection.
        Connect => "connect",
        /// Tried to log in.
        Login => "login",
        /// Sent a message.
        Message => "message",
        /// Sent something invalid.
        Invalid => "invalid",
        /// Scanned a few ports.
        SmallPortScan => "small_port_scan",
        /// Scanned many ports.
        BigPortScan => "big_port_scan",
    }
);

string_enum!(
    /// Transport protocol of a port scan (`protocol_t`).
    Protocol {
        /// TCP.
        Tcp => "TCP",
        /// UDP.
        Udp => "UDP",
        /// Anything else.
        Other => "other",
    }
);

/// One incident report (`incidents` table). The identity is given by serial number and
/// device token and resolved (created on the fly) at import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident {
    /// When it happened.
    pub time: DateTime<Utc>,
    /// How many identical reports this row stands for.
    pub raw_count: i64,
    /// Probe serial number (≤ 16 chars).
    pub sn: String,
    /// Probe device token (≤ 64 chars).
    pub device_token: String,
    /// Which trap saw it.
    pub trap: Trap,
    /// What happened.
    pub action: Action,
    /// Attacker address.
    pub ip: IpAddr,
    /// Attacker country (ISO 3166 alpha-2, upper case), if known.
    pub country: Option<String>,
}

/// One password attempt (`passwords` table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordAttempt {
    /// When it happened.
    pub time: DateTime<Utc>,
    /// How many identical attempts this row stands for.
    pub raw_count: i64,
    /// Username tried (any text, may be empty).
    pub username: String,
    /// Password tried (any text, may be empty).
    pub password: String,
}

/// One port-scan report (`ports` table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortScan {
    /// When it happened.
    pub time: DateTime<Utc>,
    /// How many identical reports this row stands for.
    pub raw_count: i64,
    /// Scanned port, 0–65535.
    pub port: u16,
    /// Transport protocol.
    pub protocol: Protocol,
}

/// Any raw report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// An incident.
    Incident(Incident),
    /// A password attempt.
    Password(PasswordAttempt),
    /// A port scan.
    Port(PortScan),
}

/// Reports grouped by kind, the unit handed to a store's ingest session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportBatch {
    /// Incident rows.
    pub incidents: Vec<Incident>,
    /// Password rows.
    pub passwords: Vec<PasswordAttempt>,
    /// Port-scan rows.
    pub ports: Vec<PortScan>,
}

impl ReportBatch {
    /// Adds one report.
    pub fn push(&mut self, report: Report) {
        match report {
            Report::Incident(r) => self.incidents.push(r),
            Report::Password(r) => self.passwords.push(r),
            Report::Port(r) => self.ports.push(r),
        }
    }

    /// Number of rows in the batch.
    pub fn len(&self) -> usize {
        self.incidents.len() + self.passwords.len() + self.ports.len()
    }

    /// True when the batch holds no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The three raw data types and their table names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataType {
    /// `incidents`
    Incidents,
    /// `passwords`
    Passwords,
    /// `ports`
    Ports,
}

impl DataType {
    /// All three, in schema order.
    pub const ALL: [DataType; 3] = [DataType::Incidents, DataType::Passwords, DataType::Ports];

    /// The raw table name.
    pub fn table(self) -> &'static str {
        match self {
            DataType::Incidents => "incidents",
            DataType::Passwords => "passwords",
            DataType::Ports => "ports",
        }
    }

    /// The grouping columns besides `time` and `raw_count`, in table order.
    pub fn dimensions(self) -> &'static [&'static str] {
        match self {
            DataType::Incidents => &["identity_id", "trap", "action", "ip", "country"],
            DataType::Passwords => &["username", "password"],
            DataType::Ports => &["port", "protocol"],
        }
    }
}

/// Which copy of a data type's table: raw or one of the aggregated precisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// The raw reports.
    Raw,
    /// `<table>_quarterly`
    Quarterly,
    /// `<table>_hourly`
    Hourly,
    /// `<table>_daily`
    Daily,
}

impl Level {
    /// The full table name for `data`, e.g. `incidents_hourly`. Names come from this fixed
    /// list only, so they are safe to splice into SQL.
    pub fn table(self, data: DataType) -> &'static str {
        use DataType::*;
        use Level::*;
        match (data, self) {
            (Incidents, Raw) => "incidents",
            (Incidents, Quarterly) => "incidents_quarterly",
            (Incidents, Hourly) => "incidents_hourly",
            (Incidents, Daily) => "incidents_daily",
            (Passwords, Raw) => "passwords",
            (Passwords, Quarterly) => "passwords_quarterly",
            (Passwords, Hourly) => "passwords_hourly",
            (Passwords, Daily) => "passwords_daily",
            (Ports, Raw) => "ports",
            (Ports, Quarterly) => "ports_quarterly",
            (Ports, Hourly) => "ports_hourly",
            (Ports, Daily) => "ports_daily",
        }
    }
}

impl Level {
    /// The level's name (`raw`, `quarterly`, `hourly`, `daily`), as aggregation windows are
    /// recorded under.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Raw => "raw",
            Level::Quarterly => "quarterly",
            Level::Hourly => "hourly",
            Level::Daily => "daily",
        }
    }

    /// The level an aggregated level is computed from (`None` for raw).
    pub fn aggregated_from(self) -> Option<Level> {
        match self {
            Level::Raw => None,
            Level::Quarterly => Some(Level::Raw),
            Level::Hourly => Some(Level::Quarterly),
            Level::Daily => Some(Level::Hourly),
        }
    }

    /// The bucket width of an aggregated level (`None` for raw).
    pub fn bucket_width(self) -> Option<Duration> {
        match self {
            Level::Raw => None,
            Level::Quarterly => Some(Duration::minutes(15)),
            Level::Hourly => Some(Duration::hours(1)),
            Level::Daily => Some(Duration::days(1)),
        }
    }
}

/// One row of any statistics table in a backend-neutral form, for comparisons and display.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StoredRow {
    /// Row time (bucket start for aggregated tables).
    pub time: DateTime<Utc>,
    /// The grouping columns rendered as text, in [`DataType::dimensions`] order
    /// (`None` = SQL NULL; identities are rendered as `sn/device_token`).
    pub dims: Vec<Option<String>>,
    /// `raw_count` (`None` = SQL NULL).
    pub raw_count: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_and_reject_unknown_values() {
        for t in Trap::ALL {
            assert_eq!(t.as_str().parse::<Trap>(), Ok(*t));
        }
        for a in Action::ALL {
            assert_eq!(a.as_str().parse::<Action>(), Ok(*a));
        }
        assert_eq!("TCP".parse::<Protocol>(), Ok(Protocol::Tcp));
        let err = "tcp".parse::<Protocol>().expect_err("case matters like the PG enum");
        assert!(err.contains("TCP, UDP, other"), "{err}");
    }
}

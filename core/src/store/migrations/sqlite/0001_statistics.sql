-- Sentinel View statistics schema for the embedded SQLite store. Same tables and columns as
-- PostgreSQL (statistics.md); times are INTEGER microseconds since the Unix epoch (UTC),
-- enums are TEXT with CHECK constraints, `ip` is the address as text without a prefix length.

CREATE TABLE IF NOT EXISTS identity (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sn TEXT NOT NULL CHECK (length(sn) <= 16),
    device_token TEXT NOT NULL CHECK (length(device_token) <= 64),
    UNIQUE (sn, device_token)
);

CREATE TABLE IF NOT EXISTS incidents (
    time INTEGER NOT NULL,
    raw_count INTEGER DEFAULT 1,
    identity_id INTEGER NOT NULL REFERENCES identity (id),
    trap TEXT NOT NULL CHECK (trap IN ('minipot_ftp', 'minipot_smtp', 'minipot_telnet', 'minipot_http', 'fwlogs')),
    action TEXT NOT NULL CHECK (action IN ('connect', 'login', 'message', 'invalid', 'small_port_scan', 'big_port_scan')),
    ip TEXT NOT NULL,
    country TEXT CHECK (country IS NULL OR length(country) <= 2)
);
CREATE TABLE IF NOT EXISTS passwords (
    time INTEGER NOT NULL,
    raw_count INTEGER DEFAULT 1,
    username TEXT NOT NULL,
    password TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ports (
    time INTEGER NOT NULL,
    raw_count INTEGER DEFAULT 1,
    port INTEGER NOT NULL CHECK (port BETWEEN 0 AND 65535),
    protocol TEXT NOT NULL CHECK (protocol IN ('TCP', 'UDP', 'other'))
);

CREATE TABLE IF NOT EXISTS incidents_quarterly (time INTEGER NOT NULL, raw_count INTEGER DEFAULT 1, identity_id INTEGER NOT NULL, trap TEXT NOT NULL, action TEXT NOT NULL, ip TEXT NOT NULL, country TEXT);
CREATE TABLE IF NOT EXISTS incidents_hourly    (time INTEGER NOT NULL, raw_count INTEGER DEFAULT 1, identity_id INTEGER NOT NULL, trap TEXT NOT NULL, action TEXT NOT NULL, ip TEXT NOT NULL, country TEXT);
CREATE TABLE IF NOT EXISTS incidents_daily     (time INTEGER NOT NULL, raw_count INTEGER DEFAULT 1, identity_id INTEGER NOT NULL, trap TEXT NOT NULL, action TEXT NOT NULL, ip TEXT NOT NULL, country TEXT);
CREATE TABLE IF NOT EXISTS passwords_quarterly (time INTEGER NOT NULL, raw_count INTEGER DEFAULT 1, username TEXT NOT NULL, password TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS passwords_hourly    (time INTEGER NOT NULL, raw_count INTEGER DEFAULT 1, username TEXT NOT NULL, password TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS passwords_daily     (time INTEGER NOT NULL, raw_count INTEGER DEFAULT 1, username TEXT NOT NULL, password TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ports_quarterly     (time INTEGER NOT NULL, raw_count INTEGER DEFAULT 1, port INTEGER NOT NULL, protocol TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ports_hourly        (time INTEGER NOT NULL, raw_count INTEGER DEFAULT 1, port INTEGER NOT NULL, protocol TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ports_daily         (time INTEGER NOT NULL, raw_count INTEGER DEFAULT 1, port INTEGER NOT NULL, protocol TEXT NOT NULL);

CREATE INDEX IF NOT EXISTS incidents_time_idx ON incidents (time);
CREATE INDEX IF NOT EXISTS passwords_time_idx ON passwords (time);
CREATE INDEX IF NOT EXISTS ports_time_idx ON ports (time);
CREATE INDEX IF NOT EXISTS incidents_quarterly_time_idx ON incidents_quarterly (time);
CREATE INDEX IF NOT EXISTS incidents_hourly_time_idx ON incidents_hourly (time);
CREATE INDEX IF NOT EXISTS incidents_daily_time_idx ON incidents_daily (time);
CREATE INDEX IF NOT EXISTS passwords_quarterly_time_idx ON passwords_quarterly (time);
CREATE INDEX IF NOT EXISTS passwords_hourly_time_idx ON passwords_hourly (time);
CREATE INDEX IF NOT EXISTS passwords_daily_time_idx ON passwords_daily (time);
CREATE INDEX IF NOT EXISTS ports_quarterly_time_idx ON ports_quarterly (time);
CREATE INDEX IF NOT EXISTS ports_hourly_time_idx ON ports_hourly (time);
CREATE INDEX IF NOT EXISTS ports_daily_time_idx ON ports_daily (time);

-- Leaked-password store (passwords.md); sources as a JSON array of text.
CREATE TABLE IF NOT EXISTS passwords_pwned (
    password_hash TEXT PRIMARY KEY,
    password_count INTEGER NOT NULL CHECK (password_count > 0),
    password_source TEXT NOT NULL DEFAULT '[]'
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS vantage_aggregation_window (
    precision TEXT NOT NULL CHECK (precision IN ('quarterly', 'hourly', 'daily')),
    window_start INTEGER NOT NULL,
    window_end INTEGER NOT NULL,
    incidents_rows INTEGER NOT NULL,
    incidents_sum INTEGER NOT NULL,
    passwords_rows INTEGER NOT NULL,
    passwords_sum INTEGER NOT NULL,
    ports_rows INTEGER NOT NULL,
    ports_sum INTEGER NOT NULL,
    runs INTEGER NOT NULL DEFAULT 1,
    aggregated_at INTEGER NOT NULL,
    PRIMARY KEY (precision, window_start)
) WITHOUT ROWID;

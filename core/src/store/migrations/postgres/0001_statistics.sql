-- Sentinel View statistics schema (statistics.md). Every statement is idempotent so that
-- Vantage can be pointed at an existing sview database: nothing there is renamed or altered.

DO $$ BEGIN
    CREATE TYPE trap_t AS ENUM ('minipot_ftp', 'minipot_smtp', 'minipot_telnet', 'minipot_http', 'fwlogs');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN
    CREATE TYPE action_t AS ENUM ('connect', 'login', 'message', 'invalid', 'small_port_scan', 'big_port_scan');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN
    CREATE TYPE protocol_t AS ENUM ('TCP', 'UDP', 'other');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;

CREATE TABLE IF NOT EXISTS identity (
    id bigserial PRIMARY KEY,
    sn varchar(16) NOT NULL,
    device_token varchar(64) NOT NULL,
    UNIQUE (sn, device_token)
);

CREATE TABLE IF NOT EXISTS incidents (
    time timestamptz NOT NULL,
    raw_count bigint DEFAULT 1,
    identity_id bigint NOT NULL REFERENCES identity (id),
    trap trap_t NOT NULL,
    action action_t NOT NULL,
    ip inet NOT NULL,
    country varchar(2)
);
CREATE TABLE IF NOT EXISTS passwords (
    time timestamptz NOT NULL,
    raw_count bigint DEFAULT 1,
    username text NOT NULL,
    password text NOT NULL
);
CREATE TABLE IF NOT EXISTS ports (
    time timestamptz NOT NULL,
    raw_count bigint DEFAULT 1,
    port integer NOT NULL,
    protocol protocol_t NOT NULL
);

CREATE TABLE IF NOT EXISTS incidents_quarterly (time timestamptz NOT NULL, raw_count bigint DEFAULT 1, identity_id bigint NOT NULL, trap trap_t NOT NULL, action action_t NOT NULL, ip inet NOT NULL, country varchar(2));
CREATE TABLE IF NOT EXISTS incidents_hourly    (time timestamptz NOT NULL, raw_count bigint DEFAULT 1, identity_id bigint NOT NULL, trap trap_t NOT NULL, action action_t NOT NULL, ip inet NOT NULL, country varchar(2));
CREATE TABLE IF NOT EXISTS incidents_daily     (time timestamptz NOT NULL, raw_count bigint DEFAULT 1, identity_id bigint NOT NULL, trap trap_t NOT NULL, action action_t NOT NULL, ip inet NOT NULL, country varchar(2));
CREATE TABLE IF NOT EXISTS passwords_quarterly (time timestamptz NOT NULL, raw_count bigint DEFAULT 1, username text NOT NULL, password text NOT NULL);
CREATE TABLE IF NOT EXISTS passwords_hourly    (time timestamptz NOT NULL, raw_count bigint DEFAULT 1, username text NOT NULL, password text NOT NULL);
CREATE TABLE IF NOT EXISTS passwords_daily     (time timestamptz NOT NULL, raw_count bigint DEFAULT 1, username text NOT NULL, password text NOT NULL);
CREATE TABLE IF NOT EXISTS ports_quarterly     (time timestamptz NOT NULL, raw_count bigint DEFAULT 1, port integer NOT NULL, protocol protocol_t NOT NULL);
CREATE TABLE IF NOT EXISTS ports_hourly        (time timestamptz NOT NULL, raw_count bigint DEFAULT 1, port integer NOT NULL, protocol protocol_t NOT NULL);
CREATE TABLE IF NOT EXISTS ports_daily         (time timestamptz NOT NULL, raw_count bigint DEFAULT 1, port integer NOT NULL, protocol protocol_t NOT NULL);

-- Leaked-password store read by the password checker (passwords.md).
CREATE TABLE IF NOT EXISTS passwords_pwned (
    password_hash text NOT NULL,
    password_count bigint NOT NULL CHECK (password_count > 0),
    password_source text[] NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX IF NOT EXISTS passwords_pwned_hash_idx ON passwords_pwned (password_hash text_pattern_ops);

-- Time tables: TimescaleDB hypertables when the extension can be used, else a (time DESC) index.
DO $$
DECLARE
    t text;
    has_timescale boolean := false;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS timescaledb;
            has_timescale := true;
        EXCEPTION WHEN others THEN
            RAISE NOTICE 'timescaledb is installed but cannot be enabled (%); using plain tables', SQLERRM;
        END;
    END IF;
    FOREACH t IN ARRAY ARRAY['incidents', 'passwords', 'ports',
                             'incidents_quarterly', 'incidents_hourly', 'incidents_daily',
                             'passwords_quarterly', 'passwords_hourly', 'passwords_daily',
                             'ports_quarterly', 'ports_hourly', 'ports_daily'] LOOP
        IF has_timescale THEN
            PERFORM create_hypertable(t::regclass, 'time', if_not_exists => true, migrate_data => true);
        ELSE
            EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (time DESC)', t || '_time_idx', t);
        END IF;
    END LOOP;
END $$;

-- Vantage's own bookkeeping, kept apart from sview's tables: one row per aggregated window,
-- written in the same transaction as the window's aggregated rows.
CREATE TABLE IF NOT EXISTS vantage_aggregation_window (
    precision text NOT NULL CHECK (precision IN ('quarterly', 'hourly', 'daily')),
    window_start timestamptz NOT NULL,
    window_end timestamptz NOT NULL,
    incidents_rows bigint NOT NULL,
    incidents_sum bigint NOT NULL,
    passwords_rows bigint NOT NULL,
    passwords_sum bigint NOT NULL,
    ports_rows bigint NOT NULL,
    ports_sum bigint NOT NULL,
    runs integer NOT NULL DEFAULT 1,
    aggregated_at timestamptz NOT NULL,
    PRIMARY KEY (precision, window_start)
);

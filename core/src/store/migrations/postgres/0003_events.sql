-- Incident events (events.md): a subset of IntelMQ's eventDB table `events` with IntelMQ's
-- dotted column names and types, so Vantage can also be pointed at an existing eventDB (an
-- existing `events` table is left as it is; it has these columns and more). `extra`/`raw` and
-- the other IntelMQ fields are not stored by Vantage's import.
CREATE TABLE IF NOT EXISTS events (
    "id" bigserial PRIMARY KEY,
    "time.source" timestamptz,
    "time.observation" timestamptz,
    "source.ip" inet,
    "source.network" inet,
    "source.asn" integer,
    "source.port" integer,
    "source.geolocation.cc" varchar(2),
    "source.domain_suffix" text,
    "classification.taxonomy" varchar(100),
    "classification.type" text,
    "classification.identifier" text,
    "protocol.application" varchar(100),
    "protocol.transport" varchar(11),
    "malware.name" text,
    "feed.code" varchar(100),
    "feed.name" text,
    "feed.provider" text
);
CREATE INDEX IF NOT EXISTS "idx_events_time.source" ON events ("time.source");

-- The three daily aggregation tables of stats-portal, same names, columns and types as its
-- `CREATE TABLE … AS SELECT date_trunc('day', "time.source" AT TIME ZONE 'UTC') …`.
CREATE TABLE IF NOT EXISTS agg_ndim_day_all_tags (
    "date" timestamp NOT NULL,
    "count" bigint NOT NULL,
    "classification.taxonomy" varchar(100),
    "classification.type" text,
    "classification.identifier" text,
    "protocol.application" varchar(100),
    "protocol.transport" varchar(11),
    "malware.name" text,
    "feed.code" varchar(100),
    "feed.name" text,
    "feed.provider" text,
    "source.geolocation.cc" varchar(2),
    "source.port" integer,
    "source.asn" integer,
    "source.network" inet,
    "source.domain_suffix" text
);
CREATE INDEX IF NOT EXISTS "idx_agg_ndim_day_all_tags_date" ON agg_ndim_day_all_tags ("date");
CREATE INDEX IF NOT EXISTS "idx_agg_ndim_day_all_tags_source.asn" ON agg_ndim_day_all_tags ("source.asn", "date");

CREATE TABLE IF NOT EXISTS agg_ndim_day_netobject_tags (
    "date" timestamp NOT NULL,
    "count" bigint NOT NULL,
    "classification.taxonomy" varchar(100),
    "classification.type" text,
    "classification.identifier" text,
    "protocol.application" varchar(100),
    "protocol.transport" varchar(11),
    "malware.name" text,
    "source.geolocation.cc" varchar(2),
    "source.port" integer,
    "source.asn" integer,
    "source.network" inet,
    "source.domain_suffix" text
);
CREATE INDEX IF NOT EXISTS "idx_agg_ndim_day_netobject_tags_date" ON agg_ndim_day_netobject_tags ("date");

CREATE TABLE IF NOT EXISTS agg_ndim_day_feed_tags (
    "date" timestamp NOT NULL,
    "count" bigint NOT NULL,
    "classification.taxonomy" varchar(100),
    "classification.type" text,
    "classification.identifier" text,
    "protocol.application" varchar(100),
    "protocol.transport" varchar(11),
    "malware.name" text,
    "feed.code" varchar(100),
    "feed.name" text,
    "feed.provider" text,
    "source.geolocation.cc" varchar(2)
);
CREATE INDEX IF NOT EXISTS "idx_agg_ndim_day_feed_tags_date" ON agg_ndim_day_feed_tags ("date");

-- UTC days whose events changed since they were last aggregated (written in the import's
-- transaction, cleared in the aggregation's).
CREATE TABLE IF NOT EXISTS vantage_events_dirty_days (
    "day" date PRIMARY KEY
);

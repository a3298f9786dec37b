-- Incident events (events.md) with IntelMQ's dotted column names. Values are normalised
-- text: times `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC, fixed width, so text order is time order),
-- addresses in canonical form, networks `address/prefix` with the host bits cleared.
CREATE TABLE IF NOT EXISTS events (
    "id" INTEGER PRIMARY KEY,
    "time.source" TEXT,
    "time.observation" TEXT,
    "source.ip" TEXT,
    "source.network" TEXT,
    "source.asn" INTEGER,
    "source.port" INTEGER,
    "source.geolocation.cc" TEXT,
    "source.domain_suffix" TEXT,
    "classification.taxonomy" TEXT,
    "classification.type" TEXT,
    "classification.identifier" TEXT,
    "protocol.application" TEXT,
    "protocol.transport" TEXT,
    "malware.name" TEXT,
    "feed.code" TEXT,
    "feed.name" TEXT,
    "feed.provider" TEXT
);
CREATE INDEX IF NOT EXISTS "idx_events_time.source" ON events ("time.source");

-- stats-portal's three daily aggregation tables; `date` is the UTC day `YYYY-MM-DD`.
CREATE TABLE IF NOT EXISTS agg_ndim_day_all_tags (
    "date" TEXT NOT NULL,
    "count" INTEGER NOT NULL,
    "classification.taxonomy" TEXT,
    "classification.type" TEXT,
    "classification.identifier" TEXT,
    "protocol.application" TEXT,
    "protocol.transport" TEXT,
    "malware.name" TEXT,
    "feed.code" TEXT,
    "feed.name" TEXT,
    "feed.provider" TEXT,
    "source.geolocation.cc" TEXT,
    "source.port" INTEGER,
    "source.asn" INTEGER,
    "source.network" TEXT,
    "source.domain_suffix" TEXT
);
CREATE INDEX IF NOT EXISTS "idx_agg_ndim_day_all_tags_date" ON agg_ndim_day_all_tags ("date");
CREATE INDEX IF NOT EXISTS "idx_agg_ndim_day_all_tags_source.asn" ON agg_ndim_day_all_tags ("source.asn", "date");

CREATE TABLE IF NOT EXISTS agg_ndim_day_netobject_tags (
    "date" TEXT NOT NULL,
    "count" INTEGER NOT NULL,
    "classification.taxonomy" TEXT,
    "classification.type" TEXT,
    "classification.identifier" TEXT,
    "protocol.application" TEXT,
    "protocol.transport" TEXT,
    "malware.name" TEXT,
    "source.geolocation.cc" TEXT,
    "source.port" INTEGER,
    "source.asn" INTEGER,
    "source.network" TEXT,
    "source.domain_suffix" TEXT
);
CREATE INDEX IF NOT EXISTS "idx_agg_ndim_day_netobject_tags_date" ON agg_ndim_day_netobject_tags ("date");

CREATE TABLE IF NOT EXISTS agg_ndim_day_feed_tags (
    "date" TEXT NOT NULL,
    "count" INTEGER NOT NULL,
    "classification.taxonomy" TEXT,
    "classification.type" TEXT,
    "classification.identifier" TEXT,
    "protocol.application" TEXT,
    "protocol.transport" TEXT,
    "malware.name" TEXT,
    "feed.code" TEXT,
    "feed.name" TEXT,
    "feed.provider" TEXT,
    "source.geolocation.cc" TEXT
);
CREATE INDEX IF NOT EXISTS "idx_agg_ndim_day_feed_tags_date" ON agg_ndim_day_feed_tags ("date");

CREATE TABLE IF NOT EXISTS vantage_events_dirty_days (
    "day" TEXT PRIMARY KEY
);

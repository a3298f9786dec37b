-- Distinct source IPs over a range (events.md "distinct IPs") read from one covering index:
-- the time range, the taxonomy filter and the address, no table row visited. It replaces the
-- plain `time.source` index, which is its prefix (every range scan uses the new one).
CREATE INDEX IF NOT EXISTS "idx_events_time_taxonomy_ip" ON events ("time.source", "classification.taxonomy", "source.ip");
DROP INDEX IF EXISTS "idx_events_time.source";

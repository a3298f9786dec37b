-- Change counters: bumped in the same transaction as the change they count, so readers
-- (the password server's in-memory index) can tell cheaply whether to re-read.
CREATE TABLE IF NOT EXISTS vantage_counters (
    name text PRIMARY KEY,
    value bigint NOT NULL
);

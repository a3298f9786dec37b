-- Raw flow records with Apache Spot's columns (flows.md): times INTEGER microseconds since
-- the epoch, addresses canonical text; id keeps the import order.
CREATE TABLE IF NOT EXISTS flows_raw (
    id INTEGER PRIMARY KEY,
    treceived INTEGER NOT NULL,
    unix_tstamp INTEGER NOT NULL,
    tryear INTEGER NOT NULL,
    trmonth INTEGER NOT NULL,
    trday INTEGER NOT NULL,
    trhour INTEGER NOT NULL,
    trminute INTEGER NOT NULL,
    trsec INTEGER NOT NULL,
    tdur REAL NOT NULL,
    sip TEXT NOT NULL,
    dip TEXT NOT NULL,
    sport INTEGER NOT NULL,
    dport INTEGER NOT NULL,
    proto TEXT NOT NULL,
    flag TEXT NOT NULL,
    fwd INTEGER NOT NULL,
    stos INTEGER NOT NULL,
    ipkt INTEGER NOT NULL,
    ibyt INTEGER NOT NULL,
    opkt INTEGER NOT NULL,
    obyt INTEGER NOT NULL,
    input INTEGER NOT NULL,
    output INTEGER NOT NULL,
    sas INTEGER NOT NULL,
    das INTEGER NOT NULL,
    dtos INTEGER NOT NULL,
    dir INTEGER NOT NULL,
    rip TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS flows_raw_treceived ON flows_raw (treceived);

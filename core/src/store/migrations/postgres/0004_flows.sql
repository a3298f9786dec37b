-- Raw flow records with Apache Spot's columns (flows.md): times timestamptz, addresses
-- canonical text; id keeps the import order.
CREATE TABLE IF NOT EXISTS flows_raw (
    id bigserial PRIMARY KEY,
    treceived timestamptz NOT NULL,
    unix_tstamp bigint NOT NULL,
    tryear integer NOT NULL,
    trmonth integer NOT NULL,
    trday integer NOT NULL,
    trhour integer NOT NULL,
    trminute integer NOT NULL,
    trsec integer NOT NULL,
    tdur double precision NOT NULL,
    sip text NOT NULL,
    dip text NOT NULL,
    sport integer NOT NULL,
    dport integer NOT NULL,
    proto text NOT NULL,
    flag text NOT NULL,
    fwd integer NOT NULL,
    stos integer NOT NULL,
    ipkt bigint NOT NULL,
    ibyt bigint NOT NULL,
    opkt bigint NOT NULL,
    obyt bigint NOT NULL,
    input integer NOT NULL,
    output integer NOT NULL,
    sas bigint NOT NULL,
    das bigint NOT NULL,
    dtos integer NOT NULL,
    dir integer NOT NULL,
    rip text NOT NULL
);
CREATE INDEX IF NOT EXISTS flows_raw_treceived ON flows_raw (treceived);
